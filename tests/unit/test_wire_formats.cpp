// WebSocket framing (RFC 6455) and the JPEG gate for pushed frames.
#include "camera/jpeg_info.h"
#include "outputs/websocket_protocol.h"

#include "jpeg_decode.h"
#include "raw_websocket.h"

#include <catch2/catch.hpp>
#include <gst/gst.h>

using namespace camrelay;
using camrelay::testing::clientFrame;
using camrelay::testing::makeTestJpeg;

TEST_CASE("the handshake answer and server frames follow RFC 6455", "[websocket]") {
    CHECK(websocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(websocketFrame(WsOpcode::Text, "hi") == std::string("\x81\x02hi", 4));
    const std::string medium = websocketFrame(WsOpcode::Binary, std::string(300, 'x'));
    CHECK(medium.substr(0, 4) == std::string("\x82\x7e\x01\x2c", 4));
    const std::string large = websocketFrame(WsOpcode::Binary, std::string(70000, 'x'));
    CHECK(large.substr(0, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
    CHECK(websocketCloseFrame(1009, "too big") == std::string("\x88\x09\x03\xf1too big", 11));
}

TEST_CASE("the reader joins fragments, unmasks, and refuses what RFC 6455 forbids", "[websocket]") {
    WsReader reader(1000);
    std::vector<WsMessage> out;
    // A text message in two fragments with a ping between them, fed byte by byte.
    const std::string bytes = clientFrame(0x01, "hel") + clientFrame(0x89, "p") + clientFrame(0x80, "lo");
    for (char c : bytes) REQUIRE(reader.feed(std::string_view(&c, 1), out));
    REQUIRE(out.size() == 2);
    CHECK(out[0].opcode == WsOpcode::Ping);
    CHECK(out[1].opcode == WsOpcode::Text);
    CHECK(out[1].payload == "hello");

    struct Bad { std::string bytes; uint16_t code; const char* why; };
    const Bad bad[] = {
        {std::string("\x81\x02hi", 4), kWsProtocolError, "masked"},
        {clientFrame(0x81, std::string(1001, 'x')), kWsMessageTooBig, "over 1000 bytes"},
        {clientFrame(0x83, "x"), kWsProtocolError, "unknown opcode"},
        {clientFrame(0xc1, "x"), kWsProtocolError, "reserved bits"},
        {clientFrame(0x80, "x"), kWsProtocolError, "continuation frame without a message"},
        {clientFrame(0x09, "x"), kWsProtocolError, "control frames"},
        {clientFrame(0x81, "\xc3\x28"), kWsInvalidPayload, "not UTF-8"},
    };
    for (const auto& b : bad) {
        INFO(b.why);
        WsReader r(1000);
        std::vector<WsMessage> messages;
        CHECK_FALSE(r.feed(b.bytes, messages));
        CHECK(r.closeCode() == b.code);
        CHECK_THAT(r.error(), Catch::Contains(b.why));
        // Nothing of a refused message reaches the handlers (found by fuzz_websocket_reader:
        // the invalid UTF-8 text was left in `out` and handled before the 1007 close).
        CHECK(messages.empty());
    }
    // A good message before the bad one in the same read is still delivered.
    WsReader r(1000);
    std::vector<WsMessage> messages;
    CHECK_FALSE(r.feed(clientFrame(0x81, "ok") + clientFrame(0x81, "\xc3\x28"), messages));
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].payload == "ok");
}

namespace {
// A masked client frame header announcing a 64-bit payload length (no payload follows).
std::string header64(uint8_t firstByte, uint64_t length) {
    std::string f;
    f.push_back(char(firstByte));
    f.push_back(char(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(char((length >> shift) & 0xff));
    f.append("\x01\x02\x03\x04", 4);
    return f;
}
}  // namespace

TEST_CASE("issue 9: a continuation announcing 0xFFFFFFFFFFFFFFFF bytes after a fragment is refused with 1009", "[websocket][issue9]") {
    // The exact input: a non-final text frame, then a continuation frame with
    // length 0xFFFFFFFFFFFFFFFF. length + fragments_.size() used to wrap to a
    // small number, std::string(ptr, SIZE_MAX) threw, and later bytes piled up.
    WsReader reader(64 * 1024);
    std::vector<WsMessage> out;
    REQUIRE(reader.feed(clientFrame(0x01, "abc"), out));
    CHECK(out.empty());
    CHECK_FALSE(reader.feed(header64(0x80, 0xFFFFFFFFFFFFFFFFull) + std::string(1000, 'x'), out));
    CHECK(reader.closeCode() == kWsMessageTooBig);
    CHECK(out.empty());
    // Once failed, it stays failed and keeps nothing more.
    CHECK_FALSE(reader.feed(std::string(100000, 'x'), out));
    CHECK(reader.closeCode() == kWsMessageTooBig);
}

TEST_CASE("lengths near 2^63 and 2^64 never wrap, in any frame position", "[websocket][issue9]") {
    const uint64_t lengths[] = {
        0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFEull, 0xFFFFFFFFFFFFFFFDull, 0xFFFFFFFFFFFFFFF0ull,
        (1ull << 63), (1ull << 63) - 1, (1ull << 63) + 1, (1ull << 63) - 3,
        (1ull << 32), 0xFFFFFFFFull, 64 * 1024 + 1};
    for (uint64_t length : lengths) {
        INFO("length " << length);
        for (size_t fragment : {size_t(0), size_t(1), size_t(3), size_t(125), size_t(65535)}) {
            INFO("after a fragment of " << fragment << " bytes");
            WsReader reader(64 * 1024);
            std::vector<WsMessage> out;
            const bool continuation = fragment > 0;
            if (continuation) REQUIRE(reader.feed(clientFrame(0x01, std::string(fragment, 'a')), out));
            CHECK_FALSE(reader.feed(header64(continuation ? 0x80 : 0x82, length), out));
            CHECK(reader.closeCode() == kWsMessageTooBig);
        }
    }
    // Right at the limit still works: 65535 + 1 = 65536 bytes in two fragments.
    WsReader reader(64 * 1024);
    std::vector<WsMessage> out;
    REQUIRE(reader.feed(clientFrame(0x01, std::string(65535, 'a')), out));
    REQUIRE(reader.feed(clientFrame(0x80, "b"), out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].payload.size() == 64 * 1024);
    // One byte more is refused.
    WsReader over(64 * 1024);
    REQUIRE(over.feed(clientFrame(0x01, std::string(65535, 'a')), out));
    CHECK_FALSE(over.feed(clientFrame(0x80, "bc"), out));
    CHECK(over.closeCode() == kWsMessageTooBig);
}

TEST_CASE("pushed frames must be whole JPEG images with a size", "[push]") {
    const std::string jpeg = makeTestJpeg(320, 240);
    std::string why;
    auto info = inspectJpeg(jpeg, &why);
    REQUIRE(info);
    CHECK(info->width == 320);
    CHECK(info->height == 240);
    CHECK(inspectJpeg(jpeg + std::string(4, '\0'), &why));  // padding after the image is fine

    CHECK_FALSE(inspectJpeg("", &why));
    CHECK_THAT(why, Catch::Contains("no start-of-image marker"));
    CHECK_FALSE(inspectJpeg("GIF89a............", &why));
    CHECK_FALSE(inspectJpeg(jpeg.substr(0, jpeg.size() / 2), &why));
    CHECK_THAT(why, Catch::Contains("truncated"));
    std::string noFrame = "\xff\xd8\xff\xd9";
    CHECK_FALSE(inspectJpeg(noFrame, &why));
    std::string corrupt = jpeg;
    corrupt[2] = 0x00;  // the first marker
    CHECK_FALSE(inspectJpeg(corrupt, &why));
    CHECK_THAT(why, Catch::Contains("corrupt"));
}

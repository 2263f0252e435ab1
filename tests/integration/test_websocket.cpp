// WebSocket viewers with a real WebSocket client (libsoup's), plus raw
// sockets for what a well-behaved client never sends.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "raw_websocket.h"
#include "service_process.h"
#include "viewer_pool.h"
#include "ws_client.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <glib.h>

#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

using namespace camrelay::testing;

namespace {

std::vector<WsMessage> ofType(const std::vector<WsMessage>& messages, const std::string& type) {
    std::vector<WsMessage> out;
    for (const auto& m : messages)
        if (!m.binary && jsonString(m.data, "$.type") == type) out.push_back(m);
    return out;
}

std::string base64Decode(const std::string& text) {
    gsize size = 0;
    guchar* bytes = g_base64_decode(text.c_str(), &size);
    std::string out(reinterpret_cast<char*>(bytes), size);
    g_free(bytes);
    return out;
}

uint64_t bigEndian(const std::string& bytes, size_t at) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | uint8_t(bytes[at + i]);
    return v;
}

struct BinaryFrame {
    std::string camera;
    uint64_t number;
    int64_t captureUs;
    bool placeholder;
    std::string jpeg;
};

BinaryFrame parseBinary(const std::string& m) {
    REQUIRE(m.size() > 24);
    REQUIRE(m.substr(0, 4) == "CRF1");
    const size_t header = uint8_t(m[4]);
    const size_t idLength = uint8_t(m[6]);
    REQUIRE(header == 24 + idLength);
    return {m.substr(24, idLength), bigEndian(m, 8), int64_t(bigEndian(m, 16)), (m[5] & 1) != 0, m.substr(header)};
}

}  // namespace

TEST_CASE("JSON WebSocket viewers get stream_info, then every frame in the widely used shape", "[websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient ws(service.port(), "/api/cameras/demo/ws");
    REQUIRE(ws.waitFor([&] { return ofType(ws.messages(), "frame").size() >= 30; }, 5000));

    const WsMessage& first = ws.messages().front();
    REQUIRE_FALSE(first.binary);
    CHECK(jsonString(first.data, "$.type") == "stream_info");
    CHECK(jsonString(first.data, "$.data.stream_id") == "demo");
    CHECK(jsonString(first.data, "$.data.name") == "Test pattern");
    CHECK(jsonNumber(first.data, "$.data.width") == 320);
    CHECK(jsonNumber(first.data, "$.data.height") == 240);
    CHECK(jsonNumber(first.data, "$.data.fps") == 30);
    CHECK(jsonNumber(first.data, "$.data.quality") == 70);

    const auto frames = ofType(ws.messages(), "frame");
    double lastNumber = 0;
    for (const auto& f : frames) {
        CHECK(jsonString(f.data, "$.data.stream_id") == "demo");
        CHECK(jsonNumber(f.data, "$.data.quality") == 70);
        const double number = jsonNumber(f.data, "$.data.frame_number");
        CHECK(number > lastNumber);  // rising
        lastNumber = number;
        const double ageMs = double(wallUs() / 1000) - jsonNumber(f.data, "$.data.timestamp");
        CHECK(ageMs >= 0);
        CHECK(ageMs < 2000);
    }
    const std::string jpeg = base64Decode(jsonString(frames.back().data, "$.data.frame"));
    CHECK(decodeJpegSize(jpeg) == std::make_pair(320, 240));
    CHECK(jsonNumber(service.cameraJson("demo"), "$.ws_viewers") == 1);
}

TEST_CASE("binary WebSocket viewers get a documented header and the JPEG bytes", "[websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient ws(service.port(), "/api/cameras/demo/ws?format=binary");
    auto binaries = [&] {
        std::vector<BinaryFrame> out;
        for (const auto& m : ws.messages())
            if (m.binary) out.push_back(parseBinary(m.data));
        return out;
    };
    REQUIRE(ws.waitFor([&] { return binaries().size() >= 30; }, 5000));
    CHECK(jsonString(ws.messages().front().data, "$.type") == "stream_info");
    uint64_t last = 0;
    for (const auto& f : binaries()) {
        CHECK(f.camera == "demo");
        CHECK(f.number > last);
        last = f.number;
        CHECK_FALSE(f.placeholder);
        CHECK(wallUs() - f.captureUs >= 0);
        CHECK(wallUs() - f.captureUs < 2000000);
    }
    CHECK(decodeJpegSize(binaries().back().jpeg) == std::make_pair(320, 240));
}

TEST_CASE("set fps thins one viewer; bad messages get errors and the socket stays up", "[websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient thin(service.port(), "/api/cameras/demo/ws?format=binary");
    WsClient full(service.port(), "/api/cameras/demo/ws?format=binary");
    thin.sendText(R"({"type":"set","data":{"fps":5}})");
    REQUIRE(thin.waitFor([&] { return !ofType(thin.messages(), "ok").empty(); }, 3000));
    auto countBinary = [](const WsClient& c) {
        return size_t(std::count_if(c.messages().begin(), c.messages().end(), [](const WsMessage& m) { return m.binary; }));
    };
    const size_t thinBefore = countBinary(thin), fullBefore = countBinary(full);
    thin.waitFor([] { return false; }, 2000);
    full.waitFor([] { return false; }, 100);
    const size_t thinFrames = countBinary(thin) - thinBefore, fullFrames = countBinary(full) - fullBefore;
    CHECK(thinFrames >= 7);
    CHECK(thinFrames <= 13);   // 5 fps over 2 s
    CHECK(fullFrames >= 45);   // the other viewer is untouched

    thin.sendText("not json");
    thin.sendText(R"({"type":"dance"})");
    thin.sendText(R"({"type":"set","data":{"fps":"fast"}})");
    thin.sendText(R"({"type":"ping"})");
    REQUIRE(thin.waitFor([&] { return ofType(thin.messages(), "error").size() >= 3 && !ofType(thin.messages(), "pong").empty(); }, 3000));
    const auto errors = ofType(thin.messages(), "error");
    CHECK(jsonString(errors[0].data, "$.data.code") == "bad_json");
    CHECK(jsonString(errors[1].data, "$.data.code") == "unknown_type");
    CHECK(jsonString(errors[2].data, "$.data.code") == "bad_fps");
    const size_t before = countBinary(thin);
    CHECK(thin.waitFor([&] { return countBinary(thin) > before + 2; }, 2000));  // still streaming
    CHECK_FALSE(thin.closed());
}

TEST_CASE("protocol abuse closes only the abuser, with the right close code", "[websocket][abuse]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient bystander(service.port(), "/api/cameras/demo/ws?format=binary");

    std::string head;
    int unmasked = rawWebSocket(service.port(), "/api/cameras/demo/ws", 0, &head);
    REQUIRE(unmasked >= 0);
    CHECK_THAT(head, Catch::Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));  // RFC 6455's example
    const std::string frame = clientFrame(0x81, R"({"type":"ping"})", {}, false);
    send(unmasked, frame.data(), frame.size(), MSG_NOSIGNAL);
    CHECK(readUntilClosed(unmasked) == 1002);
    close(unmasked);

    int oversized = rawWebSocket(service.port(), "/api/cameras/demo/ws");
    const std::string big = clientFrame(0x81, std::string(70000, 'x'));
    send(oversized, big.data(), big.size(), MSG_NOSIGNAL);
    CHECK(readUntilClosed(oversized) == 1009);
    close(oversized);

    int garbage = rawWebSocket(service.port(), "/api/cameras/demo/ws");
    const std::string noise = "\x8f\x80\x01\x02\x03\x04 random bytes that are not frames";
    send(garbage, noise.data(), noise.size(), MSG_NOSIGNAL);
    CHECK(readUntilClosed(garbage) == 1002);  // unknown opcode 15
    close(garbage);

    int badUtf8 = rawWebSocket(service.port(), "/api/cameras/demo/ws");
    const std::string invalid = clientFrame(0x81, "\xff\xfe\xfd");
    send(badUtf8, invalid.data(), invalid.size(), MSG_NOSIGNAL);
    CHECK(readUntilClosed(badUtf8) == 1007);
    close(badUtf8);

    // Plain HTTP to a WebSocket endpoint, bad parameters.
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/demo/ws").status == 426);
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/demo/ws?format=xml").status == 400);
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/nosuch/ws").status == 404);

    const size_t before = bystander.messages().size();
    CHECK(bystander.waitFor([&] { return bystander.messages().size() > before + 20; }, 2000));
    CHECK_FALSE(bystander.closed());
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("demo"), "$.ws_viewers") == 1; }, 3000));
}

TEST_CASE("a WebSocket viewer that stops reading holds bounded memory, slows no one, and is closed", "[websocket][slow]") {
    TempDir config;
    const std::string ini = config.write("camrelay.ini", "[limits]\nclient-timeout=3\n");
    ServiceProcess service({{"demo.conf", demoCamera(1280, 720, 30)}}, {"--config", ini});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient reader(service.port(), "/api/cameras/demo/ws");
    // The baseline after two seconds of streaming: the camera's and the encoder's
    // buffer pools are grown by then (a baseline after 10 frames once saw 2.8 MB more later).
    REQUIRE(reader.waitFor([&] { return ofType(reader.messages(), "frame").size() >= 60; }, 8000));
    const int64_t rssBefore = serviceRssKiB(service.pid());

    // Never reads: a 4 KiB receive window, so the server's socket buffer fills in a frame or two.
    int stalled = rawWebSocket(service.port(), "/api/cameras/demo/ws", 4096);
    const size_t readerBefore = ofType(reader.messages(), "frame").size();
    reader.waitFor([] { return false; }, 2500);
    const int64_t rssStalled = serviceRssKiB(service.pid());
    const size_t readerFrames = ofType(reader.messages(), "frame").size() - readerBefore;
    CHECK(readerFrames >= 65);  // ~30 fps for the other viewer meanwhile

    // 2.5 s of JSON frames (~40 KB each at 30 fps) would be ~3 MB if queued.
    // Held instead: at most the frame in flight and the newest one, shared.
    INFO("RSS before " << rssBefore << " KiB, while stalled " << rssStalled << " KiB");
    if (kRssBoundsApply) CHECK(rssStalled - rssBefore < 1024);
    const std::string detail = service.cameraJson("demo");
    CHECK(jsonNumber(detail, "$.ws_viewers") == 2);

    // Closed after limits.client-timeout (3 s) without progress.
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("demo"), "$.ws_viewers") == 1; }, 5000));
    close(stalled);
    CHECK_FALSE(reader.closed());
}

TEST_CASE("one socket, many cameras: /api/ws subscriptions, tagged binary frames, state events", "[websocket][multi]") {
    ServiceProcess service({{"front.conf", demoCamera(320, 240, 30)}, {"back.conf", demoCamera(160, 120, 15)}});
    REQUIRE(service.waitForState("front", "live"));
    REQUIRE(service.waitForState("back", "live"));
    WsClient ws(service.port(), "/api/ws");
    REQUIRE(ws.waitFor([&] { return !ofType(ws.messages(), "hello").empty(); }, 3000));
    ws.sendText(R"({"type":"subscribe","data":{"camera":"front"}})");
    ws.sendText(R"({"type":"subscribe","data":{"camera":"back","fps":5}})");
    ws.sendText(R"({"type":"subscribe","data":{"camera":"nosuch"}})");
    auto framesOf = [&](const std::string& id) {
        size_t n = 0;
        for (const auto& m : ws.messages())
            if (m.binary && parseBinary(m.data).camera == id) ++n;
        return n;
    };
    REQUIRE(ws.waitFor([&] { return framesOf("front") >= 30 && framesOf("back") >= 5; }, 5000));
    CHECK(ofType(ws.messages(), "subscribed").size() == 2);
    REQUIRE(ofType(ws.messages(), "error").size() == 1);
    CHECK(jsonString(ofType(ws.messages(), "error")[0].data, "$.data.code") == "unknown_camera");
    for (const auto& m : ws.messages())
        if (m.binary) {
            BinaryFrame f = parseBinary(m.data);
            CHECK(decodeJpegSize(f.jpeg) == (f.camera == "front" ? std::make_pair(320, 240) : std::make_pair(160, 120)));
        }
    // fps=5 on a 15 fps camera: consecutive frames are >= ~200 ms apart by
    // their capture times (not a ratio to "front": under the sanitizers the
    // 30 fps camera itself may run slower, and a ratio would then flake).
    std::vector<int64_t> backCaptures;
    for (const auto& m : ws.messages())
        if (m.binary && parseBinary(m.data).camera == "back") backCaptures.push_back(parseBinary(m.data).captureUs);
    std::vector<int64_t> gaps;
    for (size_t i = 1; i < backCaptures.size(); ++i) gaps.push_back(backCaptures[i] - backCaptures[i - 1]);
    REQUIRE(!gaps.empty());
    std::sort(gaps.begin(), gaps.end());
    INFO("back gaps (us): shortest " << gaps.front() << ", median " << gaps[gaps.size() / 2]);
    CHECK(gaps[gaps.size() / 2] >= 150000);

    // State changes of subscribed cameras arrive as events.
    httpRequest(service.port(), "POST", "/api/cameras/back/stop");
    REQUIRE(ws.waitFor([&] {
        for (const auto& m : ofType(ws.messages(), "state"))
            if (jsonString(m.data, "$.data.camera") == "back" && jsonString(m.data, "$.data.state") == "stopped") return true;
        return false;
    }, 3000));
    httpRequest(service.port(), "POST", "/api/cameras/back/start");

    ws.sendText(R"({"type":"unsubscribe","data":{"camera":"front"}})");
    REQUIRE(ws.waitFor([&] { return !ofType(ws.messages(), "unsubscribed").empty(); }, 3000));
    const size_t frontAfter = framesOf("front");
    ws.waitFor([] { return false; }, 1000);
    CHECK(framesOf("front") <= frontAfter + 2);  // at most what was already on its way
    CHECK(jsonNumber(service.cameraJson("front"), "$.ws_viewers") == 0);
    CHECK(jsonNumber(service.cameraJson("back"), "$.ws_viewers") == 1);
}

TEST_CASE("issue 13: /api/ws?format=json sends every camera's frames as JSON text naming the camera", "[websocket][multi]") {
    ServiceProcess service({{"front.conf", demoCamera(320, 240, 30)}, {"back.conf", demoCamera(160, 120, 15)}});
    REQUIRE(service.waitForState("front", "live"));
    REQUIRE(service.waitForState("back", "live"));
    WsClient ws(service.port(), "/api/ws?format=json");
    REQUIRE(ws.waitFor([&] { return !ofType(ws.messages(), "hello").empty(); }, 3000));
    CHECK(jsonString(ofType(ws.messages(), "hello")[0].data, "$.data.format") == "json");
    ws.sendText(R"({"type":"subscribe","data":{"camera":"front"}})");
    ws.sendText(R"({"type":"subscribe","data":{"camera":"back"}})");
    auto framesOf = [&](const std::string& id) {
        std::vector<WsMessage> out;
        for (const auto& m : ofType(ws.messages(), "frame"))
            if (jsonString(m.data, "$.data.stream_id") == id) out.push_back(m);
        return out;
    };
    REQUIRE(ws.waitFor([&] { return framesOf("front").size() >= 10 && framesOf("back").size() >= 5; }, 5000));
    for (const auto& m : ws.messages()) CHECK_FALSE(m.binary);
    for (const char* id : {"front", "back"}) {
        const WsMessage m = framesOf(id).back();
        CHECK(decodeJpegSize(base64Decode(jsonString(m.data, "$.data.frame"))) ==
              (std::string(id) == "front" ? std::make_pair(320, 240) : std::make_pair(160, 120)));
        CHECK(jsonNumber(m.data, "$.data.frame_number") > 0);
        CHECK(jsonNumber(m.data, "$.data.timestamp") > 1.7e12);
    }

    // The default stays binary (the dashboard's format); anything else is refused before the upgrade.
    WsClient binary(service.port(), "/api/ws");
    REQUIRE(binary.waitFor([&] { return !ofType(binary.messages(), "hello").empty(); }, 3000));
    CHECK(jsonString(ofType(binary.messages(), "hello")[0].data, "$.data.format") == "binary");
    const HttpResponse bad = httpRequest(service.port(), "GET", "/api/ws?format=xml");
    CHECK(bad.status == 400);
    CHECK(jsonString(bad.body, "$.error") == "bad_format");
    // The message echoes a little of the value, not all of it (found by the issue 13 attack).
    const HttpResponse huge = httpRequest(service.port(), "GET", "/api/ws?format=" + std::string(4000, 'x'));
    CHECK(huge.status == 400);
    CHECK(jsonString(huge.body, "$.message").size() < 100);
}

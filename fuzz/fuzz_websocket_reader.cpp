// Fuzz target: the WebSocket frame reader every viewer and publisher socket
// goes through (src/outputs/websocket_protocol.h, WsReader). The first bytes
// choose the message cap and a split point; the rest is the client's byte
// stream, fed whole to one reader and in two chunks to another, which must agree.
#include "outputs/websocket_protocol.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <glib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace camrelay;

namespace {
[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "WsReader invariant violated: %s\n", what);
    std::abort();
}

void checkMessages(const std::vector<WsMessage>& out, size_t maxMessage) {
    for (const WsMessage& m : out) {
        const bool control = m.opcode == WsOpcode::Close || m.opcode == WsOpcode::Ping || m.opcode == WsOpcode::Pong;
        if (control && m.payload.size() > 125) violated("control message over 125 bytes");
        if (!control && m.payload.size() > maxMessage) violated("message over the cap");
        if (m.opcode == WsOpcode::Continuation) violated("a continuation leaked out as a message");
        if (m.opcode == WsOpcode::Text && !g_utf8_validate(m.payload.data(), gssize(m.payload.size()), nullptr))
            violated("text message that is not UTF-8");
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider input(data, size);
    // Small caps reach the "too big" paths; the services use 64 KiB (/api/ws) and 16 MiB (/publish).
    const size_t maxMessage = input.PickValueInArray<size_t>({16, 125, 1024, 65536, 16u << 20});
    const size_t split = input.ConsumeIntegral<uint16_t>();
    const std::string stream = input.ConsumeRemainingBytesAsString();

    WsReader whole(maxMessage);
    std::vector<WsMessage> wholeOut;
    const bool wholeOk = whole.feed(stream, wholeOut);
    if (!wholeOk && whole.closeCode() == 0) violated("failed without a close code");
    checkMessages(wholeOut, maxMessage);

    WsReader chunked(maxMessage);
    std::vector<WsMessage> chunkedOut;
    const size_t at = stream.empty() ? 0 : split % (stream.size() + 1);
    bool chunkedOk = chunked.feed(std::string_view(stream).substr(0, at), chunkedOut);
    chunkedOk = chunked.feed(std::string_view(stream).substr(at), chunkedOut) && chunkedOk;
    // After a failure the reader must keep refusing (the caller closes, but must not be fed garbage state).
    if (!chunkedOk && chunked.feed("\x81\x80\0\0\0\0", chunkedOut)) violated("accepted bytes after a failure");

    if (wholeOk != chunkedOk) violated("result depends on where the stream was split");
    if (wholeOut.size() != chunkedOut.size()) violated("messages depend on where the stream was split");
    for (size_t i = 0; i < wholeOut.size(); ++i)
        if (wholeOut[i].opcode != chunkedOut[i].opcode || wholeOut[i].payload != chunkedOut[i].payload)
            violated("message content depends on where the stream was split");
    if (!wholeOk && whole.closeCode() != chunked.closeCode()) violated("close code depends on the split");
    return 0;
}

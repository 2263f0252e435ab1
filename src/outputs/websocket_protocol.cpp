#include "websocket_protocol.h"

#include <glib.h>

namespace camrelay {

namespace {
constexpr const char* kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void appendHeader(std::string& out, uint8_t firstByte, uint64_t length) {
    out.push_back(char(firstByte));
    if (length < 126) {
        out.push_back(char(length));
    } else if (length <= 0xffff) {
        out.push_back(char(126));
        out.push_back(char(length >> 8));
        out.push_back(char(length & 0xff));
    } else {
        out.push_back(char(127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((length >> shift) & 0xff));
    }
}
}  // namespace

std::string websocketAccept(const std::string& key) {
    const std::string input = key + kWebSocketGuid;
    GChecksum* sha1 = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sha1, reinterpret_cast<const guchar*>(input.data()), gssize(input.size()));
    guint8 digest[20];
    gsize length = sizeof digest;
    g_checksum_get_digest(sha1, digest, &length);
    g_checksum_free(sha1);
    gchar* encoded = g_base64_encode(digest, length);
    std::string accept = encoded;
    g_free(encoded);
    return accept;
}

std::string websocketHandshakeResponse(const std::string& key) {
    return "HTTP/1.1 101 Switching Protocols\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + websocketAccept(key) + "\r\n"
           "Server: camrelay\r\n"
           "\r\n";
}

std::string websocketFrame(WsOpcode opcode, std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 10);
    appendHeader(out, uint8_t(0x80 | uint8_t(opcode)), payload.size());
    out.append(payload.data(), payload.size());
    return out;
}

std::string websocketCloseFrame(uint16_t code, std::string_view reason) {
    std::string payload;
    payload.push_back(char(code >> 8));
    payload.push_back(char(code & 0xff));
    reason = reason.substr(0, 123);
    // Do not cut a UTF-8 sequence in half.
    const char* end = nullptr;
    if (!g_utf8_validate(reason.data(), gssize(reason.size()), &end)) reason = reason.substr(0, size_t(end - reason.data()));
    payload.append(reason.data(), reason.size());
    return websocketFrame(WsOpcode::Close, payload);
}

bool WsReader::fail(uint16_t code, std::string why) {
    closeCode_ = code;
    error_ = std::move(why);
    return false;
}

bool WsReader::feed(std::string_view data, std::vector<WsMessage>& out) {
    if (closeCode_) return false;
    buffer_.append(data.data(), data.size());
    size_t at = 0;
    while (true) {
        const size_t available = buffer_.size() - at;
        if (available < 2) break;
        const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + at);
        const bool fin = p[0] & 0x80;
        const uint8_t opcodeBits = p[0] & 0x0f;
        if (p[0] & 0x70) return fail(kWsProtocolError, "reserved bits set (no extension was agreed)");
        if (!(p[1] & 0x80)) return fail(kWsProtocolError, "client frames must be masked");
        uint64_t length = p[1] & 0x7f;
        size_t header = 2;
        if (length == 126) {
            if (available < 4) break;
            length = (uint64_t(p[2]) << 8) | p[3];
            header = 4;
        } else if (length == 127) {
            if (available < 10) break;
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
            header = 10;
        }
        const bool control = opcodeBits & 0x08;
        if (control && (length > 125 || !fin)) return fail(kWsProtocolError, "control frames must be whole and at most 125 bytes");
        // No sum of client-given lengths may wrap: fragments_.size() <= maxMessage_
        // always, so compare against what is left rather than adding
        // (0xFFFFFFFFFFFFFFFF + a fragment wrapped to a small number once).
        if (!control && (length > maxMessage_ || length > maxMessage_ - fragments_.size()))
            return fail(kWsMessageTooBig, "message over " + std::to_string(maxMessage_) + " bytes");
        // length is now at most max(125, maxMessage_): header + 4 + length cannot wrap.
        if (available - header < 4 || available - header - 4 < length) break;
        const uint8_t* mask = p + header;
        std::string payload(reinterpret_cast<const char*>(p + header + 4), size_t(length));
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ mask[i % 4]);
        at += header + 4 + size_t(length);

        switch (opcodeBits) {
        case uint8_t(WsOpcode::Close):
        case uint8_t(WsOpcode::Ping):
        case uint8_t(WsOpcode::Pong):
            out.push_back({WsOpcode(opcodeBits), std::move(payload)});
            break;
        case uint8_t(WsOpcode::Text):
        case uint8_t(WsOpcode::Binary):
            if (fragmentedOpcode_) return fail(kWsProtocolError, "a new message began inside a fragmented one");
            if (fin) {
                out.push_back({WsOpcode(opcodeBits), std::move(payload)});
            } else {
                fragmentedOpcode_ = WsOpcode(opcodeBits);
                fragments_ = std::move(payload);
            }
            break;
        case uint8_t(WsOpcode::Continuation):
            if (!fragmentedOpcode_) return fail(kWsProtocolError, "continuation frame without a message");
            fragments_ += payload;
            if (fin) {
                out.push_back({*fragmentedOpcode_, std::move(fragments_)});
                fragments_.clear();
                fragmentedOpcode_.reset();
            }
            break;
        default:
            return fail(kWsProtocolError, "unknown opcode " + std::to_string(opcodeBits));
        }
        if (!out.empty() && out.back().opcode == WsOpcode::Text &&
            !g_utf8_validate(out.back().payload.data(), gssize(out.back().payload.size()), nullptr)) {
            out.pop_back();  // never handed on: the caller handles `out` before it looks at the result
            return fail(kWsInvalidPayload, "text message is not UTF-8");
        }
    }
    buffer_.erase(0, at);
    return true;
}

}  // namespace camrelay

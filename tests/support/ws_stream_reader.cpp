#include "ws_stream_reader.h"

#include <cstdlib>

namespace camrelay::testing {

std::string webSocketRequest(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

WsStreamReader::WsStreamReader(std::function<void(const Part&)> onPart, bool keepBodies)
    : onPart_(std::move(onPart)), keepBodies_(keepBodies) {}

bool WsStreamReader::fail(std::string why) {
    error_ = std::move(why);
    return false;
}

bool WsStreamReader::feed(const char* data, size_t size) {
    if (!error_.empty()) return false;
    buffer_.append(data, size);
    if (!headDone_) {
        const size_t end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) return buffer_.size() < 8192 || fail("response head too long");
        if (buffer_.rfind("HTTP/1.1 101", 0) != 0) return fail("no 101: " + buffer_.substr(0, buffer_.find("\r\n")));
        buffer_.erase(0, end + 4);
        headDone_ = true;
    }
    size_t at = 0;
    while (buffer_.size() - at >= 2) {
        const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + at);
        if (p[1] & 0x80) return fail("server frames must not be masked");
        uint64_t length = p[1] & 0x7f;
        size_t header = 2;
        if (length == 126) {
            if (buffer_.size() - at < 4) break;
            length = (uint64_t(p[2]) << 8) | p[3];
            header = 4;
        } else if (length == 127) {
            if (buffer_.size() - at < 10) break;
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
            header = 10;
        }
        if (buffer_.size() - at < header + length) break;
        message(p[0] & 0x0f, buffer_.substr(at + header, size_t(length)));
        at += header + size_t(length);
    }
    buffer_.erase(0, at);
    return true;
}

void WsStreamReader::message(uint8_t opcode, std::string payload) {
    Part part;
    if (opcode == 2 && payload.size() >= 24 && payload.compare(0, 4, "CRF1") == 0) {
        auto u64 = [&](size_t at) {
            uint64_t v = 0;
            for (size_t i = 0; i < 8; ++i) v = (v << 8) | uint8_t(payload[at + i]);
            return v;
        };
        part.frameNumber = u64(8);
        part.timestampUs = int64_t(u64(16));
        const size_t header = uint8_t(payload[4]);
        part.contentLength = payload.size() - header;
        if (keepBodies_) part.body = payload.substr(header);
    } else if (opcode == 1 && payload.compare(0, 16, "{\"type\":\"frame\",") == 0) {
        // "timestamp" comes before the base64 and "frame_number" after it.
        const size_t ts = payload.find("\"timestamp\":");
        const size_t number = payload.rfind("\"frame_number\":");
        if (ts == std::string::npos || number == std::string::npos) return;
        part.timestampUs = std::strtoll(payload.c_str() + ts + 12, nullptr, 10) * 1000;
        part.frameNumber = std::strtoull(payload.c_str() + number + 15, nullptr, 10);
        part.contentLength = payload.size();
        if (keepBodies_) part.body = std::move(payload);
    } else {
        return;  // stream_info, state, pings...
    }
    onPart_(part);
}

}  // namespace camrelay::testing

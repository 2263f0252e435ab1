#pragma once
// Reads camrelay's WebSocket frame stream as a load viewer: the 101 response,
// then server frames; each frame message (binary header or the JSON frame
// shape) becomes a Part with its frame number and capture timestamp. Other
// text messages (stream_info, state) are skipped. Cheap enough for hundreds of
// viewers: JSON is not parsed, the two numbers are found by their keys.
#include "multipart_reader.h"

#include <functional>
#include <string>

namespace camrelay::testing {

class WsStreamReader : public StreamReader {
public:
    WsStreamReader(std::function<void(const Part&)> onPart, bool keepBodies);
    bool feed(const char* data, size_t size) override;
    const std::string& error() const override { return error_; }

private:
    bool fail(std::string why);
    void message(uint8_t opcode, std::string payload);

    std::function<void(const Part&)> onPart_;
    bool keepBodies_;
    bool headDone_ = false;
    std::string buffer_;
    std::string error_;
};

// The upgrade request a viewer sends for target.
std::string webSocketRequest(const std::string& target);

}  // namespace camrelay::testing

#pragma once
// The WebSocket wire protocol (RFC 6455), server side, as pure functions and
// an incremental reader, so fan-outs can build each frame message once and
// share its bytes between every viewer (libsoup's WebSocketConnection copies
// and queues per connection without bound).
// Thread affinity: any thread (no shared state).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

enum class WsOpcode : uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

// Close codes used by camrelay.
inline constexpr uint16_t kWsNormalClosure = 1000;
inline constexpr uint16_t kWsGoingAway = 1001;
inline constexpr uint16_t kWsProtocolError = 1002;
inline constexpr uint16_t kWsUnsupportedData = 1003;
inline constexpr uint16_t kWsInvalidPayload = 1007;
inline constexpr uint16_t kWsPolicyViolation = 1008;
inline constexpr uint16_t kWsMessageTooBig = 1009;
inline constexpr uint16_t kWsInternalError = 1011;
inline constexpr uint16_t kWsTryAgainLater = 1013;

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string websocketAccept(const std::string& key);
// "HTTP/1.1 101 Switching Protocols" with the accept header.
std::string websocketHandshakeResponse(const std::string& key);
// One unmasked server frame (FIN set) carrying payload.
std::string websocketFrame(WsOpcode opcode, std::string_view payload);
// A close frame with code and reason (reason cut to fit 123 bytes).
std::string websocketCloseFrame(uint16_t code, std::string_view reason);

struct WsMessage {
    WsOpcode opcode;       // Text, Binary, Close, Ping or Pong (fragments are joined)
    std::string payload;
};

// Reads client frames from a byte stream. Clients must mask; messages
// (joined fragments) over maxMessage bytes are refused.
class WsReader {
public:
    explicit WsReader(size_t maxMessage) : maxMessage_(maxMessage) {}
    // Appends data; complete messages go to out. Returns false on a protocol
    // violation: closeCode() / error() then say which and why.
    bool feed(std::string_view data, std::vector<WsMessage>& out);
    uint16_t closeCode() const { return closeCode_; }
    const std::string& error() const { return error_; }

private:
    bool fail(uint16_t code, std::string why);

    size_t maxMessage_;
    std::string buffer_;
    std::optional<WsOpcode> fragmentedOpcode_;
    std::string fragments_;
    uint16_t closeCode_ = 0;
    std::string error_;
};

}  // namespace camrelay

#pragma once
// WebSocket by hand on a raw socket, for tests that send what no well-behaved
// client would (unmasked frames, lying lengths, floods) and read close codes.
#include <cstdint>
#include <optional>
#include <string>

namespace camrelay::testing {

// Connects to 127.0.0.1:port and completes the RFC 6455 handshake for path
// (with RFC 6455's example key); returns the fd, or -1 when the connection or
// the 101 answer fails. head (optional) receives the response head.
// receiveBuffer > 0: SO_RCVBUF before connecting (a client that reads slowly).
int rawWebSocket(int port, const std::string& path, int receiveBuffer = 0, std::string* head = nullptr);

// A client frame: first byte (FIN + opcode), payload masked unless masked is
// false; length64 forces the 64-bit length form announcing that value
// (whatever the payload really is).
std::string clientFrame(uint8_t firstByte, const std::string& payload, std::optional<uint64_t> length64 = {},
                        bool masked = true);

// Reads until the server closes (or timeoutMs without data); the close code
// of the last close frame it sent, 0 when none.
int readUntilClosed(int fd, int timeoutMs = 5000);

}  // namespace camrelay::testing

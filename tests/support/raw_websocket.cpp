#include "raw_websocket.h"

#include "http_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace camrelay::testing {

int rawWebSocket(int port, const std::string& path, int receiveBuffer, std::string* head) {
    const int fd = connectLoopback(port, receiveBuffer);
    if (fd < 0) return -1;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n\r\n";
    std::string answer;
    char c;
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()))
        while (answer.find("\r\n\r\n") == std::string::npos && answer.size() < 65536 && recv(fd, &c, 1, 0) == 1) answer += c;
    if (head) *head = answer;
    if (answer.rfind("HTTP/1.1 101", 0) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

std::string clientFrame(uint8_t firstByte, const std::string& payload, std::optional<uint64_t> length64, bool masked) {
    std::string f;
    f.push_back(char(firstByte));
    const uint8_t maskBit = masked ? 0x80 : 0;
    const uint64_t length = length64 ? *length64 : payload.size();
    if (!length64 && length < 126) {
        f.push_back(char(maskBit | length));
    } else if (!length64 && length <= 0xffff) {
        f.push_back(char(maskBit | 126));
        f.push_back(char(length >> 8));
        f.push_back(char(length & 0xff));
    } else {
        f.push_back(char(maskBit | 127));
        for (int shift = 56; shift >= 0; shift -= 8) f.push_back(char((length >> shift) & 0xff));
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    if (masked) f.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i) f.push_back(masked ? char(payload[i] ^ mask[i % 4]) : payload[i]);
    return f;
}

int readUntilClosed(int fd, int timeoutMs) {
    timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string data;
    char buffer[65536];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) data.append(buffer, size_t(n));
    // Walk the frames to the last close frame.
    size_t at = 0;
    int code = 0;
    while (at + 2 <= data.size()) {
        const uint8_t op = uint8_t(data[at]) & 0x0f;
        uint64_t length = uint8_t(data[at + 1]) & 0x7f;
        size_t header = 2;
        if (length == 126 && at + 4 <= data.size()) {
            length = (uint8_t(data[at + 2]) << 8) | uint8_t(data[at + 3]);
            header = 4;
        } else if (length == 127 && at + 10 <= data.size()) {
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | uint8_t(data[at + 2 + i]);
            header = 10;
        }
        if (length > data.size() || at + header + length > data.size()) break;
        if (op == 8 && length >= 2) code = (uint8_t(data[at + header]) << 8) | uint8_t(data[at + header + 1]);
        at += header + size_t(length);
    }
    return code;
}

}  // namespace camrelay::testing

#pragma once
// A real WebSocket client (libsoup's) for tests, on its own GMainContext so
// the test thread drives it explicitly: nothing happens outside waitFor().
#include <libsoup/soup.h>

#include <functional>
#include <string>
#include <vector>

namespace camrelay::testing {

struct WsMessage {
    bool binary = false;
    std::string data;
};

class WsClient {
public:
    // path may carry a query. Throws when the handshake fails within timeoutMs.
    // trustedCertificate (a PEM file): connect with wss:// and trust that certificate.
    WsClient(int port, const std::string& path, int timeoutMs = 5000, const std::string& trustedCertificate = {});
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    // Runs the client's loop until pred() or timeout.
    bool waitFor(const std::function<bool()>& pred, int timeoutMs);
    const std::vector<WsMessage>& messages() const { return messages_; }
    void sendText(const std::string& text);
    void sendBinary(const std::string& bytes);
    // Sends a normal close and waits (briefly) for the server's answer.
    void close();
    std::string closeReason() const { return closeReason_; }
    bool closed() const { return closed_; }
    int closeCode() const { return closeCode_; }

private:
    GMainContext* context_;
    SoupSession* session_ = nullptr;
    SoupWebsocketConnection* connection_ = nullptr;
    std::string error_;
    bool done_ = false;
    bool closed_ = false;
    int closeCode_ = 0;
    std::string closeReason_;
    std::vector<WsMessage> messages_;
};

// How many binary / text messages the client received.
size_t binaryCount(const WsClient& ws);
size_t textCount(const WsClient& ws);
// The JSON text messages the client received whose "type" is type.
std::vector<std::string> typed(const WsClient& ws, const std::string& type);

}  // namespace camrelay::testing

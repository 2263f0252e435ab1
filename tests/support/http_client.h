#pragma once
// A small blocking HTTP/1.1 client over a real TCP socket, for tests: it
// speaks to the real service exactly as curl would.
#include <map>
#include <string>

namespace camrelay::testing {

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// Connects to 127.0.0.1:port; returns -1 on failure.
// receiveBuffer > 0: SO_RCVBUF set before connecting.
int connectLoopback(int port, int receiveBuffer = 0);

// A loopback port nobody listens on (for cameras that cannot connect).
int closedPort();

// "Authorization: Basic ...\r\n" for "user:password", to pass as extraHeaders.
std::string basicAuth(const std::string& userPass);

// One request, "Connection: close", whole response. Throws std::runtime_error
// when the connection fails or the response does not parse.
HttpResponse httpRequest(int port, const std::string& method, const std::string& target,
                         const std::string& body = {}, const std::string& extraHeaders = {});
// One request, and only the response's status line and headers (a stream never
// ends, so its body is not read): for checking which routes answer. body is
// sent with its Content-Length. Throws like httpRequest.
HttpResponse httpRequestHead(int port, const std::string& method, const std::string& target,
                             const std::string& body = {}, const std::string& extraHeaders = {});
// One GET to a numeric address ("::1", "127.0.0.1"), Host header as curl sends it
// ("[::1]:PORT"). Throws std::runtime_error naming the address when it cannot connect.
HttpResponse httpGetAt(const std::string& address, int port, const std::string& target, const std::string& extraHeaders = {});
// The response's header lines, "name: value" (names in lower case), for messages.
std::string headerLines(const HttpResponse& response);
// Sends raw bytes and returns whatever comes back until the server closes (for garbage requests).
std::string rawExchange(int port, const std::string& bytes, int timeoutMs = 3000);

}  // namespace camrelay::testing

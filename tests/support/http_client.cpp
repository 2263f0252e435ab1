#include "http_client.h"

#include "multipart_reader.h"

#include <glib.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace camrelay::testing {

int connectLoopback(int port, int receiveBuffer) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (receiveBuffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

namespace {
int connectNumeric(const std::string& address, int port) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) return -1;
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

std::string exchangeOn(int fd, const std::string& bytes, int timeoutMs) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may close early on garbage: read what it said
        sent += size_t(n);
    }
    std::string reply;
    char buffer[65536];
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, timeoutMs) > 0) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        reply.append(buffer, size_t(n));
    }
    close(fd);
    return reply;
}
}  // namespace

std::string rawExchange(int port, const std::string& bytes, int timeoutMs) {
    int fd = connectLoopback(port);
    if (fd < 0) throw std::runtime_error("cannot connect to port " + std::to_string(port));
    return exchangeOn(fd, bytes, timeoutMs);
}

int closedPort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

namespace {
HttpResponse parseReply(const std::string& reply, const std::string& method, const std::string& target) {
    auto headEnd = reply.find("\r\n\r\n");
    if (reply.compare(0, 5, "HTTP/") != 0 || headEnd == std::string::npos)
        throw std::runtime_error(method + " " + target + ": no HTTP response (got " + std::to_string(reply.size()) + " bytes)");
    HttpResponse response;
    response.status = std::atoi(reply.c_str() + 9);
    response.headers = parseHeaderLines(reply.substr(reply.find("\r\n") + 2, headEnd));
    response.body = reply.substr(headEnd + 4);
    return response;
}
}  // namespace

HttpResponse httpGetAt(const std::string& address, int port, const std::string& target, const std::string& extraHeaders) {
    int fd = connectNumeric(address, port);
    if (fd < 0) throw std::runtime_error("cannot connect to " + address + " port " + std::to_string(port));
    const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                                "\r\nConnection: close\r\n" + extraHeaders + "\r\n";
    return parseReply(exchangeOn(fd, request, 10000), "GET", target);
}

std::string headerLines(const HttpResponse& response) {
    std::string text;
    for (const auto& [name, value] : response.headers) text += name + ": " + value + "\n";
    return text;
}

std::string basicAuth(const std::string& userPass) {
    gchar* encoded = g_base64_encode(reinterpret_cast<const guchar*>(userPass.data()), userPass.size());
    std::string header = "Authorization: Basic " + std::string(encoded) + "\r\n";
    g_free(encoded);
    return header;
}

HttpResponse httpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                         const std::string& extraHeaders) {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extraHeaders;
    if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    return parseReply(rawExchange(port, request, 10000), method, target);
}


HttpResponse httpRequestHead(int port, const std::string& method, const std::string& target, const std::string& body,
                             const std::string& extraHeaders) {
    const int fd = connectLoopback(port);
    if (fd < 0) throw std::runtime_error("cannot connect to port " + std::to_string(port));
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extraHeaders;
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may answer and close before reading it all
        sent += size_t(n);
    }
    std::string reply;
    char buffer[4096];
    pollfd p{fd, POLLIN, 0};
    // Up to the end of the head, 10 s at most (a snapshot may wait for a camera).
    while (reply.find("\r\n\r\n") == std::string::npos && poll(&p, 1, 10000) > 0) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        reply.append(buffer, size_t(n));
    }
    close(fd);
    const auto headEnd = reply.find("\r\n\r\n");
    if (reply.compare(0, 5, "HTTP/") != 0 || headEnd == std::string::npos)
        throw std::runtime_error(method + " " + target + ": no HTTP response head (got " + std::to_string(reply.size()) +
                                 " bytes)");
    HttpResponse response;
    response.status = std::atoi(reply.c_str() + 9);
    response.headers = parseHeaderLines(reply.substr(reply.find("\r\n") + 2, headEnd));
    response.body = reply.substr(headEnd + 4);  // whatever of the body came with the head
    return response;
}

}  // namespace camrelay::testing

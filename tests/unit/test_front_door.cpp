// The request-head inspector of the HTTP front door: pure, byte by byte.
#include "http/front_door.h"

#include <catch2/catch.hpp>

using namespace camrelay;

namespace {
HeadVerdict inspect(const std::string& bytes) { return inspectRequestHead(bytes, HttpLimits{}); }
}  // namespace

TEST_CASE("a request head is complete at its blank line, whatever arrives after it", "[front-door]") {
    const std::string head = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    for (size_t n = 0; n < head.size(); ++n) CHECK(inspect(head.substr(0, n)).kind == HeadVerdict::Incomplete);
    auto v = inspect(head + "POST body");
    CHECK(v.kind == HeadVerdict::Complete);
    CHECK(v.length == head.size());
    CHECK(inspect("GET / HTTP/1.0\n\n").kind == HeadVerdict::Complete);  // bare LF lines
}

TEST_CASE("request heads over the limits are rejected with the right status", "[front-door]") {
    HttpLimits limits;
    auto status = [&](const std::string& bytes) {
        auto v = inspectRequestHead(bytes, limits);
        return v.kind == HeadVerdict::Reject ? v.status : 0u;
    };
    // The target alone decides 414, even before the line ends.
    CHECK(status("GET /" + std::string(8191, 'a') + " HTTP/1.1\r\n\r\n") == 0);
    CHECK(status("GET /" + std::string(8192, 'a') + " HTTP/1.1\r\n\r\n") == 414);
    CHECK(status("GET /" + std::string(9000, 'a')) == 414);
    // Head size and field count: 431.
    CHECK(status("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a')) == 431);
    CHECK(status("GET / HTTP/1.1\r\nX: " + std::string(16400, 'a') + "\r\n\r\n") == 431);
    std::string fields = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 100; ++i) fields += "X: y\r\n";
    CHECK(status(fields + "\r\n") == 0);
    CHECK(status(fields + "X: y\r\n\r\n") == 431);
    // Declared bodies: 413 over the limit, 400 when not a number.
    CHECK(status("POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n") == 0);
    CHECK(status("POST / HTTP/1.1\r\ncontent-length:65537\r\n\r\n") == 413);
    CHECK(status("POST / HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n") == 413);
    CHECK(status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400);
    CHECK(status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
    CHECK(status("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n") == 400);
    CHECK(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 411);
    limits.maxUrlBytes = 256;
    CHECK(status("GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n") == 414);
}

TEST_CASE("answers written by the front door are complete HTTP responses", "[front-door]") {
    const std::string r = cannedResponse(503, "too_many_connections", "limit 4", "Retry-After: 5\r\n");
    CHECK_THAT(r, Catch::StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
    CHECK_THAT(r, Catch::Contains("Retry-After: 5\r\n"));
    CHECK_THAT(r, Catch::Contains("Connection: close\r\n"));
    const std::string body = R"({"error":"too_many_connections","message":"limit 4"})";
    CHECK_THAT(r, Catch::EndsWith("\r\n\r\n" + body));
    CHECK_THAT(r, Catch::Contains("Content-Length: " + std::to_string(body.size()) + "\r\n"));
}

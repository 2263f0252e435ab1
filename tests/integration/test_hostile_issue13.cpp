// Hostile clients against issue 13's surface (compatibility URLs, /metrics), the real
// binary and raw sockets: each case is an attack that once worked.
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

using namespace camrelay::testing;

namespace {

// Reads until the server closes (or 5 s): the whole response.
std::string readAll(int fd) {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
    return out;
}

}  // namespace

// The gate checks a stream token against the camera that /?action=snapshot_N named when
// the request head arrived; the handler runs when the body is in. A client that holds
// back a (GET) body while the camera list changes used to get another camera's picture.
TEST_CASE("a stream token cannot reach another camera by holding the body while stream_N shifts", "[hostile][compat][auth]") {
    TempDir dir;
    const std::string config = dir.write("camrelay.ini", "[paths]\ndata=" + dir.path() + "/data\n[auth]\nenabled=true\n"
                                                         "login-failures-per-minute=10000\npassword-checks-per-second=1000\n"
                                                         "[user:ada]\nrole=admin\npassword=" + hashWithBinary("admin-pw") + "\n");
    // "b" is camera 0, "c" camera 1 (sorted by id).
    ServiceProcess service({{"b.conf", demoCamera(160, 120, 10)}, {"c.conf", demoCamera(160, 120, 10)}},
                           {"--config", config});
    service.setRequestHeaders(basicAuth("ada:admin-pw"));
    const int port = service.port();
    REQUIRE(waitUntil([&] { return httpRequest(port, "GET", "/api/cameras/c/snapshot", {}, basicAuth("ada:admin-pw")).status == 200; }, 15000));
    const HttpResponse token = httpRequest(port, "POST", "/api/cameras/b/token", "{}", basicAuth("ada:admin-pw"));
    REQUIRE(token.status == 200);
    const std::string t = jsonString(token.body, "$.token");
    REQUIRE(httpRequest(port, "GET", "/?action=snapshot_0&token=" + t).status == 200);
    REQUIRE(httpRequest(port, "GET", "/?action=snapshot_1&token=" + t).status == 403);

    const int fd = connectLoopback(port);
    REQUIRE(fd >= 0);
    const std::string head = "GET /?action=snapshot_0&token=" + t +
                             " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n";
    REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) == ssize_t(head.size()));
    usleep(300 * 1000);  // the gate has run on the head
    // Camera "a" sorts first: snapshot_0 is now "a", not the token's "b".
    REQUIRE(httpRequest(port, "POST", "/api/cameras",
                        R"({"id":"a","source":"videotestsrc is-live=true","width":160,"height":120})",
                        basicAuth("ada:admin-pw")).status == 201);
    REQUIRE(waitUntil([&] { return httpRequest(port, "GET", "/api/cameras/a/snapshot", {}, basicAuth("ada:admin-pw")).status == 200; }, 15000));
    REQUIRE(send(fd, "xx", 2, MSG_NOSIGNAL) == 2);
    const std::string answer = readAll(fd);
    close(fd);
    INFO(answer.substr(0, 400));
    CHECK(answer.rfind("HTTP/1.1 403", 0) == 0);
    CHECK(answer.find("image/jpeg") == std::string::npos);
    CHECK(answer.find("token_not_valid_here") != std::string::npos);
}

// mjpg-streamer's URLs are "/" with ?action=: /metrics used to count them as page requests.
TEST_CASE("/metrics counts /?action= requests under their own route group", "[hostile][compat][metrics]") {
    ServiceProcess service({{"cam.conf", demoCamera(160, 120, 10)}});
    const int port = service.port();
    for (int i = 0; i < 3; ++i) httpRequest(port, "GET", "/?action=snapshot_9");  // 404: no camera 9
    const std::string text = httpRequest(port, "GET", "/metrics").body;
    INFO(text);
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex(R"(camrelay_http_requests_total\{route="/\?action=stream\|snapshot\[_N\]",code="404"\} (\d+))")));
    CHECK(m[1].str() == "3");
    CHECK(text.find("route=\"/ and /{page}\",code=\"404\"") == std::string::npos);
}

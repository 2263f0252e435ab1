// REST API, page and request hygiene, against the real binary on a loopback port.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace camrelay::testing;

namespace {
void requireJsonError(const HttpResponse& r, int status, const std::string& code) {
    INFO(r.body);
    CHECK(r.status == status);
    CHECK(r.headers.at("content-type") == "application/json");
    REQUIRE(isJsonObject(r.body));
    CHECK(jsonString(r.body, "$.error") == code);
    CHECK_FALSE(jsonString(r.body, "$.message").empty());
}
}  // namespace

TEST_CASE("the camera list and detail show a live camera with its effective pipeline", "[api]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));

    auto list = httpRequest(service.port(), "GET", "/api/cameras");
    REQUIRE(list.status == 200);
    CHECK(list.headers.at("content-type") == "application/json");
    CHECK(jsonArrayLength(list.body, "$.cameras") == 1);
    CHECK(jsonString(list.body, "$.cameras[0].id") == "demo");
    CHECK(jsonString(list.body, "$.cameras[0].state") == "live");

    // fps is measured over two seconds: give it time to settle.
    REQUIRE(waitUntil([&] {
        return jsonNumber(service.cameraJson("demo"), "$.frames") > 60;
    }, 5000));
    auto detail = httpRequest(service.port(), "GET", "/api/cameras/demo");
    REQUIRE(detail.status == 200);
    const std::string& b = detail.body;
    CHECK(jsonString(b, "$.name") == "Test pattern");
    CHECK(jsonIsNull(b, "$.error"));
    CHECK(jsonString(b, "$.source_kind") == "raw");
    CHECK_THAT(jsonString(b, "$.pipeline"), Catch::StartsWith("videotestsrc is-live=true pattern=ball ! videoconvert"));
    CHECK_THAT(jsonString(b, "$.pipeline"), Catch::Contains("jpegenc quality=70"));
    CHECK(jsonNumber(b, "$.fps") == Approx(30).margin(3));
    CHECK(jsonNumber(b, "$.frames") > 30);
    CHECK(jsonNumber(b, "$.width") == 320);
    CHECK(jsonNumber(b, "$.height") == 240);
    CHECK(jsonNumber(b, "$.uptime") > 0.5);
    CHECK(jsonNumber(b, "$.viewers") == 0);
    CHECK(jsonNumber(b, "$.bytes_sent") == 0);
    CHECK(jsonString(b, "$.config.source") == "videotestsrc is-live=true pattern=ball");
    CHECK(jsonNumber(b, "$.config.quality") == 70);
    CHECK(jsonString(b, "$.config.framerate") == "30/1");
    CHECK(jsonString(b, "$.urls.stream") == "/api/cameras/demo/stream");

    auto health = httpRequest(service.port(), "GET", "/health");
    CHECK(health.status == 200);
    CHECK(jsonString(health.body, "$.status") == "ok");
    CHECK(jsonNumber(health.body, "$.live") == 1);
}

TEST_CASE("a snapshot is the latest frame from memory", "[api][snapshot]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    auto snap = httpRequest(service.port(), "GET", "/api/cameras/demo/snapshot");
    REQUIRE(snap.status == 200);
    CHECK(snap.headers.at("content-type") == "image/jpeg");
    CHECK(snap.headers.at("cache-control") == "no-store");
    CHECK(std::stoul(snap.headers.at("content-length")) == snap.body.size());
    const double captured = std::stod(snap.headers.at("x-timestamp"));
    CHECK(std::fabs(captured - wallUs() / 1e6) < 2.0);
    CHECK(decodeJpegSize(snap.body) == std::make_pair(320, 240));
}

TEST_CASE("stop and start: state, snapshot 503 while stopped, viewers carry on", "[api]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool viewer(service.port(), "/api/cameras/demo/stream");
    viewer.open(1);
    viewer.run(1000);
    REQUIRE(viewer.stats(0).frames > 10);

    auto stopped = httpRequest(service.port(), "POST", "/api/cameras/demo/stop");
    CHECK(stopped.status == 200);
    CHECK(jsonString(stopped.body, "$.state") == "stopped");
    auto snap = httpRequest(service.port(), "GET", "/api/cameras/demo/snapshot");
    requireJsonError(snap, 503, "no_frame");
    CHECK(snap.headers["retry-after"] == "1");
    CHECK_THAT(jsonString(snap.body, "$.message"), Catch::Contains("camera demo is stopped"));
    viewer.run(500);
    const uint64_t framesWhileStopped = viewer.stats(0).frames;
    viewer.run(1000);
    CHECK(viewer.stats(0).frames == framesWhileStopped);
    CHECK_FALSE(viewer.stats(0).closed);

    auto started = httpRequest(service.port(), "POST", "/api/cameras/demo/start");
    CHECK(started.status == 200);
    REQUIRE(service.waitForState("demo", "live"));
    viewer.run(1500);
    CHECK(viewer.stats(0).frames > framesWhileStopped + 10);
    CHECK(viewer.stats(0).error.empty());
}

TEST_CASE("errors are JSON with the right status", "[api][errors]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    const int port = service.port();
    requireJsonError(httpRequest(port, "GET", "/api/cameras/nosuch"), 404, "unknown_camera");
    requireJsonError(httpRequest(port, "GET", "/api/cameras/nosuch/stream"), 404, "unknown_camera");
    requireJsonError(httpRequest(port, "GET", "/api/nothing"), 404, "not_found");
    requireJsonError(httpRequest(port, "GET", "/api/cameras/demo/zoom"), 404, "not_found");
    requireJsonError(httpRequest(port, "GET", "/api/cameras/bad%20id"), 400, "bad_camera_id");
    requireJsonError(httpRequest(port, "GET", "/api/cameras/demo/stream?fps=abc"), 400, "bad_fps");
    requireJsonError(httpRequest(port, "GET", "/api/cameras/demo/stream?fps=0"), 400, "bad_fps");

    auto wrong = httpRequest(port, "POST", "/api/cameras/demo/stream");
    requireJsonError(wrong, 405, "method_not_allowed");
    CHECK(wrong.headers.at("allow") == "GET");
    auto get = httpRequest(port, "GET", "/api/cameras/demo/start");
    requireJsonError(get, 405, "method_not_allowed");
    CHECK(get.headers.at("allow") == "POST");
    requireJsonError(httpRequest(port, "DELETE", "/api/cameras"), 405, "method_not_allowed");

    // A huge body is refused from its headers, before anything is read...
    const std::string huge = rawExchange(port, "POST /api/cameras/demo/start HTTP/1.1\r\nHost: localhost\r\n"
                                               "Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n");
    CHECK_THAT(huge, Catch::StartsWith("HTTP/1.1 413"));
    CHECK_THAT(huge, Catch::Contains("\"error\":\"body_too_large\""));
    // ...and a client that sends it anyway gets the same answer, the camera untouched.
    auto big = httpRequest(port, "POST", "/api/cameras/demo/stop", std::string(1 << 20, 'x'));
    requireJsonError(big, 413, "body_too_large");
    CHECK(jsonString(httpRequest(port, "GET", "/api/cameras/demo").body, "$.state") != "stopped");

    // Garbage and path tricks get an answer, and the service stays up.
    CHECK_THAT(rawExchange(port, "\x01\x02 garbage\r\n\r\n"), Catch::Matches("^HTTP/1\\.[01] 400 [^]*"));
    CHECK(httpRequest(port, "GET", "/../../etc/passwd").status == 404);
    CHECK(httpRequest(port, "GET", "/.hidden").status == 404);
    CHECK(httpRequest(port, "GET", "/health").status == 200);
}

TEST_CASE("the page and its files are served from the binary", "[api][web]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    auto page = httpRequest(service.port(), "GET", "/");
    REQUIRE(page.status == 200);
    CHECK_THAT(page.headers.at("content-type"), Catch::StartsWith("text/html"));
    CHECK_THAT(page.body, Catch::Contains("/dashboard.js"));
    auto script = httpRequest(service.port(), "GET", "/dashboard.js");
    CHECK(script.status == 200);
    CHECK_THAT(script.headers.at("content-type"), Catch::StartsWith("text/javascript"));
    CHECK(httpRequest(service.port(), "GET", "/style.css").status == 200);
    CHECK(httpRequest(service.port(), "GET", "/missing.html").status == 404);
}

TEST_CASE("SIGTERM shuts the service down cleanly", "[api]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool viewers(service.port(), "/api/cameras/demo/stream");
    viewers.open(3);
    viewers.run(500);
    CHECK(service.stop() == 0);
    CHECK_THAT(service.log(), Catch::Contains("shutting down"));
}

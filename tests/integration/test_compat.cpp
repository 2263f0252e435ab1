// mjpg-streamer's and ustreamer's URLs (issue 13): real HTTP clients, ffprobe and
// ffmpeg (which pick their demuxer from the real Content-Type), the real binary.
#include "child_process.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

using namespace camrelay::testing;

namespace {


// What ffprobe finds at the URL, demuxer chosen from the Content-Type: "mjpeg,W,H\n".
std::string probe(const std::string& url) {
    auto [code, out] = runCommand("ffprobe -v error -rw_timeout 5000000 -select_streams v:0 -show_entries "
                                  "stream=codec_name,width,height -of csv=p=0 '" + url + "' 2>&1");
    return code == 0 ? out : "exit " + std::to_string(code) + ": " + out;
}

// ffmpeg decodes 30 frames without a complaint.
std::string decode(const std::string& url) {
    auto [code, out] = runCommand("ffmpeg -nostdin -v error -rw_timeout 5000000 -i '" + url +
                                  "' -frames:v 30 -f null - 2>&1");
    return code == 0 ? out : "exit " + std::to_string(code) + ": " + out;
}

std::string base(const ServiceProcess& service) { return "http://127.0.0.1:" + std::to_string(service.port()); }

}  // namespace

TEST_CASE("mjpg-streamer and ustreamer URLs serve the cameras' MJPEG and snapshots, as ffmpeg reads them",
          "[compat][players]") {
    // demo first in GET /api/cameras order, yard second, told apart by their sizes.
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}, {"yard.conf", demoCamera(160, 120, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    REQUIRE(service.waitForState("yard", "live"));
    const int port = service.port();

    SECTION("streams: multipart/x-mixed-replace that ffprobe and ffmpeg decode") {
        for (const auto& [target, size] : std::vector<std::pair<std::string, std::string>>{
                 {"/?action=stream", "320,240"}, {"/stream", "320,240"}, {"/?action=stream_0", "320,240"},
                 {"/?action=stream_1", "160,120"}, {"/?action=stream&camera=yard", "160,120"},
                 {"/stream?camera=yard", "160,120"}, {"/?action=stream&fps=5", "320,240"}}) {
            INFO(target);
            HttpResponse head = httpRequestHead(port, "GET", target);
            CHECK(head.status == 200);
            CHECK_THAT(head.headers["content-type"], Catch::StartsWith("multipart/x-mixed-replace;boundary="));
            CHECK(probe(base(service) + target) == "mjpeg," + size + "\n");
        }
        CHECK(decode(base(service) + "/?action=stream").empty());
        CHECK(decode(base(service) + "/stream").empty());
    }
    SECTION("snapshots: one image/jpeg of the camera served") {
        for (const auto& [target, size] : std::vector<std::pair<std::string, std::pair<int, int>>>{
                 {"/?action=snapshot", {320, 240}}, {"/snapshot", {320, 240}}, {"/?action=snapshot_0", {320, 240}},
                 {"/?action=snapshot_1", {160, 120}}, {"/?action=snapshot&camera=yard", {160, 120}},
                 {"/snapshot?camera=yard", {160, 120}}}) {
            INFO(target);
            HttpResponse r = httpRequest(port, "GET", target);
            CHECK(r.status == 200);
            CHECK(r.headers["content-type"] == "image/jpeg");
            CHECK(r.headers.count("x-timestamp") == 1);
            CHECK(decodeJpegSize(r.body) == size);
        }
        CHECK(probe(base(service) + "/?action=snapshot") == "mjpeg,320,240\n");
        CHECK(httpRequest(port, "HEAD", "/snapshot").status == 200);
    }
    SECTION("ustreamer's /state") {
        // The rate is measured over two seconds: a camera just live shows 0 at first.
        HttpResponse r;
        CHECK(waitUntil([&] {
            r = httpRequest(port, "GET", "/state");
            return r.status == 200 && jsonNumber(r.body, "$.result.source.captured_fps") > 20;
        }, 5000));
        CHECK(r.status == 200);
        CHECK_THAT(r.headers["content-type"], Catch::StartsWith("application/json"));
        INFO(r.body);
        CHECK(jsonBool(r.body, "$.ok"));
        CHECK(jsonString(r.body, "$.result.camera") == "demo");
        CHECK(jsonNumber(r.body, "$.result.source.resolution.width") == 320);
        CHECK(jsonNumber(r.body, "$.result.source.resolution.height") == 240);
        CHECK(jsonBool(r.body, "$.result.source.online"));
        CHECK(jsonNumber(r.body, "$.result.source.desired_fps") == 30);
        CHECK(jsonNumber(r.body, "$.result.source.captured_fps") > 20);
        CHECK(jsonNumber(r.body, "$.result.encoder.quality") == 70);
        CHECK(jsonString(r.body, "$.result.encoder.type") == "CPU");
        CHECK(jsonNumber(r.body, "$.result.stream.clients") >= 0);
        HttpResponse yard = httpRequest(port, "GET", "/state?camera=yard");
        CHECK(jsonNumber(yard.body, "$.result.source.resolution.width") == 160);
    }
    SECTION("the page stays the page; errors name what is missing") {
        for (const char* target : {"/", "/?action=", "/?action=foo", "/?action=stream_x", "/?foo=bar", "/index.html?action=stream"}) {
            INFO(target);
            HttpResponse r = httpRequest(port, "GET", target);
            CHECK(r.status == 200);
            CHECK(r.headers["content-type"] == "text/html; charset=utf-8");
        }
        HttpResponse range = httpRequest(port, "GET", "/?action=stream_2");
        CHECK(range.status == 404);
        CHECK(jsonString(range.body, "$.error") == "unknown_camera");
        CHECK_THAT(jsonString(range.body, "$.message"), Catch::Contains("no camera number 2") && Catch::Contains("there are 2"));
        HttpResponse unknown = httpRequest(port, "GET", "/?action=snapshot&camera=porch");
        CHECK(unknown.status == 404);
        CHECK_THAT(jsonString(unknown.body, "$.message"), Catch::Contains("no camera \"porch\""));
        CHECK(httpRequest(port, "GET", "/stream/x").status == 404);
        CHECK(httpRequest(port, "POST", "/stream").status == 405);
        CHECK(httpRequest(port, "POST", "/?action=snapshot").status == 405);
        // ffmpeg on a URL that is no stream fails (it used to get the page and say "Invalid data").
        CHECK_THAT(probe(base(service) + "/?action=stream_7"), Catch::Contains("404"));
    }
}

TEST_CASE("[compat] default-camera chooses the camera; enabled=false turns the URLs off", "[compat]") {
    TempDir dir;
    SECTION("default-camera") {
        const std::string config = dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/data\n[compat]\ndefault-camera=yard\n");
        ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}, {"yard.conf", demoCamera(160, 120, 30)}},
                               {"--config", config});
        REQUIRE(service.waitForState("yard", "live"));
        CHECK(decodeJpegSize(httpRequest(service.port(), "GET", "/?action=snapshot").body) == std::make_pair(160, 120));
        CHECK(decodeJpegSize(httpRequest(service.port(), "GET", "/snapshot").body) == std::make_pair(160, 120));
        CHECK(probe(base(service) + "/stream") == "mjpeg,160,120\n");
        // _N still counts in GET /api/cameras order.
        CHECK(decodeJpegSize(httpRequest(service.port(), "GET", "/?action=snapshot_0").body) == std::make_pair(320, 240));
    }
    SECTION("a default camera that is not there is a 404 naming it") {
        const std::string config = dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/data\n[compat]\ndefault-camera=porch\n");
        ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", config});
        HttpResponse r = httpRequest(service.port(), "GET", "/snapshot");
        CHECK(r.status == 404);
        CHECK_THAT(jsonString(r.body, "$.message"), Catch::Contains("\"porch\"") && Catch::Contains("default-camera"));
    }
    SECTION("enabled=false") {
        const std::string config = dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/data\n[compat]\nenabled=false\n");
        ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", config});
        REQUIRE(service.waitForState("demo", "live"));
        for (const char* target : {"/?action=stream", "/?action=snapshot", "/stream", "/snapshot", "/state"}) {
            INFO(target);
            HttpResponse r = httpRequest(service.port(), "GET", target);
            CHECK(r.status == 404);
            CHECK(jsonString(r.body, "$.error") == "compat_disabled");
        }
        CHECK(httpRequest(service.port(), "GET", "/").headers["content-type"] == "text/html; charset=utf-8");
        CHECK(httpRequest(service.port(), "GET", "/api/cameras/demo/snapshot").status == 200);
    }
}

TEST_CASE("with auth on, compatibility URLs take Basic and a stream token, and answer 401 with a challenge, "
          "never a login page", "[compat][auth]") {
    TempDir dir;
    const std::string config = viewerAuthConfig(dir);
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}, {"yard.conf", demoCamera(160, 120, 30)}},
                           {"--config", config});
    service.setRequestHeaders(basicAuth("vic:viewer-pw"));
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();
    HttpResponse issued = httpRequest(port, "POST", "/api/cameras/demo/token", "", basicAuth("vic:viewer-pw"));
    REQUIRE(issued.status == 200);
    const std::string token = jsonString(issued.body, "$.token");

    for (const char* target : {"/?action=stream", "/?action=snapshot", "/stream", "/snapshot", "/state", "/?action=stream_1"}) {
        INFO(target);
        HttpResponse none = httpRequestHead(port, "GET", target);
        CHECK(none.status == 401);
        CHECK_THAT(none.headers["www-authenticate"], Catch::Contains("Basic realm=\"camrelay\""));
        CHECK(none.headers.count("location") == 0);
        CHECK(httpRequestHead(port, "GET", target, "", basicAuth("vic:viewer-pw")).status == 200);
    }
    // The dashboard page itself still sends a person to the login page.
    CHECK(httpRequestHead(port, "GET", "/?action=foo").status == 303);

    // The token opens the URLs that serve its camera (demo: the default and number 0) ...
    const std::string q = "token=" + token;
    for (const std::string& target : {"/?action=stream&" + q, "/?action=snapshot&" + q, "/?action=stream_0&" + q,
                                      "/stream?" + q, "/snapshot?" + q, "/state?" + q, "/snapshot?camera=demo&" + q}) {
        INFO(target);
        CHECK(httpRequestHead(port, "GET", target).status == 200);
    }
    CHECK(probe(base(service) + "/?action=stream&" + q) == "mjpeg,320,240\n");
    CHECK(decode(base(service) + "/stream?" + q).empty());
    CHECK(probe(base(service) + "/?action=snapshot&" + q) == "mjpeg,320,240\n");
    // ... and no other camera's.
    for (const std::string& target : {"/?action=stream_1&" + q, "/?action=snapshot&camera=yard&" + q, "/stream?camera=yard&" + q,
                                      "/?action=stream_9&" + q}) {
        INFO(target);
        CHECK(httpRequestHead(port, "GET", target).status == 403);
    }
    // ffmpeg with a user's password in the URL (Basic).
    CHECK(probe("http://vic:viewer-pw@127.0.0.1:" + std::to_string(port) + "/?action=stream") == "mjpeg,320,240\n");
    CHECK_THAT(probe(base(service) + "/?action=stream"), Catch::Contains("401"));
}

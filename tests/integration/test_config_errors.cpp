// Bad camera files and failing cameras: each reports itself; the rest run.
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>
#include <gst/gst.h>


using namespace camrelay::testing;

namespace {
// Runs the service binary with args; returns {exit code, output}.
std::pair<int, std::string> runBinary(const std::string& args) { return runCommand(camrelayBinary() + " " + args); }
}  // namespace

TEST_CASE("broken camera files fail alone, named by file and key; the demo keeps streaming", "[config-errors]") {
    ServiceProcess service({
        {"demo.conf", demoCamera(160, 120, 30)},
        {"missing.conf", "[camera]\nsource=nosuchsrc ! videoconvert\n"},
        {"syntax.conf", "[camera\nsource=videotestsrc\n"},
        {"typo.conf", "[camera]\nsource=videotestsrc\nqualty=50\n"},
        {"range.conf", "[camera]\nsource=videotestsrc\nquality=500\n"},
        {"nodevice.conf", "[camera]\nsource=v4l2src device=/dev/camrelay-no-such-device ! video/x-raw\n"},
    });
    REQUIRE(service.waitForState("demo", "live"));
    // A missing device is a camera that may come back (a USB camera unplugged): retried, not failed.
    REQUIRE(service.waitForState("nodevice", "stalled"));
    auto error = [&](const std::string& id) {
        auto body = service.cameraJson(id);
        CHECK(jsonString(body, "$.state") == (id == "nodevice" ? "stalled" : "failed"));
        return jsonString(body, "$.error");
    };
    const std::string dir = service.pipelinesDir() + "/";
    CHECK_THAT(error("missing"), Catch::Contains(dir + "missing.conf: camera.source: no element \"nosuchsrc\""));
    CHECK_THAT(error("missing"), Catch::Contains("no Debian package lists it: check the spelling"));
    CHECK_THAT(error("syntax"), Catch::Contains(dir + "syntax.conf: syntax error"));
    CHECK_THAT(error("typo"), Catch::Contains(dir + "typo.conf: camera.qualty: unknown key"));
    CHECK_THAT(error("range"), Catch::Contains(dir + "range.conf: camera.quality: must be 1..100 (got 500)"));
    // A runtime failure carries the element and GStreamer's own message.
    CHECK_THAT(error("nodevice"), Catch::Matches("^v4l2src[0-9]+: [^]*"));
    CHECK_THAT(error("nodevice"), Catch::Contains("/dev/camrelay-no-such-device"));
    CHECK_THAT(service.log(), Catch::Contains("missing.conf: camera.source: no element \"nosuchsrc\""));

    auto start = httpRequest(service.port(), "POST", "/api/cameras/typo/start");
    CHECK(start.status == 409);
    CHECK(jsonString(start.body, "$.error") == "camera_failed");
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/typo/stream").status == 503);

    ViewerPool pool(service.port(), "/api/cameras/demo/stream");
    pool.open(1);
    pool.run(1000);
    CHECK(pool.stats(0).frames > 20);
    auto health = httpRequest(service.port(), "GET", "/health").body;
    CHECK(jsonNumber(health, "$.cameras") == 6);
    CHECK(jsonNumber(health, "$.failed") == 4);
    CHECK(jsonNumber(health, "$.recovering") == 1);
}

TEST_CASE("--check validates everything, prints each problem and sets the exit code", "[config-errors][check]") {
    TempDir dir;
    dir.write("good.conf", demoCamera());
    auto [okCode, okText] = runBinary("--check --pipelines " + dir.path());
    CHECK(okCode == 0);
    CHECK_THAT(okText, Catch::Contains("good.conf: ok (raw source)"));
    CHECK_THAT(okText, Catch::Contains("1 camera(s), 0 problem(s)"));

    dir.write("bad.conf", "[camera]\nsource=videotestsrc ! nosuchfilter\nwidth=10\n");
    dir.write("ini.conf", "[camera]\nsource=videotestsrc\nenabled=perhaps\n");
    const std::string ini = dir.write("service.ini", "[server]\nport=99999\n");
    auto [badCode, badText] = runBinary("--check --config " + ini + " --pipelines " + dir.path());
    CHECK(badCode == 1);
    CHECK_THAT(badText, Catch::Contains("service.ini: server.port: must be 0..65535 (got 99999)"));
    CHECK_THAT(badText, Catch::Contains("bad.conf: camera.width: must be 16..16384 (got 10)"));
    CHECK_THAT(badText, Catch::Contains("ini.conf: camera.enabled: must be true or false"));
    CHECK_THAT(badText, Catch::Contains("3 camera(s)"));

    auto [pipelineCode, pipelineText] = runBinary("--check --pipelines /nonexistent-camrelay-dir");
    CHECK(pipelineCode == 1);
    CHECK_THAT(pipelineText, Catch::Contains("/nonexistent-camrelay-dir: cannot read the pipelines directory"));
}

TEST_CASE("the shipped example cameras are valid camera files", "[config-errors][examples]") {
    const char* root = std::getenv("CAMRELAY_SOURCE_ROOT");
    REQUIRE(root);
    auto [code, text] = runBinary(std::string("--check --pipelines ") + root + "/pipelines");
    INFO(text);
    CHECK(code == 0);
    auto [examplesCode, examplesText] = runBinary(std::string("--check --pipelines ") + root + "/pipelines/examples");
    INFO(examplesText);
    // Hardware sources parse and plan here too; libcamerasrc only where the libcamera plugin is installed.
    CHECK_THAT(examplesText, Catch::Contains("usb-webcam-mjpeg.conf: ok (jpeg source)"));
    CHECK_THAT(examplesText, Catch::Contains("usb-webcam-raw.conf: ok (raw source)"));
    CHECK_THAT(examplesText, Catch::Contains("ip-camera-h264.conf: ok (encoded source)"));
    CHECK_THAT(examplesText, Catch::Contains("ip-camera-rtsp.conf: ok (dynamic source)"));
    CHECK_THAT(examplesText, Catch::Contains("ip-camera-mjpeg.conf: ok (jpeg source)"));
    CHECK_THAT(examplesText, Catch::Contains("http-mjpeg-camera.conf: ok (jpeg source)"));
    CHECK_THAT(examplesText, Catch::Contains("pushed-camera.conf: ok (jpeg source): appsrc name=camrelay_push"));
    CHECK_THAT(examplesText, Catch::Contains("on-demand-camera.conf: ok (jpeg source)"));
    CHECK_THAT(examplesText, Catch::Contains("rtsp://***@192.0.2.10"));  // the example's password is not printed
    CHECK(examplesText.find("admin:password") == std::string::npos);
    // tools/deps.sh installs gstreamer1.0-libcamera, so the Pi example is checked here too.
    CHECK_THAT(examplesText, Catch::Contains("raspberry-pi-camera.conf: ok"));
}

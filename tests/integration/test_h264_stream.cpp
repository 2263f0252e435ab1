// The camera's one shared H.264 stream (issue 11) and "JPEG only while
// someone looks", with real RTSP clients (GStreamer, ffprobe), a real RTSP
// test camera and real MJPEG viewers.
#include "child_process.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>

#include <cctype>
#include <sstream>
#include <thread>

using namespace camrelay::testing;

namespace {

bool jpegActive(const ServiceProcess& service, const std::string& id) {
    return jsonBool(service.cameraJson(id), "$.jpeg.active");
}

}  // namespace

TEST_CASE("RTSP clients of a JPEG camera share its one encoder, which runs only while they watch", "[h264][rtsp-out]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    std::string detail = service.cameraJson("demo");
    CHECK(jsonString(detail, "$.h264.mode") == "encode");
    CHECK_FALSE(jsonBool(detail, "$.h264.encoding"));
    CHECK(jsonNumber(detail, "$.h264.claims") == 0);
    CHECK(jsonNumber(detail, "$.h264.encoder_starts") == 0);
    CHECK(jsonBool(detail, "$.jpeg.active"));  // a JPEG camera's JPEG is its product: always on

    {
        DecodingPlayer first(h264Player(restreamUrl(service, "demo")));
        REQUIRE(first.pull(30, 5000) == 30);
        DecodingPlayer second(h264Player(restreamUrl(service, "demo")));  // joins the running encoder
        CHECK(second.pull(30, 5000) == 30);
        CHECK(first.pull(30, 5000) == 30);
        CHECK(second.size() == std::make_pair(320, 240));
        detail = service.cameraJson("demo");
        CHECK(jsonBool(detail, "$.h264.encoding"));
        CHECK(jsonNumber(detail, "$.h264.claims") == 1);          // one shared RTSP media holds one claim
        CHECK(jsonNumber(detail, "$.h264.encoder_starts") == 1);  // one encoder for both clients
    }
    // Both sent TEARDOWN: the media releases its claim and the encoder stops.
    CHECK(waitUntil([&] { return !jsonBool(service.cameraJson("demo"), "$.h264.encoding"); }, 5000));
    CHECK(jsonNumber(service.cameraJson("demo"), "$.h264.claims") == 0);
    CHECK_THAT(service.log(), Catch::Contains("no H.264 consumers: H.264 encoder stopped"));

    // The next client gets a new encoder.
    DecodingPlayer again(h264Player(restreamUrl(service, "demo")));
    CHECK(again.pull(10, 5000) == 10);
    CHECK(jsonNumber(service.cameraJson("demo"), "$.h264.encoder_starts") == 2);
}

TEST_CASE("an H.264 camera watched only over RTSP makes no JPEG and stays live; "
          "JPEG runs while an MJPEG viewer or a snapshot needs it", "[h264][passthrough]") {
    RtspCamera camera("h264", 320, 240, 30);  // a key frame every 30 frames (1 s)
    ServiceProcess service({{"yard.conf", "[camera]\nsource=rtspsrc location=" + camera.url() +
                                              " protocols=tcp latency=0 ! rtph264depay\n"}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    std::string detail = service.cameraJson("yard");
    CHECK(jsonString(detail, "$.h264.mode") == "passthrough");
    CHECK_FALSE(jpegActive(service, "yard"));  // nobody looks: no decoder work

    SECTION("RTSP only, for more than 10 s: live, watchdog satisfied, JPEG off") {
        DecodingPlayer player(h264Player(restreamUrl(service, "yard")));
        REQUIRE(player.pull(30, 5000) == 30);
        for (int second = 0; second < 11; ++second) {
            CHECK(player.pull(25, 2000) == 25);  // about a second of video
            detail = service.cameraJson("yard");
            INFO("after " << second << " s: " << detail);
            CHECK(jsonString(detail, "$.state") == "live");
            CHECK_FALSE(jsonBool(detail, "$.jpeg.active"));
            CHECK(jsonNumber(detail, "$.h264.claims") == 1);
            CHECK_FALSE(jsonBool(detail, "$.h264.encoding"));  // passthrough: no encoder
        }
        detail = service.cameraJson("yard");
        CHECK(jsonNumber(detail, "$.fps") > 20);  // access units count as the camera's frames
        CHECK(jsonNumber(detail, "$.width") == 320);  // from the H.264 caps
        CHECK(jsonNumber(detail, "$.height") == 240);
        CHECK(jsonNumber(detail, "$.reconnects") == 0);
        CHECK(camera.connections() == 1);
        CHECK_THAT(service.log(), !Catch::Contains("watchdog"));
    }

    SECTION("an MJPEG viewer turns JPEG on within one key-frame interval, and off when it leaves") {
        ViewerPool pool(service.port(), "/api/cameras/yard/stream");
        pool.open(1);
        pool.run(2500, [&] { return pool.stats(0).frames >= 1; });
        REQUIRE(pool.stats(0).frames >= 1);
        const double firstFrameMs = (pool.stats(0).firstFrameUs - pool.stats(0).startUs) / 1000.0;
        INFO("first frame after " << firstFrameMs << " ms");
        CHECK(firstFrameMs < 2500);
        CHECK(jpegActive(service, "yard"));
        pool.run(1000);
        CHECK(pool.stats(0).frames > 20);
        pool.close(0);
        CHECK(waitUntil([&] { return !jpegActive(service, "yard"); }, 3000));
        CHECK(jsonString(service.cameraJson("yard"), "$.state") == "live");
    }

    SECTION("a snapshot of a camera whose JPEG is off answers with a fresh JPEG") {
        const auto started = std::chrono::steady_clock::now();
        HttpResponse snapshot = httpRequest(service.port(), "GET", "/api/cameras/yard/snapshot");
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        CHECK(snapshot.status == 200);
        CHECK(decodeJpegSize(snapshot.body) == std::make_pair(320, 240));
        CHECK(ms < 2500);
        CHECK(waitUntil([&] { return !jpegActive(service, "yard"); }, 3000));  // the snapshot was its only consumer
    }
}

TEST_CASE("the encoder makes a key frame at least every h264-keyframe-interval, even at 5 fps", "[h264][keyframes]") {
    // x264enc's own key-int-max (2 x 30 x interval frames) would mean 24 s at 5 fps.
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 5) + "h264-keyframe-interval=2\n"}});
    REQUIRE(service.waitForState("demo", "live"));
    auto [code, text] = runCommand("ffprobe -v error -rtsp_transport tcp -select_streams v:0 -read_intervals %+9 "
                                   "-show_entries frame=key_frame,pts_time -of csv=p=0 " + restreamUrl(service, "demo"));
    REQUIRE(code == 0);
    std::vector<double> keyTimes;
    size_t frames = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        // "key_frame,pts_time" in ffprobe's order of the frame section: key_frame first.
        // The first frame may have no time yet ("1,N/A,"): not counted.
        const auto comma = line.find(',');
        if (comma == std::string::npos || !std::isdigit(static_cast<unsigned char>(line[comma + 1]))) continue;
        ++frames;
        if (line.substr(0, comma) == "1") keyTimes.push_back(std::stod(line.substr(comma + 1)));
    }
    INFO(text);
    CHECK(frames >= 30);
    REQUIRE(keyTimes.size() >= 3);
    for (size_t i = 1; i < keyTimes.size(); ++i) {
        INFO("key frames at " << keyTimes[i - 1] << " and " << keyTimes[i]);
        CHECK(keyTimes[i] - keyTimes[i - 1] <= 2.25);
    }
}

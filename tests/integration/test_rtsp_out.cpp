// RTSP re-streaming (gst-rtsp-server inside the service), played by real
// RTSP clients: GStreamer's rtspsrc in the test and ffmpeg/ffprobe.
#include "child_process.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>

using namespace camrelay::testing;

namespace {

// RTSP clients are watching: the shared media (and its encoder, if any) runs.
bool encoding(const ServiceProcess& service, const std::string& id) {
    return jsonBool(service.cameraJson(id), "$.rtsp.active");
}

size_t occurrences(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("every camera is re-served over RTSP as H.264 that GStreamer and ffmpeg decode; "
          "the encoder runs only while clients watch", "[rtsp-out]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.rtspPort() > 0);
    REQUIRE(service.waitForState("demo", "live"));
    const std::string detail = service.cameraJson("demo");
    CHECK(jsonNumber(detail, "$.rtsp.port") == service.rtspPort());
    CHECK(jsonString(detail, "$.rtsp.path") == "/demo");
    CHECK(jsonString(detail, "$.rtsp.mode") == "encode");
    CHECK_FALSE(encoding(service, "demo"));  // nobody watches: no encoder

    {
        DecodingPlayer player(h264Player(restreamUrl(service, "demo")));
        CHECK(player.pull(60, 5000) == 60);
        CHECK(player.size() == std::make_pair(320, 240));
        CHECK(encoding(service, "demo"));
    }
    // The player sent TEARDOWN: the shared media and its encoder go.
    CHECK(waitUntil([&] { return !encoding(service, "demo"); }, 5000));

    auto [probeCode, probe] = runCommand("ffprobe -v error -rtsp_transport tcp -select_streams v:0 "
                                         "-show_entries stream=codec_name,width,height -of csv=p=0 " +
                                         restreamUrl(service, "demo"));
    CHECK(probeCode == 0);
    CHECK(probe == "h264,320,240\n");
    auto [decodeCode, decodeText] = runCommand("ffmpeg -v error -rtsp_transport tcp -i " + restreamUrl(service, "demo") +
                                               " -frames:v 30 -f null -");
    CHECK(decodeCode == 0);
    INFO(decodeText);
    CHECK(decodeText.empty());  // no decoding or timestamp complaints

    auto [missingCode, missing] = runCommand("ffprobe -v error -rtsp_transport tcp " + restreamUrl(service, "nosuch"));
    CHECK(missingCode != 0);
    CHECK_THAT(missing, Catch::Contains("404"));
}

TEST_CASE("two RTSP clients and MJPEG viewers share one connection to the source camera", "[rtsp-out][relay]") {
    RtspCamera camera("h264", 320, 240, 30);
    ServiceProcess service({{"yard.conf", "[camera]\nsource=rtspsrc location=" + camera.url() +
                                              " protocols=tcp latency=0\n"}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    ViewerPool pool(service.port(), "/api/cameras/yard/stream");
    pool.open(3);
    DecodingPlayer first(h264Player(restreamUrl(service, "yard")));
    DecodingPlayer second(h264Player(restreamUrl(service, "yard")));
    const int firstFrames = first.pull(30, 5000), secondFrames = second.pull(30, 5000);
    INFO("service log:\n" << service.log() << "\ncamera:\n" << camera.output());
    CHECK(firstFrames == 30);
    CHECK(secondFrames == 30);
    CHECK(second.size() == std::make_pair(320, 240));
    pool.run(1000);
    for (size_t i = 0; i < pool.size(); ++i) CHECK(pool.stats(i).frames > 20);

    CHECK(camera.connections() == 1);    // one RTSP session to the camera...
    CHECK(camera.mediaCreated() == 1);
    CHECK(occurrences(service.log(), "H.264 encoder started") == 1);  // ...and one encoder for both RTSP clients
}

TEST_CASE("RTSP clients see the offline placeholder during an outage, then the camera again", "[rtsp-out][recovery]") {
    RtspCamera camera("h264", 320, 240, 30);
    ServiceProcess service({{"yard.conf", "[camera]\nsource=rtspsrc location=" + camera.url() +
                                              " protocols=tcp latency=0\nreconnect-max-delay=1\n"}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    DecodingPlayer player(h264Player(restreamUrl(service, "yard")));
    REQUIRE(player.pull(30, 5000) == 30);
    camera.kill();
    REQUIRE(service.waitForState("yard", "stalled", 5000));
    CHECK(player.pull(2, 3000) == 2);  // placeholders at about 1 fps, decodable on their own
    camera.start();
    REQUIRE(service.waitForState("yard", "live", 10000));
    CHECK(player.pull(30, 3000) == 30);
}

TEST_CASE("a camera that delivers H.264 is re-served untouched: no decoder, no encoder for RTSP", "[rtsp-out][passthrough]") {
    RtspCamera camera("h264", 320, 240, 30);
    ServiceProcess service({{"yard.conf", "[camera]\nsource=rtspsrc location=" + camera.url() +
                                              " protocols=tcp latency=0 ! rtph264depay ! h264parse\n"}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    const std::string detail = service.cameraJson("yard");
    CHECK(jsonString(detail, "$.rtsp.mode") == "passthrough");
    CHECK_FALSE(jsonBool(detail, "$.rtsp.active"));
    {
        DecodingPlayer first(h264Player(restreamUrl(service, "yard")));
        CHECK(first.pull(30, 5000) == 30);
        // A late joiner on the running shared media starts at the camera's next key frame.
        DecodingPlayer second(h264Player(restreamUrl(service, "yard")));
        const int secondFrames = second.pull(30, 5000);
        CHECK(secondFrames == 30);
        if (secondFrames != 30) WARN("service log:\n" << service.log());
        CHECK(first.size() == std::make_pair(320, 240));
        CHECK(encoding(service, "yard"));
        auto [code, probe] = runCommand("ffprobe -v error -rtsp_transport tcp -select_streams v:0 "
                                        "-show_entries stream=codec_name,width,height -of csv=p=0 " +
                                        restreamUrl(service, "yard"));
        CHECK(code == 0);
        CHECK(probe == "h264,320,240\n");
    }
    CHECK(waitUntil([&] { return !encoding(service, "yard"); }, 5000));
    CHECK_THAT(service.log(), Catch::Contains("passing the camera's H.264 through (no encoder)"));
    CHECK_THAT(service.log(), !Catch::Contains("H.264 encoder started"));
    CHECK(camera.connections() == 1);
    // MJPEG still works from the same connection.
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/yard/snapshot").status == 200);
}

// MJPEG over HTTP with real viewers reading real sockets.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>

#include <set>

using namespace camrelay::testing;

namespace {
double viewerFps(const ViewerStats& s) {
    if (s.frames < 2 || s.lastFrameUs <= s.firstFrameUs) return 0;
    return double(s.frames - 1) * 1e6 / double(s.lastFrameUs - s.firstFrameUs);
}
}  // namespace

TEST_CASE("the stream delivers whole, decodable frames at the configured rate", "[mjpeg]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 25)}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool pool(service.port(), "/api/cameras/demo/stream", true);
    std::vector<Part> parts;
    pool.onPart = [&](size_t, const Part& p) { parts.push_back(p); };
    pool.open(1);
    pool.run(4000);
    const ViewerStats& s = pool.stats(0);
    INFO(s.error);
    REQUIRE(s.error.empty());
    REQUIRE(parts.size() > 60);
    CHECK(viewerFps(s) == Approx(25).margin(2.5));
    CHECK(s.framesInOrder);
    for (const Part& p : parts) {
        CHECK(p.headers.at("content-type") == "image/jpeg");
        CHECK(p.body.size() == p.contentLength);
        CHECK(p.body.compare(0, 2, "\xff\xd8") == 0);               // SOI
        CHECK(p.body.compare(p.body.size() - 2, 2, "\xff\xd9") == 0);  // EOI
        CHECK(p.timestampUs > 0);
    }
    // Capture times advance by one frame period.
    const double span = double(parts.back().timestampUs - parts.front().timestampUs) / 1e6;
    CHECK(double(parts.size() - 1) / span == Approx(25).margin(2));
    CHECK(decodeJpegSize(parts[parts.size() / 2].body) == std::make_pair(320, 240));
}

TEST_CASE("the boundary follows each frame at once, so the last frame is complete without the next", "[mjpeg]") {
    // A 1 fps camera: after the first frame the stream must already end in the boundary.
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 1)}});
    REQUIRE(service.waitForState("demo", "live"));
    std::string reply = rawExchange(service.port(), "GET /api/cameras/demo/stream HTTP/1.1\r\nHost: localhost\r\n\r\n", 400);
    REQUIRE_THAT(reply, Catch::StartsWith("HTTP/1.1 200 OK\r\n"));
    CHECK_THAT(reply, Catch::Contains("Content-Type: multipart/x-mixed-replace;boundary=camrelayframe\r\n"));
    CHECK_THAT(reply, Catch::EndsWith("\xff\xd9\r\n--camrelayframe\r\n"));
}

TEST_CASE("a new viewer gets the latest frame at once, not after the next capture", "[mjpeg]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 1)}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool pool(service.port(), "/api/cameras/demo/stream");
    pool.open(1);
    pool.run(400, [&] { return pool.stats(0).frames > 0; });
    CHECK(pool.stats(0).frames == 1);  // a 1 fps camera had no new frame in 400 ms
}

TEST_CASE("200 concurrent viewers all receive frames; the count returns to 0", "[mjpeg][load]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool pool(service.port(), "/api/cameras/demo/stream");
    pool.open(200);
    pool.run(3000);
    CHECK(jsonNumber(service.cameraJson("demo"), "$.viewers") == 200);
    size_t withFrames = 0;
    for (const auto& s : pool.allStats()) {
        withFrames += s.frames >= 30 && s.error.empty() && s.framesInOrder;
    }
    CHECK(withFrames == 200);
    const double sent = jsonNumber(service.cameraJson("demo"), "$.bytes_sent");
    CHECK(sent > 0);
    for (size_t i = 0; i < pool.size(); ++i) pool.close(i);
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("demo"), "$.viewers") == 0; }, 3000));
}

TEST_CASE("a viewer that stops reading slows no one and is dropped after the timeout", "[mjpeg][slow]") {
    TempDir config;
    const std::string ini = config.write("camrelay.ini", "[limits]\nclient-timeout=2\n");
    ServiceProcess service({{"demo.conf", demoCamera(640, 480, 30)}}, {"--config", ini});
    REQUIRE(service.waitForState("demo", "live"));
    // The stalled viewer has a small receive window, as a stuck phone would:
    // the socket buffers fill, then nothing moves.
    ViewerPool stalled(service.port(), "/api/cameras/demo/stream", false, 32 * 1024);
    stalled.open(1);
    ViewerPool pool(service.port(), "/api/cameras/demo/stream");
    pool.open(4);
    stalled.run(300);
    pool.run(500);
    stalled.pause(0, true);
    const uint64_t before = pool.stats(1).frames;
    const int64_t t0 = monotonicUs();
    pool.run(5000);
    const double fps = double(pool.stats(1).frames - before) * 1e6 / double(monotonicUs() - t0);
    CHECK(fps == Approx(30).margin(3));
    for (size_t i = 0; i < 4; ++i) CHECK(pool.stats(i).frames > 120);
    // Dropped once its buffers are full and it has taken nothing for 2 s.
    auto timedOut = [&] {
        return jsonNumber(service.cameraJson("demo"), "$.viewers_timed_out") == 1;
    };
    CHECK(waitUntil([&] { pool.run(100); return timedOut(); }, 10000));
    auto detail = service.cameraJson("demo");
    CHECK(jsonNumber(detail, "$.viewers") == 4);
    CHECK(jsonNumber(detail, "$.frames_dropped") > 0);
    // Once it reads again it finds the connection closed by the server.
    stalled.pause(0, false);
    stalled.run(3000, [&] { return stalled.stats(0).closed; });
    CHECK(stalled.stats(0).closed);
}

TEST_CASE("a viewer that hangs up is freed at once, even with no frames flowing", "[mjpeg]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    REQUIRE(httpRequest(service.port(), "POST", "/api/cameras/demo/stop").status == 200);
    ViewerPool pool(service.port(), "/api/cameras/demo/stream");
    pool.open(5);
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("demo"), "$.viewers") == 5; }, 2000));
    for (size_t i = 0; i < 5; ++i) pool.close(i);
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("demo"), "$.viewers") == 0; }, 1000));
}

TEST_CASE("?fps= thins one viewer's stream without touching the others", "[mjpeg]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool thin(service.port(), "/api/cameras/demo/stream?fps=5");
    ViewerPool full(service.port(), "/api/cameras/demo/stream");
    thin.open(1);
    full.open(1);
    for (int i = 0; i < 40; ++i) {
        thin.run(50);
        full.run(50);
    }
    CHECK(viewerFps(thin.stats(0)) == Approx(5).margin(0.8));
    CHECK(viewerFps(full.stats(0)) == Approx(30).margin(4));
}

TEST_CASE("a JPEG camera passes its frames through byte for byte, with no encoder", "[mjpeg][passthrough]") {
    // An MJPEG clip read from a file: a JPEG source with timestamps and no
    // encoder anywhere, like a webcam in MJPEG mode. Every frame a viewer gets
    // must be byte for byte one of the frames stored in the file.
    TempDir files;
    const std::string clip = files.path() + "/clip.mkv";
    const auto storedFrames = makeMjpegClip(clip, 352, 288, 10, 100);
    REQUIRE(storedFrames.size() == 100);
    const std::set<std::string> stored(storedFrames.begin(), storedFrames.end());
    const std::string camera = "[camera]\nname=MJPEG camera\nsource=filesrc location=" + clip +
                               " ! matroskademux ! image/jpeg\n";
    ServiceProcess service({{"mjpeg.conf", camera}});
    REQUIRE(service.waitForState("mjpeg", "live"));
    auto detail = service.cameraJson("mjpeg");
    CHECK(jsonString(detail, "$.source_kind") == "jpeg");
    const std::string pipeline = jsonString(detail, "$.pipeline");
    CHECK(pipeline.find("enc") == std::string::npos);
    CHECK(pipeline.find("dec") == std::string::npos);

    ViewerPool pool(service.port(), "/api/cameras/mjpeg/stream", true);
    std::vector<std::string> bodies;
    pool.onPart = [&](size_t, const Part& p) { bodies.push_back(p.body); };
    pool.open(1);
    pool.run(1500);
    REQUIRE(bodies.size() >= 8);
    for (const auto& b : bodies) CHECK(stored.count(b) == 1);
    CHECK(decodeJpegSize(bodies.front()) == std::make_pair(352, 288));
    CHECK(viewerFps(pool.stats(0)) == Approx(10).margin(1.5));
}

TEST_CASE("the stream plays in GStreamer (souphttpsrc ! multipartdemux ! jpegdec) and in ffmpeg", "[mjpeg][players]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    const std::string url = "http://127.0.0.1:" + std::to_string(service.port()) + "/api/cameras/demo/stream";
    CHECK(decodeStreamFrames(url, 20) == std::make_pair(320, 240));

    // ffprobe reads it with its mpjpeg demuxer, as ffplay does.
    auto [code, text] = runCommand("ffprobe -v error -f mpjpeg -show_entries stream=codec_name,width,height -of csv=p=0 " + url);
    CHECK(code == 0);
    CHECK(text == "mjpeg,320,240\n");
}

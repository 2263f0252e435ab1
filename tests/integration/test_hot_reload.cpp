// Camera lifetime at run time: pipelines/*.conf edited, added and removed
// while the service runs (file monitor and SIGHUP), and what the viewers of a
// reloaded or removed camera see. Against the real binary.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "multipart_reader.h"
#include "service_process.h"
#include "viewer_pool.h"
#include "ws_client.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace camrelay::testing;

namespace {

// As editors do: write a temporary file beside it, then rename it over.
void replaceFile(const std::string& path, const std::string& text) {
    const std::string temp = path + ".tmp~";
    FILE* f = std::fopen(temp.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
    REQUIRE(std::rename(temp.c_str(), path.c_str()) == 0);
}

// The longest time between two consecutive values (times in µs).
int64_t longestGapUs(const std::vector<int64_t>& arrivals) {
    int64_t gap = 0;
    for (size_t i = 1; i < arrivals.size(); ++i) gap = std::max(gap, arrivals[i] - arrivals[i - 1]);
    return gap;
}

}  // namespace

TEST_CASE("an edited camera file reloads only that camera: its viewers stay, the other camera never pauses", "[hot-reload]") {
    ServiceProcess service({{"a.conf", demoCamera(320, 240, 30)}, {"b.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("a", "live"));
    REQUIRE(service.waitForState("b", "live"));
    ViewerPool a(service.port(), "/api/cameras/a/stream", true);
    ViewerPool b(service.port(), "/api/cameras/b/stream");
    std::vector<std::pair<int, int>> sizes;  // of a's frames, in order
    a.onPart = [&](size_t, const Part& p) { sizes.push_back(decodeJpegSize(p.body)); };
    // Capture times of b's frames: a pause of camera b shows as a gap (the
    // reading below is in 50 ms slices, so reading alone leaves none that long).
    std::vector<int64_t> bCaptures;
    b.onPart = [&](size_t, const Part& p) { bCaptures.push_back(p.timestampUs); };
    a.open(1);
    b.open(1);
    WsClient ws(service.port(), "/api/cameras/a/ws?format=binary");
    a.run(500);
    b.run(500);
    const double bReconnects = jsonNumber(service.cameraJson("b"), "$.reconnects");

    replaceFile(service.pipelinesDir() + "/a.conf", demoCamera(160, 120, 30));
    const int64_t until = monotonicUs() + 5000000;
    bool reloaded = false;
    while (monotonicUs() < until && !reloaded) {
        a.run(50);
        b.run(50);
        ws.waitFor([] { return false; }, 5);
        reloaded = !sizes.empty() && sizes.back() == std::make_pair(160, 120);
    }
    INFO(service.log());
    REQUIRE(reloaded);
    for (int i = 0; i < 20; ++i) {
        a.run(50);
        b.run(50);
    }
    CHECK_FALSE(a.stats(0).closed);
    CHECK(a.stats(0).error.empty());
    CHECK(a.stats(0).framesInOrder);  // frame numbers go on rising across the reload
    CHECK(sizes.back() == std::make_pair(160, 120));
    CHECK(jsonNumber(service.cameraJson("a"), "$.width") == 160);
    CHECK(jsonString(service.cameraJson("a"), "$.apply_error").empty());
    // The other camera: no gap, no restart.
    CHECK(longestGapUs(bCaptures) < 300000);
    CHECK(jsonNumber(service.cameraJson("b"), "$.reconnects") == bReconnects);
    CHECK(jsonString(service.cameraJson("b"), "$.state") == "live");
    // The WebSocket viewer of a stayed too.
    const size_t before = binaryCount(ws);
    REQUIRE(ws.waitFor([&] { return binaryCount(ws) > before + 10; }, 3000));
    CHECK_FALSE(ws.closed());
}

TEST_CASE("a new file adds a camera; removing it removes the camera and closes its viewers clearly", "[hot-reload]") {
    ServiceProcess service({{"a.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("a", "live"));
    TempDir scratch;
    replaceFile(service.pipelinesDir() + "/c.conf", demoCamera(160, 120, 15));
    INFO(service.log());
    REQUIRE(service.waitForState("c", "live", 5000));
    CHECK(jsonArrayLength(httpRequest(service.port(), "GET", "/api/cameras").body, "$.cameras") == 2);

    ViewerPool mjpeg(service.port(), "/api/cameras/c/stream");
    mjpeg.open(1);
    mjpeg.run(500);
    REQUIRE(mjpeg.stats(0).frames > 0);
    WsClient single(service.port(), "/api/cameras/c/ws");
    WsClient multi(service.port(), "/api/ws");
    multi.sendText(R"({"type":"subscribe","data":{"camera":"c"}})");
    REQUIRE(multi.waitFor([&] { return binaryCount(multi) > 2; }, 3000));
    REQUIRE(single.waitFor([&] { return typed(single, "frame").size() > 2; }, 3000));

    REQUIRE(std::remove((service.pipelinesDir() + "/c.conf").c_str()) == 0);
    REQUIRE(waitUntil([&] { return httpRequest(service.port(), "GET", "/api/cameras/c").status == 404; }, 3000));
    // MJPEG: the stream ends (the server closes it).
    mjpeg.run(2000, [&] { return mjpeg.stats(0).closed; });
    CHECK(mjpeg.stats(0).closed);
    // Per-camera WebSocket: a state message saying so, then close 1001.
    REQUIRE(single.waitFor([&] { return single.closed(); }, 3000));
    CHECK(single.closeCode() == 1001);
    bool saidRemoved = false;
    for (const std::string& m : typed(single, "state")) saidRemoved |= jsonString(m, "$.data.state") == "removed";
    CHECK(saidRemoved);
    // /api/ws: told, unsubscribed, still open.
    REQUIRE(multi.waitFor([&] {
        for (const std::string& m : typed(multi, "state"))
            if (jsonString(m, "$.data.camera") == "c" && jsonString(m, "$.data.state") == "removed") return true;
        return false;
    }, 3000));
    multi.sendText(R"({"type":"ping"})");
    REQUIRE(multi.waitFor([&] { return !typed(multi, "pong").empty(); }, 3000));
    CHECK_FALSE(multi.closed());
    // The remaining camera is untouched, and the removed one can come back.
    CHECK(jsonString(service.cameraJson("a"), "$.state") == "live");
    replaceFile(service.pipelinesDir() + "/c.conf", demoCamera(160, 120, 15));
    CHECK(service.waitForState("c", "live", 5000));
}

TEST_CASE("an invalid edit keeps the last good pipeline running and reports why; fixing it applies", "[hot-reload]") {
    ServiceProcess service({{"a.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("a", "live"));
    const std::string path = service.pipelinesDir() + "/a.conf";

    replaceFile(path, demoCamera(320, 240, 30) + "quality=500\n");
    REQUIRE(waitUntil([&] { return !jsonString(service.cameraJson("a"), "$.apply_error").empty(); }, 3000));
    std::string json = service.cameraJson("a");
    CHECK_THAT(jsonString(json, "$.apply_error"), Catch::Contains("quality"));
    CHECK(jsonString(json, "$.state") == "live");
    const double frames = jsonNumber(json, "$.frames");
    REQUIRE(waitUntil([&] { return jsonNumber(service.cameraJson("a"), "$.frames") > frames + 15; }, 2000));
    auto events = httpRequest(service.port(), "GET", "/api/events");
    CHECK_THAT(events.body, Catch::Contains("apply-error"));

    // A pipeline that names an element GStreamer does not have: the same.
    replaceFile(path, "[camera]\nname=A\nsource=videotestsrcc is-live=true\n");
    REQUIRE(waitUntil([&] { return jsonString(service.cameraJson("a"), "$.apply_error").find("videotestsrcc") != std::string::npos; }, 3000));
    CHECK(jsonString(service.cameraJson("a"), "$.state") == "live");

    replaceFile(path, demoCamera(160, 120, 30));
    REQUIRE(waitUntil([&] { return jsonNumber(service.cameraJson("a"), "$.width") == 160; }, 5000));
    CHECK(jsonString(service.cameraJson("a"), "$.apply_error").empty());

    // A new file that does not load is listed as failed, with its problem, as at start.
    replaceFile(service.pipelinesDir() + "/bad.conf", "[camera]\nsource=videotestsrc\nwidth=abc\n");
    REQUIRE(service.waitForState("bad", "failed", 3000));
    CHECK_THAT(jsonString(service.cameraJson("bad"), "$.error"), Catch::Contains("width"));
    // Editors' leftovers and hidden files are not cameras.
    replaceFile(service.pipelinesDir() + "/x.conf~", demoCamera(160, 120, 30));
    replaceFile(service.pipelinesDir() + "/.y.conf", demoCamera(160, 120, 30));
    usleep(800000);
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/x").status == 404);
    CHECK(jsonArrayLength(httpRequest(service.port(), "GET", "/api/cameras").body, "$.cameras") == 2);
}

TEST_CASE("SIGHUP re-reads the pipelines directory at once; unchanged files are left alone", "[hot-reload]") {
    ServiceProcess service({{"a.conf", demoCamera(320, 240, 30)}, {"b.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("a", "live"));
    REQUIRE(service.waitForState("b", "live"));
    // Written in place and signalled at once: SIGHUP gets there before the
    // file monitor's settle time (250 ms) is over.
    FILE* f = std::fopen((service.pipelinesDir() + "/a.conf").c_str(), "w");
    REQUIRE(f);
    std::fputs(demoCamera(160, 120, 30).c_str(), f);
    std::fclose(f);
    REQUIRE(kill(service.pid(), SIGHUP) == 0);
    REQUIRE(waitUntil([&] { return jsonNumber(service.cameraJson("a"), "$.width") == 160; }, 5000));
    INFO(service.log());
    CHECK(service.log().find("reloaded a.conf (SIGHUP)") != std::string::npos);
    // Nothing changed: nothing is rebuilt.
    usleep(500000);
    const double frames = jsonNumber(service.cameraJson("b"), "$.frames");
    REQUIRE(kill(service.pid(), SIGHUP) == 0);
    usleep(500000);
    CHECK(jsonNumber(service.cameraJson("b"), "$.frames") > frames + 5);  // the same run, still counting
    CHECK(service.log().find("reloaded b.conf") == std::string::npos);
    CHECK(jsonString(service.cameraJson("a"), "$.state") == "live");
}

TEST_CASE("without --pipelines, cameras live in <data>/pipelines: made with the demo, kept across restarts", "[hot-reload]") {
    TempDir data;
    const std::string dir = data.path() + "/pipelines";
    {
        ServiceProcess service({}, {"--data", data.path()}, false);
        REQUIRE(service.waitForState("demo", "live"));
        REQUIRE(access((dir + "/demo.conf").c_str(), R_OK) == 0);
        // A camera added there (as the API does) is served, and survives a restart.
        replaceFile(dir + "/yard.conf", demoCamera(160, 120, 15));
        REQUIRE(service.waitForState("yard", "live", 5000));
        CHECK(service.stop() == 0);
    }
    REQUIRE(std::remove((dir + "/demo.conf").c_str()) == 0);
    ServiceProcess again({}, {"--data", data.path()}, false);
    REQUIRE(again.waitForState("yard", "live"));
    // The user removed the demo: it does not come back.
    CHECK(httpRequest(again.port(), "GET", "/api/cameras/demo").status == 404);
}

// Cameras without a device of their own: frames pushed in by a client
// (source=push), and cameras that run only while someone watches (on-demand).
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"
#include "ws_client.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <dirent.h>

#include <fstream>

using namespace camrelay::testing;

namespace {

std::string state(const ServiceProcess& service, const std::string& id) {
    return jsonString(service.cameraJson(id), "$.state");
}

// Names of the service's threads: GStreamer names streaming threads after
// their pads ("videotestsrc0:s..."), so a running pipeline shows up here.
std::vector<std::string> threadNames(int pid) {
    std::vector<std::string> names;
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            std::ifstream comm(dir + "/" + e->d_name + "/comm");
            std::string name;
            std::getline(comm, name);
            names.push_back(name);
        }
        closedir(d);
    }
    return names;
}

bool pipelineThreadRunning(int pid, const std::string& element) {
    for (const auto& n : threadNames(pid))
        if (n.find(element) != std::string::npos) return true;
    return false;
}

std::string base64(const std::string& bytes) {
    gchar* text = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
    std::string out = text;
    g_free(text);
    return out;
}

}  // namespace

TEST_CASE("pushed JPEGs fan out untouched over MJPEG, WebSocket and snapshots", "[push]") {
    ServiceProcess service({{"door.conf", std::string("[camera]\nname=Door phone\nsource=push\n")}});
    REQUIRE(service.waitForState("door", "stopped"));  // no publisher yet
    const std::string detail = service.cameraJson("door");
    CHECK(jsonString(detail, "$.source_kind") == "jpeg");
    CHECK_FALSE(jsonBool(detail, "$.publisher"));

    ViewerPool mjpeg(service.port(), "/api/cameras/door/stream", true);
    std::vector<std::string> mjpegBodies;
    mjpeg.onPart = [&](size_t, const Part& p) { mjpegBodies.push_back(p.body); };
    mjpeg.open(1);
    WsClient viewer(service.port(), "/api/cameras/door/ws?format=binary");

    WsClient publisher(service.port(), "/api/cameras/door/publish");
    REQUIRE(publisher.waitFor([&] { return !typed(publisher, "ready").empty(); }, 3000));
    REQUIRE(service.waitForState("door", "starting", 3000));
    const std::string a = makeTestJpeg(320, 240), b = makeTestJpeg(160, 120);
    for (int i = 0; i < 10; ++i) {
        publisher.sendBinary(i % 2 ? b : a);
        publisher.waitFor([] { return false; }, 50);
    }
    // The JSON frame shape works too.
    publisher.sendText(R"({"type":"frame","data":{"stream_id":"door","frame":")" + base64(a) + R"(","frame_number":11}})");
    publisher.waitFor([] { return false; }, 200);
    REQUIRE(service.waitForState("door", "live", 3000));

    mjpeg.run(500);
    viewer.waitFor([] { return false; }, 200);
    REQUIRE(mjpegBodies.size() >= 8);
    for (const auto& body : mjpegBodies) CHECK((body == a || body == b));  // byte for byte
    CHECK(mjpegBodies.back() == a);
    size_t wsFrames = 0;
    for (const auto& m : viewer.messages())
        if (m.binary) {
            ++wsFrames;
            const std::string jpeg = m.data.substr(uint8_t(m.data[4]));
            CHECK((jpeg == a || jpeg == b));
        }
    CHECK(wsFrames >= 8);
    auto snap = httpRequest(service.port(), "GET", "/api/cameras/door/snapshot");
    CHECK(snap.status == 200);
    CHECK(snap.body == a);

    // Bad data is refused with a reason; the publisher and the camera carry on.
    publisher.sendBinary("not a jpeg at all");
    publisher.sendBinary(a.substr(0, a.size() / 2));
    publisher.sendText(R"({"type":"frame","data":{}})");
    REQUIRE(publisher.waitFor([&] { return typed(publisher, "error").size() >= 3; }, 3000));
    const auto errors = typed(publisher, "error");
    CHECK(jsonString(errors[0], "$.data.code") == "invalid_jpeg");
    CHECK_THAT(jsonString(errors[0], "$.data.message"), Catch::Contains("no start-of-image marker"));
    CHECK_THAT(jsonString(errors[1], "$.data.message"), Catch::Contains("truncated"));
    CHECK(jsonString(errors[2], "$.data.code") == "bad_message");
    CHECK(state(service, "door") == "live");
    CHECK_FALSE(publisher.closed());

    // One publisher at a time.
    WsClient second(service.port(), "/api/cameras/door/publish");
    REQUIRE(second.waitFor([&] { return second.closed(); }, 3000));
    CHECK(second.closeCode() == 1008);
    CHECK(second.closeReason() == "camera door already has a publisher");

    // The publisher leaves: stopped, viewers stay and resume with the next one.
    const size_t before = mjpegBodies.size();
    publisher.close();
    REQUIRE(service.waitForState("door", "stopped", 3000));
    mjpeg.run(300);
    CHECK_FALSE(mjpeg.stats(0).closed);
    WsClient next(service.port(), "/api/cameras/door/publish");
    REQUIRE(next.waitFor([&] { return !typed(next, "ready").empty(); }, 3000));
    next.sendBinary(b);
    mjpeg.run(1000, [&] { return mjpegBodies.size() > before; });
    REQUIRE(mjpegBodies.size() > before);
    CHECK(mjpegBodies.back() == b);
    CHECK(service.cameraJson("door").find("\"publisher\":true") != std::string::npos);
}

TEST_CASE("only source=push cameras take publishers", "[push]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 30)}});
    auto refused = httpRequest(service.port(), "GET", "/api/cameras/demo/publish");
    CHECK(refused.status == 409);
    CHECK(jsonString(refused.body, "$.error") == "not_push");
}

TEST_CASE("an on-demand camera runs only while consumed and lingers after the last consumer", "[on-demand]") {
    ServiceProcess service({{"lazy.conf", demoCamera(320, 240, 30) + "on-demand=true\nlinger=2\n"}});
    REQUIRE(service.waitForState("lazy", "idle"));
    // Idle: no pipeline threads and (almost) no CPU.
    CHECK_FALSE(pipelineThreadRunning(service.pid(), "videotestsrc"));
    const std::string idle = service.cameraJson("lazy");
    CHECK(jsonBool(idle, "$.config.on_demand"));
    CHECK(jsonNumber(idle, "$.consumers") == 0);

    // An MJPEG viewer starts it.
    {
        ViewerPool pool(service.port(), "/api/cameras/lazy/stream");
        pool.open(1);
        pool.run(3000, [&] { return pool.stats(0).frames >= 10; });
        CHECK(pool.stats(0).frames >= 10);
        CHECK(state(service, "lazy") == "live");
        CHECK(pipelineThreadRunning(service.pid(), "videotestsrc"));
        CHECK(jsonNumber(service.cameraJson("lazy"), "$.consumers") == 1);
    }
    // The viewer left: live for the linger time, then idle with no pipeline.
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("lazy"), "$.consumers") == 0; }, 2000));
    CHECK(state(service, "lazy") == "live");
    REQUIRE(service.waitForState("lazy", "idle", 4000));
    CHECK(waitUntil([&] { return !pipelineThreadRunning(service.pid(), "videotestsrc"); }, 2000));

    // A snapshot of the idle camera starts it and waits for the first frame.
    auto snap = httpRequest(service.port(), "GET", "/api/cameras/lazy/snapshot");
    REQUIRE(snap.status == 200);
    CHECK(decodeJpegSize(snap.body) == std::make_pair(320, 240));
    REQUIRE(service.waitForState("lazy", "idle", 5000));

    // So does a WebSocket subscription.
    WsClient ws(service.port(), "/api/ws");
    ws.sendText(R"({"type":"subscribe","data":{"camera":"lazy"}})");
    CHECK(ws.waitFor([&] {
        return std::count_if(ws.messages().begin(), ws.messages().end(), [](const WsMessage& m) { return m.binary; }) >= 5;
    }, 5000));
    CHECK(state(service, "lazy") == "live");
    ws.sendText(R"({"type":"unsubscribe","data":{"camera":"lazy"}})");
    ws.waitFor([] { return false; }, 200);
    CHECK(service.waitForState("lazy", "idle", 5000));
    CHECK_THAT(service.log(), Catch::Contains("[lazy] no consumers for 2 s: idle"));
}

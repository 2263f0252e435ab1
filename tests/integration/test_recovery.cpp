// Cameras that fail and come back: a real RTSP camera (gst-rtsp-server in a
// helper process) is killed, hung and restarted under the real service.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"
#include "viewer_pool.h"
#include "ws_client.h"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

using namespace camrelay::testing;

namespace {

constexpr const char* kSecret = "s3cret-pw";

// An RTSP camera file with fast recovery settings, so a test outage is seconds long.
std::string ipCamera(const std::string& url, int watchdog = 2) {
    return "[camera]\nname=Yard\nsource=rtspsrc location=" + url + " protocols=tcp latency=0\n"
           "watchdog-timeout=" + std::to_string(watchdog) + "\nreconnect-max-delay=2\n";
}


// The states of "state" events in the order they came.
std::vector<std::string> stateSequence(const std::vector<WsMessage>& messages) {
    std::vector<std::string> states;
    for (const auto& m : messages)
        if (jsonString(m.data, "$.data.type") == "state") states.push_back(jsonString(m.data, "$.data.state"));
    return states;
}

bool containsInOrder(const std::vector<std::string>& seq, const std::vector<std::string>& wanted) {
    size_t i = 0;
    for (const auto& s : seq)
        if (i < wanted.size() && s == wanted[i]) ++i;
    return i == wanted.size();
}

struct SeenPart {
    int64_t arrivalUs;
    bool offline;
    uint64_t number;
    std::string body;
};

}  // namespace

TEST_CASE("a camera that drops off and returns heals by itself; viewers stay connected through the outage",
          "[recovery]") {
    RtspCamera camera("h264", 320, 240, 30);
    ServiceProcess service({{"yard.conf", ipCamera(camera.url(std::string("admin:") + kSecret))}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    WsClient events(service.port(), "/api/events?camera=yard");
    WsClient wsViewer(service.port(), "/api/cameras/yard/ws?format=binary");

    ViewerPool pool(service.port(), "/api/cameras/yard/stream", true);
    std::vector<SeenPart> parts;
    pool.onPart = [&](size_t, const Part& p) {
        parts.push_back({monotonicUs(), p.headers.count("x-camera-offline") > 0, p.frameNumber, p.body});
    };
    pool.open(1);
    pool.run(1500);
    REQUIRE(parts.size() > 20);
    CHECK_FALSE(parts.back().offline);

    // Power cut: the camera's sockets close at once.
    camera.kill();
    const int64_t downUs = monotonicUs();
    pool.run(5000);
    wsViewer.waitFor([] { return false; }, 100);  // drain it now and then, as a page would
    const auto offlineParts = std::count_if(parts.begin(), parts.end(), [&](const SeenPart& p) { return p.offline; });
    CHECK(offlineParts >= 3);  // about one per second
    CHECK(offlineParts <= 7);
    for (const auto& p : parts)
        if (p.offline) {
            CHECK(p.arrivalUs > downUs);
            CHECK(decodeJpegSize(p.body) == std::make_pair(320, 240));  // the camera's size: pages do not jump
        }
    const std::string down = service.cameraJson("yard");
    CHECK((jsonString(down, "$.state") == "stalled" || jsonString(down, "$.state") == "reconnecting"));
    CHECK_FALSE(jsonIsNull(down, "$.error"));
    // Snapshots never return the placeholder.
    CHECK(httpRequest(service.port(), "GET", "/api/cameras/yard/snapshot").status == 503);

    camera.start();
    const int64_t backUs = monotonicUs();
    const size_t before = parts.size();
    pool.run(6000, [&] {
        for (size_t i = before; i < parts.size(); ++i)
            if (!parts[i].offline) return true;
        return false;
    });
    int64_t firstLiveUs = -1;
    for (size_t i = before; i < parts.size() && firstLiveUs < 0; ++i)
        if (!parts[i].offline) firstLiveUs = parts[i].arrivalUs;
    REQUIRE(firstLiveUs > 0);
    CHECK(firstLiveUs - backUs < 3000000);  // live frames within 3 s of the camera's return
    pool.run(1000);
    CHECK_FALSE(pool.stats(0).closed);      // the same connection throughout
    CHECK(pool.stats(0).error.empty());
    CHECK(pool.stats(0).framesInOrder);     // numbers keep rising across the outage
    CHECK_FALSE(parts.back().offline);

    const std::string detail = service.cameraJson("yard");
    CHECK(jsonString(detail, "$.state") == "live");
    CHECK(jsonNumber(detail, "$.reconnects") >= 1);
    CHECK(jsonNumber(detail, "$.reconnect_attempt") == 0);  // reset on success
    CHECK(jsonIsNull(detail, "$.error"));
    CHECK_FALSE(jsonIsNull(detail, "$.last_error"));
    CHECK(jsonNumber(detail, "$.state_age") < 5);

    // The WebSocket viewer (read only now, its frames waited in its socket) got placeholders flagged as such.
    auto flagged = [&] {
        size_t n = 0;
        for (const auto& m : wsViewer.messages())
            if (m.binary && m.data.size() > 24 && (m.data[5] & 1)) ++n;
        return n;
    };
    CHECK(wsViewer.waitFor([&] { return flagged() >= 1; }, 3000));
    CHECK_FALSE(wsViewer.closed());

    // The WebSocket saw the transitions as they happened; the history has them too.
    REQUIRE(events.waitFor([&] {
        auto seq = stateSequence(events.messages());
        return !seq.empty() && seq.back() == "live";
    }, 3000));
    CHECK(containsInOrder(stateSequence(events.messages()), {"stalled", "reconnecting", "live"}));
    const std::string history = httpRequest(service.port(), "GET", "/api/events?camera=yard").body;
    CHECK_THAT(history, Catch::Contains("\"type\":\"reconnect\""));
    CHECK_THAT(history, Catch::Contains("\"type\":\"error\""));
    CHECK_THAT(history, Catch::Contains("\"message\":\"rtspsrc"));  // the element and GStreamer's words

    // The credentials appear nowhere: API, events, logs.
    std::string everything = httpRequest(service.port(), "GET", "/api/cameras").body + detail + history +
                             httpRequest(service.port(), "GET", "/api/cameras/yard/snapshot").body + service.log();
    for (const auto& m : events.messages()) everything += m.data;
    CHECK(everything.find(kSecret) == std::string::npos);
    CHECK(everything.find("admin:") == std::string::npos);
    CHECK_THAT(jsonString(detail, "$.pipeline"), Catch::Contains("rtsp://***@127.0.0.1:"));
    CHECK_THAT(jsonString(detail, "$.config.source"), Catch::Contains("rtsp://***@127.0.0.1:"));
}

TEST_CASE("a camera that never answers stays in backoff without affecting the service", "[recovery]") {
    ServiceProcess service({
        {"demo.conf", demoCamera(160, 120, 30)},
        {"gone.conf", "[camera]\nsource=rtspsrc location=rtsp://127.0.0.1:" + std::to_string(closedPort()) +
                          "/cam protocols=tcp\nreconnect-delay=1\nreconnect-max-delay=4\n"},
    });
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool pool(service.port(), "/api/cameras/demo/stream");
    pool.open(1);
    const double producedBefore = jsonNumber(service.cameraJson("demo"), "$.frames");
    pool.run(4500);
    const double produced = jsonNumber(service.cameraJson("demo"), "$.frames") - producedBefore;
    // The viewer got what the camera made while the other camera failed and
    // backed off (compared with the camera's own count, not 30 fps: under the
    // sanitizers on a loaded 2-core machine the test pattern itself runs slower).
    INFO("camera produced " << produced << ", viewer got " << pool.stats(0).frames);
    CHECK(produced > 30);
    CHECK(double(pool.stats(0).frames) >= 0.9 * produced - 3);

    // Backoff doubles: 1 s, 2 s, 4 s (then stays at the cap).
    const std::string history = httpRequest(service.port(), "GET", "/api/events?camera=gone").body;
    std::vector<double> delays;
    const size_t n = jsonArrayLength(history, "$.events");
    for (size_t i = 0; i < n; ++i) {
        const std::string at = "$.events[" + std::to_string(i) + "]";
        if (jsonString(history, at + ".type") == "reconnect") delays.push_back(jsonNumber(history, at + ".delay"));
    }
    REQUIRE(delays.size() >= 3);
    CHECK(delays[0] == 1);
    CHECK(delays[1] == 2);
    CHECK(delays[2] == 4);
    const std::string gone = service.cameraJson("gone");
    CHECK((jsonString(gone, "$.state") == "stalled" || jsonString(gone, "$.state") == "reconnecting"));
    CHECK(jsonNumber(gone, "$.reconnects") >= 2);
    CHECK_THAT(jsonString(gone, "$.error"), Catch::Contains("rtspsrc"));
    const std::string health = httpRequest(service.port(), "GET", "/health").body;
    CHECK(jsonNumber(health, "$.live") == 1);
    CHECK(jsonNumber(health, "$.recovering") == 1);

    // A client that reconnects with its last event id gets what it missed, then live events.
    const double lastId = jsonNumber(history, "$.last_id");
    const double firstGone = jsonNumber(history, "$.events[0].id");
    WsClient replay(service.port(), "/api/events?camera=gone&after=" + std::to_string(int(firstGone)));
    REQUIRE(replay.waitFor([&] { return replay.messages().size() >= 3; }, 3000));
    CHECK(jsonNumber(replay.messages()[0].data, "$.data.id") > firstGone);
    for (const auto& m : replay.messages()) CHECK(jsonString(m.data, "$.data.camera") == "gone");
    CHECK(replay.waitFor([&] { return jsonNumber(replay.messages().back().data, "$.data.id") > lastId; }, 6000));
    // Bad queries are refused with the reason.
    auto bad = httpRequest(service.port(), "GET", "/api/events?limit=9999");
    CHECK(bad.status == 400);
    CHECK_THAT(jsonString(bad.body, "$.message"), Catch::Contains("limit must be 1..500"));
    CHECK(httpRequest(service.port(), "GET", "/api/events?after=-1").status == 400);
    CHECK(httpRequest(service.port(), "POST", "/api/events").status == 405);
}

TEST_CASE("a source that hangs without an error is caught by the watchdog and rebuilt", "[recovery][watchdog]") {
    RtspCamera camera("h264", 320, 240, 30);
    ServiceProcess service({{"yard.conf", ipCamera(camera.url())}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    camera.pause();  // connection open, no frames, no error
    REQUIRE(service.waitForState("yard", "stalled", 4000));
    const std::string detail = service.cameraJson("yard");
    CHECK(jsonString(detail, "$.error") == "watchdog: no new frame for 2 s");
    CHECK(jsonNumber(detail, "$.last_frame_age") >= 2);
    camera.resume();
    CHECK(service.waitForState("yard", "live", 15000));
}

TEST_CASE("an HTTP MJPEG camera (another camrelay) is relayed untouched and recovers", "[recovery][relay]") {
    ServiceProcess upstream({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(upstream.waitForState("demo", "live"));
    const std::string url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/api/cameras/demo/stream";
    ServiceProcess relay({{"relay.conf", "[camera]\nsource=souphttpsrc location=" + url +
                                             " is-live=true ! multipartdemux single-stream=true ! image/jpeg\n"
                                             "watchdog-timeout=2\nreconnect-max-delay=2\n"}});
    REQUIRE(relay.waitForState("relay", "live"));
    const std::string detail = relay.cameraJson("relay");
    CHECK(jsonString(detail, "$.source_kind") == "jpeg");  // passed through, not re-encoded
    CHECK(jsonNumber(detail, "$.width") == 320);
    auto snap = httpRequest(relay.port(), "GET", "/api/cameras/relay/snapshot");
    REQUIRE(snap.status == 200);
    CHECK(decodeJpegSize(snap.body) == std::make_pair(320, 240));
    // One connection upstream, whatever the number of relay viewers.
    ViewerPool pool(relay.port(), "/api/cameras/relay/stream");
    pool.open(3);
    pool.run(1000);
    CHECK(jsonNumber(upstream.cameraJson("demo"), "$.viewers") == 1);

    upstream.stop();
    CHECK(relay.waitForState("relay", "stalled", 5000));
}

// The pure rules behind recovery: backoff, redaction, the event ring.
#include "camera/event_log.h"
#include "camera/reconnect_policy.h"
#include "core/redact.h"

#include "camera/pipeline_reaper.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>

using namespace camrelay;

TEST_CASE("reconnect delays double from the first delay up to the cap", "[recovery]") {
    std::vector<int> delays;
    for (int attempt = 1; attempt <= 8; ++attempt) delays.push_back(reconnectDelaySec(attempt, 1, 30));
    CHECK(delays == std::vector<int>{1, 2, 4, 8, 16, 30, 30, 30});
    CHECK(reconnectDelaySec(1, 5, 5) == 5);
    CHECK(reconnectDelaySec(1000000, 1, 30) == 30);  // no overflow however long the outage
    CHECK(reconnectDelaySec(3, 3, 3600) == 12);
}

TEST_CASE("credentials are removed from URLs and credential properties", "[redact]") {
    CHECK(redactCredentials("rtspsrc location=rtsp://admin:s3cret@10.0.0.5:554/live latency=0") ==
          "rtspsrc location=rtsp://***@10.0.0.5:554/live latency=0");
    CHECK(redactCredentials("souphttpsrc location=\"http://user@cam.local/video.mjpg\"") ==
          "souphttpsrc location=\"http://***@cam.local/video.mjpg\"");
    CHECK(redactCredentials("rtspsrc location=rtsp://cam/x user-id=admin user-pw=\"p w\" ! rtph264depay") ==
          "rtspsrc location=rtsp://cam/x user-id=*** user-pw=*** ! rtph264depay");
    CHECK(redactCredentials("souphttpsrc proxy-id=bob proxy-pw='x y'") == "souphttpsrc proxy-id=*** proxy-pw=***");
    // Two URLs on one line, and an @ in the path that is not userinfo.
    CHECK(redactCredentials("a rtsp://u:p@h/1 b http://h2/p@x") == "a rtsp://***@h/1 b http://***@x"  /* the last '@' of a URL ends its userinfo (test_redact.cpp) */);
    CHECK(redactCredentials("videotestsrc is-live=true") == "videotestsrc is-live=true");
    CHECK(redactCredentials("") == "");
}

TEST_CASE("the event log keeps the newest events and tells listeners", "[events]") {
    EventLog log(3);
    std::vector<uint64_t> heard;
    Connection c = log.onEvent([&](const LoggedEvent& e) { heard.push_back(e.id); });
    for (int i = 0; i < 5; ++i) log.record({"cam", "state", "live", "", 0, 0});
    CHECK(heard == std::vector<uint64_t>{1, 2, 3, 4, 5});
    auto all = log.recent();
    REQUIRE(all.size() == 3);
    CHECK(all.front().id == 3);
    CHECK(all.back().id == 5);
    CHECK(log.recent(4).size() == 1);
    CHECK(log.recent(0, 2).front().id == 4);
    CHECK(all.back().unixUs > 0);
}

// The reaper takes pipelines to NULL off the caller's thread. A filesrc
// reading a FIFO whose writer stays silent is a real source that cannot be
// interrupted: its NULL transition waits for read() (see pipeline_reaper.h).
TEST_CASE("the pipeline reaper never blocks its caller, even on a source that does not let go", "[reaper]") {
    using Clock = std::chrono::steady_clock;
    auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    char dir[] = "/tmp/camrelay-reaper-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string fifo = std::string(dir) + "/source.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    const int writer = open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(writer >= 0);

    auto playing = [](const std::string& text) {
        auto p = camrelay::GRef<GstElement>::adopt(gst_parse_launch(text.c_str(), nullptr));
        REQUIRE(p);
        REQUIRE(gst_element_set_state(p.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
        return p;
    };
    std::optional<camrelay::PipelineReaper> reaper;
    reaper.emplace(std::chrono::milliseconds(300));
    auto stuck = playing("filesrc location=" + fifo + " ! fakesink");
    g_usleep(200000);  // the streaming thread is now inside read()
    auto t0 = Clock::now();
    reaper->reap(std::move(stuck), "stuck");
    reaper->reap(playing("videotestsrc is-live=true ! fakesink"), "fine");
    CHECK(ms(Clock::now() - t0) < 100);
    // The healthy one is done promptly by another worker; the stuck one stays.
    for (int i = 0; i < 100 && reaper->pending() > 1; ++i) g_usleep(20000);
    CHECK(reaper->pending() == 1);
    // Shutdown waits its bounded time for the stuck one, then leaves it behind.
    t0 = Clock::now();
    reaper.reset();
    const auto waited = ms(Clock::now() - t0);
    CHECK(waited >= 250);
    CHECK(waited < 1000);
    close(writer);  // EOF: the worker left behind finishes (it only touches state it shares)
    g_usleep(200000);
    unlink(fifo.c_str());
    rmdir(dir);
}

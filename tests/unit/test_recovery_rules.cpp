// The pure rules behind recovery: backoff, redaction, the event ring.
#include "camera/event_log.h"
#include "camera/reconnect_policy.h"
#include "core/redact.h"

#include <catch2/catch.hpp>

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
    CHECK(redactCredentials("a rtsp://u:p@h/1 b http://h2/p@x") == "a rtsp://***@h/1 b http://h2/p@x");
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

// Players keep up with the live MJPEG stream (issue 13). A multipart stream
// carries no frame rate: ffmpeg's mpjpeg demuxer (ffplay's, mpv's) stamps frames
// at an assumed 25 fps, so a player pacing by those stamps shows a 30 fps camera
// ever later. The README's player flags make the stamps the arrival times.
//
// The measure: how old the picture the player shows is. ffmpeg plays the stream
// as a player does (-re: each frame is let out when its timestamp is due) and
// copies the JPEGs out unchanged (-c copy -f mpjpeg); the test reads the same
// stream itself, notes when each JPEG arrived, and for each frame ffmpeg lets
// out computes (now - when that same JPEG arrived here). Frames are matched by
// their bytes, so dropped, merged or re-stamped frames cannot fool it.
#include "http_client.h"
#include "multipart_reader.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

using namespace camrelay::testing;
using Clock = std::chrono::steady_clock;

namespace {

// The flags the README gives for ffplay (the part ffmpeg shares with it).
constexpr const char* kReadmeFlags = "-fflags nobuffer -flags low_delay -use_wallclock_as_timestamps 1";

// Reads the stream on its own connection and remembers when each JPEG arrived.
class ArrivalLog {
public:
    ArrivalLog(int port, const std::string& target) : fd_(connectLoopback(port)) {
        REQUIRE(fd_ >= 0);
        const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        REQUIRE(send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
        thread_ = std::thread([this] { run(); });
    }
    ~ArrivalLog() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    // When these JPEG bytes arrived here; nullopt if they never did.
    std::optional<Clock::time_point> arrival(const std::string& jpeg) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = arrivals_.find(jpeg);
        if (it == arrivals_.end()) return std::nullopt;
        return it->second;
    }

private:
    void run() {
        MultipartReader reader([this](const Part& part) {
            std::lock_guard<std::mutex> lock(mutex_);
            arrivals_.emplace(part.body, Clock::now());
        });
        char buffer[65536];
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) continue;
            const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0 || !reader.feed(buffer, size_t(n))) return;
        }
    }
    int fd_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::unordered_map<std::string, Clock::time_point> arrivals_;
    std::thread thread_;
};

struct Lag {
    double atStartSec = -1;  // median age of the frames let out in the first second
    double atEndSec = -1;  // median age of the frames let out in the last second
    size_t frames = 0;     // frames ffmpeg let out
    size_t unmatched = 0;  // frames the test's own reader never saw
};

// Plays url with ffmpeg for `seconds` of its own timeline and measures the age of what it lets out.
Lag playAndMeasure(int port, const std::string& url, const std::string& flags, int seconds) {
    ArrivalLog log(port, "/api/cameras/demo/stream");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the log sees every frame ffmpeg will
    const std::string command = "timeout " + std::to_string(seconds + 20) + " ffmpeg -nostdin -v error -re " + flags +
                                " -i '" + url + "' -t " + std::to_string(seconds) + " -c:v copy -flush_packets 1 -f mpjpeg - 2>/dev/null";
    FILE* out = popen(command.c_str(), "r");
    REQUIRE(out);
    // ffmpeg's mpjpeg muxer writes parts without an HTTP head: give the reader one.
    std::vector<std::pair<Clock::time_point, double>> ages;  // when let out, age in seconds
    Lag lag;
    MultipartReader reader([&](const Part& part) {
        const Clock::time_point now = Clock::now();
        const auto arrived = log.arrival(part.body);
        if (!arrived) {
            ++lag.unmatched;
            return;
        }
        ages.emplace_back(now, std::chrono::duration<double>(now - *arrived).count());
    });
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=ffmpeg\r\n\r\n";
    reader.feed(head.data(), head.size());
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, out)) > 0) {
        if (!reader.feed(buffer, n)) break;
    }
    pclose(out);
    lag.frames = ages.size() + lag.unmatched;
    if (ages.empty()) return lag;
    std::vector<double> first, last;
    for (const auto& [when, age] : ages) {
        if (when <= ages.front().first + std::chrono::seconds(1)) first.push_back(age);
        if (when >= ages.back().first - std::chrono::seconds(1)) last.push_back(age);
    }
    std::sort(first.begin(), first.end());
    std::sort(last.begin(), last.end());
    lag.atStartSec = first[first.size() / 2];
    lag.atEndSec = last[last.size() / 2];
    return lag;
}

}  // namespace

TEST_CASE("ffmpeg with the README's player flags falls < 0.5 s behind the live MJPEG 30 fps stream in 10 s",
          "[players][slow]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    const std::string url = "http://127.0.0.1:" + std::to_string(service.port()) + "/api/cameras/demo/stream";

    const Lag withFlags = playAndMeasure(service.port(), url, kReadmeFlags, 10);
    INFO("README flags: " << withFlags.frames << " frames, " << withFlags.unmatched << " unmatched, "
                          << withFlags.atStartSec << " s behind at the start, " << withFlags.atEndSec << " s at the end");
    CHECK(withFlags.frames >= 250);  // about 30 fps for 10 s
    CHECK(withFlags.unmatched == 0);
    CHECK(withFlags.atEndSec >= 0);
    // ffmpeg's -re starts its clock only once the input and output are open, so
    // every frame it lets out carries that start-up time (0.3-0.5 s here, more
    // on a loaded machine); a player pays its start-up once too. What must stay
    // under 0.5 s is how far it falls behind while playing, and the whole age
    // must stay well under a second.
    CHECK(withFlags.atEndSec - withFlags.atStartSec < 0.5);
    CHECK(withFlags.atEndSec < 1.0);
    // The same through a compatibility URL.
    const Lag compat = playAndMeasure(service.port(), url.substr(0, url.find("/api")) + "/?action=stream", kReadmeFlags, 10);
    INFO("/?action=stream: " << compat.atStartSec << " s behind at the start, " << compat.atEndSec << " s at the end");
    CHECK(compat.atEndSec >= 0);
    CHECK(compat.atEndSec - compat.atStartSec < 0.5);
    CHECK(compat.atEndSec < 1.0);
}

// Shows the measure can fail: without the flags the same player falls behind.
TEST_CASE("without the flags, ffmpeg paces the stream at 25 fps and falls > 0.5 s behind", "[players][slow]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    const std::string url = "http://127.0.0.1:" + std::to_string(service.port()) + "/api/cameras/demo/stream";
    const Lag plain = playAndMeasure(service.port(), url, "", 10);
    INFO("no flags: " << plain.frames << " frames, " << plain.atStartSec << " s behind at the start, " << plain.atEndSec
                       << " s at the end");
    CHECK(plain.atEndSec - plain.atStartSec > 0.5);
}

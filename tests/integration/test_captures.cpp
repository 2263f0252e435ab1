// Timed captures ([record] capture-interval) and the low-disk guard
// ([recording] min-free), against the real binary and real filesystems:
// captures are real files decoded by jpegdec; the guard is checked on a real,
// small tmpfs that the test mounts (tests run as root with CAP_SYS_ADMIN here;
// where mount(2) is refused the tmpfs cases are skipped with a warning, never
// faked).
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"

#include "recording/disk_guard.h"
#include "recording/recording_paths.h"

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

using namespace camrelay::testing;

namespace {

std::string cameraWithCaptures(int intervalSec) {
    return demoCamera(320, 240, 30) + "[record]\ncapture-interval=" + std::to_string(intervalSec) + "\n";
}

// The *.jpg names in a folder (none if it does not exist).
std::vector<std::string> jpegFiles(const std::string& dir) {
    std::vector<std::string> names;
    GDir* d = g_dir_open(dir.c_str(), 0, nullptr);
    if (!d) return names;
    while (const char* name = g_dir_read_name(d))
        if (g_str_has_suffix(name, ".jpg")) names.emplace_back(name);
    g_dir_close(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void writeBytes(const std::string& path, size_t bytes) {
    std::ofstream out(path, std::ios::binary);
    const std::string block(64 * 1024, 'x');
    for (size_t done = 0; done < bytes; done += block.size()) out.write(block.data(), std::streamsize(std::min(block.size(), bytes - done)));
}

size_t countEvents(int port, const std::string& type) {
    const std::string body = httpRequest(port, "GET", "/api/events?camera=demo&limit=500").body;
    const size_t n = jsonArrayLength(body, "$.events");
    size_t count = 0;
    for (size_t i = 0; i < n; ++i)
        count += jsonString(body, "$.events[" + std::to_string(i) + "].type") == type;
    return count;
}

std::string lastEventMessage(int port, const std::string& type) {
    const std::string body = httpRequest(port, "GET", "/api/events?camera=demo&limit=500").body;
    std::string message;
    const size_t n = jsonArrayLength(body, "$.events");
    for (size_t i = 0; i < n; ++i)
        if (jsonString(body, "$.events[" + std::to_string(i) + "].type") == type)
            message = jsonString(body, "$.events[" + std::to_string(i) + "].message");
    return message;
}

// A real tmpfs of `size` mounted on a fresh folder, unmounted when it goes.
class TmpfsMount {
public:
    explicit TmpfsMount(const std::string& size) {
        path_ = dir_.path() + "/fs";
        mkdir(path_.c_str(), 0755);
        const std::string options = "size=" + size + ",mode=0755";
        if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) mounted_ = true;
        else error_ = std::strerror(errno);
    }
    ~TmpfsMount() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }
    const std::string& path() const { return path_; }

private:
    TempDir dir_;
    std::string path_;
    bool mounted_ = false;
    std::string error_;
};

}  // namespace

TEST_CASE("capture-interval=1 writes a valid JPEG of the camera every second, named by capture time", "[captures]") {
    const int64_t startedSec = wallUs() / 1000000;
    ServiceProcess service({{"demo.conf", cameraWithCaptures(1)}});
    REQUIRE(service.waitForState("demo", "live"));
    const std::string dir = service.dataDir() + "/recordings/demo/captures";
    // ~3.5 s of captures; a tick whose frame falls in the second already on disk
    // is skipped (names have one-second resolution), so allow one more second.
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    REQUIRE(waitUntil([&] { return jpegFiles(dir).size() >= 3; }, 1500));
    const int64_t nowSec = wallUs() / 1000000;
    const auto names = jpegFiles(dir);
    INFO(service.log());
    CHECK(names.size() <= 6);
    int64_t previous = 0;
    for (const auto& name : names) {
        INFO(name);
        auto id = camrelay::parseCaptureId("demo/captures/" + name);
        REQUIRE(id);
        CHECK(id->camera == "demo");
        CHECK(id->startUnix >= startedSec);
        CHECK(id->startUnix <= nowSec);
        CHECK(id->startUnix > previous);  // one file per second, in order
        previous = id->startUnix;
        CHECK(camrelay::captureRelativePath("demo", id->startUnix) == "demo/captures/" + name);
        const std::string jpeg = readAll(dir + "/" + name);
        CHECK(decodeJpegSize(jpeg) == std::make_pair(320, 240));
    }
    // Nothing half-written is left under a name a reader would list.
    service.stop();
    GDir* d = g_dir_open(dir.c_str(), 0, nullptr);
    REQUIRE(d);
    while (const char* name = g_dir_read_name(d)) CHECK(g_str_has_suffix(name, ".jpg"));
    g_dir_close(d);
}

TEST_CASE("a camera without capture-interval writes no captures", "[captures]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    CHECK(jpegFiles(service.dataDir() + "/recordings/demo/captures").empty());
}

TEST_CASE("an unwritable captures folder emits one capture-error and live viewers keep their frame rate", "[captures]") {
    // A plain file where the captures folder should be: every write fails
    // (ENOTDIR), even for root, whom permissions would not stop.
    TempDir data;
    REQUIRE(g_mkdir_with_parents((data.path() + "/recordings/demo").c_str(), 0755) == 0);
    data.write("recordings/demo/captures", "not a folder");
    ServiceProcess service({{"demo.conf", cameraWithCaptures(1)}}, {"--data", data.path()});
    REQUIRE(service.waitForState("demo", "live"));

    ViewerPool viewers(service.port(), "/api/cameras/demo/stream");
    viewers.open(1);
    viewers.run(3500);
    INFO(service.log());
    const ViewerStats& v = viewers.stats(0);
    INFO(v.error);
    CHECK(v.frames >= 3 * 28);  // 30 fps while captures fail
    CHECK_FALSE(v.closed);
    REQUIRE(waitUntil([&] { return countEvents(service.port(), "capture-error") >= 1; }, 3000));
    CHECK(countEvents(service.port(), "capture-error") == 1);  // one per streak, not one a second
    CHECK_THAT(lastEventMessage(service.port(), "capture-error"), Catch::Contains("recordings/demo/captures"));
    CHECK_THAT(service.log(), Catch::Contains("capture failed"));
    CHECK(jsonString(service.cameraJson("demo"), "$.state") == "live");
}

TEST_CASE("the disk guard reports a nearly full filesystem and clears when space returns (real tmpfs)", "[captures][tmpfs]") {
    TmpfsMount fs("8m");
    if (!fs.mounted()) {
        WARN("SKIPPED: cannot mount a tmpfs here (" << fs.error() << "); needs root or CAP_SYS_ADMIN");
        return;
    }
    const std::string dir = fs.path() + "/recordings";  // not created yet: the guard reads its parent's filesystem
    camrelay::RecordingLimits bytes;
    bytes.minFreeBytes = 3 * 1024 * 1024;
    bytes.minFreePercent = 0;
    camrelay::RecordingLimits percent;
    percent.minFreePercent = 50;
    camrelay::DiskGuard byBytes(dir, bytes), byPercent(dir, percent);
    CHECK(byBytes.problem().empty());
    CHECK(byPercent.problem().empty());

    writeBytes(fs.path() + "/filler", 6 * 1024 * 1024);  // leaves ~2 MB of 8
    // Cached for up to a second: still the old answer at once, the new one after.
    CHECK(byBytes.problem().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const std::string low = byBytes.problem();
    INFO(low);
    CHECK_THAT(low, Catch::StartsWith("only ") && Catch::Contains(" free on " + dir) && Catch::Contains("(min-free 3.1 MB)"));
    CHECK_THAT(byPercent.problem(), Catch::Contains("(min-free 50%)"));

    REQUIRE(unlink((fs.path() + "/filler").c_str()) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(byBytes.problem().empty());
    CHECK(byPercent.problem().empty());
}

TEST_CASE("captures stop with a capture-error while min-free is not met and resume by themselves (real tmpfs)", "[captures][tmpfs]") {
    TmpfsMount fs("8m");
    if (!fs.mounted()) {
        WARN("SKIPPED: cannot mount a tmpfs here (" << fs.error() << "); needs root or CAP_SYS_ADMIN");
        return;
    }
    TempDir configDir;
    const std::string config = configDir.write("camrelay.conf", "[recording]\nmin-free=3M\n");
    ServiceProcess service({{"demo.conf", cameraWithCaptures(1)}}, {"--config", config, "--data", fs.path()});
    REQUIRE(service.waitForState("demo", "live"));
    const std::string dir = fs.path() + "/recordings/demo/captures";
    REQUIRE(waitUntil([&] { return !jpegFiles(dir).empty(); }, 4000));

    writeBytes(fs.path() + "/filler", 6 * 1024 * 1024);
    REQUIRE(waitUntil([&] { return countEvents(service.port(), "capture-error") == 1; }, 4000));
    CHECK_THAT(lastEventMessage(service.port(), "capture-error"), Catch::Contains("only ") && Catch::Contains("min-free"));
    // No capture while low; live viewers unaffected.
    const size_t whileLow = jpegFiles(dir).size();
    ViewerPool viewers(service.port(), "/api/cameras/demo/stream");
    viewers.open(1);
    viewers.run(2500);
    CHECK(viewers.stats(0).frames >= 2 * 28);
    CHECK(jpegFiles(dir).size() == whileLow);

    REQUIRE(unlink((fs.path() + "/filler").c_str()) == 0);
    INFO(service.log());
    REQUIRE(waitUntil([&] { return jpegFiles(dir).size() >= whileLow + 2; }, 5000));
    CHECK(countEvents(service.port(), "capture-error") == 1);
    CHECK_THAT(service.log(), Catch::Contains("captures resumed"));
}

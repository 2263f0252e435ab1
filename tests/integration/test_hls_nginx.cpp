// HLS at scale (issue 14): Debian's nginx, configured with data/nginx-camrelay.conf
// (the file users install; only its placeholders are substituted here), as a
// caching reverse proxy in front of the real camrelay on loopback. 200 live
// HLS clients follow the playlist through nginx: every one of them gets every
// segment, while camrelay's /metrics show it served each segment about once.
// (One client straight from camrelay for 10 s: tests/integration/test_hls.cpp.)
#include "child_process.h"
#include "hls_clients.h"
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace camrelay::testing;

namespace {

const std::string kNginx = "/usr/sbin/nginx";  // Debian's nginx (tools/deps.sh); not always on PATH

std::string sourceRoot() {
    const char* root = std::getenv("CAMRELAY_SOURCE_ROOT");
    return root ? root : "..";
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// The processes whose parent is pid (nginx's workers and cache manager).
std::vector<int> childrenOf(int pid) {
    std::vector<int> children;
    DIR* proc = opendir("/proc");
    if (!proc) return children;
    while (dirent* entry = readdir(proc)) {
        const int candidate = std::atoi(entry->d_name);
        if (candidate <= 0) continue;
        std::ifstream stat("/proc/" + std::to_string(candidate) + "/stat");
        std::string text;
        std::getline(stat, text);
        const size_t paren = text.rfind(')');  // the command name may hold spaces
        if (paren == std::string::npos) continue;
        std::istringstream rest(text.substr(paren + 2));
        char state = 0;
        int parent = 0;
        rest >> state >> parent;
        if (parent == pid) children.push_back(candidate);
    }
    closedir(proc);
    return children;
}

bool processExists(int pid) { return kill(pid, 0) == 0; }

// Debian's nginx as an unprivileged-style instance under a temporary prefix,
// running data/nginx-camrelay.conf in front of camrelay on originPort.
class NginxProxy {
public:
    explicit NginxProxy(int originPort) {
        const std::string conf = readTextFile(sourceRoot() + "/data/nginx-camrelay.conf");
        if (conf.find("@CAMRELAY_ADDRESS@") == std::string::npos)
            throw std::runtime_error("data/nginx-camrelay.conf has no @CAMRELAY_ADDRESS@ placeholder");
        for (int attempt = 0; attempt < 3 && !process_.running(); ++attempt) {
            port_ = closedPort();
            std::string site = replaceAll(conf, "@CAMRELAY_ADDRESS@", "127.0.0.1:" + std::to_string(originPort));
            site = replaceAll(site, "@LISTEN@", "127.0.0.1:" + std::to_string(port_));
            site = replaceAll(site, "@CACHE_DIR@", dir_.path() + "/cache");
            site = replaceAll(site, "@ACCESS_CACHE_DIR@", dir_.path() + "/access-cache");
            std::smatch left;
            if (std::regex_search(site, left, std::regex("@[A-Z_]+@")))
                throw std::runtime_error("data/nginx-camrelay.conf has a placeholder this test does not fill: " + left.str());
            dir_.write("camrelay.conf", site);
            // What Debian's /etc/nginx/nginx.conf provides around conf.d/*.conf,
            // with every path inside the prefix (the compiled-in ones are under
            // /var/lib/nginx and /run). As root, nginx's workers would run as
            // nobody, who cannot enter the test's private temporary directory.
            dir_.write("nginx.conf", std::string(geteuid() == 0 ? "user root;\n" : "") +
                                         "worker_processes 1;\npid nginx.pid;\nerror_log stderr warn;\n"
                                         "events { worker_connections 4096; }\n"
                                         "http {\n  access_log off;\n"
                                         "  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy;\n"
                                         "  fastcgi_temp_path tmp/fastcgi; uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;\n"
                                         "  include camrelay.conf;\n}\n");
            mkdir((dir_.path() + "/tmp").c_str(), 0755);
            process_ = ChildProcess({kNginx, "-p", dir_.path() + "/", "-c", "nginx.conf", "-e", "stderr", "-g", "daemon off;"},
                                    dir_.path() + "/nginx.out", dir_.path() + "/nginx.err");
            const bool answers = waitUntil([&] {
                const int fd = connectLoopback(port_);
                if (fd >= 0) close(fd);
                return fd >= 0 || !stillRunning();
            }, 5000);
            if (!answers || !stillRunning()) process_ = ChildProcess();  // port taken or bad config: try again
        }
        if (!process_.running()) throw std::runtime_error("nginx did not start:\n" + log());
    }
    ~NginxProxy() { stop(); }

    int port() const { return port_; }
    int pid() const { return process_.pid(); }
    std::string log() const { return readTextFile(dir_.path() + "/nginx.err"); }
    std::vector<int> workers() const { return process_.running() ? childrenOf(process_.pid()) : std::vector<int>{}; }

    // SIGQUIT: nginx's graceful stop (workers finish their requests, then the
    // master exits). True when it did within 10 s.
    bool stop() {
        if (!process_.running()) return true;
        process_.signal(SIGQUIT);
        const int pid = process_.pid();
        // waitForOutput reaps the master when it exits; nothing is printed on stdout.
        process_.waitForOutput("(never printed)", 10000);
        if (!process_.running()) return true;
        process_.stop();
        return !processExists(pid);
    }

private:
    bool stillRunning() {
        if (!process_.running()) return false;
        process_.waitForOutput("(never printed)", 0);  // reaps it if it exited (bad config, port taken)
        return process_.running();
    }

    TempDir dir_;
    ChildProcess process_;
    int port_ = 0;
};

bool nginxAvailable() { return access(kNginx.c_str(), X_OK) == 0; }

// Until camrelay's playlist lists at least `segments` segments (the window starts on the first request).
bool waitForSegments(int port, const std::string& camera, size_t segments, int timeoutMs, const std::string& headers = "") {
    return waitUntil([&] {
        try {
            const HttpResponse r = httpRequest(port, "GET", "/api/cameras/" + camera + "/hls/index.m3u8", "", headers);
            return r.status == 200 && parseMediaPlaylist(r.body).uris.size() >= segments;
        } catch (const std::exception&) {
            return false;
        }
    }, timeoutMs);
}

// Every client followed the playlist, got every segment listed to it, in order, with no gap or error.
void checkContinuous(const HlsClients& clients, size_t minSegments) {
    for (size_t i = 0; i < clients.size(); ++i) {
        const HlsClientStats& s = clients.stats(i);
        INFO("client " << i << ": first error: " << s.firstError << "; segments " << s.sequences.size() << " ("
                       << s.firstListed << ".." << s.lastListed << "), gaps " << s.gaps << ", polls "
                       << s.playlistPolls);
        REQUIRE(s.following);
        CHECK(s.errors == 0);
        CHECK(s.gaps == 0);
        REQUIRE(s.sequences.size() >= minSegments);
        CHECK(s.sequences.front() == s.firstListed);
        CHECK(s.sequences.back() == s.lastListed);
        bool contiguous = true;
        for (size_t k = 1; k < s.sequences.size(); ++k) contiguous = contiguous && s.sequences[k] == s.sequences[k - 1] + 1;
        CHECK(contiguous);
    }
}

// The requests camrelay answered on one route shape (camrelay_http_requests_total, every code).
double routeRequests(int port, const std::string& route, const std::string& headers) {
    const HttpResponse r = httpRequest(port, "GET", "/metrics", "", headers);
    if (r.status != 200) throw std::runtime_error("GET /metrics answered " + std::to_string(r.status));
    std::istringstream in(r.body);
    double total = 0;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("camrelay_http_requests_total{", 0) == 0 && line.find("route=\"" + route + "\"") != std::string::npos)
            total += std::atof(line.c_str() + line.rfind(' ') + 1);
    return total;
}

}  // namespace

// With auth on: nginx asks camrelay (GET /api/access) before it answers from its
// HLS cache, so cached segments reach only those camrelay itself would serve, at
// about one check per viewer login per 5 s.
TEST_CASE("auth on: nginx asks GET /api/access before answering from its HLS cache", "[hls][nginx][auth]") {
    if (!nginxAvailable()) {
        WARN("SKIPPED: " << kNginx << " is missing: the nginx access test did NOT run");
        if (std::getenv("CI")) FAIL("nginx is required on CI");
        return;
    }
    TempDir dir;
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}, {"yard.conf", demoCamera(160, 120, 15)}},
                           {"--config", viewerAuthConfig(dir)});
    const std::string viewer = basicAuth("vic:viewer-pw");
    service.setRequestHeaders(viewer);
    REQUIRE(service.waitForState("demo", "live"));
    REQUIRE(waitForSegments(service.port(), "demo", 2, 20000, viewer));
    NginxProxy nginx(service.port());
    const std::string base = "/api/cameras/demo/hls/";

    // A logged-in viewer fills the cache.
    HttpResponse playlist = httpRequest(nginx.port(), "GET", base + "index.m3u8", "", viewer);
    INFO("nginx log:\n" << nginx.log());
    REQUIRE(playlist.status == 200);
    const MediaPlaylist listed = parseMediaPlaylist(playlist.body);
    REQUIRE_FALSE(listed.uris.empty());
    const std::string segment = base + listed.uris.back();
    REQUIRE(httpRequest(nginx.port(), "GET", segment, "", viewer).status == 200);
    HttpResponse hit = httpRequest(nginx.port(), "GET", segment, "", viewer);
    CHECK(hit.status == 200);
    CHECK(hit.headers["x-cache-status"] == "HIT");

    // The same cached entries, asked for by people camrelay would refuse.
    HttpResponse anonymous = httpRequest(nginx.port(), "GET", segment);
    CHECK(anonymous.status == 401);
    CHECK_THAT(anonymous.headers["www-authenticate"], Catch::Contains("Basic realm=\"camrelay\""));
    CHECK(anonymous.headers["content-type"] != "video/mp2t");
    CHECK(httpRequest(nginx.port(), "GET", base + "index.m3u8").status == 401);
    CHECK(httpRequest(nginx.port(), "GET", segment, "", basicAuth("vic:wrong")).status == 401);
    CHECK(httpRequest(nginx.port(), "GET", segment, "", "Cookie: camrelay_session=forged\r\n").status == 401);

    // Stream tokens: this camera's opens it; another camera's does not, whatever the path says.
    const std::string demoToken =
        jsonString(httpRequest(service.port(), "POST", "/api/cameras/demo/token", "", viewer).body, "$.token");
    const std::string yardToken =
        jsonString(httpRequest(service.port(), "POST", "/api/cameras/yard/token", "", viewer).body, "$.token");
    // (A token's playlist lists its segments with the token: api.md "HLS".)
    HttpResponse tokenPlaylist = httpRequest(nginx.port(), "GET", base + "index.m3u8?token=" + demoToken);
    REQUIRE(tokenPlaylist.status == 200);
    const MediaPlaylist tokenListed = parseMediaPlaylist(tokenPlaylist.body);
    REQUIRE_FALSE(tokenListed.uris.empty());
    CHECK_THAT(tokenListed.uris.back(), Catch::Contains("token="));
    CHECK(httpRequest(nginx.port(), "GET", base + tokenListed.uris.back()).status == 200);
    // Only the plain spelling of an HLS request line passes nginx: dot segments are refused there (400).
    CHECK(httpRequest(nginx.port(), "GET", "/api/cameras/demo/../yard/hls/index.m3u8?token=" + yardToken).status == 400);
    CHECK(httpRequest(nginx.port(), "GET", segment + "?token=" + yardToken).status == 403);
    CHECK(httpRequest(nginx.port(), "GET", base + "index.m3u8?token=" + yardToken).status == 403);
    CHECK(httpRequest(nginx.port(), "GET", "/api/cameras/yard/../demo/hls/index.m3u8?token=" + yardToken).status == 400);

    // Encoded slashes and dot segments: nginx would decode them, camrelay would not. A token for
    // yard must not reach demo's cached entries through them (nor any other spelling of a path).
    const std::string demoSegmentName = segment.substr(base.size());
    const std::string bearerYard = "Authorization: Bearer " + yardToken + "\r\n";
    // First a proper yard request, so nginx holds an "allowed" verdict for the yard token on
    // /api/cameras/yard/hls/: the tricks below then meet nginx's own defences, not only camrelay's.
    CHECK(httpRequest(nginx.port(), "GET", "/api/cameras/yard/hls/index.m3u8", "", bearerYard).status != 403);
    for (const std::string& trick : {"/api/cameras/yard/hls/..%2f..%2fdemo%2fhls%2f" + demoSegmentName,
                                     "/api/cameras/yard/hls/..%2F..%2Fdemo%2Fhls%2F" + demoSegmentName,
                                     "/api/cameras/yard/hls/%2e%2e/%2e%2e/demo/hls/" + demoSegmentName,
                                     "/api/cameras/yard/hls/../../demo/hls/" + demoSegmentName,
                                     std::string("/api/cameras/yard/hls/..%2f..%2fdemo%2fhls%2findex.m3u8"),
                                     "/api/cameras/%64emo/hls/" + demoSegmentName}) {
        HttpResponse r = httpRequest(nginx.port(), "GET", trick, "", bearerYard);
        INFO(trick << " -> " << r.status << " " << r.headers["content-type"]);
        CHECK(r.status != 200);
        CHECK(r.headers["content-type"] != "video/mp2t");
        CHECK(r.headers["content-type"] != "application/vnd.apple.mpegurl");
    }
    // A preflight from an allowed page still reaches camrelay's own CORS answer (not a 401 from the check).
    CHECK(httpRequest(nginx.port(), "OPTIONS", segment, "", "Origin: http://127.0.0.1:1\r\n"
                      "Access-Control-Request-Method: GET\r\n").status != 401);

    // 100 requests with one login: the decision is cached, camrelay is asked about once.
    const double checksBefore = routeRequests(service.port(), "/api/access", viewer);
    for (int i = 0; i < 100; ++i) {
        const HttpResponse r = httpRequest(nginx.port(), "GET", i % 2 ? segment : base + "index.m3u8", "", viewer);
        if (r.status != 200) FAIL_CHECK("request " << i << " answered " << r.status);
    }
    const double checks = routeRequests(service.port(), "/api/access", viewer) - checksBefore;
    INFO(checks << " access checks reached camrelay for 100 requests");
    CHECK(checks <= 3);  // one per 5 s: the loop may straddle an expiry or two

    // A session that logs out loses the cached HLS once its decision expires (5 s).
    HttpResponse login = httpRequest(nginx.port(), "POST", "/api/session", R"({"user":"vic","password":"viewer-pw"})",
                                           "Content-Type: application/json\r\n");
    REQUIRE(login.status == 200);
    const std::string cookie = "Cookie: " + login.headers["set-cookie"].substr(0, login.headers["set-cookie"].find(';')) + "\r\n";
    CHECK(httpRequest(nginx.port(), "GET", segment, "", cookie).status == 200);
    CHECK(httpRequest(nginx.port(), "DELETE", "/api/session", "", cookie).status == 204);
    CHECK(waitUntil([&] { return httpRequest(nginx.port(), "GET", segment, "", cookie).status == 401; }, 8000));
}

TEST_CASE("200 HLS clients through nginx (data/nginx-camrelay.conf) get every segment; "
          "camrelay serves each segment about once", "[hls][nginx]") {
    if (!nginxAvailable()) {
        // tools/deps.sh installs nginx, so CI always runs this; a developer box may lack it.
        WARN("SKIPPED: " << kNginx << " is missing (apt-get install nginx, or tools/deps.sh build): "
                         "the nginx caching test did NOT run");
        if (std::getenv("CI")) FAIL("nginx is required on CI");
        return;
    }
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    REQUIRE(waitForSegments(service.port(), "demo", 2, 20000));
    NginxProxy nginx(service.port());
    // From here on, every HLS request camrelay answers came through nginx.
    const HlsOriginCounts before = readHlsCounts(service.port(), "demo");

    // The cache answers with camrelay's headers and says whether it had the response.
    const std::string playlistPath = "/api/cameras/demo/hls/index.m3u8";
    const HttpResponse first = httpRequest(nginx.port(), "GET", playlistPath);
    REQUIRE(first.status == 200);
    CHECK(first.headers.count("x-cache-status") == 1);
    CHECK(first.headers.at("content-type") == "application/vnd.apple.mpegurl");
    CHECK(first.headers.at("cache-control") == "max-age=1");
    const MediaPlaylist listed = parseMediaPlaylist(first.body);
    REQUIRE(listed.error.empty());
    REQUIRE_FALSE(listed.uris.empty());
    const std::string segmentPath = "/api/cameras/demo/hls/" + listed.uris.back();
    const HttpResponse miss = httpRequest(nginx.port(), "GET", segmentPath);
    const HttpResponse hit = httpRequest(nginx.port(), "GET", segmentPath);
    REQUIRE(miss.status == 200);
    CHECK(miss.headers.at("content-type") == "video/mp2t");
    CHECK(miss.headers.count("x-cache-status") == 1);
    CHECK(hit.headers.count("x-cache-status") == 1);
    if (hit.headers.count("x-cache-status")) CHECK(hit.headers.at("x-cache-status") == "HIT");
    CHECK(hit.body == miss.body);
    // The rest of the API passes through, uncached.
    const HttpResponse camera = httpRequest(nginx.port(), "GET", "/api/cameras/demo");
    CHECK(camera.status == 200);
    CHECK(camera.headers.count("x-cache-status") == 0);
    // Streams pass through unbuffered: MJPEG parts and WebSocket frames arrive as they are made.
    {
        ViewerPool mjpeg(nginx.port(), "/api/cameras/demo/stream");
        ViewerPool ws(nginx.port(), "/api/cameras/demo/ws?format=binary", false, 0, StreamKind::WebSocket);
        mjpeg.open(1);
        ws.open(1);
        mjpeg.run(1500);
        ws.run(1500);
        INFO("MJPEG: " << mjpeg.stats(0).error << "; WebSocket: " << ws.stats(0).error);
        CHECK(mjpeg.stats(0).frames >= 10);
        CHECK(ws.stats(0).frames >= 10);
    }

    HlsClients clients(nginx.port(), playlistPath, 200);
    clients.run(10000);
    clients.finish(5000);
    const HlsOriginCounts after = readHlsCounts(service.port(), "demo");

    checkContinuous(clients, 8);

    std::set<uint64_t> distinct;
    uint64_t received = 0, polls = 0, hits = 0;
    for (size_t i = 0; i < clients.size(); ++i) {
        const HlsClientStats& s = clients.stats(i);
        distinct.insert(s.sequences.begin(), s.sequences.end());
        received += s.sequences.size();
        polls += s.playlistPolls;
        const auto h = s.cacheStatus.find("HIT");
        hits += h == s.cacheStatus.end() ? 0 : h->second;
    }
    const double produced = after.segmentsProduced - before.segmentsProduced;
    const double segmentRequests = after.segmentRequests - before.segmentRequests;
    const double playlistRequests = after.playlistRequests - before.playlistRequests;
    INFO("camrelay produced " << produced << " segments, served " << segmentRequests << " segment and "
                              << playlistRequests << " playlist requests; clients received " << received
                              << " segments (" << distinct.size() << " distinct, " << hits << " cache HITs) and "
                              << polls << " playlists");
    INFO("nginx log:\n" << nginx.log());
    CHECK(produced >= 8);
    // Each distinct segment had to come from camrelay once; the cache lock makes
    // the 199 others wait for that one request instead of asking camrelay too.
    // (+1: the segment fetched by the two requests above, if the clients started after it.)
    CHECK(segmentRequests >= double(distinct.size()));
    CHECK(segmentRequests <= 1.2 * double(distinct.size()) + 1);
    // Against what camrelay produced in the same time: +2 for the window's two
    // ends (the segment listed when the clients started, the last one fetched).
    CHECK(segmentRequests <= 1.2 * produced + 2);
    // The playlist (max-age=1) reaches camrelay about once a second, not 200 clients x 2 polls a second.
    CHECK(polls >= 200 * 10);
    CHECK(playlistRequests <= 2 * 15 + 5);  // 15 s: the 10 s run, finish() and scheduling slack
    // nginx answered the rest from its cache.
    CHECK(double(hits) >= double(received) - segmentRequests);

    const std::vector<int> workers = nginx.workers();
    CHECK_FALSE(workers.empty());
    const int master = nginx.pid();
    CHECK(nginx.stop());
    CHECK_FALSE(processExists(master));
    for (int worker : workers) CHECK_FALSE(processExists(worker));
}

// RTSP re-streaming with auth on: the service's users (Basic) and stream
// tokens (?token= or Bearer), played by real clients (rtspsrc, ffprobe) and
// checked by hand on a raw socket for the exact status and challenge.
#include "auth/stream_token.h"
#include "child_process.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "service_process.h"

#include <catch2/catch.hpp>

#include <glib.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

using namespace camrelay::testing;

namespace {

// Distinctive, so a search of the log cannot miss them.
const std::string kViewerPassword = "Viewer-pw-4711-secret";
const std::string kAdminPassword = "Admin-pw-9052-secret";

// The service with auth on: viewer "alice", admin "root", two cameras.
struct AuthService {
    explicit AuthService(const std::string& authExtra = "") : authExtra(authExtra) {}
    std::string authExtra;  // more [auth] keys
    TempDir configDir;
    std::string dataDir = configDir.path() + "/data";
    std::string configPath = configDir.write(
        "camrelay.conf", "[auth]\nenabled=true\n" + authExtra +
                         "[user:alice]\nrole=viewer\npassword=" + hashWithBinary(kViewerPassword) + "\n"
                         "[user:root]\nrole=admin\npassword=" + hashWithBinary(kAdminPassword) + "\n"
                         "[paths]\ndata=" + dataDir + "\n");
    ServiceProcess service{{{"demo.conf", demoCamera(320, 240, 30)}, {"yard.conf", demoCamera(320, 240, 30)}},
                           {"--config", configPath}};

    std::string url(const std::string& path, const std::string& credentials = "") const {
        return "rtsp://" + (credentials.empty() ? "" : credentials + "@") + "127.0.0.1:" +
               std::to_string(service.rtspPort()) + path;
    }
    // A stream token signed with the service's own key (as the API will mint them).
    std::string token(const std::string& camera, int64_t expiresUnix) const {
        std::ifstream in(dataDir + "/auth.key", std::ios::binary);
        const std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        REQUIRE(key.size() == 32);
        return camrelay::TokenSigner(key).issue(camera, expiresUnix);
    }
};

int64_t unixNow() { return g_get_real_time() / 1'000'000; }

// RTSP by hand on one TCP connection: requests in turn, response heads back.
class RtspConnection {
public:
    explicit RtspConnection(int port) : fd_(connectLoopback(port)) { REQUIRE(fd_ >= 0); }
    ~RtspConnection() { close(fd_); }
    RtspConnection(const RtspConnection&) = delete;
    RtspConnection& operator=(const RtspConnection&) = delete;

    // The response head ("" on timeout); its body (an SDP) is skipped.
    std::string request(const std::string& method, const std::string& url, const std::string& extraHeaders = "") {
        const std::string text = method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(++cseq_) + "\r\n" +
                                 extraHeaders + "\r\n";
        REQUIRE(write(fd_, text.data(), text.size()) == ssize_t(text.size()));
        std::string data;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        size_t end = std::string::npos;
        size_t bodyBytes = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            end = data.find("\r\n\r\n");
            if (end != std::string::npos) {
                const size_t length = data.find("Content-Length: ");
                bodyBytes = length < end ? std::stoul(data.substr(length + 16)) : 0;
                if (data.size() >= end + 4 + bodyBytes) break;
            }
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 200) <= 0) continue;
            char buffer[4096];
            const ssize_t n = read(fd_, buffer, sizeof buffer);
            if (n <= 0) break;
            data.append(buffer, size_t(n));
        }
        if (end == std::string::npos) return "";
        return data.substr(0, end);
    }

private:
    int fd_;
    int cseq_ = 0;
};

// One RTSP request on a fresh connection; the response head ("" on timeout).
std::string rtspHead(int port, const std::string& method, const std::string& url, const std::string& extraHeaders = "") {
    RtspConnection connection(port);
    return connection.request(method, url, extraHeaders);
}

size_t occurrences(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// Every RTSP media the service made has gone. A client arriving while a shared
// media is being unprepared (its last client just left) is refused by
// gst-rtsp-server, so a test's next client waits for this.
void waitRtspIdle(const ServiceProcess& service) {
    const bool idle = waitUntil([&] {
        const std::string log = service.log();
        return occurrences(log, "RTSP clients connected") == occurrences(log, "no RTSP clients");
    }, 10000);
    REQUIRE(idle);
}

std::string statusLine(const std::string& head) { return head.substr(0, head.find("\r\n")); }

std::string basic(const std::string& user, const std::string& password) {
    const std::string pair = user + ":" + password;
    gchar* encoded = g_base64_encode(reinterpret_cast<const guchar*>(pair.data()), pair.size());
    std::string header = std::string("Authorization: Basic ") + encoded + "\r\n";
    g_free(encoded);
    return header;
}

std::pair<int, std::string> probe(const std::string& url) {
    return runCommand("ffprobe -v error -rtsp_transport tcp -select_streams v:0 "
                      "-show_entries stream=codec_name,width,height -of csv=p=0 '" + url + "' 2>&1");
}

}  // namespace

TEST_CASE("RTSP with auth on: no or wrong credentials get 401 with a Basic challenge; "
          "the viewer and the admin watch; passwords never reach the log", "[rtsp-out][auth]") {
    AuthService s;
    REQUIRE(s.service.rtspPort() > 0);
    const int port = s.service.rtspPort();

    // OPTIONS needs nothing (clients ask it first).
    CHECK(statusLine(rtspHead(port, "OPTIONS", s.url("/demo"))) == "RTSP/1.0 200 OK");

    const std::string none = rtspHead(port, "DESCRIBE", s.url("/demo"));
    CHECK(statusLine(none) == "RTSP/1.0 401 Unauthorized");
    CHECK_THAT(none, Catch::Contains("WWW-Authenticate: Basic realm=\"camrelay\""));
    CHECK_THAT(none, !Catch::Contains("Digest"));
    // SETUP straight away is refused the same way.
    CHECK(statusLine(rtspHead(port, "SETUP", s.url("/demo/stream=0"),
                              "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")) == "RTSP/1.0 401 Unauthorized");
    CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), basic("alice", "wrong"))) == "RTSP/1.0 401 Unauthorized");
    CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), basic("nobody", kViewerPassword))) ==
          "RTSP/1.0 401 Unauthorized");
    CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), "Authorization: Basic !!!\r\n")) ==
          "RTSP/1.0 401 Unauthorized");
    CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), basic("alice", kViewerPassword))) == "RTSP/1.0 200 OK");

    auto [noneCode, noneText] = probe(s.url("/demo"));
    CHECK(noneCode != 0);
    CHECK_THAT(noneText, Catch::Contains("401"));
    auto [wrongCode, wrongText] = probe(s.url("/demo", "alice:wrong-password"));
    CHECK(wrongCode != 0);
    CHECK_THAT(wrongText, Catch::Contains("401"));

    SECTION("rtspsrc and ffprobe with a user's password") {
        waitRtspIdle(s.service);  // the DESCRIBE above made a media
        {
            DecodingPlayer viewer(h264Player(s.url("/demo", "alice:" + kViewerPassword)));
            CHECK(viewer.pull(30, 8000) == 30);
            CHECK(viewer.size() == std::make_pair(320, 240));
        }
        {
            DecodingPlayer admin(h264Player(s.url("/yard", "root:" + kAdminPassword)));
            CHECK(admin.pull(30, 8000) == 30);
        }
        waitRtspIdle(s.service);
        auto [code, text] = probe(s.url("/demo", "root:" + kAdminPassword));
        CHECK(code == 0);
        CHECK(text == "h264,320,240\n");
        // An unknown mount is still 404 for a user who may watch everything.
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/nosuch"), basic("root", kAdminPassword))) ==
              "RTSP/1.0 404 Not Found");
    }

    const std::string log = s.service.log();
    INFO(log);
    CHECK_THAT(log, Catch::Contains("login failed for user \"alice\""));  // the wrong passwords were noticed ...
    for (const std::string& secret : {kViewerPassword, kAdminPassword, std::string("wrong-password")})
        CHECK_THAT(log, !Catch::Contains(secret));  // ... and no password was written
    gchar* encoded = g_base64_encode(reinterpret_cast<const guchar*>("alice:wrong"), 11);
    CHECK_THAT(log, !Catch::Contains(encoded));
    g_free(encoded);
}

TEST_CASE("RTSP with auth on: a stream token opens its own camera only, and not once expired", "[rtsp-out][auth]") {
    AuthService s;
    REQUIRE(s.service.rtspPort() > 0);
    const int port = s.service.rtspPort();
    const std::string demoToken = s.token("demo", unixNow() + 600);

    SECTION("?token= in the URL, for clients that cannot send headers") {
        {
            DecodingPlayer player(h264Player(s.url("/demo?token=" + demoToken)));
            CHECK(player.pull(30, 8000) == 30);
        }
        waitRtspIdle(s.service);
        auto [code, text] = probe(s.url("/demo?token=" + demoToken));
        CHECK(code == 0);
        CHECK(text == "h264,320,240\n");
        waitRtspIdle(s.service);
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=" + demoToken))) == "RTSP/1.0 200 OK");
        waitRtspIdle(s.service);
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?a=1&token=" + demoToken + "&b=2"))) == "RTSP/1.0 200 OK");
    }
    SECTION("a URL token covers the later requests of its connection, for its own camera only") {
        // What ffmpeg and rtspsrc do: SETUP at Content-Base + control, without the query.
        const std::string transport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n";
        RtspConnection connection(port);
        const std::string describe = connection.request("DESCRIBE", s.url("/demo?token=" + demoToken));
        CHECK(statusLine(describe) == "RTSP/1.0 200 OK");
        CHECK_THAT(describe, Catch::Contains("Content-Base: " + s.url("/demo/") + "\r\n"));
        CHECK(statusLine(connection.request("DESCRIBE", s.url("/yard"))) == "RTSP/1.0 404 Not Found");
        CHECK(statusLine(connection.request("SETUP", s.url("/yard/stream=0"), transport)) == "RTSP/1.0 404 Not Found");
        CHECK(statusLine(connection.request("SETUP", s.url("/demo/stream=0"), transport)) == "RTSP/1.0 200 OK");
        // Another connection has no token.
        CHECK(statusLine(rtspHead(port, "SETUP", s.url("/demo/stream=0"), transport)) == "RTSP/1.0 401 Unauthorized");
    }
    SECTION("a URL token that expired is no good for its connection either") {
        RtspConnection connection(port);
        CHECK(statusLine(connection.request("DESCRIBE", s.url("/demo?token=" + s.token("demo", unixNow() + 3)))) ==
              "RTSP/1.0 200 OK");
        std::this_thread::sleep_for(std::chrono::milliseconds(4100));
        CHECK(statusLine(connection.request("DESCRIBE", s.url("/demo"))) == "RTSP/1.0 401 Unauthorized");
    }
    SECTION("the token as a Bearer credential") {
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), "Authorization: Bearer " + demoToken + "\r\n")) ==
              "RTSP/1.0 200 OK");
    }
    SECTION("a token for demo does not open yard") {
        // 404, as for a path the client may not know of.
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/yard?token=" + demoToken))) == "RTSP/1.0 404 Not Found");
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/yard"), "Authorization: Bearer " + demoToken + "\r\n")) ==
              "RTSP/1.0 404 Not Found");
        CHECK(statusLine(rtspHead(port, "SETUP", s.url("/yard/stream=0?token=" + demoToken),
                                  "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")) == "RTSP/1.0 404 Not Found");
        auto [code, text] = probe(s.url("/yard?token=" + demoToken));
        CHECK(code != 0);
        // ... while a token for yard does.
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/yard?token=" + s.token("yard", unixNow() + 600)))) ==
              "RTSP/1.0 200 OK");
    }
    SECTION("expired, forged and mangled tokens get 401; a token for an unknown camera opens nothing") {
        const std::string expired = s.token("demo", unixNow() - 5);
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=" + expired))) == "RTSP/1.0 401 Unauthorized");
        auto [code, text] = probe(s.url("/demo?token=" + expired));
        CHECK(code != 0);
        CHECK_THAT(text, Catch::Contains("401"));
        const std::string forged = camrelay::TokenSigner(std::string(32, 'k')).issue("demo", unixNow() + 600);
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=" + forged))) == "RTSP/1.0 401 Unauthorized");
        // A genuine token for a camera that does not exist (cameras come and go
        // at run time) is a token for another camera: 404, as for any mount it does not open.
        const std::string ghost = s.token("ghost", unixNow() + 600);
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=" + ghost))) == "RTSP/1.0 404 Not Found");
        std::string mangled = demoToken;
        mangled.back() = mangled.back() == 'A' ? 'B' : 'A';
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=" + mangled))) == "RTSP/1.0 401 Unauthorized");
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=%00"))) == "RTSP/1.0 401 Unauthorized");
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo?token=" + std::string(1500, 'x')))) ==
              "RTSP/1.0 401 Unauthorized");
        const std::string log = s.service.log();
        INFO(log);
        CHECK_THAT(log, Catch::Contains("the stream token has expired"));
        CHECK_THAT(log, !Catch::Contains(expired));  // tokens are secrets too: never logged
    }
}

TEST_CASE("RTSP with auth on: failed logins from one address are limited, "
          "and the limit holds for the right password too", "[rtsp-out][auth]") {
    AuthService s("login-failures-per-minute=2\n");
    REQUIRE(s.service.rtspPort() > 0);
    const int port = s.service.rtspPort();
    for (int i = 0; i < 2; ++i)
        CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), basic("alice", "guess" + std::to_string(i)))) ==
              "RTSP/1.0 401 Unauthorized");
    CHECK(statusLine(rtspHead(port, "DESCRIBE", s.url("/demo"), basic("alice", kViewerPassword))) ==
          "RTSP/1.0 401 Unauthorized");
    CHECK_THAT(s.service.log(), Catch::Contains("too many failed logins"));
}

TEST_CASE("RTSP with auth off: anyone watches without credentials, as before", "[rtsp-out][auth]") {
    TempDir configDir;
    const std::string config = configDir.write("camrelay.conf", "[auth]\nenabled=false\n[paths]\ndata=" +
                                                                    configDir.path() + "/data\n");
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", config});
    REQUIRE(service.rtspPort() > 0);
    const std::string url = "rtsp://127.0.0.1:" + std::to_string(service.rtspPort()) + "/demo";
    const std::string head = rtspHead(service.rtspPort(), "DESCRIBE", url);
    CHECK(statusLine(head) == "RTSP/1.0 200 OK");
    CHECK_THAT(head, !Catch::Contains("WWW-Authenticate"));
    waitRtspIdle(service);
    DecodingPlayer player(h264Player(url));
    CHECK(player.pull(30, 8000) == 30);
}

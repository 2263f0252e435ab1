// Access control end to end: the real binary with [auth] on, real HTTP clients.
// The auth matrix walks the service's own route table (http/access_rules), so a
// route added later is in the matrix without anyone remembering to add it.
#include "auth/stream_token.h"
#include "core/files.h"
#include "http/access_rules.h"
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"
#include "ws_client.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sys/stat.h>
#include <regex>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

struct AuthService {
    TempDir dir;
    std::string config;
    std::unique_ptr<ServiceProcess> service;

    explicit AuthService(const std::string& extra = "", const std::string& authGroup = "[auth]\nenabled=true\nlogin-failures-per-minute=10000\npassword-checks-per-second=1000\n") {
        static const std::string adminHash = hashWithBinary("admin-pw");
        static const std::string viewerHash = hashWithBinary("viewer-pw");
        config = dir.write("camrelay.ini", "[paths]\ndata=" + dir.path() + "/data\n" + authGroup +
                                               "[user:ada]\nrole=admin\npassword=" + adminHash +
                                               "\n[user:vic]\nrole=viewer\npassword=" + viewerHash + "\n" + extra);
        service = std::make_unique<ServiceProcess>(
            std::map<std::string, std::string>{{"demo.conf", demoCamera()}, {"yard.conf", demoCamera()}},
            std::vector<std::string>{"--config", config});
        service->setRequestHeaders(basicAuth("ada:admin-pw"));
    }
    int port() const { return service->port(); }
    std::string key() const {
        std::string error;
        auto text = readFile(dir.path() + "/data/auth.key", &error);
        REQUIRE(text);
        return *text;
    }
};

// The status line and headers only: streams never end, so the body is not read.

bool refusedStatus(int status) { return status == 401 || status == 403 || status == 303 || status == 421 || status == 429; }

std::string sessionCookie(int port, const std::string& user, const std::string& password) {
    auto r = httpRequest(port, "POST", "/api/session", "{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}",
                         "Content-Type: application/json\r\nContent-Length: " +
                             std::to_string(28 + user.size() + password.size()) + "\r\n");
    REQUIRE(r.status == 200);
    const std::string cookie = r.headers["set-cookie"];
    CHECK_THAT(cookie, Catch::Contains("HttpOnly") && Catch::Contains("SameSite=Strict") && Catch::Contains("Max-Age="));
    return "Cookie: " + cookie.substr(0, cookie.find(';')) + "\r\n";
}

}  // namespace

TEST_CASE("auth matrix: every route x every kind of caller gets the status its rule says", "[auth][matrix]") {
    AuthService s;
    REQUIRE(s.service->waitForState("demo", "live", 15000));
    const int port = s.port();
    auto token = httpRequest(port, "POST", "/api/cameras/demo/token", "", basicAuth("vic:viewer-pw"));
    REQUIRE(token.status == 200);
    const std::string demoToken = jsonString(token.body, "$.token");
    auto yard = httpRequest(port, "POST", "/api/cameras/yard/token", "", basicAuth("ada:admin-pw"));
    const std::string yardToken = jsonString(yard.body, "$.token");
    const TokenSigner signer(s.key());
    const std::string expired = signer.issue("demo", g_get_real_time() / 1000000 - 5);
    std::string tampered = demoToken;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    const std::string viewerSession = sessionCookie(port, "vic", "viewer-pw");
    const std::string adminSession = sessionCookie(port, "ada", "admin-pw");

    enum class Who { None, WrongPassword, Viewer, Admin, ViewerSession, AdminSession, Token, ExpiredToken,
                     TamperedToken, OtherCameraToken, ForeignOrigin };
    struct Caller { Who who; const char* name; std::string headers; std::string query; };
    const std::vector<Caller> callers = {
        {Who::None, "no credentials", "", ""},
        {Who::WrongPassword, "wrong password", basicAuth("vic:nope"), ""},
        {Who::Viewer, "viewer (Basic)", basicAuth("vic:viewer-pw"), ""},
        {Who::Admin, "admin (Basic)", basicAuth("ada:admin-pw"), ""},
        {Who::ViewerSession, "viewer session cookie", viewerSession, ""},
        {Who::AdminSession, "admin session cookie", adminSession, ""},
        {Who::Token, "token of this camera", "", "?token=" + demoToken},
        {Who::ExpiredToken, "expired token", "", "?token=" + expired},
        {Who::TamperedToken, "tampered token", "", "?token=" + tampered},
        {Who::OtherCameraToken, "token of another camera", "", "?token=" + yardToken},
        {Who::ForeignOrigin, "admin from another origin", basicAuth("ada:admin-pw") + "Origin: http://evil.example\r\n", ""},
    };
    size_t cells = 0;
    for (const AccessRule& rule : accessRules()) {
        for (const char* method : {"GET", "POST"}) {
            const bool read = std::string(method) == "GET";
            const Access need = read ? rule.read : rule.write;
            // Stopping a camera is a real effect: aim writes at start, which leaves it running.
            std::string path = rule.example;
            if (path == "/api/cameras/demo/stop") path = "/api/cameras/demo/start";
            for (const Caller& c : callers) {
                // Compatibility examples carry a query already (/?action=stream): the token joins it.
                std::string query = c.query;
                if (!query.empty() && path.find('?') != std::string::npos) query[0] = '&';
                HttpResponse head = httpRequestHead(port, method, path + query, "", c.headers);
                INFO(method << " " << rule.example << " as " << c.name << " -> " << head.status << "\n" << headerLines(head));
                ++cells;
                const bool tokenHere = rule.streamToken && read;
                bool allowed = false;
                switch (c.who) {
                case Who::ForeignOrigin: allowed = false; break;
                case Who::None: case Who::WrongPassword: case Who::ExpiredToken: case Who::TamperedToken:
                    allowed = need == Access::Public; break;
                case Who::Viewer: case Who::ViewerSession: allowed = need != Access::Admin; break;
                case Who::Admin: case Who::AdminSession: allowed = true; break;
                case Who::Token: allowed = need == Access::Public || tokenHere; break;
                case Who::OtherCameraToken: allowed = need == Access::Public; break;
                }
                if (allowed) {
                    CHECK_FALSE(refusedStatus(head.status));
                    CHECK(head.status != 0);
                } else if (c.who == Who::ForeignOrigin) {
                    CHECK(head.status == 403);
                } else if (c.who == Who::None || c.who == Who::WrongPassword || c.who == Who::ExpiredToken ||
                           c.who == Who::TamperedToken) {
                    // A person at a browser page goes to the login page; everything else gets 401.
                    CHECK(head.status == (rule.page && read ? 303 : 401));
                } else {
                    CHECK(head.status == 403);
                }
                if (head.status == 401) CHECK_THAT(head.headers["www-authenticate"], Catch::Contains("Basic realm=\"camrelay\""));

                // GET /api/access (what nginx's auth_request asks) gives the same verdict on
                // the same request named in X-Original-URI: 204, or 401 / 403 (never a redirect).
                HttpResponse check = httpRequestHead(port, "GET", "/api/access", "",
                                                     c.headers + "X-Original-URI: " + path + query +
                                                         "\r\nX-Original-Method: " + method + "\r\n");
                INFO("GET /api/access for it -> " << check.status << "\n" << headerLines(check));
                const bool unauthenticated = c.who == Who::None || c.who == Who::WrongPassword ||
                                             c.who == Who::ExpiredToken || c.who == Who::TamperedToken;
                CHECK(check.status == (allowed ? 204 : unauthenticated ? 401 : 403));
                if (check.status == 401) CHECK_THAT(check.headers["www-authenticate"], Catch::Contains("Basic realm=\"camrelay\""));
            }
        }
    }
    CHECK(cells >= accessRules().size() * 2 * callers.size());
    // The matrix's writes never stopped anything.
    CHECK(s.service->waitForState("demo", "live", 1000));
}

TEST_CASE("GET /api/access: bad or missing X-Original-URI is a clear 400; writes 405; path tricks judged as libsoup parses them", "[auth][access]") {
    AuthService s;
    REQUIRE(s.service->waitForState("demo", "live", 15000));
    const int port = s.port();
    const std::string viewer = basicAuth("vic:viewer-pw");
    auto check = [&](const std::string& headers) { return httpRequest(port, "GET", "/api/access", "", headers); };
    // What a proxy misconfiguration looks like: a 400 naming the header.
    for (const std::string& bad : {std::string(""), std::string("X-Original-URI: relative/path\r\n"),
                                   std::string("X-Original-URI: http://evil.example/api/cameras/demo/stream\r\n"),
                                   "X-Original-URI: /" + std::string(9000, 'a') + "\r\n",
                                   std::string("X-Original-URI: /a b\r\n"), std::string("X-Original-URI: /%zz\r\n")}) {
        HttpResponse r = check(viewer + bad);
        INFO(bad.substr(0, 80) << " -> " << r.status << " " << r.body.substr(0, 300));
        if (r.status == 400) {
            CHECK(jsonString(r.body, "$.error") == "bad_original_uri");
            CHECK_THAT(jsonString(r.body, "$.message"), Catch::Contains("X-Original-URI"));
        } else {
            // libsoup itself may refuse a header line that long, before any handler.
            CHECK((r.status == 400 || r.status == 431 || r.status == 413));
        }
    }
    HttpResponse missing = check(viewer);
    CHECK(missing.status == 400);
    CHECK(missing.headers["cache-control"] == "no-store");
    CHECK(httpRequest(port, "POST", "/api/access", "", basicAuth("ada:admin-pw")).status == 405);
    // Any other path under it is no route (an admin's 404; a viewer gets 403 first, as for any unknown path).
    CHECK(httpRequest(port, "GET", "/api/access/x", "", basicAuth("ada:admin-pw") + "X-Original-URI: /api/cameras\r\n").status == 404);

    // Allowed: 204 and who. The query's token is a credential; a dot-segment path is judged where it leads.
    HttpResponse ok = check(viewer + "X-Original-URI: /api/cameras/demo/hls/index.m3u8\r\n");
    CHECK(ok.status == 204);
    CHECK(ok.headers["x-camrelay-user"] == "vic");
    const std::string token = jsonString(httpRequest(port, "POST", "/api/cameras/demo/token", "", viewer).body, "$.token");
    CHECK(check("X-Original-URI: /api/cameras/demo/hls/x.ts?token=" + token + "\r\n").status == 204);
    CHECK(check("X-Original-URI: /api/cameras/demo/hls/x.ts?token=" + token + "\r\n").headers["x-camrelay-user"] ==
          "token for camera demo");
    CHECK(check("X-Original-URI: /api/cameras/yard/hls/x.ts?token=" + token + "\r\n").status == 403);
    CHECK(check("X-Original-URI: /api/cameras/demo/../yard/hls/x.ts?token=" + token + "\r\n").status == 403);
    CHECK(check("X-Original-URI: /api/cameras/yard/../demo/hls/x.ts?token=" + token + "\r\n").status == 204);
    // A token opens reads only; X-Original-Method says what the original request was.
    CHECK(check("X-Original-URI: /api/cameras/demo/snapshot?token=" + token + "\r\nX-Original-Method: DELETE\r\n").status == 403);
    // Paths whose decoding changes them (what a proxy's cache may key on) are refused outright.
    for (const char* trick : {"/api/cameras/demo/hls/..%2f..%2fyard%2fhls%2fx.ts", "/api/cameras/demo/hls/..%2F..%2Fyard%2Fhls%2Fx.ts",
                              "/api/cameras/demo/hls/x%00.ts", "/api/cameras/demo/hls/a%5Cb", "/api/cameras/demo/hls/x.ts%2f"}) {
        HttpResponse r = check(viewer + "X-Original-URI: " + trick + "\r\n");
        INFO(trick << " -> " << r.status << " " << r.body);
        CHECK(r.status == 403);
        CHECK(jsonString(r.body, "$.error") == "path_not_canonical");
    }
    // Escaped dots are dots to GLib's parser, as to libsoup's and nginx's: judged where they lead.
    CHECK(check("X-Original-URI: /api/cameras/demo/hls/%2e%2e/%2e%2e/yard/hls/x.ts?token=" + token + "\r\n").status == 403);
    CHECK(check("X-Original-URI: /api/cameras/yard/hls/%2e%2e/%2e%2e/demo/hls/x.ts?token=" + token + "\r\n").status == 204);
    // A CORS preflight is the gate's own business: allowed here, answered by the gate there.
    CHECK(check("X-Original-URI: /api/cameras/demo/hls/index.m3u8\r\nX-Original-Method: OPTIONS\r\n").status == 204);
    // The check itself passes the gate's Host and Origin checks first.
    CHECK(check(viewer + "Host: evil.example\r\nX-Original-URI: /api/cameras\r\n").status == 421);
    CHECK(check(viewer + "Origin: http://evil.example\r\nX-Original-URI: /api/cameras\r\n").status == 403);
    // A viewer is not an admin, whatever path trick names the admin route.
    CHECK(check(viewer + "X-Original-URI: /api/cameras/demo/./graph\r\n").status == 403);
    CHECK(check(viewer + "X-Original-URI: //api//events\r\n").status == 403);
    // No credentials: 401 with the challenge a player can answer.
    HttpResponse none = check("X-Original-URI: /api/cameras/demo/hls/index.m3u8\r\n");
    CHECK(none.status == 401);
    CHECK_THAT(none.headers["www-authenticate"], Catch::Contains("Basic realm=\"camrelay\""));
    CHECK(none.headers["cache-control"] == "no-store");
}

TEST_CASE("with auth on, only the login page, its files and /health (up/down only) answer without credentials", "[auth]") {
    AuthService s;
    const int port = s.port();
    auto health = httpRequest(port, "GET", "/health");
    CHECK(health.status == 200);
    CHECK(health.body == "{\"status\":\"ok\"}\n");  // nothing about cameras or clients
    CHECK(httpRequest(port, "GET", "/health", {}, basicAuth("vic:viewer-pw")).body.find("\"cameras\"") != std::string::npos);
    CHECK(httpRequest(port, "GET", "/login.html").status == 200);
    CHECK(httpRequest(port, "GET", "/login.js").status == 200);
    auto page = httpRequest(port, "GET", "/");
    CHECK(page.status == 303);
    CHECK(page.headers["location"] == "/login.html?next=/");
    CHECK(httpRequest(port, "GET", "/dashboard.js").status == 303);
    // The login page brings the person back to the same page, query included.
    CHECK(httpRequest(port, "GET", "/viewer.html?camera=demo").headers["location"] ==
          "/login.html?next=/viewer.html%3Fcamera%3Ddemo");
    for (const char* path : {"/api/cameras", "/api/cameras/demo", "/api/cameras/demo/snapshot", "/api/events", "/api/ws"})
        CHECK(httpRequest(port, "GET", path).status == 401);
    // Security headers on every answer.
    CHECK(health.headers["x-content-type-options"] == "nosniff");
    CHECK(health.headers["referrer-policy"] == "no-referrer");
    CHECK_THAT(health.headers["content-security-policy"], Catch::Contains("frame-ancestors 'self'"));
    CHECK_THAT(health.headers["content-security-policy"], Catch::Contains("default-src 'self'"));
}

TEST_CASE("session: log in, who am I, log out; the cookie stops working at logout", "[auth]") {
    AuthService s;
    const int port = s.port();
    const std::string cookie = sessionCookie(port, "vic", "viewer-pw");
    auto me = httpRequest(port, "GET", "/api/session", {}, cookie);
    CHECK(me.status == 200);
    CHECK(jsonString(me.body, "$.user") == "vic");
    CHECK(jsonString(me.body, "$.role") == "viewer");
    CHECK(httpRequest(port, "GET", "/api/cameras", {}, cookie).status == 200);
    auto out = httpRequest(port, "DELETE", "/api/session", {}, cookie);
    CHECK(out.status == 204);
    CHECK_THAT(out.headers["set-cookie"], Catch::Contains("Max-Age=0"));
    CHECK(httpRequest(port, "GET", "/api/cameras", {}, cookie).status == 401);
    CHECK(jsonIsNull(httpRequest(port, "GET", "/api/session", {}, cookie).body, "$.user"));

    // Bad logins: wrong password 401, wrong types and garbage 400; never a cookie.
    auto post = [&](const std::string& body) {
        return httpRequest(port, "POST", "/api/session", body,
                           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n");
    };
    auto wrong = post("{\"user\":\"vic\",\"password\":\"nope\"}");
    CHECK(wrong.status == 401);
    CHECK(wrong.headers.count("set-cookie") == 0);
    for (const std::string& bad : {std::string("{\"user\":1,\"password\":\"x\"}"), std::string("{\"user\":\"vic\"}"),
                                   std::string("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["), std::string("not json"),
                                   std::string("{\"user\":\"vic\",\"password\":null}"), std::string(5000, '{')}) {
        INFO(bad.substr(0, 40));
        auto r = post(bad);
        CHECK((r.status == 400 || r.status == 413));
        CHECK(r.headers.count("set-cookie") == 0);
    }
    // The password never reaches the log.
    CHECK_THAT(s.service->log(), Catch::Contains("login failed for user \"vic\""));
    CHECK_THAT(s.service->log(), !Catch::Contains("nope") && !Catch::Contains("viewer-pw"));
}

TEST_CASE("stream tokens: one camera, reads only, until expiry; bad ttl refused", "[auth]") {
    AuthService s;
    REQUIRE(s.service->waitForState("demo", "live", 15000));
    const int port = s.port();
    auto issued = httpRequest(port, "POST", "/api/cameras/demo/token", "{\"ttl\":120}",
                              basicAuth("vic:viewer-pw") + "Content-Length: 11\r\n");
    REQUIRE(issued.status == 200);
    const std::string token = jsonString(issued.body, "$.token");
    CHECK(jsonNumber(issued.body, "$.expires_in") == 120);
    // <img src=".../stream?token=...">: a real MJPEG stream, and a snapshot.
    auto snap = httpRequest(port, "GET", "/api/cameras/demo/snapshot?token=" + token);
    CHECK(snap.status == 200);
    CHECK(snap.headers["content-type"] == "image/jpeg");
    CHECK(httpRequestHead(port, "GET", "/api/cameras/demo/stream?token=" + token).status == 200);
    // A WebSocket viewer with the token gets frames.
    WsClient ws(port, "/api/cameras/demo/ws?format=binary&token=" + token);
    CHECK(ws.waitFor([&] { return ws.messages().size() >= 3; }, 5000));
    // Not another camera, not the API, not a write.
    CHECK(httpRequest(port, "GET", "/api/cameras/yard/snapshot?token=" + token).status == 403);
    CHECK(httpRequest(port, "GET", "/api/cameras?token=" + token).status == 403);
    CHECK(httpRequest(port, "POST", "/api/cameras/demo/stop?token=" + token, "", "Content-Length: 0\r\n").status == 403);
    CHECK(httpRequest(port, "POST", "/api/cameras/demo/token?token=" + token, "", "Content-Length: 0\r\n").status == 403);
    // As a Bearer header too.
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/snapshot", {}, "Authorization: Bearer " + token + "\r\n").status == 200);
    // An expired one stops working; an absurd ttl is refused.
    const TokenSigner signer(s.key());
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/snapshot?token=" + signer.issue("demo", g_get_real_time() / 1000000 - 1)).status == 401);
    for (const std::string& body : {std::string("{\"ttl\":1}"), std::string("{\"ttl\":\"60\"}"), std::string("{\"ttl\":99999999999}"),
                                    std::string("{\"ttl\":60.5}"), std::string("[1]"), std::string("garbage")}) {
        INFO(body);
        CHECK(httpRequest(port, "POST", "/api/cameras/demo/token", body,
                          basicAuth("vic:viewer-pw") + "Content-Length: " + std::to_string(body.size()) + "\r\n").status == 400);
    }
    CHECK(httpRequest(port, "POST", "/api/cameras/nosuch/token", "", basicAuth("vic:viewer-pw") + "Content-Length: 0\r\n").status == 404);
}

TEST_CASE("origins, hosts and CORS: foreign pages are refused, configured ones get CORS", "[auth][origin]") {
    AuthService s("[server]\nhosts=cam.example\nallowed-origins=https://ha.example:8123\nframe-ancestors='self' https://ha.example:8123\n");
    REQUIRE(s.service->waitForState("demo", "live", 15000));
    const int port = s.port();
    const std::string admin = basicAuth("ada:admin-pw");
    // A foreign page's no-cors POST (it carries Origin) does not stop the camera.
    CHECK(httpRequestHead(port, "POST", "/api/cameras/demo/stop", "", admin + "Origin: http://evil.example\r\n").status == 403);
    CHECK(httpRequestHead(port, "POST", "/api/cameras/demo/stop", "", admin + "Sec-Fetch-Site: cross-site\r\n").status == 403);
    CHECK(s.service->waitForState("demo", "live", 500));
    // Own origin is fine.
    CHECK(httpRequestHead(port, "POST", "/api/cameras/demo/start", "", admin + "Origin: http://127.0.0.1\r\n").status == 200);
    // A foreign WebSocket upgrade is refused before any frame.
    const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    CHECK(httpRequestHead(port, "GET", "/api/ws", "", admin + upgrade + "Origin: http://evil.example\r\n").status == 403);
    CHECK(httpRequestHead(port, "GET", "/api/ws", "", admin + upgrade + "Origin: http://127.0.0.1\r\n").status == 101);
    // DNS rebinding: a name the service does not answer to.
    auto rebinding = rawExchange(port, "GET /api/cameras HTTP/1.1\r\nHost: attacker.example\r\n" + admin + "Connection: close\r\n\r\n");
    CHECK_THAT(rebinding, Catch::StartsWith("HTTP/1.1 421") && Catch::Contains("[server] hosts"));
    CHECK_THAT(rawExchange(port, "GET /health HTTP/1.1\r\nHost: cam.example:8080\r\nConnection: close\r\n\r\n"),
               Catch::StartsWith("HTTP/1.1 200"));
    CHECK_THAT(rawExchange(port, "GET /health HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n"),
               Catch::StartsWith("HTTP/1.1 200"));
    // CORS: preflight and answers for the configured origin only.
    auto preflight = httpRequestHead(port, "OPTIONS", "/api/cameras", "",
                                 "Origin: https://ha.example:8123\r\nAccess-Control-Request-Method: GET\r\n"
                                 "Access-Control-Request-Headers: authorization\r\n");
    CHECK(preflight.status == 204);
    CHECK(preflight.headers["access-control-allow-origin"] == "https://ha.example:8123");
    CHECK_THAT(preflight.headers["access-control-allow-headers"], Catch::Contains("Authorization"));
    CHECK(httpRequestHead(port, "OPTIONS", "/api/cameras", "", "Origin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\n").status == 403);
    auto cors = httpRequestHead(port, "GET", "/api/cameras", "", admin + "Origin: https://ha.example:8123\r\n");
    CHECK(cors.status == 200);
    CHECK(cors.headers["access-control-allow-origin"] == "https://ha.example:8123");
    CHECK_THAT(cors.headers["content-security-policy"], Catch::Contains("frame-ancestors 'self' https://ha.example:8123"));
}

TEST_CASE("origin checks hold with auth off too: a foreign page cannot stop a camera", "[auth][origin]") {
    ServiceProcess service({{"demo.conf", demoCamera()}});
    REQUIRE(service.waitForState("demo", "live", 15000));
    CHECK(httpRequestHead(service.port(), "POST", "/api/cameras/demo/stop", "", "Origin: http://evil.example\r\n").status == 403);
    CHECK(service.waitForState("demo", "live", 500));
    CHECK(httpRequestHead(service.port(), "GET", "/api/cameras").status == 200);  // loopback, auth off by default
}

TEST_CASE("failed logins are rate-limited per address with Retry-After", "[auth]") {
    AuthService s("", "[auth]\nenabled=true\nlogin-failures-per-minute=3\n");
    const int port = s.port();
    for (int i = 0; i < 3; ++i) CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:guess" + std::to_string(i))).status == 401);
    auto limited = httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:viewer-pw"));
    CHECK(limited.status == 429);
    CHECK(std::stoi(limited.headers["retry-after"]) > 0);
}

TEST_CASE("a wrong password asked about through /api/access counts as one failed login, as it would directly", "[auth][access]") {
    AuthService s("", "[auth]\nenabled=true\nlogin-failures-per-minute=3\n");
    const int port = s.port();
    const std::string original = "X-Original-URI: /api/cameras/demo/hls/index.m3u8\r\n";
    for (int i = 0; i < 3; ++i)
        CHECK(httpRequest(port, "GET", "/api/access", {}, basicAuth("vic:guess" + std::to_string(i)) + original).status == 401);
    // The 4th attempt is the limited one (counted twice, the 2nd would already be): refused even with the
    // right password, as a 403 (what auth_request passes on) that nginx must not cache.
    HttpResponse limited = httpRequest(port, "GET", "/api/access", {}, basicAuth("vic:viewer-pw") + original);
    CHECK(limited.status == 403);
    CHECK(jsonString(limited.body, "$.error") == "too_many_failed_logins");
    CHECK(limited.headers["x-accel-expires"] == "0");
    CHECK(std::stoi(limited.headers["retry-after"]) > 0);
}

TEST_CASE("behind a trusted proxy, failed logins are limited per forwarded client, not for everyone", "[auth][client-address]") {
    const std::string limitedAuth = "[auth]\nenabled=true\nlogin-failures-per-minute=3\n";
    auto as = [](const std::string& client) { return "X-Forwarded-For: " + client + "\r\n"; };
    SECTION("trusted-proxies names the proxy: one client's guesses lock out that client only") {
        AuthService s("[server]\ntrusted-proxies=127.0.0.1, ::1\n", limitedAuth);
        const int port = s.port();
        for (int i = 0; i < 3; ++i)
            CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:guess" + std::to_string(i)) + as("192.0.2.1")).status == 401);
        CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:viewer-pw") + as("192.0.2.1")).status == 429);
        // Another viewer behind the same proxy, and the proxy's own address, are not locked out.
        CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:viewer-pw") + as("192.0.2.2")).status == 200);
        CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:viewer-pw")).status == 200);
        // A locked-out client cannot escape by forging an address in front: nginx appends the real one.
        CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:viewer-pw") + as("203.0.113.9, 192.0.2.1")).status == 429);
        // The login form counts the same client.
        CHECK(httpRequest(port, "POST", "/api/session", R"({"user":"vic","password":"viewer-pw"})",
                          "Content-Type: application/json\r\n" + as("192.0.2.1")).status == 429);
    }
    SECTION("without trusted-proxies the header is ignored: anyone could send it") {
        AuthService s("", limitedAuth);
        const int port = s.port();
        for (int i = 0; i < 3; ++i)
            CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:guess" + std::to_string(i)) + as("192.0.2." + std::to_string(i))).status == 401);
        CHECK(httpRequest(port, "GET", "/api/cameras", {}, basicAuth("vic:viewer-pw") + as("192.0.2.77")).status == 429);
    }
}

TEST_CASE("path tricks never reach a route they should not", "[auth][paths]") {
    AuthService s;
    REQUIRE(s.service->waitForState("demo", "live", 15000));
    const int port = s.port();
    const std::string viewer = basicAuth("vic:viewer-pw");
    for (const char* path : {"/api/cameras/demo/stop/", "//api/cameras/demo/stop", "/api//cameras//demo//stop",
                             "/api/cameras/demo/./stop", "/api/cameras/x/../demo/stop", "/api/cameras/demo%2Fstop",
                             "/api/cameras/demo/stop%00", "/api/cameras/demo/stop?x=/../", "/API/cameras/demo/stop",
                             "/api/cameras/demo/%73top", "/api/events/../cameras/demo/stop", "/health/../api/cameras/demo/stop",
                             "/login.html/../api/cameras/demo/stop", "/%2e%2e/api/cameras/demo/stop"}) {
        INFO(path);
        const int status = httpRequestHead(port, "POST", path, "", viewer).status;
        CHECK(status != 200);
        CHECK(status != 0);
        const int anonymous = httpRequestHead(port, "GET", std::string(path)).status;
        CHECK(anonymous != 200);
    }
    for (const char* path : {"/login.html/../index.html", "/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/.hidden",
                             "/api/cameras/../../../../etc/passwd", "/api/cameras/demo/snapshot/../../yard/snapshot"}) {
        INFO(path);
        CHECK(httpRequestHead(port, "GET", path).status != 200);
    }
    CHECK(s.service->waitForState("demo", "live", 500));
}

TEST_CASE("auth needs a writable data dir for its key, and a service beyond loopback without users says so", "[auth][config]") {
    TempDir dir;
    dir.write("file", "x");
    const std::string config = dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/file/sub\n[auth]\nenabled=true\n");
    auto [code, out] = runCommand(camrelayBinary() + " --config " + config + " --port 0 --rtsp-port -1 2>&1");
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("auth key") && Catch::Contains("[paths] data"));

    TempDir data;
    const std::string open = dir.write("o.ini", "[paths]\ndata=" + data.path() + "\n");
    ServiceProcess service({{"demo.conf", demoCamera()}}, {"--config", open, "--listen", "0.0.0.0"});
    CHECK_THAT(service.log(), Catch::Contains("no user is configured"));
    CHECK(httpRequest(service.port(), "GET", "/api/cameras").status == 401);
    struct stat st {};
    REQUIRE(stat((data.path() + "/auth.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    const std::string off = dir.write("off.ini", "[paths]\ndata=" + data.path() + "\n[auth]\nenabled=false\n");
    ServiceProcess unprotected({{"demo.conf", demoCamera()}}, {"--config", off, "--listen", "0.0.0.0"});
    CHECK_THAT(unprotected.log(), Catch::Contains("authentication is OFF"));
}

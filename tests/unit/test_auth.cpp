// Passwords, tokens, the failed-login limit, the route table and the [auth] config.
#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "auth/login_limiter.h"
#include "auth/password_hash.h"
#include "auth/stream_token.h"
#include "config/service_config.h"
#include "http/access_rules.h"
#include "http/route_path.h"

#include <catch2/catch.hpp>

#include <set>

using namespace camrelay;

namespace {
std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) out += std::string{digits[c >> 4], digits[c & 15]};
    return out;
}

std::string config(const std::string& extra) {
    return "[server]\nlisten=0.0.0.0\n" + extra;
}
}  // namespace

TEST_CASE("PBKDF2-HMAC-SHA256 matches the RFC 7914 test vector", "[auth]") {
    CHECK(hex(pbkdf2Sha256("passwd", "salt", 1, 64)) ==
          "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
          "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    CHECK(hex(hmacSha256("key", "The quick brown fox jumps over the lazy dog")) ==
          "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST_CASE("password hashes verify the right password only, and malformed ones are refused", "[auth]") {
    const std::string stored = hashPassword("correct horse", kMinPasswordIterations);
    std::string why;
    auto parsed = parsePasswordHash(stored, &why);
    REQUIRE(parsed);
    CHECK(verifyPassword("correct horse", *parsed));
    CHECK_FALSE(verifyPassword("correct hors", *parsed));
    CHECK_FALSE(verifyPassword("", *parsed));
    CHECK_FALSE(verifyPassword(std::string(kMaxPasswordBytes + 1, 'a'), *parsed));
    // Two hashes of one password differ (random salt).
    CHECK(hashPassword("x", kMinPasswordIterations) != hashPassword("x", kMinPasswordIterations));

    for (const std::string& bad : std::vector<std::string>{"", "hunter2", "pbkdf2-sha256$1000$c2FsdHNhbHQ=$" + std::string(44, 'A'),
                                  "pbkdf2-sha1$300000$c2FsdHNhbHQ=$AAAA", "pbkdf2-sha256$x$c2FsdA==$AAAA",
                                  "pbkdf2-sha256$300000$!!!!$AAAA", "pbkdf2-sha256$300000$c2FsdHNhbHQ=$AAAA",
                                  "pbkdf2-sha256$99999999999$c2FsdHNhbHQ=$AAAA", "a$b$c$d$e"}) {
        INFO(bad);
        std::string reason;
        CHECK_FALSE(parsePasswordHash(bad, &reason));
        CHECK_FALSE(reason.empty());
        if (bad.size() > 3) CHECK(reason.find(bad) == std::string::npos);  // never quoted: it may be a password
    }
}

TEST_CASE("stream tokens open their camera until they expire; any change breaks them", "[auth]") {
    const TokenSigner signer(std::string(32, 'k'));
    const std::string token = signer.issue("yard", 2000);
    TokenCheck check;
    auto grant = signer.verify(token, 1999, &check);
    REQUIRE(grant);
    CHECK(check == TokenCheck::Valid);
    CHECK(grant->camera == "yard");
    CHECK(grant->expiresUnix == 2000);
    CHECK_FALSE(signer.verify(token, 2000, &check));
    CHECK(check == TokenCheck::Expired);

    // Another key, another camera, a later expiry, a flipped character: all refused.
    CHECK_FALSE(TokenSigner(std::string(32, 'j')).verify(token, 0, &check));
    CHECK(check == TokenCheck::BadSignature);
    std::string otherCamera = token;
    otherCamera.replace(4, 4, "door");
    CHECK_FALSE(signer.verify(otherCamera, 0, &check));
    CHECK(check == TokenCheck::BadSignature);
    std::string later = token;
    later.replace(later.find(".2000."), 6, ".9000.");
    CHECK_FALSE(signer.verify(later, 0, &check));
    for (size_t i = 0; i < token.size(); ++i) {
        std::string flipped = token;
        flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
        CHECK_FALSE(signer.verify(flipped, 0, &check));
    }
    for (const std::string& bad : std::vector<std::string>{"", "cr1.", "cr1...", "cr1.yard..x", "cr1.yard.-5.x", "cr1.ya/rd.5.x",
                                  "cr1.yard.5", "cr2.yard.2000.x", std::string(100000, 'a'), "cr1." + std::string(300, 'y') + ".5.x",
                                  "cr1.yard.99999999999999999999999.x"}) {
        CHECK_FALSE(signer.verify(bad, 0, &check));
        CHECK(check == TokenCheck::Malformed);
    }
}

TEST_CASE("failed logins are limited per address within a minute", "[auth]") {
    LoginLimiter limiter(3);
    const int64_t t0 = 1'000'000'000;
    for (int i = 0; i < 3; ++i) {
        CHECK(limiter.retryAfterSec("10.0.0.1", t0) == 0);
        limiter.failed("10.0.0.1", t0);
    }
    CHECK(limiter.retryAfterSec("10.0.0.1", t0 + 1'000'000) == 60);
    CHECK(limiter.retryAfterSec("10.0.0.2", t0) == 0);  // another address is not affected
    CHECK(limiter.retryAfterSec("10.0.0.1", t0 + 60'000'001) == 0);
    // Thousands of addresses stay bounded (no crash, no unbounded map).
    for (int i = 0; i < 20000; ++i) limiter.failed("192.0.2." + std::to_string(i), t0);
}

TEST_CASE("the Authenticator picks the best credential and refuses wrong ones", "[auth]") {
    AuthConfig cfg;
    cfg.users = {{"alice", Role::Admin, hashPassword("a-pass", kMinPasswordIterations)},
                 {"bob", Role::Viewer, hashPassword("b-pass", kMinPasswordIterations)}};
    cfg.loginFailuresPerMinute = 3;
    Authenticator auth(cfg, true, std::string(32, 'k'));
    auto basic = [](const std::string& userPass) { return "Basic " + base64(userPass); };

    auto r = auth.authenticate({basic("alice:a-pass"), "", "", "10.0.0.1"});
    REQUIRE(r.identity);
    CHECK(r.identity->isAdmin());
    CHECK(std::string(r.identity->via) == "basic");
    r = auth.authenticate({basic("bob:b-pass"), "", "", "10.0.0.1"});
    REQUIRE(r.identity);
    CHECK_FALSE(r.identity->isAdmin());
    CHECK(auth.authenticate({"", "", "", "10.0.0.1"}).outcome == AuthOutcome::Missing);
    CHECK(auth.authenticate({basic("bob:wrong"), "", "", "10.0.0.9"}).outcome == AuthOutcome::Refused);
    CHECK(auth.authenticate({basic("nobody:b-pass"), "", "", "10.0.0.9"}).outcome == AuthOutcome::Refused);
    CHECK(auth.authenticate({"Basic !!!", "", "", "10.0.0.9"}).outcome == AuthOutcome::Refused);
    CHECK(auth.authenticate({"Digest x", "", "", "10.0.0.1"}).outcome == AuthOutcome::Refused);
    // Malformed headers cost no hashing and do not count; the third wrong password reaches the limit.
    CHECK(auth.authenticate({basic("bob:b-pass2"), "", "", "10.0.0.9"}).outcome == AuthOutcome::Refused);
    CHECK(auth.authenticate({basic("bob:b-pass"), "", "", "10.0.0.9"}).outcome == AuthOutcome::RateLimited);
    CHECK(auth.authenticate({basic("bob:b-pass"), "", "", "10.0.0.8"}).identity);

    int64_t expires = 0;
    const std::string token = auth.issueToken("yard", 60, &expires);
    r = auth.authenticate({"", "", token, "10.0.0.1"});
    REQUIRE(r.identity);
    CHECK(r.identity->kind == Identity::Kind::Token);
    CHECK(r.identity->camera == "yard");
    CHECK_FALSE(r.identity->isAdmin());
    r = auth.authenticate({"Bearer " + token, "", "", "10.0.0.1"});
    REQUIRE(r.identity);
    CHECK(r.identity->camera == "yard");

    const std::string session = auth.startSession({Identity::Kind::User, "bob", Role::Viewer, "", "session"});
    r = auth.authenticate({"", session, "", "10.0.0.1"});
    REQUIRE(r.identity);
    CHECK(r.identity->user == "bob");
    // A stale cookie beside a good token: the token gets in. A user beats a token.
    CHECK(auth.authenticate({"", "stale", token, "10.0.0.1"}).identity);
    CHECK(auth.authenticate({"", session, token, "10.0.0.1"}).identity->kind == Identity::Kind::User);
    auth.endSession(session);
    CHECK(auth.authenticate({"", session, "", "10.0.0.1"}).outcome == AuthOutcome::Refused);

    Authenticator off(AuthConfig{}, false, "");
    CHECK(off.authenticate({"", "", "", "10.0.0.1"}).identity->isAdmin());
}

namespace {
// A rule's example as the gate sees it: the path, and ?action= for "/" (compatibility URLs).
RouteAccess classifyExample(const std::string& example) {
    const size_t query = example.find("?action=");
    if (query == std::string::npos) return classifyRoute(example);
    return classifyRoute(example.substr(0, query), example.substr(query + 8));
}
}  // namespace

TEST_CASE("every camera action and API route has an access rule; unknown paths need an admin", "[auth]") {
    const std::set<std::string> named = [] {
        std::set<std::string> s;
        for (const AccessRule& r : accessRules()) s.insert(r.route);
        return s;
    }();
    CHECK(named.size() == accessRules().size());
    // Each rule's example path classifies back to that rule.
    for (const AccessRule& rule : accessRules()) {
        INFO(rule.route);
        CHECK(std::string(classifyExample(rule.example).rule.route) == rule.route);
    }
    // Every action the router knows (the enum runs to Unknown) is classified as something specific.
    for (int a = int(CameraAction::Stream); a < int(CameraAction::Unknown); ++a) {
        static const char* names[] = {"", "stream", "ws", "publish", "snapshot", "start", "stop", "token", "recording", "captures", "graph", "config", "whep", "hls"};
        static_assert(sizeof names / sizeof *names == size_t(CameraAction::Unknown), "one name per action");
        const std::string path = std::string("/api/cameras/x/") + names[a];
        INFO(path);
        REQUIRE(parseApiRoute(path).action == CameraAction(a));
        CHECK(std::string(classifyRoute(path).rule.route) != "anything else");
    }
    for (const char* path : {"/api/nothing", "/api/cameras/x/unknown", "/api/cameras/../../etc", "/api/events/x",
                             "//api/cameras", "/a/b", "/api/cameras/x/y/z", "/api/cameras/bad%2Fid"}) {
        INFO(path);
        CHECK(classifyRoute(path).rule.read == Access::Admin);
    }
    CHECK(classifyRoute("/api/cameras/yard/stream").cameraId == "yard");
    CHECK(classifyRoute("/api///cameras//yard/stream").rule.streamToken);  // as parseApiRoute reads it
    CHECK(classifyRoute("/health").rule.read == Access::Public);
    CHECK(classifyRoute("/").rule.page);
    // mjpg-streamer's and ustreamer's URLs: the stream's rule (tokens, no login page), camera resolved by the gate.
    for (const auto& [path, action] : std::vector<std::pair<const char*, const char*>>{
             {"/", "stream"}, {"/", "snapshot"}, {"/", "stream_0"}, {"/", "snapshot_12"}, {"/stream", ""},
             {"/snapshot", ""}, {"/state", ""}}) {
        INFO(path << " action=" << action);
        const RouteAccess route = classifyRoute(path, action);
        CHECK(route.compat);
        CHECK(route.rule.streamToken);
        CHECK_FALSE(route.rule.page);
        CHECK(route.rule.read == Access::Viewer);
    }
    // Any other action on "/" is the page, as before; other paths are not compatibility URLs.
    for (const char* action : {"", "foo", "stream_", "stream_x", "stream_12345", "streams", "snapshot_-1"}) {
        INFO(action);
        CHECK(classifyRoute("/", action).rule.page);
        CHECK_FALSE(classifyRoute("/", action).compat);
    }
    CHECK_FALSE(classifyRoute("/stream/x").compat);
    CHECK_FALSE(classifyRoute("//stream").compat);
    CHECK(classifyRoute("/index.html", "stream").rule.page);
    CHECK(classifyRoute("/api/events").rule.read == Access::Admin);
    CHECK(classifyRoute("/api/cameras/yard/publish").rule.read == Access::Admin);
}

TEST_CASE("[auth] and [user:NAME] are read and checked", "[auth][config]") {
    const std::string hash = hashPassword("pw", kMinPasswordIterations);
    auto load = parseServiceConfig("svc.ini", config("[auth]\nenabled=true\nsession-ttl=3600\n[user:alice]\nrole=admin\npassword=" +
                                                     hash + "\n[user:bob]\nrole=viewer\npassword=" + hash + "\n"));
    CHECK(load.problems.empty());
    REQUIRE(load.config.auth.users.size() == 2);
    CHECK(load.config.auth.users[0].role == Role::Admin);
    CHECK(load.config.auth.sessionTtlSec == 3600);
    CHECK(authEnabled(load.config));

    auto problems = [](const std::string& text) {
        std::string all;
        for (const auto& p : parseServiceConfig("svc.ini", text).problems) all += p.toString() + "\n";
        return all;
    };
    CHECK_THAT(problems(config("[user:carol]\nrole=root\npassword=" + hash + "\n")),
               Catch::Contains("user:carol.role") && Catch::Contains("viewer or admin"));
    const std::string plain = problems(config("[user:carol]\nrole=admin\npassword=hunter2hunter2\n"));
    CHECK_THAT(plain, Catch::Contains("user:carol.password") && Catch::Contains("--hash-password"));
    CHECK_THAT(plain, !Catch::Contains("hunter2"));
    CHECK_THAT(problems(config("[user:carol]\nrole=admin\n")), Catch::Contains("user:carol.password"));
    CHECK_THAT(problems(config("[user:a b]\nrole=admin\npassword=" + hash + "\n")), Catch::Contains("user name"));
    CHECK_THAT(problems(config("[user:carol]\nrole=admin\npassword=" + hash + "\ncolour=red\n")),
               Catch::Contains("user:carol.colour") && Catch::Contains("unknown key"));
    CHECK_THAT(problems(config("[auth]\nenable=true\n")), Catch::Contains("auth.enable"));
    CHECK_THAT(problems(config("[server]\nallowed-origins=https://ok.example, https://bad.example/path\n")),
               Catch::Contains("server.allowed-origins") && Catch::Contains("bad.example/path"));
    CHECK_THAT(problems(config("[server]\ntls-certificate=/x.pem\n")), Catch::Contains("tls-key"));
    CHECK_THAT(problems(config("[server]\nframe-ancestors='self'; script-src *\n")), Catch::Contains("frame-ancestors"));

    auto web = parseServiceConfig("svc.ini", "[server]\nhosts=cam.example, octopi.local\nallowed-origins=https://ha.example:8123\n");
    CHECK(web.problems.empty());
    CHECK(web.config.web.hosts == std::vector<std::string>{"cam.example", "octopi.local"});
    CHECK(web.config.web.allowedOrigins == std::vector<std::string>{"https://ha.example:8123"});
}

TEST_CASE("v4-mapped loopback counts as loopback", "[auth][ipv6]") {
    CHECK(isLoopbackAddress("::ffff:127.0.0.1"));
    CHECK(isLoopbackAddress("::ffff:127.3.2.1"));
    CHECK(isLoopbackAddress("::1"));
    CHECK_FALSE(isLoopbackAddress("::ffff:10.0.0.1"));
    CHECK_FALSE(isLoopbackAddress("::"));
    CHECK_FALSE(isLoopbackAddress("0.0.0.0"));
}

TEST_CASE("auth is on by default beyond loopback, off on loopback unless configured", "[auth][config]") {
    ServiceConfig c;
    CHECK(c.listenAddresses == std::vector<std::string>{"127.0.0.1"});
    CHECK_FALSE(authEnabled(c));
    c.listenAddresses = {"::1"};
    CHECK_FALSE(authEnabled(c));
    c.listenAddresses = {"127.0.0.1", "::1", "::ffff:127.0.0.1"};
    CHECK_FALSE(authEnabled(c));  // every address loopback
    c.listenAddresses = {"127.0.0.1", "192.168.1.5"};
    CHECK(authEnabled(c));        // one beyond loopback is enough
    c.listenAddresses = {"0.0.0.0"};
    CHECK(authEnabled(c));
    c.listenAddresses = {"::"};
    CHECK(authEnabled(c));
    c.auth.enabled = false;
    CHECK_FALSE(authEnabled(c));
    c.listenAddresses = {"127.0.0.1"};
    c.auth.enabled = true;
    CHECK(authEnabled(c));
}

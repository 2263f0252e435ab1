// Issue 9, the WebSocket and JSON inputs: each exact input that crashed the
// service or held memory, against the real binary, with its fds and RSS
// watched; plus the limits on /api/ws subscriptions, silent publishers and
// /api/events clients that never read.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "raw_websocket.h"
#include "service_process.h"
#include "ws_client.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <gst/gst.h>

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

using namespace camrelay::testing;

namespace {

// Accepted connections of the service still open on its side (ESTABLISHED
// with the service's port as local port): a socket the service has closed
// leaves this state at once, whatever the client does.
int establishedTo(int port) {
    int n = 0;
    for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            char local[128] = {}, remote[128] = {};
            unsigned state = 0;
            if (std::sscanf(line.c_str(), " %*d: %127s %127s %x", local, remote, &state) != 3) continue;
            const char* colon = std::strrchr(local, ':');
            if (colon && std::strtol(colon + 1, nullptr, 16) == port && state == 1) ++n;
        }
    }
    return n;
}

bool healthy(const ServiceProcess& service) {
    try {
        return httpRequest(service.port(), "GET", "/health").status == 200;
    } catch (...) {
        return false;
    }
}

std::string serviceConfig(const std::string& limits) {
    static TempDir dir;  // outlives every service of this file
    static int n = 0;
    return dir.write("camrelay-" + std::to_string(++n) + ".ini", "[limits]\n" + limits);
}

const std::string kPushCamera = "[camera]\nname=Door\nsource=push\n";

}  // namespace

TEST_CASE("issue 9: the two /publish crash inputs get an error message; service and publisher stay up", "[hostile][push]") {
    ServiceProcess service({{"door.conf", kPushCamera}});
    WsClient publisher(service.port(), "/api/cameras/door/publish");
    REQUIRE(publisher.waitFor([&] { return !typed(publisher, "ready").empty(); }, 3000));
    // '[' x 200,000 then ']' x 200,000: a stack overflow in json-glib before.
    publisher.sendText(std::string(200000, '[') + std::string(200000, ']'));
    // A boolean type: NULL reached strcmp before.
    publisher.sendText(R"({"type":true,"data":{"frame":"AAAA"}})");
    REQUIRE(publisher.waitFor([&] { return typed(publisher, "error").size() >= 2; }, 5000));
    const auto errors = typed(publisher, "error");
    CHECK(jsonString(errors[0], "$.data.code") == "bad_message");
    CHECK_THAT(jsonString(errors[0], "$.data.message"), Catch::Contains("nested deeper"));
    CHECK(jsonString(errors[1], "$.data.code") == "bad_message");
    CHECK_THAT(jsonString(errors[1], "$.data.message"), Catch::Contains("type must be"));
    CHECK(healthy(service));
    CHECK_FALSE(publisher.closed());
    // And it still takes frames.
    const std::string jpeg = makeTestJpeg(160, 120);
    publisher.sendBinary(jpeg);
    CHECK(service.waitForState("door", "live", 5000));
}

TEST_CASE("issue 9: /api/ws set with a numeric camera is an error, and its parser is freed", "[hostile][websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 10)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient ws(service.port(), "/api/ws");
    REQUIRE(ws.waitFor([&] { return !typed(ws, "hello").empty(); }, 3000));
    // The issue's message, 61 KB: std::string(nullptr) threw and leaked the parser (2,000 of them: +118 MB).
    const std::string message = R"({"type":"set","data":{"camera":1,"pad":")" + std::string(61000, 'x') + "\"}}";
    ws.sendText(message);
    REQUIRE(ws.waitFor([&] { return typed(ws, "error").size() >= 1; }, 3000));
    CHECK(jsonString(typed(ws, "error")[0], "$.data.code") == "bad_message");
    const int64_t before = serviceRssKiB(service.pid());
    constexpr size_t kMessages = 1000;  // +59 MB before the fix
    for (size_t i = 1; i < kMessages; ++i) {
        ws.sendText(message);
        if (i % 50 == 0) ws.waitFor([&] { return typed(ws, "error").size() >= i - 10; }, 3000);
    }
    REQUIRE(ws.waitFor([&] { return typed(ws, "error").size() >= kMessages; }, 20000));
    const int64_t after = serviceRssKiB(service.pid());
    INFO("RSS " << before << " -> " << after << " KiB over " << kMessages << " messages");
    if (kRssBoundsApply) CHECK(after - before < 8 * 1024);
    CHECK_FALSE(ws.closed());
    CHECK(healthy(service));
}

TEST_CASE("issue 9: continuation of 0xFFFFFFFFFFFFFFFF bytes is closed with 1009; the flood after it is not kept", "[hostile][websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient bystander(service.port(), "/api/cameras/demo/ws?format=binary");
    REQUIRE(bystander.waitFor([&] { return binaryCount(bystander) >= 5; }, 5000));
    const int64_t rssBefore = serviceRssKiB(service.pid());
    const int fdsBefore = openFdCount(service.pid());

    int fd = rawWebSocket(service.port(), "/api/cameras/demo/ws");
    const std::string attack = clientFrame(0x01, "{\"type\":") + clientFrame(0x80, "", 0xFFFFFFFFFFFFFFFFull);
    REQUIRE(send(fd, attack.data(), attack.size(), MSG_NOSIGNAL) == ssize_t(attack.size()));
    // Then 64 MiB of junk (500 MiB grew RSS by 516 MB before); the server may stop reading at any point.
    const std::string junk(1 << 20, 'x');
    timeval tv{0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    size_t sent = 0;
    for (int i = 0; i < 64; ++i) {
        ssize_t n = send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += size_t(n);
    }
    CHECK(readUntilClosed(fd) == 1009);
    close(fd);
    INFO("sent " << sent << " bytes of junk after the frame");
    const int64_t rssAfter = serviceRssKiB(service.pid());
    INFO("RSS " << rssBefore << " -> " << rssAfter << " KiB");
    CHECK(rssAfter - rssBefore < 8 * 1024);
    CHECK(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore; }, 3000));
    const size_t before = binaryCount(bystander);
    CHECK(bystander.waitFor([&] { return binaryCount(bystander) > before + 20; }, 2000));
    CHECK(service.log().find("message over") != std::string::npos);  // logged with the client's address
}

TEST_CASE("attacks on every WebSocket input leave the service up with no fd left behind", "[hostile][websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 10)}, {"door.conf", kPushCamera}});
    REQUIRE(service.waitForState("demo", "live"));
    const int fdsBefore = openFdCount(service.pid());
    const int64_t rssBefore = serviceRssKiB(service.pid());
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    const std::vector<std::string> texts = {
        "", "null", "[]", "{", "\"x\"", "1e999999", R"({"type":null})", R"({"type":{"a":1}})",
        R"({"type":"subscribe","data":null})", R"({"type":"subscribe","data":{"camera":true}})",
        R"({"type":"subscribe","data":{"camera":"demo","fps":"x"}})", R"({"type":"set","data":{"camera":[],"fps":{}}})",
        R"({"type":"unsubscribe","data":{"camera":1.5}})", R"({"type":"frame","data":{"frame":[1,2]}})",
        R"({"type":"frame","data":{"frame":"!!!!"}})", R"({"type":"dance\u001f"})", "{\"type\":\"\x1f\x01\"}",
        R"({"type":"subscribe","data":{"camera":"\u0000\u001f"}})", std::string(3000, '{'),
    };
    for (const char* path : {"/api/ws", "/api/cameras/demo/ws", "/api/cameras/door/publish", "/api/events"}) {
        INFO(path);
        WsClient ws(service.port(), path);
        for (const auto& t : texts) ws.sendText(t);
        ws.sendBinary(std::string(1000, '\0'));
        ws.sendText(R"({"type":"ping"})");
        ws.waitFor([] { return false; }, 1000);
        CHECK_FALSE(ws.closed());  // wrong input gets error messages, not a closed socket
        // Every message the service sent is valid JSON: no raw control character (json-glib 1.6 leaves them).
        for (const auto& m : ws.messages())
            if (!m.binary) {
                CHECK_FALSE(jsonString(m.data, "$.type").empty());
                CHECK(std::none_of(m.data.begin(), m.data.end(), [](char c) { return uint8_t(c) < 0x20; }));
            }
        // Then the deep document last: within the 16 MiB publish cap it is an error message,
        // over the 64 KiB (viewers) or 4 KiB (events) caps it closes with 1009.
        ws.sendText(deep);
        ws.waitFor([&] { return ws.closed(); }, 1500);
        CHECK(healthy(service));
        ws.close();
    }
    CHECK(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore; }, 5000));
    INFO("RSS " << rssBefore << " -> " << serviceRssKiB(service.pid()) << " KiB");
    CHECK(serviceRssKiB(service.pid()) - rssBefore < 8 * 1024);
}

TEST_CASE("issue 9: /api/ws subscriptions count against limits.max-viewers-per-camera", "[hostile][websocket][limits]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 10)}},
                           {"--config", serviceConfig("max-viewers-per-camera=3\n")});
    REQUIRE(service.waitForState("demo", "live"));
    std::vector<std::unique_ptr<WsClient>> subscribers;
    for (int i = 0; i < 5; ++i) {
        subscribers.push_back(std::make_unique<WsClient>(service.port(), "/api/ws"));
        WsClient& ws = *subscribers.back();
        ws.sendText(R"({"type":"subscribe","data":{"camera":"demo"}})");
        REQUIRE(ws.waitFor([&] { return !typed(ws, "subscribed").empty() || !typed(ws, "error").empty(); }, 3000));
    }
    for (int i = 0; i < 3; ++i) {
        CHECK(typed(*subscribers[i], "subscribed").size() == 1);
        CHECK(typed(*subscribers[i], "error").empty());
    }
    for (int i = 3; i < 5; ++i) {
        REQUIRE(typed(*subscribers[i], "error").size() == 1);
        CHECK(jsonString(typed(*subscribers[i], "error")[0], "$.data.code") == "too_many_viewers");
        CHECK(typed(*subscribers[i], "subscribed").empty());
    }
    subscribers[4]->waitFor([] { return false; }, 1000);
    CHECK(binaryCount(*subscribers[4]) == 0);  // no frames for a refused subscription
    // A WsClient only reads inside its own waitFor().
    CHECK(subscribers[0]->waitFor([&] { return binaryCount(*subscribers[0]) > 0; }, 3000));
    CHECK(jsonNumber(service.cameraJson("demo"), "$.ws_viewers") == 3);
    // The same limit for every kind of viewer: the MJPEG stream is now refused.
    HttpResponse refused = httpRequest(service.port(), "GET", "/api/cameras/demo/stream");
    CHECK(refused.status == 503);
    CHECK(refused.headers["retry-after"] == "5");
    // A slot freed by an unsubscribe is taken by the next subscribe.
    subscribers[0]->sendText(R"({"type":"unsubscribe","data":{"camera":"demo"}})");
    REQUIRE(subscribers[0]->waitFor([&] { return !typed(*subscribers[0], "unsubscribed").empty(); }, 3000));
    subscribers[3]->sendText(R"({"type":"subscribe","data":{"camera":"demo"}})");
    CHECK(subscribers[3]->waitFor([&] { return !typed(*subscribers[3], "subscribed").empty(); }, 3000));
}

TEST_CASE("issue 9: a publisher that sends nothing is closed after limits.publish-idle-timeout", "[hostile][push][limits]") {
    ServiceProcess service({{"door.conf", kPushCamera}}, {"--config", serviceConfig("publish-idle-timeout=2\n")});
    const auto start = std::chrono::steady_clock::now();
    WsClient silent(service.port(), "/api/cameras/door/publish");
    REQUIRE(silent.waitFor([&] { return !typed(silent, "ready").empty(); }, 3000));
    // Pings and invalid frames do not count as frames.
    silent.sendText(R"({"type":"ping"})");
    silent.sendBinary("not a jpeg");
    // Meanwhile the real publisher is refused: the slot is taken.
    {
        WsClient early(service.port(), "/api/cameras/door/publish");
        REQUIRE(early.waitFor([&] { return early.closed(); }, 3000));
        CHECK(early.closeCode() == 1008);
    }
    REQUIRE(silent.waitFor([&] { return silent.closed(); }, 6000));
    const double after = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(after >= 1.9);
    CHECK(after < 5);
    CHECK(silent.closeCode() == 1008);
    CHECK_THAT(silent.closeReason(), Catch::Contains("publish-idle-timeout"));
    // The next publisher is accepted and its frames go live.
    WsClient real(service.port(), "/api/cameras/door/publish");
    REQUIRE(real.waitFor([&] { return !typed(real, "ready").empty() || real.closed(); }, 3000));
    CHECK_FALSE(real.closed());
    const std::string jpeg = makeTestJpeg(160, 120);
    for (int i = 0; i < 10 && !real.closed(); ++i) {
        real.sendBinary(jpeg);
        real.waitFor([] { return false; }, 300);
    }
    CHECK(jsonString(service.cameraJson("door"), "$.state") == "live");
    // A publisher that keeps sending frames is not closed (the timeout is 2 s; 3 s of frames).
    for (int i = 0; i < 10; ++i) {
        real.sendBinary(jpeg);
        real.waitFor([] { return false; }, 300);
    }
    CHECK_FALSE(real.closed());
}

TEST_CASE("/api/events clients that never read are bounded and dropped; readers get every event", "[hostile][events]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 10)}});
    REQUIRE(service.waitForState("demo", "live"));
    WsClient reader(service.port(), "/api/events?camera=demo");
    const int64_t rssBefore = serviceRssKiB(service.pid());
    std::vector<int> stalled;
    for (int i = 0; i < 10; ++i) stalled.push_back(rawWebSocket(service.port(), "/api/events", 4096));
    CHECK(establishedTo(service.port()) == 11);

    // Events while they never read: stop/start the camera for at most 25 s,
    // until the service has let go of every stalled client.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    int cycles = 0;
    int64_t rssMax = rssBefore;
    while (std::chrono::steady_clock::now() < deadline && establishedTo(service.port()) > 1) {
        httpRequest(service.port(), "POST", "/api/cameras/demo/stop");
        httpRequest(service.port(), "POST", "/api/cameras/demo/start");
        ++cycles;
        if (cycles % 10 == 0) {
            rssMax = std::max(rssMax, serviceRssKiB(service.pid()));
            reader.waitFor([] { return false; }, 10);
        }
    }
    const std::string history = httpRequest(service.port(), "GET", "/api/events?limit=1").body;
    INFO(cycles << " stop/start cycles, last event id " << jsonNumber(history, "$.last_id") << "; RSS " << rssBefore
                << " -> max " << rssMax << " KiB");
    CHECK(establishedTo(service.port()) == 1);  // every stalled client dropped, the reader kept
    if (kRssBoundsApply) CHECK(rssMax - rssBefore < 8 * 1024);
    for (int fd : stalled) close(fd);
    // The reader got the events in order, none lost.
    reader.waitFor([] { return false; }, 1000);
    REQUIRE(reader.messages().size() >= size_t(cycles));
    double last = 0;
    bool ordered = true;
    for (const auto& m : reader.messages()) {
        const double id = jsonNumber(m.data, "$.data.id");
        ordered = ordered && id > last;
        last = id;
    }
    CHECK(ordered);
    CHECK_FALSE(reader.closed());

    // The query is checked as before: a bad one closes with 1008 and says why; a broken handshake is a 400.
    WsClient bad(service.port(), "/api/events?after=-1");
    REQUIRE(bad.waitFor([&] { return bad.closed(); }, 3000));
    CHECK(bad.closeCode() == 1008);
    CHECK_THAT(bad.closeReason(), Catch::Contains("after must be an event id"));
    CHECK(httpRequest(service.port(), "GET", "/api/events", "",
                      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n").status == 400);
    CHECK(httpRequest(service.port(), "GET", "/api/events").status == 200);
}

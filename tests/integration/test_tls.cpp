// HTTPS and WSS ([server] tls-certificate / tls-key) with a certificate made
// by the test (openssl), real TLS clients (curl, libsoup) and raw sockets.
#include "child_process.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "multipart_reader.h"
#include "service_process.h"
#include "ws_client.h"

#include <catch2/catch.hpp>
#include <libsoup/soup.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

using namespace camrelay::testing;

namespace {

// A self-signed P-256 certificate for localhost and 127.0.0.1, valid one day.
struct TestCertificate {
    TempDir dir;
    std::string certificate = dir.path() + "/cert.pem";
    std::string key = dir.path() + "/key.pem";
    TestCertificate() {
        auto [code, text] = runCommand(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost "
            "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + key + " -out " + certificate + " 2>&1");
        if (code != 0) throw std::runtime_error("openssl failed: " + text);
    }
};

const TestCertificate& testCertificate() {
    static TestCertificate c;
    return c;
}

std::string tlsConfig(const std::string& extra = "") {
    static TempDir dir;
    static int n = 0;
    const TestCertificate& c = testCertificate();
    return dir.write("tls-" + std::to_string(++n) + ".ini", "[server]\ntls-certificate=" + c.certificate +
                                                                "\ntls-key=" + c.key + "\n" + extra);
}

std::string httpsUrl(int port, const std::string& path) { return "https://127.0.0.1:" + std::to_string(port) + path; }

// curl trusting the test certificate only: {exit code, output}.
std::pair<int, std::string> curl(const std::string& args) {
    return runCommand("curl -sS --cacert " + testCertificate().certificate + " " + args + " 2>&1");
}

// True when the server closes fd (EOF or reset) within timeoutMs.
bool closedByServer(int fd, int timeoutMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            char sink[4096];
            const ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n <= 0) return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("HTTPS: health, API, snapshot and an MJPEG stream of decodable frames; plain HTTP is not served", "[tls]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", tlsConfig()});
    REQUIRE(service.port() > 0);
    auto [healthCode, health] = curl(httpsUrl(service.port(), "/health"));
    REQUIRE(healthCode == 0);
    CHECK(jsonString(health, "$.status") == "ok");
    auto [camerasCode, cameras] = curl(httpsUrl(service.port(), "/api/cameras"));
    REQUIRE(camerasCode == 0);
    CHECK_THAT(cameras, Catch::Contains("\"demo\""));
    auto [pageCode, page] = curl("-o /dev/null -w '%{http_code}' " + httpsUrl(service.port(), "/"));
    CHECK(page == "200");

    // Waits for frames: the demo camera starts with the service.
    auto [snapCode, snapStatus] = curl("-o /dev/null -w '%{http_code} %{content_type}' " +
                                       httpsUrl(service.port(), "/api/cameras/demo/snapshot"));
    CHECK(snapCode == 0);
    CHECK_THAT(snapStatus, Catch::StartsWith("200 image/jpeg"));

    // 30 whole frames over TLS, each a decodable 320x240 JPEG.
    TempDir out;
    const std::string file = out.path() + "/stream.bin";
    runCommand("curl -sS -i --cacert " + testCertificate().certificate + " --max-time 3 -o " + file + " " +
               httpsUrl(service.port(), "/api/cameras/demo/stream"));
    const std::string bytes = readTextFile(file);
    int frames = 0, decoded = 0;
    MultipartReader reader([&](const Part& part) {
        ++frames;
        if (decodeJpegSize(part.body) == std::make_pair(320, 240)) ++decoded;
    });
    reader.feed(bytes.data(), bytes.size());
    CHECK(reader.status() == 200);
    CHECK(frames >= 30);
    CHECK(decoded == frames);

    // Plain HTTP on the HTTPS port gets no HTTP answer, and the connection ends.
    const std::string answer = rawExchange(service.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 3000);
    CHECK(answer.rfind("HTTP/", 0) == std::string::npos);
    // The service still serves HTTPS after that.
    CHECK(curl(httpsUrl(service.port(), "/health")).first == 0);
    // http:// is not https://: curl's plain request fails.
    CHECK(runCommand("curl -sS --max-time 3 http://127.0.0.1:" + std::to_string(service.port()) + "/health").second.find(
              "\"status\"") == std::string::npos);
}

TEST_CASE("WSS: camera and multi-camera WebSocket viewers receive frames; /api/events answers", "[tls][websocket]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", tlsConfig()});
    // The fixture's own client speaks plain HTTP: ask over HTTPS instead.
    REQUIRE(waitUntil([&] {
        return jsonString(curl(httpsUrl(service.port(), "/api/cameras/demo")).second, "$.state") == "live";
    }, 10000));
    WsClient camera(service.port(), "/api/cameras/demo/ws?format=binary", 5000, testCertificate().certificate);
    CHECK(camera.waitFor([&] { return binaryCount(camera) >= 30; }, 5000));

    WsClient hub(service.port(), "/api/ws", 5000, testCertificate().certificate);
    hub.sendText(R"({"type":"subscribe","data":{"camera":"demo"}})");
    CHECK(hub.waitFor([&] { return !typed(hub, "subscribed").empty() && binaryCount(hub) >= 10; }, 5000));

    WsClient events(service.port(), "/api/events", 5000, testCertificate().certificate);
    // A camera stop/start is an event every subscriber sees.
    CHECK(curl("-X POST " + httpsUrl(service.port(), "/api/cameras/demo/stop")).first == 0);
    CHECK(events.waitFor([&] { return textCount(events) > 0; }, 5000));
}

TEST_CASE("TLS: a client that never completes the handshake is closed after the header timeout", "[tls][limits]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 5)}},
                           {"--config", tlsConfig("[limits]\nheader-timeout-ms=1000\n")});
    // Settled first: the camera's pipeline opens its descriptors as it starts.
    REQUIRE(waitUntil([&] {
        return jsonString(curl(httpsUrl(service.port(), "/api/cameras/demo")).second, "$.state") == "live";
    }, 10000));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const int before = openFdCount(service.pid());
    std::vector<int> silent, halfway;
    for (int i = 0; i < 50; ++i) silent.push_back(connectLoopback(service.port()));
    // A ClientHello's first bytes, never finished.
    for (int i = 0; i < 10; ++i) {
        halfway.push_back(connectLoopback(service.port()));
        const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
        (void)!send(halfway.back(), partial, sizeof partial, MSG_NOSIGNAL);
    }
    REQUIRE(waitUntil([&] { return openFdCount(service.pid()) >= before + 60; }, 3000));
    for (int fd : silent) CHECK(closedByServer(fd, 4000));
    for (int fd : halfway) CHECK(closedByServer(fd, 1000));
    for (int fd : silent) close(fd);
    for (int fd : halfway) close(fd);
    // Every descriptor is released, and HTTPS still works.
    const bool released = waitUntil([&] { return openFdCount(service.pid()) <= before + 2; }, 3000);
    INFO("descriptors before " << before << ", after " << openFdCount(service.pid()));
    CHECK(released);
    auto [code, health] = curl(httpsUrl(service.port(), "/health"));
    CHECK(code == 0);
    CHECK(jsonNumber(health, "$.http.timed_out") >= 60);
}

TEST_CASE("TLS: an unreadable certificate stops the start with a message naming the key", "[tls][config-errors]") {
    TempDir dir;
    dir.write("demo.conf", demoCamera(160, 120, 5));
    const std::string ini = dir.write("service.ini", "[server]\nport=0\ntls-certificate=/nonexistent/cert.pem\n"
                                                     "tls-key=" + testCertificate().key + "\n[rtsp]\nenabled=false\n");
    auto [code, text] = runCommand(camrelayBinary() + " --config " + ini + " --pipelines " + dir.path() + " 2>&1");
    CHECK(code != 0);
    CHECK_THAT(text, Catch::Contains("tls-certificate"));
    CHECK_THAT(text, Catch::Contains("/nonexistent/cert.pem"));
}

TEST_CASE("WSS publish: pushed JPEGs reach an HTTPS snapshot byte for byte", "[tls][push]") {
    ServiceProcess service({{"door.conf", std::string("[camera]\nname=Door\nsource=push\n")}}, {"--config", tlsConfig()});
    WsClient publisher(service.port(), "/api/cameras/door/publish", 5000, testCertificate().certificate);
    REQUIRE(publisher.waitFor([&] { return !typed(publisher, "ready").empty(); }, 3000));
    const std::string jpeg = makeTestJpeg(320, 240);
    bool live = false;
    for (int i = 0; i < 40 && !live; ++i) {
        publisher.sendBinary(jpeg);
        publisher.waitFor([] { return false; }, 50);
        if (i % 5 == 4) live = jsonString(curl(httpsUrl(service.port(), "/api/cameras/door")).second, "$.state") == "live";
    }
    REQUIRE(live);
    TempDir out;
    CHECK(curl("-o " + out.path() + "/snap.jpg " + httpsUrl(service.port(), "/api/cameras/door/snapshot")).first == 0);
    CHECK(readTextFile(out.path() + "/snap.jpg") == jpeg);
}

TEST_CASE("TLS: a WSS viewer that stops reading is dropped after the client timeout; another keeps its frames", "[tls][slow]") {
    ServiceProcess service({{"demo.conf", demoCamera(1280, 720, 30)}},
                           {"--config", tlsConfig("[limits]\nclient-timeout=2\n")});
    WsClient healthy(service.port(), "/api/cameras/demo/ws?format=binary", 5000, testCertificate().certificate);
    // Its context is never run again: libsoup reads nothing, the TCP window
    // fills, and the service's TLS writes would block.
    auto stalled = std::make_unique<WsClient>(service.port(), "/api/cameras/demo/ws?format=binary", 5000, testCertificate().certificate);
    auto timedOut = [&] {
        return jsonNumber(curl(httpsUrl(service.port(), "/health")).second, "$.websocket.viewers_timed_out") >= 1;
    };
    bool dropped = false;
    const int before = binaryCount(healthy);
    for (int i = 0; i < 60 && !dropped; ++i) {
        healthy.waitFor([] { return false; }, 500);
        dropped = timedOut();
    }
    CHECK(dropped);
    // The healthy viewer was served all along (30 fps camera, at least half of it).
    const int got = binaryCount(healthy) - before;
    healthy.waitFor([] { return false; }, 1000);
    CHECK(binaryCount(healthy) - before > got);
    CHECK(binaryCount(healthy) - before >= 15);
}

TEST_CASE("TLS: request limits apply once libsoup has parsed the head (414)", "[tls][limits]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 5)}},
                           {"--config", tlsConfig("[limits]\nmax-url-bytes=300\n")});
    auto [code, status] = curl("-o /dev/null -w '%{http_code}' '" + httpsUrl(service.port(), "/api/cameras?x=" + std::string(400, 'a')) + "'");
    CHECK(status == "414");
    CHECK(curl("-o /dev/null -w '%{http_code}' " + httpsUrl(service.port(), "/api/cameras")).second == "200");
}

TEST_CASE("TLS: silent and half-hello connections do not delay a real client's handshake", "[tls][limits]") {
    // glib-networking handshakes block a pool thread each: started at the
    // accept, 50 silent connections delayed a real client by ~7 s.
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 5)}}, {"--config", tlsConfig()});
    std::vector<int> fds;
    for (int i = 0; i < 200; ++i) fds.push_back(connectLoopback(service.port()));
    for (int i = 0; i < 40; ++i) {
        fds.push_back(connectLoopback(service.port()));
        const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
        (void)!send(fds.back(), partial, sizeof partial, MSG_NOSIGNAL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto start = std::chrono::steady_clock::now();
    auto [code, health] = curl("--max-time 5 " + httpsUrl(service.port(), "/health"));
    const auto tookMs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    CHECK(code == 0);
    CHECK(jsonString(health, "$.status") == "ok");
    CHECK(tookMs < 2000);
    CHECK(jsonNumber(health, "$.http.reading_head") >= 240);
    for (int fd : fds) close(fd);
}

TEST_CASE("RTSPS: RTSP over TLS with the same certificate, interleaved RTP only; plain RTSP is not served", "[tls][rtsp-out]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}}, {"--config", tlsConfig()});
    REQUIRE(waitUntil([&] {
        return jsonString(curl(httpsUrl(service.port(), "/api/cameras/demo")).second, "$.state") == "live";
    }, 15000));
    REQUIRE(service.rtspPort() > 0);
    const std::string url = "rtsps://127.0.0.1:" + std::to_string(service.rtspPort()) + "/demo";
    {
        // The test certificate is self-signed: rtspsrc is told not to validate it.
        DecodingPlayer player("rtspsrc location=" + url + " tls-validation-flags=0 latency=0 "
                              "! rtph264depay ! h264parse ! avdec_h264");
        CHECK(player.pull(30, 5000) == 30);
        CHECK(player.size() == std::make_pair(320, 240));
    }
    // ffmpeg over rtsps (it does not verify certificates by default).
    auto [code, probe] = runCommand("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height "
                                    "-of csv=p=0 " + url + " 2>&1");
    CHECK(code == 0);
    CHECK(probe == "h264,320,240\n");
    // Plain RTSP to the same port gets no RTSP answer.
    auto [plainCode, plain] = runCommand("ffprobe -v error -rw_timeout 3000000 rtsp://127.0.0.1:" +
                                         std::to_string(service.rtspPort()) + "/demo 2>&1");
    CHECK(plainCode != 0);
}

TEST_CASE("RTSPS with auth on: the user's password travels inside TLS; without them, nobody gets in", "[tls][rtsp-out][auth]") {
    TempDir data;
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}},
                           {"--config", tlsConfig("[paths]\ndata=" + data.path() + "\n[auth]\nenabled=true\n[user:ada]\n"
                                                  "role=viewer\npassword=" + hashWithBinary("ada-pw") + "\n")});
    REQUIRE(waitUntil([&] {
        return jsonString(curl("-u ada:ada-pw " + httpsUrl(service.port(), "/api/cameras/demo")).second, "$.state") == "live";
    }, 15000));
    const std::string hostPort = "127.0.0.1:" + std::to_string(service.rtspPort()) + "/demo";
    DecodingPlayer player("rtspsrc location=rtsps://ada:ada-pw@" + hostPort +
                          " tls-validation-flags=0 latency=0 ! rtph264depay ! h264parse ! avdec_h264");
    CHECK(player.pull(30, 5000) == 30);
    auto [code, out] = runCommand("ffprobe -v error rtsps://" + hostPort + " 2>&1");
    CHECK(code != 0);
    CHECK_THAT(out, Catch::Contains("401"));
}

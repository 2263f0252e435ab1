#include "config/camera_config.h"
#include "config/service_config.h"

#include <catch2/catch.hpp>

using namespace camrelay;

namespace {
CameraConfigLoad parse(const std::string& text, const std::string& id = "cam") {
    return parseCameraConfig(id, "pipelines/" + id + ".conf", text);
}
std::string problems(const CameraConfigLoad& load) { return joinProblems(load.problems); }
}  // namespace

TEST_CASE("a complete camera file is read key by key", "[config]") {
    auto load = parse("[camera]\nname=Front door\nsource=videotestsrc is-live=true\nencoder=jpegenc idct-method=float\n"
                      "width=1280\nheight=720\nframerate=30000/1001\nquality=65\nenabled=false\njpeg-passthrough=false\n"
                      "watchdog-timeout=3\nstart-timeout=20\nreconnect-delay=2\nreconnect-max-delay=60\n");
    REQUIRE(load.problems.empty());
    const CameraConfig& c = load.config;
    CHECK(c.id == "cam");
    CHECK(c.name == "Front door");
    CHECK(c.source == "videotestsrc is-live=true");
    CHECK(c.encoder == "jpegenc idct-method=float");
    CHECK(c.width == 1280);
    CHECK(c.height == 720);
    CHECK(c.framerate.num == 30000);
    CHECK(c.framerate.den == 1001);
    CHECK(c.quality == 65);
    CHECK_FALSE(c.enabled);
    CHECK_FALSE(c.jpegPassthrough);
    CHECK(c.watchdogTimeout == 3);
    CHECK(c.startTimeout == 20);
    CHECK(c.reconnectDelay == 2);
    CHECK(c.reconnectMaxDelay == 60);
}

TEST_CASE("jpeg-chroma is 420 unless set to 422, 444 or auto; anything else names the key", "[config][chroma]") {
    CHECK(parse("[camera]\nsource=videotestsrc\n").config.jpegChroma == JpegChroma::Yuv420);
    CHECK(parse("[camera]\nsource=videotestsrc\njpeg-chroma=422\n").config.jpegChroma == JpegChroma::Yuv422);
    CHECK(parse("[camera]\nsource=videotestsrc\njpeg-chroma=444\n").config.jpegChroma == JpegChroma::Yuv444);
    auto autoLoad = parse("[camera]\nsource=videotestsrc\njpeg-chroma=auto\n");
    REQUIRE(autoLoad.problems.empty());
    CHECK(autoLoad.config.jpegChroma == JpegChroma::Auto);
    auto bad = parse("[camera]\nsource=videotestsrc\njpeg-chroma=4:2:0\n");
    CHECK_THAT(problems(bad), Catch::Contains("pipelines/cam.conf") && Catch::Contains("jpeg-chroma") &&
                                  Catch::Contains("420, 422, 444, auto") && Catch::Contains("4:2:0"));
    // A change of chroma is a different config (hot apply rebuilds on it).
    CHECK(parse("[camera]\nsource=videotestsrc\njpeg-chroma=444\n").config != parse("[camera]\nsource=videotestsrc\n").config);
}

TEST_CASE("defaults apply to keys left out", "[config]") {
    auto load = parse("[camera]\nsource=videotestsrc\n");
    REQUIRE(load.problems.empty());
    CHECK(load.config.name == "cam");
    CHECK(load.config.encoder == "jpegenc");
    CHECK(load.config.quality == 80);
    CHECK(load.config.width == 0);
    CHECK_FALSE(load.config.framerate.isSet());
    CHECK(load.config.enabled);
    CHECK(load.config.watchdogTimeout == 5);
    CHECK(load.config.startTimeout == 10);
    CHECK(load.config.reconnectDelay == 1);
    CHECK(load.config.reconnectMaxDelay == 30);
}

TEST_CASE("every bad camera file names the file and the key", "[config]") {
    struct Case { const char* text; const char* expected; };
    const Case cases[] = {
        {"[camera\nsource=x\n", "pipelines/cam.conf: syntax error"},
        {"source=x\n", "pipelines/cam.conf: syntax error"},
        {"[camera]\nsource=videotestsrc\nfps=30\n", "pipelines/cam.conf: camera.fps: unknown key"},
        {"[camera]\nsource=videotestsrc\n[extra]\na=b\n", "pipelines/cam.conf: extra: unknown group [extra]"},
        {"[camera]\nname=x\n", "pipelines/cam.conf: camera.source: missing"},
        {"[camera]\nsource=\n", "camera.source: is empty"},
        {"[camera]\nsource=videotestsrc\nquality=300\n", "camera.quality: must be 1..100 (got 300)"},
        {"[camera]\nsource=videotestsrc\nquality=0\n", "camera.quality: must be 1..100 (got 0)"},
        {"[camera]\nsource=videotestsrc\nwidth=wide\nheight=10\n", "camera.width: not a whole number: \"wide\""},
        {"[camera]\nsource=videotestsrc\nwidth=640\n", "camera.height: width and height go together"},
        {"[camera]\nsource=videotestsrc\nframerate=fast\n", "camera.framerate: must be frames per second"},
        {"[camera]\nsource=videotestsrc\nframerate=0\n", "camera.framerate: must be frames per second"},
        {"[camera]\nsource=videotestsrc\nframerate=30/0\n", "camera.framerate: must be frames per second"},
        {"[camera]\nsource=videotestsrc\nenabled=maybe\n", "camera.enabled: must be true or false (got \"maybe\")"},
        {"[camera]\nsource=videotestsrc\nencoder=\n", "camera.encoder: is empty"},
        {"[camera]\nsource=videotestsrc\nwatchdog-timeout=0\n", "camera.watchdog-timeout: must be 1..3600 (got 0)"},
        {"[camera]\nsource=videotestsrc\nstart-timeout=soon\n", "camera.start-timeout: not a whole number"},
        {"[camera]\nsource=videotestsrc\nreconnect-delay=10\nreconnect-max-delay=5\n",
         "camera.reconnect-max-delay: must be at least reconnect-delay (10)"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto load = parse(c.text);
        CHECK_THAT(problems(load), Catch::Contains(c.expected));
    }
}

TEST_CASE("camera ids cannot carry path tricks", "[config]") {
    CHECK(isValidCameraId("front-door_2"));
    CHECK_FALSE(isValidCameraId(""));
    CHECK_FALSE(isValidCameraId(".."));
    CHECK_FALSE(isValidCameraId("a/b"));
    CHECK_FALSE(isValidCameraId("a b"));
    CHECK_FALSE(isValidCameraId(std::string(65, 'a')));
    auto load = parse("[camera]\nsource=videotestsrc\n", "../../etc");
    CHECK_THAT(problems(load), Catch::Contains("camera id \"../../etc\""));
}

TEST_CASE("an unreadable camera file is a problem, not a crash", "[config]") {
    auto load = loadCameraConfigFile("/nonexistent/dir/gone.conf");
    CHECK(load.config.id == "gone");
    CHECK_THAT(problems(load), Catch::Contains("/nonexistent/dir/gone.conf: cannot read"));
}

TEST_CASE("the service config is read and checked", "[config]") {
    auto good = parseServiceConfig("camrelay.ini",
                                   "[server]\nlisten=127.0.0.1\nport=9000\nbacklog=4096\n[paths]\npipelines=/etc/cams\ndata=/srv/cam\n"
                                   "[limits]\nclient-timeout=5\nsnapshot-timeout-ms=500\nmax-viewers-per-camera=10\n"
                                   "[rtsp]\nenabled=false\nport=9554\n");
    REQUIRE(good.problems.empty());
    CHECK(good.config.listenAddresses == std::vector<std::string>{"127.0.0.1"});
    CHECK(good.config.port == 9000);
    CHECK(good.config.listenBacklog == 4096);
    CHECK(good.config.pipelinesDir == "/etc/cams");
    CHECK(good.config.dataDir == "/srv/cam");
    CHECK(good.config.clientTimeoutSec == 5);
    CHECK(good.config.snapshotTimeoutMs == 500);
    CHECK(good.config.maxViewersPerCamera == 10);
    CHECK_FALSE(good.config.rtspEnabled);
    CHECK(good.config.rtspPort == 9554);
    CHECK(parseServiceConfig("x.ini", "").config.rtspPort == 8554);

    auto bad = parseServiceConfig("camrelay.ini", "[server]\nlisten=somewhere\nport=70000\nbogus=1\n[paths]\npipeline=x\n"
                                                   "[rtsp]\nport=-1\n");
    const std::string all = joinProblems(bad.problems);
    CHECK_THAT(all, Catch::Contains("camrelay.ini: server.listen: not an IP address: \"somewhere\""));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: server.port: must be 0..65535 (got 70000)"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: server.bogus: unknown key"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: paths.pipeline: unknown key"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: rtsp.port: must be 0..65535 (got -1)"));
    CHECK(bad.problems.size() == 5);
}

TEST_CASE("[hls] is read and checked, each bad value named by its key", "[config][hls]") {
    const ServiceConfig defaults = parseServiceConfig("x.ini", "").config;
    CHECK(defaults.hls.enabled);
    CHECK(defaults.hls.segmentSec == 1);
    CHECK(defaults.hls.playlistLength == 5);
    CHECK(defaults.hls.lingerSec == 30);
    auto good = parseServiceConfig("camrelay.ini", "[hls]\nenabled=false\nsegment-duration=2\nplaylist-length=6\nlinger=60\n");
    REQUIRE(good.problems.empty());
    CHECK_FALSE(good.config.hls.enabled);
    CHECK(good.config.hls.segmentSec == 2);
    CHECK(good.config.hls.playlistLength == 6);
    CHECK(good.config.hls.lingerSec == 60);
    auto bad = parseServiceConfig("camrelay.ini", "[hls]\nenabled=maybe\nsegment-duration=0\nplaylist-length=1\n"
                                                  "linger=1h\nsegment-length=2\n");
    const std::string all = joinProblems(bad.problems);
    CHECK_THAT(all, Catch::Contains("camrelay.ini: hls.enabled"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: hls.segment-duration: must be 1..10 (got 0)"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: hls.playlist-length: must be 2..30 (got 1)"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: hls.linger: not a whole number"));
    CHECK_THAT(all, Catch::Contains("camrelay.ini: hls.segment-length: unknown key"));
    CHECK(bad.problems.size() == 5);
    // Bad values leave the defaults.
    CHECK(bad.config.hls.segmentSec == 1);
    CHECK(bad.config.hls.enabled);
}

TEST_CASE("[compat] turns the mjpg-streamer/ustreamer URLs on or off and names their camera", "[config][compat]") {
    const ServiceConfig defaults = parseServiceConfig("x.ini", "").config;
    CHECK(defaults.compat.enabled);
    CHECK(defaults.compat.defaultCamera.empty());
    auto good = parseServiceConfig("c.ini", "[compat]\nenabled=false\ndefault-camera=front-door_2\n");
    REQUIRE(good.problems.empty());
    CHECK_FALSE(good.config.compat.enabled);
    CHECK(good.config.compat.defaultCamera == "front-door_2");
    auto bad = parseServiceConfig("c.ini", "[compat]\nenabled=maybe\ndefault-camera=../etc\nport=8080\n");
    const std::string all = joinProblems(bad.problems);
    CHECK_THAT(all, Catch::Contains("c.ini: compat.enabled"));
    CHECK_THAT(all, Catch::Contains("c.ini: compat.default-camera: not a camera id"));
    CHECK_THAT(all, Catch::Contains("c.ini: compat.port: unknown key"));
    CHECK(bad.problems.size() == 3);
}

// Issue 9: what one camera file can make the service hold, print and serve.
TEST_CASE("100,000 unknown keys give 20 problems and a count of the rest", "[config][limits]") {
    std::string text = "[camera]\nsource=videotestsrc\n";
    for (int i = 0; i < 100000; ++i) text += "x" + std::to_string(i) + "=1\n";
    REQUIRE(text.size() < kMaxCameraFileBytes);
    auto load = parse(text);
    REQUIRE(load.problems.size() == kMaxProblemsPerFile + 1);
    CHECK(load.problems[0].toString() == "pipelines/cam.conf: camera.x0: unknown key");
    CHECK(load.problems.back().toString() == "pipelines/cam.conf: \xE2\x80\xA6 and 99980 more problems (not listed)");
    CHECK(problems(load).size() < 2000);
}

TEST_CASE("a camera file over 1 MiB is one problem naming the file and its size", "[config][limits]") {
    const std::string text = "[camera]\nsource=videotestsrc\nname=" + std::string(kMaxCameraFileBytes, 'n') + "\n";
    auto load = parse(text);
    REQUIRE(load.problems.size() == 1);
    CHECK(load.problems[0].toString() == "pipelines/cam.conf: is " + std::to_string(text.size()) +
                                             " bytes; a camera file may be at most 1048576 bytes (1 MiB)");
    CHECK(load.config.name == "cam");
    CHECK(load.config.source.empty());
}

TEST_CASE("names and pipeline texts are bounded and quoted values clipped", "[config][limits]") {
    auto atLimit = parse("[camera]\nsource=videotestsrc" + std::string(kMaxPipelineTextBytes - 13, ' ') + "!\nname=" +
                         std::string(kMaxCameraNameChars - 1, 'n') + "\xc3\xa9\n");
    CHECK(problems(atLimit).empty());
    CHECK(atLimit.config.source.size() == kMaxPipelineTextBytes);
    CHECK(atLimit.config.name.size() == kMaxCameraNameChars + 1);  // 200 characters, 201 bytes

    auto load = parse("[camera]\nsource=videotestsrc " + std::string(kMaxPipelineTextBytes, 'x') + "\nname=" +
                      std::string(kMaxCameraNameChars + 1, 'n') + "\nencoder=jpegenc " +
                      std::string(kMaxPipelineTextBytes, 'e') + "\nquality=" + std::string(100000, '9') + "\n" +
                      "framerate=" + std::string(100000, '3') + "\nenabled=" + std::string(100000, 'y') + "\n" +
                      std::string(100000, 'k') + "=1\n");
    const std::string all = problems(load);
    CHECK_THAT(all, Catch::Contains("camera.name: is too long: 201 characters; at most 200 characters"));
    CHECK_THAT(all, Catch::Contains("camera.source: is too long: 16397 bytes; at most 16384 bytes"));
    CHECK_THAT(all, Catch::Contains("camera.encoder: is too long: 16392 bytes; at most 16384 bytes"));
    CHECK_THAT(all, Catch::Contains("camera.quality: not a whole number: \"9999"));
    CHECK_THAT(all, Catch::Contains("camera.kkkk"));
    CHECK(load.config.name == "cam");
    CHECK(load.config.source.empty());
    CHECK(load.config.encoder == "jpegenc");
    for (const auto& p : load.problems) {
        INFO(p.toString().substr(0, 200));
        CHECK(p.toString().size() < 700);
    }
}

TEST_CASE("a camera file of random bytes is a bounded syntax error", "[config][limits]") {
    std::string text;
    uint32_t seed = 9;
    for (int i = 0; i < 200000; ++i) {
        seed = seed * 1103515245 + 12345;
        text += char((seed >> 16) & 0xff);
    }
    auto load = parse(text);
    REQUIRE_FALSE(load.problems.empty());
    CHECK(problems(load).size() < 1000);
    // A long line in an otherwise valid file: GLib quotes it; we clip it.
    auto longLine = parse("[camera]\nsource=videotestsrc\n" + std::string(500000, 'z') + "\n");
    REQUIRE(longLine.problems.size() == 1);
    CHECK_THAT(longLine.problems[0].message, Catch::Contains("syntax error"));
    CHECK(longLine.problems[0].message.size() <= kMaxMessageBytes + 3);
}

TEST_CASE("[record] and h264-* keys are read, with sizes and durations in their units", "[config][recording]") {
    auto load = parse("[camera]\nsource=videotestsrc\nh264-bitrate=2000\nh264-quality=30\nh264-keyframe-interval=1\n"
                      "h264-preset=veryfast\nh264-tune=none\n"
                      "[record]\nmode=always\nformat=mkv\nsegment=10m\ncapture-interval=30s\nmax-age=7d\nmax-size=20G\n");
    REQUIRE(problems(load).empty());
    const CameraConfig& c = load.config;
    CHECK(c.h264.bitrateKbps == 2000);
    CHECK(c.h264.quality == 30);
    CHECK(c.h264.keyframeIntervalSec == 1);
    CHECK(c.h264.preset == "veryfast");
    CHECK(c.h264.tune == "none");
    CHECK(c.record.mode == RecordMode::Always);
    CHECK(c.record.format == RecordFormat::Mkv);
    CHECK(c.record.segmentSec == 600);
    CHECK(c.record.captureIntervalSec == 30);
    CHECK(c.record.maxAgeSec == 7 * 86400);
    CHECK(c.record.maxBytes == int64_t(20) * 1024 * 1024 * 1024);

    const CameraConfig d = parse("[camera]\nsource=videotestsrc\n").config;
    CHECK(d.record.mode == RecordMode::Manual);
    CHECK(d.record.format == RecordFormat::Mp4);
    CHECK(d.record.segmentSec == 300);
    CHECK(d.record.captureIntervalSec == 0);
    CHECK(d.h264.keyframeIntervalSec == 2);
}

TEST_CASE("bad [record] and h264-* values name the group and key", "[config][recording]") {
    const std::string text = problems(parse("[camera]\nsource=videotestsrc\nh264-preset=warp\nh264-keyframe-interval=0\n"
                                            "[record]\nmode=sometimes\nformat=avi\nsegment=5\nmax-size=12Q\n"
                                            "max-age=-1d\ncapture-interval=99999999999999999999\nsegmnet=10\n"));
    CHECK_THAT(text, Catch::Contains("camera.h264-preset") && Catch::Contains("ultrafast"));
    CHECK_THAT(text, Catch::Contains("camera.h264-keyframe-interval"));
    CHECK_THAT(text, Catch::Contains("record.mode") && Catch::Contains("off, manual, always"));
    CHECK_THAT(text, Catch::Contains("record.format"));
    CHECK_THAT(text, Catch::Contains("record.segment") && Catch::Contains("10.."));
    CHECK_THAT(text, Catch::Contains("record.max-size") && Catch::Contains("500M"));
    CHECK_THAT(text, Catch::Contains("record.max-age"));
    CHECK_THAT(text, Catch::Contains("record.capture-interval"));
    CHECK_THAT(text, Catch::Contains("record.segmnet"));
}

TEST_CASE("[recording] limits: dir, sizes, ages and min-free as bytes or percent", "[config][recording]") {
    auto load = parseServiceConfig("camrelay.ini", "[paths]\ndata=/srv/cam\n[recording]\nmax-age=30d\nmax-size=1T\nmin-free=5%\n");
    REQUIRE(load.problems.empty());
    CHECK(recordingsDir(load.config) == "/srv/cam/recordings");
    CHECK(load.config.recording.maxAgeSec == 30 * 86400);
    CHECK(load.config.recording.maxBytes == int64_t(1) << 40);
    CHECK(load.config.recording.minFreePercent == 5);
    CHECK(load.config.recording.minFreeBytes == 0);

    auto bytes = parseServiceConfig("c.ini", "[recording]\ndir=/mnt/disk\nmin-free=2G\n");
    REQUIRE(bytes.problems.empty());
    CHECK(recordingsDir(bytes.config) == "/mnt/disk");
    CHECK(bytes.config.recording.minFreeBytes == int64_t(2) << 30);
    CHECK(bytes.config.recording.minFreePercent == 0);

    auto bad = parseServiceConfig("c.ini", "[recording]\nmin-free=95%\nmax-size=lots\nmax-age=3w\n");
    const std::string text = joinProblems(bad.problems);
    CHECK_THAT(text, Catch::Contains("recording.min-free") && Catch::Contains("0%..90%"));
    CHECK_THAT(text, Catch::Contains("recording.max-size"));
    CHECK_THAT(text, Catch::Contains("recording.max-age"));
    CHECK(ServiceConfig{}.dataDir == defaultDataDir());
}

TEST_CASE("listen= takes IPv4, IPv6, wildcards and lists, and names a bad address", "[config][ipv6]") {
    CHECK(ServiceConfig{}.listenAddresses == std::vector<std::string>{"127.0.0.1"});
    auto dual = parseServiceConfig("svc.ini", "[server]\nlisten=::\n");
    REQUIRE(dual.problems.empty());
    CHECK(dual.config.listenAddresses == std::vector<std::string>{"::"});
    auto both = parseServiceConfig("svc.ini", "[server]\nlisten=127.0.0.1, ::1\n");
    REQUIRE(both.problems.empty());
    CHECK(both.config.listenAddresses == std::vector<std::string>{"127.0.0.1", "::1"});
    auto bad = parseServiceConfig("svc.ini", "[server]\nlisten=127.0.0.1,fe80::zz\n");
    REQUIRE(bad.problems.size() == 1);
    CHECK_THAT(bad.problems[0].toString(), Catch::Contains("listen") && Catch::Contains("fe80::zz"));
    auto twice = parseServiceConfig("svc.ini", "[server]\nlisten=::1,0:0::1\n");
    REQUIRE(twice.problems.size() == 1);
    CHECK_THAT(twice.problems[0].toString(), Catch::Contains("::1 twice"));
    CHECK_FALSE(parseServiceConfig("svc.ini", "[server]\nlisten= ,\n").problems.empty());

    CHECK(urlHost("0.0.0.0") == "localhost");
    CHECK(urlHost("::") == "localhost");
    CHECK(urlHost("::1") == "[::1]");
    CHECK(urlHost("192.168.1.5") == "192.168.1.5");
    CHECK(rtspListenAddress({"127.0.0.1", "::1"}) == "127.0.0.1");
    const std::string wild = rtspListenAddress({"127.0.0.1", "0.0.0.0"});
    CHECK((wild == "::" || wild == "0.0.0.0"));
}

TEST_CASE("trusted-proxies takes addresses and masks, and names a bad entry", "[config][client-address]") {
    CHECK(ServiceConfig{}.web.trustedProxies.empty());  // by default no X-Forwarded-For is believed
    auto ok = parseServiceConfig("svc.ini", "[server]\ntrusted-proxies=127.0.0.1, ::1, 10.0.0.0/8\n");
    REQUIRE(ok.problems.empty());
    CHECK(ok.config.web.trustedProxies == std::vector<std::string>{"127.0.0.1", "::1", "10.0.0.0/8"});
    auto bad = parseServiceConfig("svc.ini", "[server]\ntrusted-proxies=127.0.0.1, nginx.local, 10.0.0.0/99\n");
    REQUIRE(bad.problems.size() == 2);
    CHECK_THAT(bad.problems[0].toString(), Catch::Contains("trusted-proxies") && Catch::Contains("nginx.local"));
    CHECK_THAT(bad.problems[1].toString(), Catch::Contains("10.0.0.0/99"));
    auto mapped = parseServiceConfig("svc.ini", "[server]\ntrusted-proxies=::ffff:10.0.0.1\n");
    REQUIRE(mapped.problems.size() == 1);
    CHECK_THAT(mapped.problems[0].toString(), Catch::Contains("as IPv4") && Catch::Contains("10.0.0.1"));
    std::string many = "[server]\ntrusted-proxies=";
    for (int i = 0; i < 70; ++i) many += "10.0.0." + std::to_string(i) + ",";
    auto tooMany = parseServiceConfig("svc.ini", many + "\n");
    REQUIRE(tooMany.problems.size() == 1);
    CHECK_THAT(tooMany.problems[0].toString(), Catch::Contains("at most 64"));
}

// POST /api/pipelines/validate and GET /api/cameras/{id}/graph (issue 12),
// against the real binary, real GStreamer and real Graphviz.
#include "http_client.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace camrelay::testing;

namespace {

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

HttpResponse validate(int port, const std::string& body, const std::string& headers = "Content-Type: application/json\r\n") {
    return httpRequest(port, "POST", "/api/pipelines/validate", body, headers);
}

// The check of one source text; requires a 200 JSON answer.
std::string check(int port, const std::string& source, const std::string& extra = "") {
    HttpResponse r = validate(port, "{\"source\":" + quoted(source) + extra + "}");
    INFO(source << " -> " << r.body);
    REQUIRE(r.status == 200);
    REQUIRE(isJsonObject(r.body));
    return r.body;
}

void requireBadRequest(const HttpResponse& r, const std::string& code, const std::string& member = "") {
    INFO(r.body);
    CHECK(r.status == 400);
    REQUIRE(isJsonObject(r.body));
    CHECK(jsonString(r.body, "$.error") == code);
    CHECK_FALSE(jsonString(r.body, "$.message").empty());
    if (!member.empty()) CHECK(jsonString(r.body, "$.member") == member);
}

}  // namespace

TEST_CASE("validate: good pipelines give the plan the camera would build", "[validate]") {
    ServiceProcess service({});
    const int port = service.port();

    std::string raw = check(port, "videotestsrc");
    CHECK(jsonBool(raw, "$.valid"));
    CHECK(jsonString(raw, "$.error").empty());
    CHECK(jsonString(raw, "$.element").empty());
    CHECK(jsonString(raw, "$.plan.kind") == "raw");
    CHECK_THAT(jsonString(raw, "$.plan.pipeline"), Catch::StartsWith("videotestsrc ! videoconvert") &&
                                                       Catch::Contains("jpegenc") && Catch::Contains("appsink name=camrelay_frames"));
    CHECK_FALSE(jsonBool(raw, "$.probed"));
    CHECK(jsonString(raw, "$.caps").empty());

    // Camera keys shape the plan as in a camera file.
    std::string scaled = check(port, "videotestsrc", ",\"width\":320,\"height\":240,\"framerate\":\"15\",\"quality\":50");
    CHECK(jsonBool(scaled, "$.valid"));
    CHECK_THAT(jsonString(scaled, "$.plan.pipeline"),
               Catch::Contains("video/x-raw,format=I420,width=320,height=240,framerate=15/1") && Catch::Contains("quality=50"));
    std::string chroma = check(port, "videotestsrc", ",\"jpeg-chroma\":444");
    CHECK_THAT(jsonString(chroma, "$.plan.pipeline"), Catch::Contains("video/x-raw,format=Y444 ! jpegenc"));

    std::string jpeg = check(port, "videotestsrc ! jpegenc");
    CHECK(jsonBool(jpeg, "$.valid"));
    CHECK(jsonString(jpeg, "$.plan.kind") == "jpeg");
    CHECK(jsonBool(jpeg, "$.plan.jpeg_passthrough"));
    CHECK_THAT(jsonString(jpeg, "$.plan.pipeline"), Catch::Contains("jpegparse") && !Catch::Contains("jpegdec"));
    std::string reencoded = check(port, "videotestsrc ! jpegenc", ",\"jpeg-passthrough\":false");
    CHECK(jsonString(reencoded, "$.plan.kind") == "jpeg");
    CHECK_FALSE(jsonBool(reencoded, "$.plan.jpeg_passthrough"));
    CHECK_THAT(jsonString(reencoded, "$.plan.pipeline"), Catch::Contains("jpegdec"));
    // A size cannot be applied to JPEG that passes through: the loader's own words.
    std::string sized = check(port, "videotestsrc ! jpegenc", ",\"width\":320,\"height\":240");
    CHECK_FALSE(jsonBool(sized, "$.valid"));
    CHECK_THAT(jsonString(sized, "$.error"), Catch::Contains("camera.width") && Catch::Contains("passes through"));

    std::string h264 = check(port, "videotestsrc ! x264enc ! h264parse");
    CHECK(jsonBool(h264, "$.valid"));
    CHECK(jsonString(h264, "$.plan.kind") == "h264");
    CHECK_THAT(jsonString(h264, "$.plan.pipeline"), Catch::Contains("camrelay_h264") && Catch::Contains("decodebin"));

    std::string push = check(port, "push");
    CHECK(jsonBool(push, "$.valid"));
    CHECK(jsonString(push, "$.plan.kind") == "push");

    std::string rtsp = check(port, "rtspsrc location=rtsp://user:secret@127.0.0.1:1/x");
    CHECK(jsonBool(rtsp, "$.valid"));
    CHECK(jsonString(rtsp, "$.plan.kind") == "unknown");
    CHECK(rtsp.find("secret") == std::string::npos);
}

TEST_CASE("validate: GStreamer's own errors, and the element at fault", "[validate]") {
    ServiceProcess service({});
    const int port = service.port();

    std::string missing = check(port, "videotestsrcc ! videoconvert");
    CHECK_FALSE(jsonBool(missing, "$.valid"));
    CHECK(jsonString(missing, "$.element") == "videotestsrcc");
    CHECK_THAT(jsonString(missing, "$.error"), Catch::StartsWith("no element \"videotestsrcc\""));
    CHECK(jsonString(missing, "$.plan.kind").empty());

    std::string property = check(port, "videotestsrc foo=1");
    CHECK_FALSE(jsonBool(property, "$.valid"));
    CHECK(jsonString(property, "$.element") == "videotestsrc");
    CHECK_THAT(jsonString(property, "$.error"), Catch::StartsWith("no property \"foo\" in element \"videotestsrc\""));

    std::string badValue = check(port, "videotestsrc pattern=nonsense");
    CHECK_FALSE(jsonBool(badValue, "$.valid"));
    CHECK(jsonString(badValue, "$.element") == "videotestsrc");
    CHECK_THAT(jsonString(badValue, "$.error"), Catch::Contains("pattern"));

    std::string unlinkable = check(port, "videotestsrc ! audioconvert");
    CHECK_FALSE(jsonBool(unlinkable, "$.valid"));
    CHECK(jsonString(unlinkable, "$.element") == "videotestsrc");
    CHECK_THAT(jsonString(unlinkable, "$.error"), Catch::Matches("could not link videotestsrc[0-9]+ to audioconvert[0-9]+"));
    // A name the text gives is kept.
    std::string named = check(port, "videotestsrc name=cam7 ! audioconvert");
    CHECK(jsonString(named, "$.element") == "cam7");

    std::string capsMismatch = check(port, "videotestsrc ! audio/x-raw");
    CHECK_FALSE(jsonBool(capsMismatch, "$.valid"));
    CHECK(jsonString(capsMismatch, "$.element") == "videotestsrc");
    CHECK_THAT(jsonString(capsMismatch, "$.error"), Catch::Contains("could not link videotestsrc") &&
                                                        Catch::Contains("can't handle caps audio/x-raw"));

    std::string audio = check(port, "audiotestsrc");
    CHECK_FALSE(jsonBool(audio, "$.valid"));
    CHECK(jsonString(audio, "$.element") == "audiotestsrc");
    CHECK_THAT(jsonString(audio, "$.error"), Catch::Contains("audio/x-raw") && Catch::Contains("not video"));

    std::string syntax = check(port, "videotestsrc ! ! videoconvert");
    CHECK_FALSE(jsonBool(syntax, "$.valid"));
    CHECK_FALSE(jsonString(syntax, "$.error").empty());

    // The encoder key is checked too, and named.
    std::string encoder = check(port, "videotestsrc", ",\"encoder\":\"jpegencc\"");
    CHECK_FALSE(jsonBool(encoder, "$.valid"));
    CHECK_THAT(jsonString(encoder, "$.error"), Catch::Contains("camera.encoder") && Catch::Contains("jpegencc"));
    CHECK(jsonString(encoder, "$.element") == "jpegencc");

    // Credentials in a faulty pipeline never come back.
    std::string secret = check(port, "rtspsrc location=rtsp://user:secret@127.0.0.1:1/x nosuchprop=1");
    CHECK_FALSE(jsonBool(secret, "$.valid"));
    CHECK(secret.find("secret") == std::string::npos);

    // A long chain is refused before GStreamer spends minutes linking it.
    std::string chain = "videotestsrc";
    for (int i = 0; i < 1300; ++i) chain += " ! identity";
    const auto started = std::chrono::steady_clock::now();
    std::string tooLong = check(port, chain);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    CHECK_FALSE(jsonBool(tooLong, "$.valid"));
    CHECK_THAT(jsonString(tooLong, "$.error"), Catch::Contains("1300 links") && Catch::Contains("at most 64"));
    std::string fine = "videotestsrc";
    for (int i = 0; i < 20; ++i) fine += " ! identity";
    CHECK(jsonBool(check(port, fine), "$.valid"));

    // The service is still fine.
    CHECK(httpRequest(port, "GET", "/health").status == 200);
}

TEST_CASE("validate with probe: negotiated caps, errors while running, and a timeout", "[validate][probe]") {
    ServiceProcess service({});
    const int port = service.port();

    std::string sized = check(port, "videotestsrc ! video/x-raw,width=320,height=240", ",\"probe\":true");
    CHECK(jsonBool(sized, "$.valid"));
    CHECK(jsonBool(sized, "$.probed"));
    CHECK_THAT(jsonString(sized, "$.caps"), Catch::StartsWith("video/x-raw") && Catch::Contains("width=(int)320") &&
                                                Catch::Contains("height=(int)240"));
    CHECK_THAT(jsonString(sized, "$.jpeg_caps"), Catch::StartsWith("image/jpeg") && Catch::Contains("width=(int)320"));

    // Live: needs PLAYING to produce anything.
    std::string live = check(port, "videotestsrc is-live=true ! video/x-raw,width=160,height=120", ",\"probe\":true");
    CHECK(jsonBool(live, "$.valid"));
    CHECK_THAT(jsonString(live, "$.caps"), Catch::Contains("width=(int)160"));

    std::string h264 = check(port, "videotestsrc ! video/x-raw,width=320,height=240 ! x264enc ! h264parse", ",\"probe\":true");
    CHECK(jsonBool(h264, "$.valid"));
    CHECK_THAT(jsonString(h264, "$.caps"), Catch::StartsWith("video/x-h264"));
    CHECK_THAT(jsonString(h264, "$.jpeg_caps"), Catch::StartsWith("image/jpeg"));

    // Parses and links, fails when it runs: the element that posted the error.
    std::string unreadable = check(port, "filesrc location=/nonexistent/file.jpg ! image/jpeg", ",\"probe\":true");
    CHECK_FALSE(jsonBool(unreadable, "$.valid"));
    CHECK(jsonString(unreadable, "$.element") == "filesrc");
    CHECK_THAT(jsonString(unreadable, "$.error"), Catch::StartsWith("probe:") && Catch::Contains("/nonexistent/file.jpg"));

    // A source that never produces a frame: the probe gives up after 5 s, clearly.
    const auto started = std::chrono::steady_clock::now();
    std::string stuck = check(port, "appsrc ! video/x-raw,width=320,height=240", ",\"probe\":true");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(seconds > 4.5);
    CHECK(seconds < 9);
    CHECK_FALSE(jsonBool(stuck, "$.valid"));
    CHECK_THAT(jsonString(stuck, "$.error"), Catch::Contains("no frame within 5 s") && Catch::Contains("pre-roll"));
    CHECK(jsonString(stuck, "$.plan.kind") == "raw");

    // Without probe the same text is valid (it parses and links).
    CHECK(jsonBool(check(port, "appsrc ! video/x-raw,width=320,height=240"), "$.valid"));
}

TEST_CASE("validate refuses bad input with 400 naming the member", "[validate]") {
    ServiceProcess service({});
    const int port = service.port();

    requireBadRequest(validate(port, "this is not json"), "bad_json");
    requireBadRequest(validate(port, "[\"videotestsrc\"]"), "bad_json");
    requireBadRequest(validate(port, ""), "bad_json");
    requireBadRequest(validate(port, "{}"), "bad_request", "source");
    requireBadRequest(validate(port, "{\"source\": 12}"), "bad_request", "source");
    requireBadRequest(validate(port, "{\"source\": null}"), "bad_request", "source");
    requireBadRequest(validate(port, "{\"source\": \"videotestsrc\", \"probe\": \"yes\"}"), "bad_request", "probe");
    requireBadRequest(validate(port, "{\"source\": \"videotestsrc\", \"probe\": 1}"), "bad_request", "probe");
    requireBadRequest(validate(port, "{\"source\": \"videotestsrc\", \"width\": [320]}"), "bad_request", "width");
    requireBadRequest(validate(port, "{\"source\": \"videotestsrc\", \"wid=th\": 1}"), "bad_request");
    // Values get the camera file's checks and words.
    HttpResponse width = validate(port, "{\"source\": \"videotestsrc\", \"width\": 5, \"height\": 240}");
    requireBadRequest(width, "bad_config");
    CHECK(jsonString(width.body, "$.key") == "width");
    CHECK_THAT(jsonString(width.body, "$.message"), Catch::Contains("camera.width"));
    HttpResponse unknown = validate(port, "{\"source\": \"videotestsrc\", \"colour\": \"red\"}");
    requireBadRequest(unknown, "bad_config");
    CHECK(jsonString(unknown.body, "$.key") == "colour");
    requireBadRequest(validate(port, "{\"source\": \"\"}"), "bad_config");

    // Sizes: a 17 KB source, a 1 MB body, deep nesting.
    requireBadRequest(validate(port, "{\"source\":" + quoted("videotestsrc " + std::string(17 * 1024, 'x')) + "}"),
                      "bad_request", "source");
    HttpResponse huge = validate(port, "{\"source\":" + quoted(std::string(1024 * 1024, 'x')) + "}");
    CHECK(huge.status == 413);
    std::string deep = "{\"source\":\"videotestsrc\",\"record\":";
    for (int i = 0; i < 5000; ++i) deep += "[";
    requireBadRequest(validate(port, deep), "bad_json");
    // Control characters and invalid UTF-8 inside the source.
    HttpResponse control = validate(port, "{\"source\":\"videotestsrc\\u0000 ! \\u001f\"}");
    CHECK((control.status == 200 || control.status == 400));
    CHECK(isJsonObject(control.body));
    HttpResponse binary = validate(port, "{\"source\":\"video\xff\xfe\"}");
    CHECK(binary.status == 400);

    CHECK(validate(port, "{\"source\":\"videotestsrc\"}").status == 200);
    CHECK(httpRequest(port, "GET", "/api/pipelines/validate").status == 405);
    CHECK(httpRequest(port, "GET", "/health").status == 200);
}

TEST_CASE("validate and graph are for admins of the same origin", "[validate][graph]") {
    TempDir dir;
    const std::string adminHash = hashWithBinary("admin-pw");
    const std::string viewerHash = hashWithBinary("viewer-pw");
    const std::string config = dir.write("camrelay.ini", "[paths]\ndata=" + dir.path() + "/data\n[auth]\nenabled=true\n"
                                                         "login-failures-per-minute=10000\npassword-checks-per-second=1000\n"
                                                         "[user:ada]\nrole=admin\npassword=" + adminHash +
                                                         "\n[user:vic]\nrole=viewer\npassword=" + viewerHash + "\n");
    ServiceProcess service({{"demo.conf", demoCamera()}}, {"--config", config});
    service.setRequestHeaders(basicAuth("ada:admin-pw"));
    REQUIRE(service.waitForState("demo", "live", 15000));
    const int port = service.port();
    const std::string body = "{\"source\":\"videotestsrc\"}";
    const std::string json = "Content-Type: application/json\r\n";

    CHECK(validate(port, body, json + basicAuth("ada:admin-pw")).status == 200);
    CHECK(validate(port, body, json + basicAuth("vic:viewer-pw")).status == 403);
    CHECK(validate(port, body, json).status == 401);
    CHECK(validate(port, body, json + basicAuth("ada:admin-pw") + "Origin: http://evil.example\r\n").status == 403);
    CHECK(validate(port, body, json + basicAuth("ada:admin-pw") + "Origin: http://127.0.0.1\r\n").status == 200);  // Host: 127.0.0.1

    CHECK(httpRequest(port, "GET", "/api/cameras/demo/graph?format=dot", "", basicAuth("ada:admin-pw")).status == 200);
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/graph?format=dot", "", basicAuth("vic:viewer-pw")).status == 403);
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/graph", "", basicAuth("vic:viewer-pw")).status == 403);
}

TEST_CASE("validate: concurrent probes get 503, none hangs, nothing leaks", "[validate][probe]") {
    ServiceProcess service({});
    const int port = service.port();
    // Warm up (plugins, first allocations) before measuring.
    check(port, "videotestsrc ! video/x-raw,width=64,height=48", ",\"probe\":true");
    const int fdsBefore = openFdCount(service.pid());
    const int64_t rssBefore = serviceRssKiB(service.pid());

    std::atomic<int> ok{0}, busy{0}, other{0};
    std::vector<std::thread> clients;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&] {
            try {
                HttpResponse r = validate(port, "{\"source\":\"videotestsrc is-live=true ! video/x-raw,width=64,height=48 ! "
                                                "identity sleep-time=1000000\",\"probe\":true}");
                if (r.status == 200) ++ok;
                else if (r.status == 503 && r.headers.count("retry-after")) ++busy;
                else ++other;
            } catch (...) {
                ++other;
            }
        });
    // Meanwhile the service answers everything else at once.
    const auto healthStart = std::chrono::steady_clock::now();
    CHECK(httpRequest(port, "GET", "/health").status == 200);
    CHECK(std::chrono::steady_clock::now() - healthStart < std::chrono::seconds(1));
    for (auto& c : clients) c.join();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(15));
    CHECK(ok >= 1);
    CHECK(busy >= 1);
    CHECK(other == 0);

    // Many plain validations at once: answered or 503, never an error.
    std::atomic<int> answered{0};
    clients.clear();
    for (int i = 0; i < 24; ++i)
        clients.emplace_back([&, i] {
            HttpResponse r = validate(port, "{\"source\":\"videotestsrc pattern=" + std::to_string(i % 10) + "\"}");
            if (r.status == 200 || r.status == 503) ++answered;
        });
    for (auto& c : clients) c.join();
    CHECK(answered == 24);

    // Clients that go away while their probe runs.
    const std::string leaving = "{\"source\":\"appsrc ! video/x-raw,width=8,height=8\",\"probe\":true}";
    for (int i = 0; i < 4; ++i)
        rawExchange(port, "POST /api/pipelines/validate HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(leaving.size()) + "\r\n\r\n" + leaving, 100);
    std::this_thread::sleep_for(std::chrono::seconds(6));
    CHECK(check(port, "videotestsrc", "").find("\"valid\":true") != std::string::npos);

    REQUIRE(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore + 2; }, 5000));
    if (kRssBoundsApply) CHECK(serviceRssKiB(service.pid()) - rssBefore < 40 * 1024);
}

TEST_CASE("graph: the running pipeline as DOT and as SVG", "[graph]") {
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 15)}});
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();

    HttpResponse dot = httpRequest(port, "GET", "/api/cameras/demo/graph?format=dot");
    REQUIRE(dot.status == 200);
    CHECK(dot.headers.at("content-type") == "text/vnd.graphviz; charset=utf-8");
    CHECK(dot.headers.at("cache-control") == "no-store");
    CHECK_THAT(dot.body, Catch::StartsWith("digraph"));
    CHECK_THAT(dot.body, Catch::Contains("videotestsrc") && Catch::Contains("camrelay_frames") &&
                             Catch::Contains("camrelay_fanout") && Catch::Contains("jpegenc"));
    // Negotiated caps and states are in it.
    CHECK_THAT(dot.body, Catch::Contains("image/jpeg") && Catch::Contains("width: 320") && Catch::Contains("[>]"));

    for (const char* target : {"/api/cameras/demo/graph", "/api/cameras/demo/graph?format=svg"}) {
        HttpResponse svg = httpRequest(port, "GET", target);
        INFO(target << ": " << svg.body.substr(0, 300));
        REQUIRE(svg.status == 200);
        CHECK(svg.headers.at("content-type") == "image/svg+xml");
        CHECK(svg.headers.at("cache-control") == "no-store");
        CHECK((svg.body.rfind("<?xml", 0) == 0 || svg.body.rfind("<svg", 0) == 0));
        CHECK_THAT(svg.body, Catch::Contains("<g id=\"graph0\"") && Catch::Contains("</svg>") &&
                                 Catch::Contains("camrelay_frames") && Catch::Contains("image/jpeg"));
    }

    HttpResponse badFormat = httpRequest(port, "GET", "/api/cameras/demo/graph?format=png");
    CHECK(badFormat.status == 400);
    CHECK(jsonString(badFormat.body, "$.error") == "bad_format");
    CHECK(httpRequest(port, "POST", "/api/cameras/demo/graph").status == 405);
    CHECK(httpRequest(port, "GET", "/api/cameras/nope/graph").status == 404);

    REQUIRE(httpRequest(port, "POST", "/api/cameras/demo/stop").status == 200);
    REQUIRE(service.waitForState("demo", "stopped"));
    for (const char* target : {"/api/cameras/demo/graph?format=dot", "/api/cameras/demo/graph"}) {
        HttpResponse stopped = httpRequest(port, "GET", target);
        CHECK(stopped.status == 409);
        CHECK(jsonString(stopped.body, "$.error") == "not_running");
    }
}

TEST_CASE("graph: credentials never show, in DOT or SVG", "[graph][redaction]") {
    RtspCamera camera("h264");
    const std::string url = camera.url("user:secret");
    ServiceProcess service({{"ipcam.conf", "[camera]\nsource=rtspsrc location=\"" + url +
                                               "\" user-id=admin user-pw=hunter2 latency=0\n"},
                            {"overlay.conf", "[camera]\nsource=videotestsrc is-live=true ! textoverlay "
                                             "text=\"rtsp://ann:topsecret@10.0.0.9/x\"\nwidth=160\nheight=120\n"}});
    REQUIRE(service.waitForState("ipcam", "live", 20000));
    REQUIRE(service.waitForState("overlay", "live", 20000));
    const int port = service.port();
    for (const char* id : {"ipcam", "overlay"}) {
        for (const char* format : {"dot", "svg"}) {
            HttpResponse r = httpRequest(port, "GET", std::string("/api/cameras/") + id + "/graph?format=" + format);
            INFO(id << " " << format);
            REQUIRE(r.status == 200);
            CHECK(r.body.find("secret") == std::string::npos);
            CHECK(r.body.find("hunter2") == std::string::npos);
            CHECK(r.body.find("topsecret") == std::string::npos);
            if (std::string(id) == "ipcam") CHECK(r.body.find("127.0.0.1") != std::string::npos);
        }
    }
    // The DOT is still a graph Graphviz reads after redaction (the SVG above came from it).
    HttpResponse dot = httpRequest(port, "GET", "/api/cameras/ipcam/graph?format=dot");
    CHECK_THAT(dot.body, Catch::Contains("rtspsrc") && Catch::Contains("video/x-h264"));
}

TEST_CASE("graph: 10 SVG requests at once are all answered or refused with 503", "[graph]") {
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 15)}});
    REQUIRE(service.waitForState("demo", "live"));
    const int port = service.port();
    REQUIRE(httpRequest(port, "GET", "/api/cameras/demo/graph").status == 200);  // warm up
    const int fdsBefore = openFdCount(service.pid());

    for (int round = 0; round < 3; ++round) {
        std::atomic<int> ok{0}, busy{0}, other{0};
        std::vector<std::thread> clients;
        for (int i = 0; i < 10; ++i)
            clients.emplace_back([&] {
                try {
                    HttpResponse r = httpRequest(port, "GET", "/api/cameras/demo/graph?format=svg");
                    if (r.status == 200 && r.body.find("</svg>") != std::string::npos) ++ok;
                    else if (r.status == 503 && r.headers.count("retry-after")) ++busy;
                    else ++other;
                } catch (...) {
                    ++other;
                }
            });
        for (auto& c : clients) c.join();
        INFO("round " << round << ": " << ok << " ok, " << busy << " busy");
        CHECK(ok >= 1);
        CHECK(ok + busy == 10);
        CHECK(other == 0);
    }
    // Clients that leave before their SVG is ready.
    for (int i = 0; i < 5; ++i) rawExchange(port, "GET /api/cameras/demo/graph HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/graph").status == 200);
    REQUIRE(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore + 2; }, 5000));
}

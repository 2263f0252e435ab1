// Credentials never leave, under the real binary: cameras whose pipeline does
// not parse (the text was stored unredacted), a file with invalid UTF-8,
// sources that fail at run time with credentials in every form, and camera
// files that are symlinks to other files. Every secret holds "w0rd"; it must
// appear in no output: API, 503 bodies, events, /api/ws, the log, --check.
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"
#include "ws_client.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace camrelay::testing;

namespace {

constexpr const char* kMarker = "w0rd";  // in every password, token and header below


// Where each output came from, so a failure says which one leaked.
struct Output {
    std::string what;
    std::string text;
};

}  // namespace

TEST_CASE("credentials appear in no output: API, 503 bodies, events, /api/ws, log, --check", "[redaction]") {
    TempDir dir;
    const std::string pipelines = dir.path() + "/pipelines";
    REQUIRE(mkdir(pipelines.c_str(), 0755) == 0);
    const std::string closed = std::to_string(closedPort());
    // Parse failures: the camera is failed with the effective pipeline in its error.
    dir.write("pipelines/fanout.conf",
              "[camera]\nsource=rtspsrc location=rtsp://admin:p@ss/w0rd@127.0.0.1:1/x ! rtph264depay ! h264parse ! "
              "tee name=camrelay_fanout\n");
    dir.write("pipelines/quoted.conf",
              "[camera]\nsource=rtspsrc location=\"rtsp://admin:p@ss w0rd@127.0.0.1:1/x\" user-id=admin "
              "user-pw=\"w0rd two\" ! rtph264depay ! h264parse ! tee name=camrelay_fanout\n");
    dir.write("pipelines/badutf8.conf",
              "[camera]\nname=Bad bytes\nsource=rtspsrc location=rtsp://admin:p@ss/w0rd\xff\xfe@127.0.0.1:1/x\n");
    // Run-time failures: GStreamer's errors, events, reconnects.
    dir.write("pipelines/rtsp.conf",
              "[camera]\nsource=rtspsrc location=rtsp://admin:p%40ss%2Fw0rd@127.0.0.1:" + closed +
                  "/x protocols=tcp user-id=admin user-pw=w0rd-pw\nreconnect-delay=1\nreconnect-max-delay=2\n");
    dir.write("pipelines/http.conf",
              "[camera]\nsource=souphttpsrc location=http://127.0.0.1:" + closed +
                  "/x?token=w0rd-token user-id=admin user-pw=w0rd-pw "
                  "extra-headers=\"h, Authorization=(string)\\\"Basic w0rd-header\\\"\" is-live=true ! "
                  "multipartdemux ! image/jpeg\nreconnect-delay=1\nreconnect-max-delay=2\n");
    // Symlinks to files that are not camera files.
    dir.write("shadow", "root:$6$w0rd-shadow:19000:0:99999:7:::\n");
    REQUIRE(symlink("../shadow", (pipelines + "/shadow.conf").c_str()) == 0);
    dir.write("other.ini", "[database]\npassword=w0rd-ini\n");
    REQUIRE(symlink("../other.ini", (pipelines + "/other.conf").c_str()) == 0);

    ServiceProcess service({}, {"--pipelines", pipelines});
    const std::vector<std::string> failed = {"fanout", "quoted", "badutf8", "shadow", "other"};
    const std::vector<std::string> stalled = {"rtsp", "http"};
    for (const auto& id : failed) REQUIRE(service.waitForState(id, "failed"));
    for (const auto& id : stalled) REQUIRE(service.waitForState(id, "stalled", 15000));

    std::vector<Output> outputs;
    auto get = [&](const std::string& path) {
        HttpResponse r = httpRequest(service.port(), "GET", path);
        outputs.push_back({"GET " + path, r.body});
        return r;
    };
    get("/api/cameras");
    for (const auto& id : failed) {
        get("/api/cameras/" + id);
        CHECK(get("/api/cameras/" + id + "/snapshot").status == 503);
        CHECK(get("/api/cameras/" + id + "/stream").status == 503);
    }
    for (const auto& id : stalled) {
        get("/api/cameras/" + id);
        CHECK(get("/api/cameras/" + id + "/snapshot").status == 503);
    }
    get("/api/events");

    // The events WebSocket replays the history after event 1 (GET has all of
    // it), then the stalled cameras' new events; /api/ws sends each camera's state.
    WsClient events(service.port(), "/api/events?after=1");
    WsClient ws(service.port(), "/api/ws");
    REQUIRE(ws.waitFor([&] { return !typed(ws, "hello").empty(); }, 3000));
    for (const auto& id : failed) ws.sendText(R"({"type":"subscribe","data":{"camera":")" + id + R"("}})");
    for (const auto& id : stalled) ws.sendText(R"({"type":"subscribe","data":{"camera":")" + id + R"("}})");
    ws.waitFor([&] { return typed(ws, "state").size() + typed(ws, "error").size() >= 7; }, 3000);
    events.waitFor([&] { return events.messages().size() >= 7; }, 5000);
    CHECK(typed(ws, "state").size() >= 2);
    CHECK(events.messages().size() >= 7);
    for (const auto& m : ws.messages())
        if (!m.binary) outputs.push_back({"/api/ws message", m.data});
    for (const auto& m : events.messages()) outputs.push_back({"/api/events message", m.data});

    outputs.push_back({"service log", service.log()});
    auto [checkCode, checkText] = runCommand(camrelayBinary() + " --check --pipelines " + pipelines);
    CHECK(checkCode == 1);
    outputs.push_back({"--check", checkText});

    for (const auto& o : outputs) {
        INFO(o.what << ":\n" << o.text.substr(0, 4000));
        CHECK(o.text.find(kMarker) == std::string::npos);
        CHECK(o.text.find("p@ss") == std::string::npos);
        CHECK(o.text.find("root:") == std::string::npos);     // the symlinked file's first line
        CHECK(o.text.find("database") == std::string::npos);  // the other file's group
        CHECK(g_utf8_validate(o.text.data(), gssize(o.text.size()), nullptr));
    }

    // What is left says what is wrong, with the credentials masked.
    auto error = [&](const std::string& id) { return jsonString(service.cameraJson(id), "$.error"); };
    CHECK_THAT(error("fanout"), Catch::Contains("the effective pipeline does not parse"));
    CHECK_THAT(error("fanout"), Catch::Contains("rtsp://***@127.0.0.1:1/x"));
    CHECK_THAT(error("quoted"), Catch::Contains("location=\"rtsp://***@127.0.0.1:1/x\" user-id=*** user-pw=***"));
    CHECK_THAT(error("badutf8"), Catch::Contains("badutf8.conf: syntax error: line 3 is not UTF-8 text"));
    CHECK_THAT(error("shadow"), Catch::Contains("shadow.conf: syntax error: line 1 is not a [group], a setting (name=value) or a # comment"));
    CHECK_THAT(error("other"), Catch::Contains("other.conf: has no [camera] group: not a camera file"));
    CHECK_THAT(error("rtsp"), Catch::Contains("rtspsrc"));
    CHECK_THAT(jsonString(service.cameraJson("rtsp"), "$.pipeline"), Catch::Contains("rtsp://***@127.0.0.1:" + closed));
    const std::string http = service.cameraJson("http");
    CHECK_THAT(jsonString(http, "$.config.source"),
               Catch::Contains("?token=*** user-id=*** user-pw=*** extra-headers=\"h, Authorization=(string)***\""));
    CHECK_THAT(checkText, Catch::Contains("fanout.conf: camera.source: the effective pipeline does not parse"));
    CHECK_THAT(checkText, Catch::Contains("7 camera(s)"));
}

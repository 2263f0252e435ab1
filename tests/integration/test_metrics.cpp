// GET /metrics: the real service with a live camera and real viewers (MJPEG,
// WebSocket, RTSP), each scrape parsed by Prometheus' own text parser
// (python3-prometheus-client, run as a child process).
#include "child_process.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "service_process.h"
#include "viewer_pool.h"
#include "ws_client.h"

#include <catch2/catch.hpp>
#include <json-glib/json-glib.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <map>
#include <thread>

using namespace camrelay::testing;

namespace {

struct Sample {
    std::string family, type, name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

std::string sourceRoot() {
    const char* root = std::getenv("CAMRELAY_SOURCE_ROOT");
    return root ? root : "..";
}

// Debian's interpreter, where python3-prometheus-client is (PATH may find pyenv's first).
const std::string kPython = "/usr/bin/python3";

// The scrape as Prometheus' parser reads it; FAILs when it does not parse.
std::vector<Sample> parse(const std::string& text) {
    TempDir dir;
    const std::string file = dir.write("scrape.txt", text);
    auto [code, out] = runCommand(kPython + " '" + sourceRoot() + "/tests/support/parse_metrics.py' '" + file + "'");
    INFO(out);
    REQUIRE(code == 0);
    GError* error = nullptr;
    JsonParser* parser = json_parser_new();
    const bool ok = json_parser_load_from_data(parser, out.c_str(), gssize(out.size()), &error);
    if (error) g_error_free(error);
    REQUIRE(ok);
    std::vector<Sample> samples;
    JsonArray* array = json_node_get_array(json_parser_get_root(parser));
    for (guint i = 0; i < json_array_get_length(array); ++i) {
        JsonObject* o = json_array_get_object_element(array, i);
        Sample s;
        s.family = json_object_get_string_member(o, "family");
        s.type = json_object_get_string_member(o, "type");
        s.name = json_object_get_string_member(o, "name");
        s.value = json_object_get_double_member(o, "value");
        JsonObject* labels = json_object_get_object_member(o, "labels");
        GList* names = json_object_get_members(labels);
        for (GList* n = names; n; n = n->next) {
            const char* name = static_cast<const char*>(n->data);
            s.labels[name] = json_object_get_string_member(labels, name);
        }
        g_list_free(names);
        samples.push_back(std::move(s));
    }
    g_object_unref(parser);
    return samples;
}

// The one sample of that name with those labels (and maybe others); FAILs if none.
const Sample& find(const std::vector<Sample>& samples, const std::string& name,
                   const std::map<std::string, std::string>& labels = {}) {
    for (const Sample& s : samples) {
        if (s.name != name) continue;
        bool match = true;
        for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
        if (match) return s;
    }
    std::string wanted = name;
    for (const auto& [k, v] : labels) wanted += " " + k + "=" + v;
    FAIL("no sample " << wanted);
    throw std::logic_error("unreachable");
}

double value(const std::vector<Sample>& samples, const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return find(samples, name, labels).value;
}

std::string typeOf(const std::vector<Sample>& samples, const std::string& family) {
    for (const Sample& s : samples)
        if (s.family == family) return s.type;
    return "";
}

std::string scrape(int port, const std::string& headers = {}) {
    HttpResponse r = httpRequest(port, "GET", "/metrics", {}, headers);
    REQUIRE(r.status == 200);
    CHECK(r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
}

// A display name with every character the text format must escape (the key
// file reader turns \n and \\ into a newline and a backslash).
const std::string kOddName = "Porch \"north\"\nside \\ 1";
std::string oddCamera() {
    std::string text = demoCamera(320, 240, 25);
    return text.replace(text.find("name=Test pattern"), 17, "name=Porch \"north\"\\nside \\\\ 1");
}

}  // namespace

TEST_CASE("/metrics parses with Prometheus' parser, and its figures follow real viewers", "[metrics]") {
    ServiceProcess service({{"demo.conf", oddCamera()}});
    REQUIRE(service.waitForState("demo", "live"));
    ViewerPool mjpeg(service.port(), "/api/cameras/demo/stream");
    mjpeg.open(1);
    mjpeg.run(1000, [&] { return mjpeg.stats(0).frames >= 5; });
    WsClient ws(service.port(), "/api/cameras/demo/ws?format=binary");
    REQUIRE(ws.waitFor([&] { return binaryCount(ws) >= 5; }, 5000));
    DecodingPlayer rtsp(h264Player(restreamUrl(service, "demo")));
    REQUIRE(rtsp.pull(5, 10000) == 5);
    REQUIRE(httpRequest(service.port(), "GET", "/api/no-such-route").status == 404);

    const std::vector<Sample> first = parse(scrape(service.port()));
    // Keep every viewer reading for a while.
    mjpeg.run(1500);
    ws.waitFor([] { return false; }, 500);
    rtsp.pull(10, 2000);
    const std::vector<Sample> second = parse(scrape(service.port()));

    const std::map<std::string, std::string> demo{{"camera", "demo"}};
    auto out = [](const char* output) { return std::map<std::string, std::string>{{"camera", "demo"}, {"output", output}}; };
    SECTION("types") {
        CHECK(typeOf(second, "camrelay_camera_state") == "gauge");
        CHECK(typeOf(second, "camrelay_camera_fps") == "gauge");
        // The client library names counter families without _total; their samples keep it.
        CHECK(typeOf(second, "camrelay_camera_source_frames") == "counter");
        CHECK(typeOf(second, "camrelay_camera_reconnects") == "counter");
        CHECK(typeOf(second, "camrelay_output_frames_sent") == "counter");
        CHECK(typeOf(second, "camrelay_output_bytes_sent") == "counter");
        CHECK(typeOf(second, "camrelay_output_frames_dropped") == "counter");
        CHECK(typeOf(second, "camrelay_output_viewers") == "gauge");
        CHECK(typeOf(second, "camrelay_camera_last_frame_age_seconds") == "gauge");
        CHECK(typeOf(second, "camrelay_http_requests") == "counter");
        CHECK(typeOf(second, "process_cpu_seconds") == "counter");
        CHECK(typeOf(second, "process_resident_memory_bytes") == "gauge");
        CHECK(typeOf(second, "process_open_fds") == "gauge");
        CHECK(typeOf(second, "process_start_time_seconds") == "gauge");
    }
    SECTION("camera state, name, rate") {
        size_t states = 0;
        for (const Sample& s : second)
            if (s.name == "camrelay_camera_state") {
                ++states;
                CHECK(s.value == (s.labels.at("state") == "live" ? 1 : 0));
            }
        CHECK(states == 7);  // stopped idle starting live stalled reconnecting failed
        CHECK(find(second, "camrelay_camera_info", demo).labels.at("name") == kOddName);
        CHECK(value(second, "camrelay_camera_fps", demo) == Approx(25).margin(5));
        CHECK(value(second, "camrelay_camera_last_frame_age_seconds", demo) < 1.0);
        CHECK(value(second, "camrelay_camera_reconnects_total", demo) == 0);
    }
    SECTION("viewers: one of each kind, as opened") {
        CHECK(value(second, "camrelay_output_viewers", out("mjpeg")) == 1);
        CHECK(value(second, "camrelay_output_viewers", out("websocket")) == 1);
        CHECK(value(second, "camrelay_output_viewers", out("rtsp")) == 1);
        for (const Sample& s : second) CHECK_FALSE((s.labels.count("output") && s.labels.at("output") == "recording"));  // this camera never recorded
    }
    SECTION("values move between scrapes") {
        CHECK(value(second, "camrelay_camera_source_frames_total", demo) >
              value(first, "camrelay_camera_source_frames_total", demo) + 20);
        for (const char* o : {"mjpeg", "websocket", "rtsp"}) {
            INFO(o);
            CHECK(value(second, "camrelay_output_frames_sent_total", out(o)) >
                  value(first, "camrelay_output_frames_sent_total", out(o)) + 10);
            CHECK(value(second, "camrelay_output_bytes_sent_total", out(o)) >
                  value(first, "camrelay_output_bytes_sent_total", out(o)) + 10000);
        }
        // The WebSocket viewer saw every frame the tally counts (binary frames only on this socket).
        CHECK(value(second, "camrelay_output_frames_sent_total", out("websocket")) >= double(binaryCount(ws)));
        CHECK(value(second, "process_cpu_seconds_total") > value(first, "process_cpu_seconds_total"));
    }
    SECTION("process") {
        CHECK(value(second, "process_resident_memory_bytes") > 4e6);
        CHECK(value(second, "process_open_fds") > 3);
        CHECK(value(second, "process_open_fds") < value(second, "process_max_fds"));
        const double started = value(second, "process_start_time_seconds");
        CHECK(std::abs(started - double(std::time(nullptr))) < 120);  // started a moment ago
    }
    SECTION("HTTP requests by route group and status") {
        CHECK(value(second, "camrelay_http_requests_total", {{"route", "anything else"}, {"code", "404"}}) == 1);
        CHECK(value(second, "camrelay_http_requests_total", {{"route", "/metrics"}, {"code", "200"}}) == 1);  // the first scrape
        // Taken over by an output, not finished by libsoup: still counted, once.
        CHECK(value(second, "camrelay_http_requests_total", {{"route", "/api/cameras/{id}/stream"}, {"code", "200"}}) == 1);
        CHECK(value(second, "camrelay_http_requests_total", {{"route", "/api/cameras/{id}/ws"}, {"code", "101"}}) == 1);
        for (const Sample& s : second)
            if (s.name == "camrelay_http_requests_total") CHECK(s.labels.at("route").find("no-such") == std::string::npos);
    }
}

TEST_CASE("/metrics with auth on: 401 without credentials, 200 for a viewer with Basic", "[metrics][auth]") {
    TempDir dir;
    const std::string config =
        dir.write("camrelay.ini", "[paths]\ndata=" + dir.path() + "/data\n[auth]\nenabled=true\n[user:vic]\nrole=viewer\npassword=" +
                                      hashWithBinary("viewer-pw") + "\n");
    ServiceProcess service({{"demo.conf", demoCamera()}}, {"--config", config});
    service.setRequestHeaders(basicAuth("vic:viewer-pw"));
    REQUIRE(service.waitForState("demo", "live"));
    HttpResponse refused = httpRequest(service.port(), "GET", "/metrics");
    CHECK(refused.status == 401);
    CHECK(refused.headers.count("location") == 0);  // not a page: no login redirect
    CHECK_THAT(refused.headers["www-authenticate"], Catch::StartsWith("Basic"));
    const std::vector<Sample> samples = parse(scrape(service.port(), basicAuth("vic:viewer-pw")));
    CHECK(value(samples, "camrelay_camera_state", {{"camera", "demo"}, {"state", "live"}}) == 1);
    CHECK(value(samples, "camrelay_http_requests_total", {{"route", "/metrics"}, {"code", "401"}}) == 1);
    CHECK(httpRequest(service.port(), "GET", "/metrics", {}, basicAuth("vic:wrong")).status == 401);
}

TEST_CASE("hostile: many concurrent scrapes; the size is bounded by cameras x fixed series", "[metrics][hostile]") {
    std::map<std::string, std::string> cameras;
    for (int i = 0; i < 4; ++i) cameras["cam" + std::to_string(i) + ".conf"] = demoCamera(160, 120, 15);
    ServiceProcess service(cameras);
    for (int i = 0; i < 4; ++i) REQUIRE(service.waitForState("cam" + std::to_string(i), "live"));
    ViewerPool viewers(service.port(), "/api/cameras/cam0/stream");
    viewers.open(2);
    viewers.run(300);
    // Routes the service does not have, each a new raw path: never a new series.
    for (int i = 0; i < 50; ++i) httpRequest(service.port(), "GET", "/api/x" + std::to_string(i));
    std::atomic<int> ok{0}, failed{0};
    std::atomic<size_t> largest{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                try {
                    HttpResponse r = httpRequest(service.port(), "GET", "/metrics");
                    if (r.status == 200 && !r.body.empty() && r.body.back() == '\n') ++ok;
                    else ++failed;
                    size_t seen = largest.load();
                    while (r.body.size() > seen && !largest.compare_exchange_weak(seen, r.body.size())) {}
                } catch (const std::exception&) {
                    ++failed;
                }
            }
        });
    for (auto& t : threads) t.join();
    CHECK(ok == 160);
    CHECK(failed == 0);
    // Per camera: info, 7 states, 4 camera figures, 4 output families x at most 4 outputs.
    CHECK(largest.load() < 4 * 4096 + 16384);
    const std::vector<Sample> samples = parse(scrape(service.port()));
    size_t requestSeries = 0;
    for (const Sample& s : samples) requestSeries += s.name == "camrelay_http_requests_total";
    CHECK(requestSeries < 10);
    CHECK(value(samples, "camrelay_http_requests_total", {{"route", "anything else"}, {"code", "404"}}) == 50);
    CHECK(value(samples, "camrelay_output_viewers", {{"camera", "cam0"}, {"output", "mjpeg"}}) == 2);
    // The service still serves its viewers.
    viewers.run(1000);
    CHECK(viewers.stats(0).error.empty());
    CHECK(service.waitForState("cam1", "live", 1000));
}

// The camera API (issue 12): create, replace, patch and delete cameras through
// HTTP against the real binary, with the files on disk checked after every
// step, every bad input refused with nothing on disk changed, credentials
// kept out of every answer, and the editing routes closed to viewers and
// foreign pages.
#include "config/camera_config.h"
#include "core/files.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

const std::string kDemoWithComments =
    "# The demo camera: a test pattern.\n"
    "[camera]\n"
    "# what the page shows\n"
    "name=Test pattern\n"
    "# a moving ball\n"
    "source=videotestsrc is-live=true pattern=ball\n"
    "width=320\nheight=240\nframerate=15\n"
    "# keep it small\n"
    "quality=70\n";

std::string jsonHeaders(const std::string& body, const std::string& extra = {}) {
    return "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra;
}

HttpResponse send(int port, const std::string& method, const std::string& target, const std::string& body,
                  const std::string& extra = {}) {
    return httpRequest(port, method, target, body, jsonHeaders(body, extra));
}

std::string fileText(const std::string& path) {
    std::string error;
    auto text = readFile(path, &error);
    INFO(path << ": " << error);
    REQUIRE(text);
    return *text;
}

bool exists(const std::string& path) { return g_file_test(path.c_str(), G_FILE_TEST_EXISTS); }

// Every entry of dir (files and directories), recursively, as relative paths.
std::set<std::string> tree(const std::string& dir, const std::string& prefix = {}) {
    std::set<std::string> out;
    GDir* raw = g_dir_open(dir.c_str(), 0, nullptr);
    if (!raw) return out;
    while (const char* name = g_dir_read_name(raw)) {
        const std::string rel = prefix + name;
        out.insert(rel);
        const std::string path = dir + "/" + name;
        if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR))
            for (const std::string& sub : tree(path, rel + "/")) out.insert(sub);
    }
    g_dir_close(raw);
    return out;
}

std::vector<std::string> backupsOf(const std::string& pipelines, const std::string& id) {
    std::vector<std::string> out;
    for (const std::string& name : tree(pipelines + "/.backup"))
        if (name.rfind(id + ".conf.", 0) == 0) out.push_back(pipelines + "/.backup/" + name);
    std::sort(out.begin(), out.end());
    return out;
}

void requireError(const HttpResponse& r, int status, const std::string& code) {
    INFO(r.status << " " << r.body);
    REQUIRE(r.status == status);
    REQUIRE(isJsonObject(r.body));
    CHECK(jsonString(r.body, "$.error") == code);
    CHECK_FALSE(jsonString(r.body, "$.message").empty());
}

}  // namespace

TEST_CASE("camera API: create, read, patch, replace and delete, with the files on disk", "[camera-api]") {
    ServiceProcess service({{"demo.conf", kDemoWithComments}});
    const std::string pipelines = service.pipelinesDir();
    const int port = service.port();
    REQUIRE(service.waitForState("demo", "live"));

    // Create, with a preset and one key of its own (quality wins over the preset's).
    const std::string create =
        R"({"id":"cam1","name":"Cam one","source":"videotestsrc is-live=true pattern=snow","preset":"low","quality":50,)"
        R"("on-demand":false,"record":{"mode":"off","segment":"60s"}})";
    auto created = send(port, "POST", "/api/cameras", create);
    INFO(created.body);
    REQUIRE(created.status == 201);
    CHECK(created.headers.at("location") == "/api/cameras/cam1");
    const std::string etag1 = created.headers.at("etag");
    CHECK(etag1.size() == 18);
    CHECK(jsonString(created.body, "$.id") == "cam1");
    CHECK(jsonString(created.body, "$.name") == "Cam one");
    std::string file = fileText(pipelines + "/cam1.conf");
    CHECK_THAT(file, Catch::StartsWith("[camera]\nname=Cam one\nsource=videotestsrc is-live=true pattern=snow\n"));
    CHECK_THAT(file, Catch::Contains("width=640\nheight=360\nframerate=10\nquality=50\n"));
    CHECK_THAT(file, Catch::Contains("[record]\nmode=off\nsegment=60s"));
    CHECK(tree(pipelines).count(".backup") == 0);  // nothing replaced yet: no backup

    // The new camera goes live and serves frames of the preset's size.
    REQUIRE(service.waitForState("cam1", "live", 15000));
    HttpResponse snap;
    REQUIRE(waitUntil([&] { snap = httpRequest(port, "GET", "/api/cameras/cam1/snapshot"); return snap.status == 200; }, 10000));
    CHECK(decodeJpegSize(snap.body) == std::make_pair(640, 360));
    auto list = httpRequest(port, "GET", "/api/cameras");
    CHECK(jsonArrayLength(list.body, "$.cameras") == 2);

    // Its ETag in GET and in the editable view.
    auto detail = httpRequest(port, "GET", "/api/cameras/cam1");
    CHECK(detail.headers.at("etag") == etag1);
    auto view = httpRequest(port, "GET", "/api/cameras/cam1/config");
    INFO(view.body);
    REQUIRE(view.status == 200);
    CHECK(view.headers.at("etag") == etag1);
    CHECK(jsonString(view.body, "$.etag") == etag1);
    CHECK(jsonString(view.body, "$.keys.width") == "640");
    CHECK(jsonString(view.body, "$.keys.quality") == "50");
    CHECK(jsonString(view.body, "$.record.segment") == "60s");
    CHECK(jsonString(view.body, "$.text") == file);

    // POST of an existing id: 409, nothing changes.
    requireError(send(port, "POST", "/api/cameras", create), 409, "camera_exists");
    requireError(send(port, "POST", "/api/cameras", R"({"id":"demo","source":"videotestsrc"})"), 409, "camera_exists");
    CHECK(fileText(pipelines + "/cam1.conf") == file);

    // PATCH one key with the current ETag: the rest stays.
    auto patched = send(port, "PATCH", "/api/cameras/cam1", R"({"name":"Renamed"})", "If-Match: " + etag1 + "\r\n");
    INFO(patched.body);
    REQUIRE(patched.status == 200);
    const std::string etag2 = patched.headers.at("etag");
    CHECK(etag2 != etag1);
    CHECK(jsonString(patched.body, "$.name") == "Renamed");
    const std::string file2 = fileText(pipelines + "/cam1.conf");
    CHECK(file2 == std::string(file).replace(file.find("Cam one"), 7, "Renamed"));
    auto backups = backupsOf(pipelines, "cam1");
    REQUIRE(backups.size() == 1);
    CHECK(fileText(backups[0]) == file);

    // A stale ETag: 412, the file byte-identical.
    auto stale = send(port, "PATCH", "/api/cameras/cam1", R"({"name":"Lost update"})", "If-Match: " + etag1 + "\r\n");
    requireError(stale, 412, "etag_mismatch");
    CHECK(stale.headers.at("etag") == etag2);
    requireError(httpRequest(port, "DELETE", "/api/cameras/cam1", {}, "If-Match: " + etag1 + "\r\n"), 412, "etag_mismatch");
    CHECK(fileText(pipelines + "/cam1.conf") == file2);

    // PATCH null removes a key; record null the whole [record].
    auto removed = send(port, "PATCH", "/api/cameras/cam1", R"({"on-demand":null,"record":null})");
    REQUIRE(removed.status == 200);
    CHECK_THAT(fileText(pipelines + "/cam1.conf"), !Catch::Contains("on-demand") && !Catch::Contains("[record]"));

    // PUT replaces the whole camera (If-Match: * is "whatever it is now").
    auto put = send(port, "PUT", "/api/cameras/cam1",
                    R"({"id":"cam1","source":"videotestsrc is-live=true","width":320,"height":240,"framerate":"15/1","enabled":true})",
                    "If-Match: *\r\n");
    INFO(put.body);
    REQUIRE(put.status == 200);
    // (GLib may keep a blank line that separated the removed [record]: lines compared without blanks.)
    std::string replaced = fileText(pipelines + "/cam1.conf");
    replaced.erase(std::unique(replaced.begin(), replaced.end(), [](char a, char b) { return a == '\n' && b == '\n'; }),
                   replaced.end());
    CHECK(replaced == "[camera]\nsource=videotestsrc is-live=true\nwidth=320\nheight=240\nframerate=15/1\nenabled=true\n");
    // A new pipeline: the answer may come while it is on trial beside the old one.
    CHECK((jsonBool(put.body, "$.applying") || jsonString(put.body, "$.name") == "cam1"));
    REQUIRE(waitUntil([&] { return jsonString(service.cameraJson("cam1"), "$.name") == "cam1"; }, 15000));  // no name: the id
    CHECK(backupsOf(pipelines, "cam1").size() == 3);
    REQUIRE(waitUntil([&] {
        auto s = httpRequest(port, "GET", "/api/cameras/cam1/snapshot");
        return s.status == 200 && decodeJpegSize(s.body) == std::make_pair(320, 240);
    }, 15000));

    // A hand-written file keeps its comments where the keys are unchanged.
    auto demo = send(port, "PATCH", "/api/cameras/demo", R"({"quality":85,"name":"Test pattern"})");
    REQUIRE(demo.status == 200);
    CHECK(fileText(pipelines + "/demo.conf") ==
          "# The demo camera: a test pattern.\n\n[camera]\n# what the page shows\nname=Test pattern\n# a moving ball\n"
          "source=videotestsrc is-live=true pattern=ball\nwidth=320\nheight=240\nframerate=15\n# keep it small\nquality=85\n");

    // DELETE: gone from the API, the file in .backup, recordings untouched.
    const std::string recordings = service.dataDir() + "/recordings/cam1";
    g_mkdir_with_parents(recordings.c_str(), 0755);
    std::ofstream(recordings + "/keep.txt") << "old footage";
    const std::string lastFile = fileText(pipelines + "/cam1.conf");
    auto deleted = httpRequest(port, "DELETE", "/api/cameras/cam1");
    INFO(deleted.body);
    REQUIRE(deleted.status == 204);
    CHECK_FALSE(exists(pipelines + "/cam1.conf"));
    list = httpRequest(port, "GET", "/api/cameras");
    CHECK(jsonArrayLength(list.body, "$.cameras") == 1);
    CHECK(jsonString(list.body, "$.cameras[0].id") == "demo");
    requireError(httpRequest(port, "GET", "/api/cameras/cam1"), 404, "unknown_camera");
    backups = backupsOf(pipelines, "cam1");
    REQUIRE(backups.size() == 4);
    CHECK(fileText(backups.back()) == lastFile);
    CHECK(fileText(recordings + "/keep.txt") == "old footage");
    requireError(httpRequest(port, "DELETE", "/api/cameras/cam1"), 404, "unknown_camera");
    requireError(send(port, "PATCH", "/api/cameras/cam1", "{}"), 404, "unknown_camera");
    // Only camera files and the backup directory: no temporary left anywhere.
    for (const std::string& name : tree(pipelines)) {
        INFO(name);
        CHECK((name == "demo.conf" || name == ".backup" || name.rfind(".backup/", 0) == 0));
        CHECK(name.find(".tmp-") == std::string::npos);
    }
    // A symlinked camera file (a config manager's) is loaded but not edited through the API.
    const std::string managed = service.pipelinesDir() + "/../managed-target.conf";
    std::ofstream(managed) << "[camera]\nsource=videotestsrc is-live=true\n";
    REQUIRE(symlink(managed.c_str(), (pipelines + "/linked.conf").c_str()) == 0);
    requireError(send(port, "PATCH", "/api/cameras/linked", R"({"quality":50})"), 409, "not_editable");
    requireError(httpRequest(port, "DELETE", "/api/cameras/linked"), 409, "not_editable");
    requireError(send(port, "POST", "/api/cameras", R"({"id":"linked","source":"videotestsrc"})"), 409, "camera_exists");
    CHECK(fileText(managed) == "[camera]\nsource=videotestsrc is-live=true\n");
    REQUIRE(unlink((pipelines + "/linked.conf").c_str()) == 0);
    // The same id can be created again.
    REQUIRE(send(port, "POST", "/api/cameras", R"({"id":"cam1","source":"videotestsrc is-live=true"})").status == 201);
    CHECK(service.waitForState("demo", "live", 1000));
}

TEST_CASE("camera API: every bad input is a 400 naming the key, and nothing on disk changes", "[camera-api]") {
    ServiceProcess service({{"demo.conf", kDemoWithComments}});
    const std::string pipelines = service.pipelinesDir();
    const int port = service.port();
    REQUIRE(service.waitForState("demo", "live"));
    const auto before = tree(pipelines);

    struct Bad {
        const char* what;
        std::string body;
        std::string code;
        std::string key;      // "" : not checked
        std::string message;  // a part of the message
        std::string element = {};  // bad_pipeline: the element GStreamer names
    };
    const std::vector<Bad> bads = {
        {"array for a key", R"({"quality":[1]})", "bad_config", "quality", "must be a JSON string, number or true/false (got an array)"},
        {"object for a key", R"({"name":{"a":1}})", "bad_config", "name", "got an object"},
        {"number out of range", R"({"quality":300})", "bad_config", "quality", "demo.conf: camera.quality: must be 1..100 (got 300)"},
        {"fraction for an integer", R"({"width":320.5})", "bad_config", "width", "not a whole number"},
        {"string for a boolean", R"({"enabled":"maybe"})", "bad_config", "enabled", "must be true or false"},
        {"bad framerate", R"({"framerate":-3})", "bad_config", "framerate", "frames per second"},
        {"fractional framerate as a number", R"({"framerate":29.97})", "bad_config", "framerate", "(got \"29.97\")"},
        {"width without height", R"({"height":null})", "bad_config", "height", "width and height go together"},
        {"unknown key", R"({"colour":"red"})", "bad_config", "colour", "demo.conf: camera.colour: unknown key"},
        {"unknown key with odd characters", R"({"a b=c":"1"})", "bad_config", "a b=c", "unknown key"},
        {"unknown record key", R"({"record":{"keep":"1"}})", "bad_config", "record.keep", "unknown key"},
        {"record not an object", R"({"record":"always"})", "bad_config", "record", "must be an object"},
        {"bad record value", R"({"record":{"mode":"sometimes"}})", "bad_config", "record.mode", "must be one of off, manual, always"},
        {"record value of the wrong type", R"({"record":{"segment":[60]}})", "bad_config", "record.segment", "got an array"},
        {"unknown preset", R"({"preset":"ultra"})", "bad_config", "preset", "must be one of low, medium, high"},
        {"preset of the wrong type", R"({"preset":3})", "bad_config", "preset", "must be one of"},
        {"newline in name", R"({"name":"a\nsource=evil"})", "bad_config", "name", "line breaks"},
        {"newline in source", R"({"source":"videotestsrc\n[record]\nmode=always"})", "bad_config", "source", "line breaks"},
        {"empty source", R"({"source":""})", "bad_config", "source", "is empty"},
        {"redaction marker without stored credentials", R"({"source":"rtspsrc location=rtsp://***@127.0.0.1:1/x"})",
         "bad_config", "source", "***"},
        {"misspelled element", R"({"source":"videotestsrcc is-live=true"})", "bad_pipeline", "", "videotestsrcc", "videotestsrcc"},
        {"bad property", R"({"source":"videotestsrc no-such-property=1"})", "bad_pipeline", "", "no-such-property", "videotestsrc"},
        {"id of another camera", R"({"id":"other"})", "bad_camera_id", "", "is not the URL's"},
        {"id of the wrong type", R"({"id":5})", "bad_camera_id", "", "must be a string"},
        {"not JSON", "name=x", "bad_json", "", "JSON"},
        {"not an object", "[1,2]", "bad_json", "", "got an array"},
        {"a bare string", "\"x\"", "bad_json", "", "JSON object"},
        {"empty body", "", "bad_json", "", "JSON"},
        {"deep nesting", R"({"record":)" + std::string(500, '[') + std::string(500, ']') + "}", "bad_json", "", "nested deeper"},
        {"invalid UTF-8", "{\"name\":\"\xff\xfe\"}", "bad_json", "", ""},
    };
    for (const Bad& bad : bads) {
        auto r = send(port, "PATCH", "/api/cameras/demo", bad.body);
        INFO(bad.what << ": " << r.status << " " << r.body);
        REQUIRE(r.status == 400);
        REQUIRE(isJsonObject(r.body));
        CHECK(jsonString(r.body, "$.error") == bad.code);
        if (!bad.key.empty()) {
            CHECK(jsonString(r.body, "$.key") == bad.key);
            CHECK(jsonArrayLength(r.body, "$.problems") >= 1);
        }
        if (bad.code == "bad_pipeline") CHECK_THAT(jsonString(r.body, "$.element"), Catch::StartsWith(bad.element));
        CHECK_THAT(jsonString(r.body, "$.message"), Catch::Contains(bad.message));
        // PUT refuses the same (its first problem may be another key: a PUT names every key).
        if (bad.key != "height") CHECK(send(port, "PUT", "/api/cameras/demo", bad.body).status == 400);
    }

    // POST: the same checks, and the id.
    for (const std::string& id : {std::string(".."), std::string("a/b"), std::string("%2e%2e"), std::string(65, 'a'),
                                  std::string("caf\xc3\xa9"), std::string(""), std::string("a.conf"), std::string(" demo")}) {
        auto r = send(port, "POST", "/api/cameras", R"({"id":")" + id + R"(","source":"videotestsrc is-live=true"})");
        INFO(id << ": " << r.body);
        requireError(r, 400, "bad_camera_id");
    }
    requireError(send(port, "POST", "/api/cameras", R"({"source":"videotestsrc is-live=true"})"), 400, "bad_camera_id");
    requireError(send(port, "POST", "/api/cameras", R"({"id":"new1","quality":"high"})"), 400, "bad_config");
    auto missing = send(port, "POST", "/api/cameras", R"({"id":"new1","name":"No source"})");
    requireError(missing, 400, "bad_config");
    CHECK(jsonString(missing.body, "$.key") == "source");
    CHECK_THAT(jsonString(missing.body, "$.message"), Catch::Contains("new1.conf: camera.source: missing"));
    // Ids in the URL: never a path.
    for (const std::string& target : {std::string("/api/cameras/%2e%2e"), std::string("/api/cameras/a%2Fb"),
                                      std::string("/api/cameras/") + std::string(65, 'a'), std::string("/api/cameras/caf%C3%A9"),
                                      std::string("/api/cameras/..%2F..%2Fetc")}) {
        for (const char* method : {"PUT", "PATCH", "DELETE"}) {
            // libsoup decodes %2e and %2F before routing: "/api/cameras/%2e%2e" arrives as "/api/", a 404.
            auto r = send(port, method, target, R"({"source":"videotestsrc is-live=true"})");
            INFO(method << " " << target << ": " << r.status << " " << r.body);
            CHECK((r.status == 400 || r.status == 404));
            if (r.status == 400 && isJsonObject(r.body)) CHECK(jsonString(r.body, "$.error") == "bad_camera_id");
        }
        auto view = httpRequest(port, "GET", target + "/config");
        CHECK((view.status == 400 || view.status == 404));
    }
    for (const std::string& target : {std::string("/api/cameras/.."), std::string("/api/cameras/../cameras"),
                                      std::string("/api/cameras/demo/..")}) {
        auto r = send(port, "PUT", target, R"({"source":"videotestsrc is-live=true"})");
        INFO(target << ": " << r.status << " " << r.body);
        CHECK((r.status >= 400 && r.status < 500));
    }
    // A body over the limit: refused before it is read.
    auto huge = send(port, "PATCH", "/api/cameras/demo", R"({"name":")" + std::string(70 * 1024, 'x') + R"("})");
    CHECK(huge.status == 413);
    auto longName = send(port, "PATCH", "/api/cameras/demo", R"({"name":")" + std::string(300, 'x') + R"("})");
    requireError(longName, 400, "bad_config");
    CHECK(jsonString(longName.body, "$.key") == "name");

    // Nothing of it reached the disk, and the camera never stopped.
    CHECK(tree(pipelines) == before);
    CHECK(fileText(pipelines + "/demo.conf") == kDemoWithComments);
    CHECK(service.waitForState("demo", "live", 1000));
}

TEST_CASE("camera API: credentials never leave, and survive edits behind the redaction marker", "[camera-api][redaction]") {
    const std::string source = "rtspsrc location=rtsp://user:secret@127.0.0.1:1/x latency=0";
    ServiceProcess service({{"door.conf", "[camera]\nname=Door\nsource=" + source + "\n"}});
    const std::string pipelines = service.pipelinesDir();
    const int port = service.port();
    const auto noSecret = [](const HttpResponse& r) {
        INFO(r.body);
        CHECK(r.body.find("secret") == std::string::npos);
        for (const auto& [name, value] : r.headers) CHECK(value.find("secret") == std::string::npos);
    };

    auto view = httpRequest(port, "GET", "/api/cameras/door/config");
    REQUIRE(view.status == 200);
    noSecret(view);
    const std::string shown = jsonString(view.body, "$.keys.source");
    CHECK(shown == "rtspsrc location=rtsp://***@127.0.0.1:1/x latency=0");

    // PATCH of the name: the credentials stay in the file.
    auto patched = send(port, "PATCH", "/api/cameras/door", R"({"name":"Front door"})",
                        "If-Match: " + view.headers.at("etag") + "\r\n");
    REQUIRE(patched.status == 200);
    noSecret(patched);
    CHECK_THAT(fileText(pipelines + "/door.conf"), Catch::Contains("source=" + source));

    // PUT of the source as shown, with latency changed: the stored credentials go back in.
    auto put = send(port, "PUT", "/api/cameras/door",
                    R"({"name":"Front door","source":"rtspsrc location=rtsp://***@127.0.0.1:1/x latency=200"})");
    INFO(put.body);
    REQUIRE(put.status == 200);
    noSecret(put);
    CHECK_THAT(fileText(pipelines + "/door.conf"),
               Catch::Contains("source=rtspsrc location=rtsp://user:secret@127.0.0.1:1/x latency=200"));

    // The marker pointed at another host: refused (the password must not go there), file unchanged.
    const std::string kept = fileText(pipelines + "/door.conf");
    auto elsewhere = send(port, "PATCH", "/api/cameras/door", R"({"source":"rtspsrc location=rtsp://***@10.1.2.3/x"})");
    requireError(elsewhere, 400, "bad_config");
    noSecret(elsewhere);
    CHECK(jsonString(elsewhere.body, "$.key") == "source");
    CHECK_THAT(jsonString(elsewhere.body, "$.message"), Catch::Contains("10.1.2.3"));
    CHECK(fileText(pipelines + "/door.conf") == kept);

    // A new password replaces the old one.
    REQUIRE(send(port, "PATCH", "/api/cameras/door", R"({"source":"rtspsrc location=rtsp://user:other@127.0.0.1:1/x"})").status == 200);
    CHECK_THAT(fileText(pipelines + "/door.conf"), Catch::Contains("rtsp://user:other@127.0.0.1:1/x"));
    for (const char* target : {"/api/cameras", "/api/cameras/door", "/api/cameras/door/config"}) {
        auto r = httpRequest(port, "GET", target);
        noSecret(r);
        CHECK(r.body.find("other@") == std::string::npos);
    }
    CHECK(service.log().find("secret") == std::string::npos);
}

TEST_CASE("camera API: viewers and foreign pages cannot edit", "[camera-api][auth]") {
    TempDir dir;
    const std::string adminHash = hashWithBinary("admin-pw");
    const std::string viewerHash = hashWithBinary("viewer-pw");
    const std::string config = dir.write(
        "camrelay.ini", "[paths]\ndata=" + dir.path() + "/data\n[auth]\nenabled=true\nlogin-failures-per-minute=10000\n"
                        "password-checks-per-second=1000\n[user:ada]\nrole=admin\npassword=" + adminHash +
                            "\n[user:vic]\nrole=viewer\npassword=" + viewerHash + "\n");
    ServiceProcess service({{"demo.conf", kDemoWithComments}}, {"--config", config});
    service.setRequestHeaders(basicAuth("ada:admin-pw"));
    const std::string pipelines = service.pipelinesDir();
    const int port = service.port();
    REQUIRE(service.waitForState("demo", "live"));
    const auto before = tree(pipelines);
    const std::string admin = basicAuth("ada:admin-pw");
    const std::string body = R"({"id":"cam9","source":"videotestsrc is-live=true"})";
    struct Write { const char* method; const char* target; };
    for (const Write& w : {Write{"POST", "/api/cameras"}, Write{"PUT", "/api/cameras/demo"}, Write{"PATCH", "/api/cameras/demo"},
                           Write{"DELETE", "/api/cameras/demo"}}) {
        INFO(w.method << " " << w.target);
        CHECK(send(port, w.method, w.target, body, basicAuth("vic:viewer-pw")).status == 403);
        CHECK(send(port, w.method, w.target, body, admin + "Origin: http://evil.example\r\n").status == 403);
        CHECK(send(port, w.method, w.target, body).status == 401);
    }
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/config", {}, basicAuth("vic:viewer-pw")).status == 403);
    CHECK(tree(pipelines) == before);
    CHECK(fileText(pipelines + "/demo.conf") == kDemoWithComments);
    // The admin from the service's own origin may.
    auto ok = send(port, "PATCH", "/api/cameras/demo", R"({"quality":60})", admin + "Origin: http://127.0.0.1\r\n");
    INFO(ok.body);
    CHECK(ok.status == 200);
    CHECK(httpRequest(port, "GET", "/api/cameras/demo/config", {}, admin).status == 200);
}

TEST_CASE("camera API under attack: concurrent edits stay consistent, no fd leaks", "[camera-api][hostile]") {
    ServiceProcess service({{"demo.conf", kDemoWithComments}});
    const std::string pipelines = service.pipelinesDir();
    const int port = service.port();
    REQUIRE(service.waitForState("demo", "live"));
    const int fdsBefore = openFdCount(service.pid());

    // 6 clients x 8 edits each, half of them conditional on an ETag they read
    // just before: every answer is 200 or 412, and the file is always whole.
    std::atomic<int> ok{0}, conflicts{0}, other{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 6; ++c) {
        clients.emplace_back([&, c] {
            for (int i = 0; i < 8; ++i) {
                try {
                    std::string extra;
                    if (i % 2) extra = "If-Match: " + httpRequest(port, "GET", "/api/cameras/demo").headers["etag"] + "\r\n";
                    const std::string body = R"({"quality":)" + std::to_string(10 + c * 10 + i) + "}";
                    const int status = send(port, c % 2 ? "PATCH" : "PUT", "/api/cameras/demo",
                                            c % 2 ? body : R"({"source":"videotestsrc is-live=true pattern=ball","quality":)" +
                                                               std::to_string(10 + c * 10 + i) + "}",
                                            extra).status;
                    (status == 200 ? ok : status == 412 ? conflicts : other)++;
                } catch (const std::exception&) {
                    other++;
                }
            }
        });
    }
    for (auto& t : clients) t.join();
    CHECK(other == 0);
    CHECK(ok + conflicts == 48);
    CHECK(ok >= 6);
    auto load = parseCameraConfig("demo", "demo.conf", fileText(pipelines + "/demo.conf"));
    CHECK(load.problems.empty());
    CHECK(backupsOf(pipelines, "demo").size() == size_t(std::min(10, ok.load())));

    // Garbage of every shape.
    for (const std::string& garbage : {std::string("{"), std::string("}{"), std::string(40000, '{'), std::string("\0\0\0", 3),
                                       std::string("{\"name\":") + std::string(10000, '"'), std::string("null"), std::string("1e999")}) {
        auto r = send(port, "PATCH", "/api/cameras/demo", garbage);
        CHECK(r.status == 400);
    }
    // Raw requests that lie about their length or end early.
    rawExchange(port, "PATCH /api/cameras/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"name\":", 1500);
    rawExchange(port, "POST /api/cameras HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\n0\r\n\r\n", 1500);

    CHECK(waitUntil([&] { return openFdCount(service.pid()) <= fdsBefore + 2; }, 10000));
    CHECK(service.waitForState("demo", "live", 15000));
    for (const std::string& name : tree(pipelines)) CHECK(name.find(".tmp-") == std::string::npos);
}

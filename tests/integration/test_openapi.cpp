// docs/openapi.yaml against the server, both ways: every route shape the server
// answers (http/access_rules routeShapes(), which the unit tests hold to the
// router) is described with every method it answers and the access its rule
// gives; and every operation described answers on the real service (auth on,
// as an admin) with a status the document lists for it. The YAML is read by
// tests/openapi/operations.py (python3-yaml); tests/browser/openapi.test.mjs
// validates it as OpenAPI 3.
#include "core/files.h"
#include "http/access_rules.h"
#include "http_client.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <utime.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

const std::vector<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

std::string sourceRoot() {
    const char* root = std::getenv("CAMRELAY_SOURCE_ROOT");
    return root ? root : "..";
}

struct Operation {
    std::string method, path, access;
    std::set<int> statuses;
    std::string websocket;  // "true", "optional" or "-"
    std::string body;       // the request body example, "" when none
};

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
    return parts;
}

std::vector<Operation> describedOperations() {
    const std::string script = sourceRoot() + "/tests/openapi/operations.py";
    const std::string yaml = sourceRoot() + "/docs/openapi.yaml";
    auto [code, out] = runCommand("python3 '" + script + "' '" + yaml + "'");
    INFO(out);
    REQUIRE(code == 0);
    std::vector<Operation> operations;
    for (const std::string& line : split(out, '\n')) {
        const std::vector<std::string> f = split(line, '\t');
        INFO("line: " << line);
        REQUIRE(f.size() == 6);
        Operation op{f[0], f[1], f[2], {}, f[4], f[5] == "-" ? "" : f[5]};
        for (const std::string& status : split(f[3], ',')) op.statuses.insert(std::atoi(status.c_str()));
        operations.push_back(op);
    }
    REQUIRE(operations.size() > 30);
    return operations;
}

// The route table's methods, one by one.
std::set<std::string> methodsOf(const RouteShape& shape) {
    std::set<std::string> methods;
    for (const std::string& m : split(shape.methods, ' '))
        if (!m.empty()) methods.insert(m);
    return methods;
}

// A concrete path for a described one: the service's real camera, page and files.
std::string concretePath(const std::string& path, const std::string& method) {
    static const std::map<std::string, std::string> values = {
        {"{page}", "viewer.html"}, {"{file}", "hls.light.min.js"}, {"{camera}", "demo"}, {"{date}", "2026-01-01"},
        {"{recording}", "demo-20260101T000000Z.mkv"}, {"{capture}", "demo-20260101T000000Z.jpg"},
        {"{peer}", "no-such-peer"}};
    std::string id = "demo";
    // Writes to a camera go to one kept for them; publishing needs a source=push camera.
    if (path == "/api/cameras/{id}" && method != "GET" && method != "HEAD") id = "gone";
    if (path == "/api/cameras/{id}/publish") id = "door";
    std::string out = std::regex_replace(path, std::regex(R"(\{id\})"), id);
    for (const auto& [name, value] : values) {
        const size_t at = out.find(name);
        if (at != std::string::npos) out.replace(at, name.size(), value);
    }
    return out;
}

// An old file at path (folders made): not "being written", so DELETE may remove it.
void plantOldFile(const std::string& path, const std::string& bytes) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    const utimbuf old{time(nullptr) - 3600, time(nullptr) - 3600};
    REQUIRE(utime(path.c_str(), &old) == 0);
}

}  // namespace

TEST_CASE("openapi.yaml describes every route the server answers, with its methods and access", "[openapi]") {
    const std::vector<Operation> operations = describedOperations();
    std::map<std::pair<std::string, std::string>, const Operation*> described;
    for (const Operation& op : operations) described[{op.method, op.path}] = &op;

    // (a) Every method of every route shape the server answers is described.
    std::set<std::pair<std::string, std::string>> served;
    for (const RouteShape& shape : routeShapes())
        for (const std::string& method : methodsOf(shape)) {
            served.insert({method, shape.path});
            INFO(method << " " << shape.path << " is answered by the server");
            CHECK(described.count({method, shape.path}) == 1);
        }
    for (const Operation& op : operations) {
        INFO(op.method << " " << op.path);
        // The route table is the server's whole list: nothing is described that it does not have.
        CHECK(served.count({op.method, op.path}) == 1);
        // The access the operation states is the one its rule enforces.
        const RouteAccess route = classifyRoute(concretePath(op.path, op.method));
        const bool read = op.method == "GET" || op.method == "HEAD";
        INFO("rule " << route.rule.route);
        CHECK(op.access == toString(read ? route.rule.read : route.rule.write));
    }
}

TEST_CASE("every operation openapi.yaml describes answers on the service with a status it lists", "[openapi][service]") {
    static const std::string adminHash = hashWithBinary("admin-pw");
    TempDir dir;
    const std::string data = dir.path() + "/data";
    plantOldFile(data + "/recordings/demo/2026-01-01/demo-20260101T000000Z.mkv", std::string(4096, 'v'));
    plantOldFile(data + "/recordings/demo/captures/demo-20260101T000000Z.jpg", std::string(1024, 'j'));
    const std::string config = dir.write(
        "camrelay.ini", "[paths]\ndata=" + data +
                            "\n[auth]\nenabled=true\nlogin-failures-per-minute=10000\npassword-checks-per-second=1000\n"
                            "[user:ada]\nrole=admin\npassword=" + adminHash + "\n");
    ServiceProcess service({{"demo.conf", demoCamera()}, {"gone.conf", demoCamera()},
                            {"door.conf", "[camera]\nname=Door\nsource=push\n"}},
                           {"--config", config});
    const std::string admin = basicAuth("ada:admin-pw");
    service.setRequestHeaders(admin);
    REQUIRE(service.waitForState("demo", "live", 15000));
    const int port = service.port();

    SECTION("GET /api/openapi.yaml is the file, public, as application/yaml") {
        std::string error;
        const auto file = readFile(sourceRoot() + "/docs/openapi.yaml", &error);
        REQUIRE(file);
        HttpResponse r = httpRequest(port, "GET", "/api/openapi.yaml");  // no credentials
        CHECK(r.status == 200);
        CHECK(r.headers["content-type"] == "application/yaml");
        CHECK(r.body == *file);
    }

    SECTION("each described operation answers, WebSocket ones also upgrade") {
        const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        std::vector<std::string> unanswered;
        // An HLS segment's name is drawn per run: the one the live playlist lists last.
        const std::string playlist = httpRequest(port, "GET", "/api/cameras/demo/hls/index.m3u8", {}, admin).body;
        const size_t ts = playlist.rfind(".ts");
        const size_t lineStart = playlist.rfind('\n', ts) + 1;
        const std::string segment = ts == std::string::npos ? "none.ts" : playlist.substr(lineStart, ts + 3 - lineStart);
        for (const Operation& op : describedOperations()) {
            std::string target = concretePath(op.path, op.method);
            if (const size_t at = target.find("{segment}"); at != std::string::npos) target.replace(at, 9, segment);
            const std::string headers = admin + (op.body.empty() ? "" : "Content-Type: application/json\r\n");
            const HttpResponse r = httpRequestHead(port, op.method, target, op.body, headers);
            INFO(op.method << " " << target << " -> " << r.status << " " << r.body);
            // 404 and 405 are what the server says to a route it does not have
            // (a WebRTC peer lives only while its client does: its route says unknown_peer).
            const bool knownRoute404 = r.status == 404 && op.path.find("{peer}") != std::string::npos &&
                                       httpRequest(port, op.method, target, op.body, headers).body.find("\"unknown_peer\"") !=
                                           std::string::npos;
            if ((r.status == 404 && !knownRoute404) || r.status == 405 || !op.statuses.count(r.status))
                unanswered.push_back(op.method + " " + op.path + " -> " + std::to_string(r.status));
            if (op.websocket != "-") {
                const HttpResponse u = httpRequestHead(port, op.method, target, "", admin + upgrade);
                INFO("upgrade -> " << u.status);
                CHECK(u.status == 101);
                CHECK(op.statuses.count(101) == 1);
            }
        }
        INFO("described but not answered as described:\n" << [&] {
            std::string list;
            for (const std::string& u : unanswered) list += "  " + u + "\n";
            return list;
        }());
        CHECK(unanswered.empty());
    }

    SECTION("each route shape answers exactly its methods: any other gets 405") {
        for (const RouteShape& shape : routeShapes()) {
            const std::set<std::string> methods = methodsOf(shape);
            for (const std::string& method : kMethods) {
                if (methods.count(method)) continue;
                const HttpResponse r = httpRequestHead(port, method, shape.example, "", admin);
                INFO(method << " " << shape.example << " (" << shape.path << ", answers " << shape.methods << ") -> "
                            << r.status << " " << r.body);
                CHECK(r.status == 405);
            }
        }
    }
}

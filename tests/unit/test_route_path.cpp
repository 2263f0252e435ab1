// The /api path parser the camera routes dispatch on (src/http/route_path.h).
#include "http/access_rules.h"
#include "http/route_path.h"

#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>

using namespace camrelay;

TEST_CASE("api paths map to their route, camera id and action", "[route_path]") {
    CHECK(parseApiRoute("/api/ws").kind == ApiRouteKind::MultiWebsocket);
    CHECK(parseApiRoute("/api/cameras").kind == ApiRouteKind::CameraList);
    CHECK(parseApiRoute("/api/cameras/").kind == ApiRouteKind::CameraList);

    const ApiRoute camera = parseApiRoute("/api/cameras/front-door_2");
    CHECK(camera.kind == ApiRouteKind::Camera);
    CHECK(camera.cameraId == "front-door_2");
    CHECK(camera.action == CameraAction::None);
    CHECK(camera.actionName.empty());

    const std::pair<const char*, CameraAction> actions[] = {
        {"stream", CameraAction::Stream}, {"ws", CameraAction::Ws},       {"publish", CameraAction::Publish},
        {"snapshot", CameraAction::Snapshot}, {"start", CameraAction::Start}, {"stop", CameraAction::Stop}};
    for (const auto& [name, action] : actions) {
        const ApiRoute route = parseApiRoute(std::string("/api/cameras/demo/") + name);
        CHECK(route.kind == ApiRouteKind::Camera);
        CHECK(route.cameraId == "demo");
        CHECK(route.action == action);
        CHECK(route.actionName == name);
    }
    const ApiRoute unknown = parseApiRoute("/api/cameras/demo/reboot");
    CHECK(unknown.kind == ApiRouteKind::Camera);
    CHECK(unknown.action == CameraAction::Unknown);
    CHECK(unknown.actionName == "reboot");
}

TEST_CASE("empty segments are skipped like the router always did", "[route_path]") {
    const ApiRoute route = parseApiRoute("//api///cameras//demo///snapshot//");
    CHECK(route.kind == ApiRouteKind::Camera);
    CHECK(route.cameraId == "demo");
    CHECK(route.action == CameraAction::Snapshot);
    CHECK(parseApiRoute("/api//ws/").kind == ApiRouteKind::MultiWebsocket);
}

TEST_CASE("paths outside the api shapes are not found", "[route_path]") {
    for (const char* path : {"", "/", "/api", "/api/", "/apix/cameras", "/api/camera", "/api/ws/extra",
                             "/api/cameras/demo/stream/extra", "/API/cameras", "/api/cameras/a/b/c/d/e/f",
                             "/static/cameras/demo", "cameras/demo/api"})
        CHECK(parseApiRoute(path).kind == ApiRouteKind::NotFound);
    // A long path of segments is refused without building them all.
    std::string many;
    for (int i = 0; i < 100000; ++i) many += "/a";
    CHECK(parseApiRoute(many).kind == ApiRouteKind::NotFound);
    CHECK(parseApiRoute("/api/cameras" + many).kind == ApiRouteKind::NotFound);
}

TEST_CASE("hls takes a 5th segment, as sent; other actions do not", "[route_path][hls]") {
    ApiRoute route = parseApiRoute("/api/cameras/demo/hls/index.m3u8");
    CHECK(route.kind == ApiRouteKind::Camera);
    CHECK(route.action == CameraAction::Hls);
    CHECK(route.subName == "index.m3u8");
    route = parseApiRoute("/api/cameras/demo/hls/%2e%2e");
    CHECK(route.action == CameraAction::Hls);
    CHECK(route.subName == "%2e%2e");  // undecoded: the handler refuses it
    CHECK(parseApiRoute("/api/cameras/demo/hls").subName.empty());
    for (const char* path : {"/api/cameras/demo/stream/x", "/api/cameras/demo/nope/x", "/api/cameras/demo/hls/a/b",
                             "/api/cameras/demo/hls/../../x"})
        CHECK(parseApiRoute(path).kind == ApiRouteKind::NotFound);
}

TEST_CASE("camera ids with path tricks or bad characters are refused, not looked up", "[route_path]") {
    for (const char* path : {"/api/cameras/../stream", "/api/cameras/./snapshot", "/api/cameras/..",
                             "/api/cameras/a%2Fb/stream", "/api/cameras/caf\xc3\xa9", "/api/cameras/a b",
                             "/api/cameras/a\x1f" "b/ws"}) {
        INFO(path);
        const ApiRoute route = parseApiRoute(path);
        CHECK(route.kind == ApiRouteKind::BadCameraId);
    }
    CHECK(parseApiRoute("/api/cameras/" + std::string(64, 'x')).kind == ApiRouteKind::Camera);
    CHECK(parseApiRoute("/api/cameras/" + std::string(65, 'x')).kind == ApiRouteKind::BadCameraId);
}

// The route table docs/openapi.yaml is checked against (tests/integration/test_openapi.cpp)
// must be the router's: each shape's example is of that shape and is guarded by its rule.
TEST_CASE("every route shape's example has its shape and classifies to its rule", "[route_path][openapi]") {
    std::set<std::string> rulesWithShapes;
    std::set<std::string> paths;
    for (const RouteShape& shape : routeShapes()) {
        INFO(shape.path << " example " << shape.example);
        CHECK(paths.insert(shape.path).second);  // each shape once
        const std::string path = shape.path, example = shape.example;
        // "{name}" is one non-empty segment; everything else is literal.
        const std::string pattern =
            "^" + std::regex_replace(std::regex_replace(path, std::regex(R"([.])"), R"(\.)"), std::regex(R"(\{[a-z]+\})"),
                                     "[^/]+") + "$";
        CHECK(std::regex_match(example, std::regex(pattern)));
        CHECK(std::string(classifyRoute(example).rule.route) == shape.rule->route);
        rulesWithShapes.insert(shape.rule->route);
        std::istringstream methods(shape.methods);
        int count = 0;
        for (std::string m; methods >> m; ++count)
            CHECK((m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"));
        CHECK(count > 0);
    }
    for (const AccessRule& rule : accessRules()) {
        INFO(rule.route);
        // Every rule guards something the server answers, except the catch-all.
        if (std::string(rule.route) != "anything else" && std::string(rule.route) != "/?action=stream|snapshot[_N]")
            CHECK(rulesWithShapes.count(rule.route) == 1);
    }
    // mjpg-streamer's "/?action=" is "/" keyed by its query, which OpenAPI paths cannot
    // express: it has no shape of its own; "/" is described with the action parameter.
    CHECK(std::string(classifyRoute("/", "stream_1").rule.route) == "/?action=stream|snapshot[_N]");
    CHECK(parseApiRoute("/api/openapi.yaml").kind == ApiRouteKind::OpenApi);
    CHECK(std::string(toString(classifyRoute("/api/openapi.yaml").rule.read)) == "public");
}

TEST_CASE("a fifth segment names an item only under whep", "[route_path]") {
    const ApiRoute collection = parseApiRoute("/api/cameras/demo/whep");
    CHECK(collection.kind == ApiRouteKind::Camera);
    CHECK(collection.action == CameraAction::Whep);
    CHECK(collection.subName.empty());
    const ApiRoute peer = parseApiRoute("/api/cameras/demo/whep/1-abc");
    CHECK(peer.kind == ApiRouteKind::Camera);
    CHECK(peer.action == CameraAction::Whep);
    CHECK(peer.subName == "1-abc");
    for (const char* path : {"/api/cameras/demo/snapshot/x", "/api/cameras/demo/nosuch/x", "/api/cameras/demo/whep/a/b"})
        CHECK(parseApiRoute(path).kind == ApiRouteKind::NotFound);
}

#include "http/route_path.h"

#include "config/camera_config.h"

#include <vector>

namespace camrelay {

namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (end > start) parts.push_back(path.substr(start, end - start));
        // Six segments already mean "no route": stop early, whatever the path's length.
        if (parts.size() > 5) break;
        start = end + 1;
    }
    return parts;
}

CameraAction actionFromName(std::string_view name) {
    if (name == "stream") return CameraAction::Stream;
    if (name == "ws") return CameraAction::Ws;
    if (name == "publish") return CameraAction::Publish;
    if (name == "snapshot") return CameraAction::Snapshot;
    if (name == "start") return CameraAction::Start;
    if (name == "stop") return CameraAction::Stop;
    if (name == "token") return CameraAction::Token;
    if (name == "recording") return CameraAction::Recording;
    if (name == "captures") return CameraAction::Captures;
    if (name == "graph") return CameraAction::Graph;
    if (name == "config") return CameraAction::Config;
    if (name == "whep") return CameraAction::Whep;
    if (name == "hls") return CameraAction::Hls;
    return CameraAction::Unknown;
}

// The actions whose routes take a 5th segment.
bool takesSubName(CameraAction action) { return action == CameraAction::Hls || action == CameraAction::Whep; }

}  // namespace

ApiRoute parseApiRoute(std::string_view path) {
    ApiRoute route;
    const std::vector<std::string_view> parts = splitPath(path);  // "api", "cameras", id, action
    if (parts.size() == 2 && parts[0] == "api" && parts[1] == "ws") {
        route.kind = ApiRouteKind::MultiWebsocket;
        return route;
    }
    if (parts.size() == 2 && parts[0] == "api" && parts[1] == "session") {
        route.kind = ApiRouteKind::Session;
        return route;
    }
    if (parts.size() == 2 && parts[0] == "api" && parts[1] == "openapi.yaml") {
        route.kind = ApiRouteKind::OpenApi;
        return route;
    }
    if (parts.size() == 2 && parts[0] == "api" && parts[1] == "access") {
        route.kind = ApiRouteKind::AccessCheck;
        return route;
    }
    if (parts.size() == 3 && parts[0] == "api" && parts[1] == "pipelines" && parts[2] == "validate") {
        route.kind = ApiRouteKind::PipelineValidate;
        return route;
    }
    if (parts.size() < 2 || parts.size() > 5 || parts[0] != "api" || parts[1] != "cameras") return route;
    if (parts.size() == 5 && !takesSubName(actionFromName(parts[3]))) return route;
    if (parts.size() == 2) {
        route.kind = ApiRouteKind::CameraList;
        return route;
    }
    route.cameraId = std::string(parts[2]);
    route.kind = isValidCameraId(route.cameraId) ? ApiRouteKind::Camera : ApiRouteKind::BadCameraId;
    if (parts.size() >= 4) {
        route.actionName = std::string(parts[3]);
        route.action = actionFromName(parts[3]);
    }
    if (parts.size() == 5) route.subName = std::string(parts[4]);
    return route;
}

}  // namespace camrelay

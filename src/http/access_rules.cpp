#include "access_rules.h"

#include "http/route_path.h"

namespace camrelay {

namespace {

// Pages and the files they load. The login page and what it needs are public.
constexpr AccessRule kLoginPage{"/login.html", Access::Public, Access::Admin, false, false, "/login.html"};
constexpr AccessRule kLoginFiles{"/login.js, /style.css", Access::Public, Access::Admin, false, false, "/login.js"};
constexpr AccessRule kPage{"/ and /{page}", Access::Viewer, Access::Admin, false, true, "/viewer.html"};
constexpr AccessRule kHealth{"/health", Access::Public, Access::Admin, false, false, "/health"};
constexpr AccessRule kSession{"/api/session", Access::Public, Access::Public, false, false, "/api/session"};
constexpr AccessRule kCameraList{"/api/cameras", Access::Viewer, Access::Admin, false, false, "/api/cameras"};
constexpr AccessRule kCamera{"/api/cameras/{id}", Access::Viewer, Access::Admin, false, false, "/api/cameras/demo"};
constexpr AccessRule kStream{"/api/cameras/{id}/stream", Access::Viewer, Access::Admin, true, false, "/api/cameras/demo/stream"};
constexpr AccessRule kSnapshot{"/api/cameras/{id}/snapshot", Access::Viewer, Access::Admin, true, false, "/api/cameras/demo/snapshot"};
constexpr AccessRule kCameraWs{"/api/cameras/{id}/ws", Access::Viewer, Access::Admin, true, false, "/api/cameras/demo/ws"};
// Pushing frames changes what everyone sees: an admin's job (even though the upgrade is a GET).
constexpr AccessRule kPublish{"/api/cameras/{id}/publish", Access::Admin, Access::Admin, false, false, "/api/cameras/demo/publish"};
constexpr AccessRule kControl{"/api/cameras/{id}/start|stop", Access::Admin, Access::Admin, false, false, "/api/cameras/demo/stop"};
// Anyone who may watch may hand a read-only token for one camera to a client.
constexpr AccessRule kToken{"/api/cameras/{id}/token", Access::Viewer, Access::Viewer, false, false, "/api/cameras/demo/token"};
// Recordings: viewers list and play them; starting, stopping and deleting is an admin's job.
constexpr AccessRule kRecordingControl{"/api/cameras/{id}/recording", Access::Viewer, Access::Admin, false, false, "/api/cameras/demo/recording"};
constexpr AccessRule kCaptureList{"/api/cameras/{id}/captures", Access::Viewer, Access::Admin, false, false, "/api/cameras/demo/captures"};
constexpr AccessRule kRecordings{"/api/recordings[/{id}]", Access::Viewer, Access::Admin, false, false, "/api/recordings"};
constexpr AccessRule kCaptures{"/api/captures/{id}", Access::Viewer, Access::Admin, false, false, "/api/captures/demo/captures/x.jpg"};
// The running graph names every element and property (credentials redacted, but
// still the camera's internals); validating runs GStreamer on text from the client.
constexpr AccessRule kGraph{"/api/cameras/{id}/graph", Access::Admin, Access::Admin, false, false, "/api/cameras/demo/graph"};
// The camera's file as it can be edited: every key (credentials redacted), admins only.
constexpr AccessRule kConfig{"/api/cameras/{id}/config", Access::Admin, Access::Admin, false, false, "/api/cameras/demo/config"};
constexpr AccessRule kValidate{"/api/pipelines/validate", Access::Admin, Access::Admin, false, false, "/api/pipelines/validate"};
constexpr AccessRule kMultiWs{"/api/ws", Access::Viewer, Access::Admin, false, false, "/api/ws"};
constexpr AccessRule kEvents{"/api/events", Access::Admin, Access::Admin, false, false, "/api/events"};
// Prometheus scrapes: figures about every camera, for anyone who may watch (Basic/Bearer; not a page).
constexpr AccessRule kMetrics{"/metrics", Access::Viewer, Access::Admin, false, false, "/metrics"};
constexpr AccessRule kOther{"anything else", Access::Admin, Access::Admin, false, false, "/api/no-such-route"};

bool isLoginFile(std::string_view path) { return path == "/login.js" || path == "/style.css"; }

// "/", "/index.html", "/viewer.js": one flat folder of page files (static_routes).
bool isPageFile(std::string_view path) {
    if (path.empty() || path[0] != '/' || path.rfind("/api/", 0) == 0 || path == "/api") return false;
    return path.find('/', 1) == std::string_view::npos;
}

}  // namespace

const char* toString(Access access) {
    switch (access) {
    case Access::Public: return "public";
    case Access::Viewer: return "viewer";
    case Access::Admin: return "admin";
    }
    return "admin";
}

RouteAccess classifyRoute(std::string_view path) {
    if (path == "/health") return {kHealth, ""};
    if (path == "/metrics") return {kMetrics, ""};
    if (path == "/login.html") return {kLoginPage, ""};
    if (isLoginFile(path)) return {kLoginFiles, ""};
    if (path == "/api/events" || path.rfind("/api/events/", 0) == 0) return {kEvents, ""};
    if (path == "/api/recordings" || path.rfind("/api/recordings/", 0) == 0) return {kRecordings, ""};
    if (path.rfind("/api/captures/", 0) == 0) return {kCaptures, ""};
    if (path.rfind("/api", 0) == 0) {
        const ApiRoute route = parseApiRoute(path);
        switch (route.kind) {
        case ApiRouteKind::Session: return {kSession, ""};
        case ApiRouteKind::MultiWebsocket: return {kMultiWs, ""};
        case ApiRouteKind::PipelineValidate: return {kValidate, ""};
        case ApiRouteKind::CameraList: return {kCameraList, ""};
        case ApiRouteKind::Camera:
            switch (route.action) {
            case CameraAction::None: return {kCamera, route.cameraId};
            case CameraAction::Stream: return {kStream, route.cameraId};
            case CameraAction::Snapshot: return {kSnapshot, route.cameraId};
            case CameraAction::Ws: return {kCameraWs, route.cameraId};
            case CameraAction::Publish: return {kPublish, route.cameraId};
            case CameraAction::Start:
            case CameraAction::Stop: return {kControl, route.cameraId};
            case CameraAction::Token: return {kToken, route.cameraId};
            case CameraAction::Recording: return {kRecordingControl, route.cameraId};
            case CameraAction::Captures: return {kCaptureList, route.cameraId};
            case CameraAction::Graph: return {kGraph, route.cameraId};
            case CameraAction::Config: return {kConfig, route.cameraId};
            case CameraAction::Unknown: return {kOther, route.cameraId};
            }
            return {kOther, ""};
        case ApiRouteKind::BadCameraId:
        case ApiRouteKind::NotFound: return {kOther, ""};
        }
        return {kOther, ""};
    }
    if (isPageFile(path)) return {kPage, ""};
    return {kOther, ""};
}

const std::vector<AccessRule>& accessRules() {
    static const std::vector<AccessRule> rules = {kLoginPage, kLoginFiles, kPage,     kHealth,   kSession,
                                                  kCameraList, kCamera,    kStream,   kSnapshot, kCameraWs,
                                                  kPublish,   kControl,    kToken,    kRecordingControl, kCaptureList,
                                                  kRecordings, kCaptures,  kGraph, kConfig, kValidate, kMultiWs,  kEvents,   kMetrics, kOther};
    return rules;
}

}  // namespace camrelay

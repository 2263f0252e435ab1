#include "access_rules.h"

#include "http/compat_path.h"
#include "http/route_path.h"

namespace camrelay {

namespace {

// Pages and the files they load. The login page and what it needs are public.
constexpr AccessRule kLoginPage{"/login.html", Access::Public, Access::Admin, false, false, "/login.html"};
// The icon too: browsers fetch /favicon.ico before anyone logs in.
constexpr AccessRule kLoginFiles{"/login.js, /style.css, /favicon.ico, /favicon.svg", Access::Public, Access::Admin, false, false, "/login.js"};
constexpr AccessRule kPage{"/ and /{page}", Access::Viewer, Access::Admin, false, true, "/viewer.html"};
// Third-party scripts the pages load (hls.js): what a page file is.
constexpr AccessRule kVendor{"/vendor/{file}", Access::Viewer, Access::Admin, false, false, "/vendor/hls.light.min.js"};
constexpr AccessRule kHealth{"/health", Access::Public, Access::Admin, false, false, "/health"};
constexpr AccessRule kSession{"/api/session", Access::Public, Access::Public, false, false, "/api/session"};
constexpr AccessRule kCameraList{"/api/cameras", Access::Viewer, Access::Admin, false, false, "/api/cameras"};
constexpr AccessRule kCamera{"/api/cameras/{id}", Access::Viewer, Access::Admin, false, false, "/api/cameras/demo"};
constexpr AccessRule kStream{"/api/cameras/{id}/stream", Access::Viewer, Access::Admin, true, false, "/api/cameras/demo/stream"};
constexpr AccessRule kSnapshot{"/api/cameras/{id}/snapshot", Access::Viewer, Access::Admin, true, false, "/api/cameras/demo/snapshot"};
// HLS playlist and segments: what the stream allows (players cannot log in; a token in the
// playlist's URL is carried into its segment URLs).
constexpr AccessRule kHls{"/api/cameras/{id}/hls/{file}", Access::Viewer, Access::Admin, true, false, "/api/cameras/demo/hls/index.m3u8"};
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
// WebRTC (WHEP): watching is a viewer's right, and so is ending one's own peer. Not a
// stream token: POST opens a peer (more than a read), so a token does not open it.
constexpr AccessRule kWhep{"/api/cameras/{id}/whep[/{peer}]", Access::Viewer, Access::Viewer, false, false, "/api/cameras/demo/whep"};
constexpr AccessRule kMultiWs{"/api/ws", Access::Viewer, Access::Admin, false, false, "/api/ws"};
// The API's own description (docs/openapi.yaml): nothing in it is secret.
constexpr AccessRule kOpenApi{"/api/openapi.yaml", Access::Public, Access::Admin, false, false, "/api/openapi.yaml"};
// nginx's auth_request asks here whether a viewer's request may go ahead (the
// answer is the rule of the path it names, judged with the viewer's credentials).
constexpr AccessRule kAccessCheck{"/api/access", Access::Public, Access::Admin, false, false, "/api/access"};
constexpr AccessRule kEvents{"/api/events", Access::Admin, Access::Admin, false, false, "/api/events"};
// mjpg-streamer's and ustreamer's URLs (compat_routes): what /api/cameras/{id}/stream and
// /snapshot allow, for the camera they serve. Never a login page: Home Assistant, OctoPrint
// and motion cannot follow one; they get 401 with the Basic challenge.
constexpr AccessRule kCompatAction{"/?action=stream|snapshot[_N]", Access::Viewer, Access::Admin, true, false, "/?action=stream"};
constexpr AccessRule kCompatPaths{"/stream, /snapshot, /state", Access::Viewer, Access::Admin, true, false, "/snapshot"};
// Prometheus scrapes: figures about every camera, for anyone who may watch (Basic/Bearer; not a page).
constexpr AccessRule kMetrics{"/metrics", Access::Viewer, Access::Admin, false, false, "/metrics"};
constexpr AccessRule kOther{"anything else", Access::Admin, Access::Admin, false, false, "/api/no-such-route"};

bool isLoginFile(std::string_view path) {
    return path == "/login.js" || path == "/style.css" || path == "/favicon.ico" || path == "/favicon.svg";
}

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

RouteAccess classifyRoute(std::string_view path, std::string_view action) {
    if (path == "/health") return {kHealth, ""};
    if (path == "/" && isCompatAction(action)) return {kCompatAction, "", true};
    if (isCompatPath(path)) return {kCompatPaths, "", true};
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
        case ApiRouteKind::OpenApi: return {kOpenApi, ""};
        case ApiRouteKind::AccessCheck: return {kAccessCheck, ""};
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
            case CameraAction::Whep: return {kWhep, route.cameraId};
            case CameraAction::Hls: return {kHls, route.cameraId};
            case CameraAction::Unknown: return {kOther, route.cameraId};
            }
            return {kOther, ""};
        case ApiRouteKind::BadCameraId:
        case ApiRouteKind::NotFound: return {kOther, ""};
        }
        return {kOther, ""};
    }
    if (path.rfind("/vendor/", 0) == 0) return {kVendor, ""};
    if (isPageFile(path)) return {kPage, ""};
    return {kOther, ""};
}

const std::vector<AccessRule>& accessRules() {
    static const std::vector<AccessRule> rules = {kLoginPage, kLoginFiles, kPage,     kVendor,   kHealth,   kSession,
                                                  kCameraList, kCamera,    kStream,   kSnapshot, kCameraWs, kHls,
                                                  kPublish,   kControl,    kToken,    kRecordingControl, kCaptureList,
                                                  kRecordings, kCaptures,  kGraph, kConfig, kValidate, kWhep, kMultiWs,  kEvents,   kOpenApi, kAccessCheck,
                                                  kCompatAction, kCompatPaths,
                                                  kMetrics, kOther};
    return rules;
}

const std::vector<RouteShape>& routeShapes() {
    // HEAD is listed where the handler answers it (isRead()); recordings and
    // captures are ids with slashes, so their shapes spell the segments out.
    static const std::vector<RouteShape> shapes = {
        {"/", "GET HEAD", "/", &kPage},
        {"/{page}", "GET HEAD", "/viewer.html", &kPage},
        {"/vendor/{file}", "GET HEAD", "/vendor/hls.light.min.js", &kVendor},
        {"/login.html", "GET HEAD", "/login.html", &kLoginPage},
        {"/login.js", "GET HEAD", "/login.js", &kLoginFiles},
        {"/style.css", "GET HEAD", "/style.css", &kLoginFiles},
        {"/favicon.ico", "GET HEAD", "/favicon.ico", &kLoginFiles},
        {"/favicon.svg", "GET HEAD", "/favicon.svg", &kLoginFiles},
        {"/health", "GET HEAD", "/health", &kHealth},
        // "/" with ?action= is mjpg-streamer's (kCompatAction); OpenAPI keys paths without
        // their query, so the description gives "/" an action parameter.
        {"/stream", "GET", "/stream", &kCompatPaths},
        {"/snapshot", "GET HEAD", "/snapshot", &kCompatPaths},
        {"/state", "GET HEAD", "/state", &kCompatPaths},
        {"/api/openapi.yaml", "GET HEAD", "/api/openapi.yaml", &kOpenApi},
        {"/api/session", "GET HEAD POST DELETE", "/api/session", &kSession},
        {"/api/access", "GET HEAD", "/api/access", &kAccessCheck},
        {"/api/cameras", "GET HEAD POST", "/api/cameras", &kCameraList},
        {"/api/cameras/{id}", "GET HEAD PUT PATCH DELETE", "/api/cameras/demo", &kCamera},
        {"/api/cameras/{id}/config", "GET HEAD", "/api/cameras/demo/config", &kConfig},
        {"/api/cameras/{id}/stream", "GET", "/api/cameras/demo/stream", &kStream},
        {"/api/cameras/{id}/snapshot", "GET HEAD", "/api/cameras/demo/snapshot", &kSnapshot},
        {"/api/cameras/{id}/ws", "GET", "/api/cameras/demo/ws", &kCameraWs},
        {"/api/cameras/{id}/publish", "GET", "/api/cameras/demo/publish", &kPublish},
        {"/api/cameras/{id}/start", "POST", "/api/cameras/demo/start", &kControl},
        {"/api/cameras/{id}/stop", "POST", "/api/cameras/demo/stop", &kControl},
        {"/api/cameras/{id}/token", "POST", "/api/cameras/demo/token", &kToken},
        {"/api/cameras/{id}/recording", "GET HEAD POST DELETE", "/api/cameras/demo/recording", &kRecordingControl},
        {"/api/cameras/{id}/captures", "GET HEAD", "/api/cameras/demo/captures", &kCaptureList},
        {"/api/cameras/{id}/graph", "GET HEAD", "/api/cameras/demo/graph", &kGraph},
        {"/api/cameras/{id}/whep", "POST", "/api/cameras/demo/whep", &kWhep},
        {"/api/cameras/{id}/whep/{peer}", "DELETE", "/api/cameras/demo/whep/1-x", &kWhep},
        {"/api/cameras/{id}/hls/index.m3u8", "GET HEAD", "/api/cameras/demo/hls/index.m3u8", &kHls},
        {"/api/cameras/{id}/hls/{segment}", "GET HEAD", "/api/cameras/demo/hls/x.ts", &kHls},
        {"/api/recordings", "GET HEAD", "/api/recordings", &kRecordings},
        {"/api/recordings/{camera}/{date}/{recording}", "GET HEAD DELETE",
         "/api/recordings/demo/2026-01-01/demo-20260101T000000Z.mkv", &kRecordings},
        {"/api/captures/{camera}/captures/{capture}", "GET HEAD DELETE",
         "/api/captures/demo/captures/demo-20260101T000000Z.jpg", &kCaptures},
        {"/api/pipelines/validate", "POST", "/api/pipelines/validate", &kValidate},
        {"/api/ws", "GET", "/api/ws", &kMultiWs},
        {"/api/events", "GET HEAD", "/api/events", &kEvents},
        {"/metrics", "GET HEAD", "/metrics", &kMetrics},
    };
    return shapes;
}

}  // namespace camrelay

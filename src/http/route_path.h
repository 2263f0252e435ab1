#pragma once
// The /api request path → (route, camera id, action), as a pure function so the
// router's parsing can be unit-tested and fuzzed apart from libsoup.
// Thread affinity: any thread (pure).
#include <string>
#include <string_view>

namespace camrelay {

enum class ApiRouteKind {
    NotFound,        // no /api route has this shape
    MultiWebsocket,  // /api/ws
    Session,         // /api/session
    CameraList,      // /api/cameras
    BadCameraId,     // /api/cameras/{id}[/{action}] with an id isValidCameraId() refuses
    Camera,          // /api/cameras/{id}[/{action}]
    PipelineValidate,  // /api/pipelines/validate
    OpenApi,         // /api/openapi.yaml: docs/openapi.yaml, compiled in
    AccessCheck,     // /api/access: may the request in X-Original-URI go ahead (nginx auth_request)
};

enum class CameraAction { None, Stream, Ws, Publish, Snapshot, Start, Stop, Token, Recording, Captures, Graph, Config, Hls, Whep, Unknown };

struct ApiRoute {
    ApiRouteKind kind = ApiRouteKind::NotFound;
    std::string cameraId;    // set for Camera and BadCameraId
    CameraAction action = CameraAction::None;
    std::string actionName;  // the segment as sent (for messages), empty when action is None
    // A 5th segment, only after the actions that have one (hls: the file name;
    // whep: the peer id); any other 5-segment path is NotFound. Undecoded, as sent.
    std::string subName;
};

// Empty segments are skipped ("//api///cameras/" is /api/cameras), as libsoup
// hands the path over undecoded and unnormalised.
// /api/cameras/{id}/{action}/{subName} only for hls.
ApiRoute parseApiRoute(std::string_view path);

}  // namespace camrelay

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
};

enum class CameraAction { None, Stream, Ws, Publish, Snapshot, Start, Stop, Token, Recording, Captures, Graph, Config, Whep, Unknown };

struct ApiRoute {
    ApiRouteKind kind = ApiRouteKind::NotFound;
    std::string cameraId;    // set for Camera and BadCameraId
    CameraAction action = CameraAction::None;
    std::string actionName;  // the segment as sent (for messages), empty when action is None
    // A 5th segment, allowed only under hls and whep (/api/cameras/{id}/whep/{peer}); empty otherwise.
    std::string subName;
};

// Empty segments are skipped ("//api///cameras/" is /api/cameras), as libsoup
// hands the path over undecoded and unnormalised.
ApiRoute parseApiRoute(std::string_view path);

}  // namespace camrelay

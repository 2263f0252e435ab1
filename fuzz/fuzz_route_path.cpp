// Fuzz target: the /api path → (route, camera id, action) parser the camera
// routes dispatch on (src/http/route_path.h).
#include "config/camera_config.h"
#include "http/route_path.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace camrelay;

namespace {
[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "parseApiRoute invariant violated: %s\n", what);
    std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path(reinterpret_cast<const char*>(data), size);
    const ApiRoute route = parseApiRoute(path);
    switch (route.kind) {
    case ApiRouteKind::NotFound:
    case ApiRouteKind::MultiWebsocket:
    case ApiRouteKind::CameraList:
        if (!route.cameraId.empty() || !route.actionName.empty() || route.action != CameraAction::None)
            violated("a route without a camera carries a camera id or action");
        break;
    case ApiRouteKind::BadCameraId:
        if (isValidCameraId(route.cameraId)) violated("a valid id reported as bad");
        break;
    case ApiRouteKind::Camera: {
        // The id is used as a lookup key and in file names: nothing but [A-Za-z0-9_-]{1,64}.
        if (!isValidCameraId(route.cameraId)) violated("an invalid camera id got through");
        if (route.cameraId.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            std::string::npos)
            violated("camera id with a character outside [A-Za-z0-9_-]");
        if ((route.action == CameraAction::None) != route.actionName.empty()) violated("action and its name disagree");
        if (route.actionName.find('/') != std::string::npos) violated("action name with a slash");
        // The canonical form of the same route parses to the same route.
        std::string canonical = "/api/cameras/" + route.cameraId;
        if (!route.actionName.empty()) canonical += "/" + route.actionName;
        const ApiRoute again = parseApiRoute(canonical);
        if (again.kind != route.kind || again.cameraId != route.cameraId || again.action != route.action ||
            again.actionName != route.actionName)
            violated("canonical path parses differently");
        if (path.find(route.cameraId) == std::string::npos) violated("camera id not taken from the path");
        break;
    }
    }
    return 0;
}

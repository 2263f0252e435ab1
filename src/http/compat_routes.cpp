// mjpg-streamer's and ustreamer's URLs (http/compat_path.h says which), served
// by the same code as /api/cameras/{id}/stream and /snapshot (http/camera_media).
#include "http/access_gate.h"
#include "http/camera_media.h"
#include "http/compat_path.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"

#include <cmath>
#include <memory>

namespace camrelay {

namespace {

struct CompatRoutes {
    Registry& registry;
    Outputs& outputs;
    const ServiceConfig& config;

    // False when (path, query) is no compatibility URL: "/" then serves the page.
    bool handle(SoupServerMessage* msg, const char* path, GHashTable* query);
    void state(SoupServerMessage* msg, Camera& camera);
};

std::vector<std::string> cameraIds(const Registry& registry) {
    std::vector<std::string> ids;
    for (const CameraPtr& camera : registry.cameras()) ids.push_back(camera->id());
    return ids;
}

std::string_view queryText(GHashTable* query, const char* key) {
    const char* value = queryValue(query, key);
    return value ? value : "";
}

bool CompatRoutes::handle(SoupServerMessage* msg, const char* path, GHashTable* query) {
    const CompatRequest request = parseCompatRequest(path, queryText(query, "action"), queryText(query, "camera"));
    if (request.kind == CompatKind::None) {
        if (g_str_equal(path, "/")) return false;
        // "/stream/x" and the like: the handler's path matched as a prefix.
        respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no page ") + path);
        return true;
    }
    if (!config.compat.enabled) {
        respondError(msg, SOUP_STATUS_NOT_FOUND, "compat_disabled",
                     "the mjpg-streamer and ustreamer URLs are off ([compat] enabled=false); use /api/cameras/{id}/stream "
                     "and /snapshot");
        return true;
    }
    if (request.kind == CompatKind::Stream ? !methodIs(msg, "GET") : !isRead(msg)) {
        respondMethodNotAllowed(msg, request.kind == CompatKind::Stream ? "GET" : "GET, HEAD");
        return true;
    }
    const CompatTarget target = resolveCompatCamera(request, cameraIds(registry), config.compat.defaultCamera);
    CameraPtr camera = target.error.empty() ? registry.find(target.cameraId) : nullptr;
    if (!camera) {
        respondError(msg, SOUP_STATUS_NOT_FOUND, "unknown_camera",
                     target.error.empty() ? "no camera \"" + target.cameraId + "\"" : target.error);
        return true;
    }
    // The gate let a stream token through for the camera these URLs named when the request
    // head arrived; the camera list may have changed since (stream_N, the first camera), e.g.
    // while a client held back a request body. Serve only the token's camera.
    const Identity* who = requestIdentity(msg);
    if (who && who->kind == Identity::Kind::Token && who->camera != camera->id()) {
        respondError(msg, SOUP_STATUS_FORBIDDEN, "token_not_valid_here",
                     "this token opens only camera " + who->camera + "'s stream, snapshot and WebSocket");
        return true;
    }
    switch (request.kind) {
    case CompatKind::Stream: respondCameraStream(msg, *camera, query, outputs, config); break;
    case CompatKind::Snapshot: respondCameraSnapshot(msg, *camera, outputs, config); break;
    case CompatKind::State: state(msg, *camera); break;
    case CompatKind::None: break;
    }
    return true;
}

// ustreamer's /state: {"ok": true, "result": {"encoder", "source", "stream"}}, with
// camrelay's figures where they mean the same (docs/api.md, "Compatibility URLs").
void CompatRoutes::state(SoupServerMessage* msg, Camera& camera) {
    const CameraStats s = camera.stats();
    const CameraConfig& c = camera.config();
    const int64_t fps = int64_t(std::lround(s.fps));
    JsonObjectValue encoder;
    // ustreamer's name for a software JPEG encoder; quality: the camera's JPEG quality key.
    encoder.set("type", "CPU").set("quality", int64_t(c.quality));
    JsonObjectValue resolution;
    resolution.set("width", int64_t(s.width)).set("height", int64_t(s.height));
    JsonObjectValue source;
    source.set("resolution", std::move(resolution)).set("online", camera.state() == CameraState::Live);
    const int64_t desired = c.framerate.isSet() ? int64_t(std::lround(c.framerate.value())) : 0;  // 0: the source's
    source.set("desired_fps", desired).set("captured_fps", fps);
    JsonObjectValue stream;
    const MjpegStats mjpeg = outputs.mjpegStats(camera.id());
    // Every source frame reaches the MJPEG fan-out, which sends each viewer the newest.
    stream.set("queued_fps", mjpeg.viewers > 0 ? fps : int64_t(0)).set("clients", uint64_t(mjpeg.viewers));
    stream.set("clients_stat", JsonObjectValue());
    JsonObjectValue result;
    result.set("instance_id", "").set("camera", camera.id());
    result.set("encoder", std::move(encoder)).set("source", std::move(source)).set("stream", std::move(stream));
    JsonObjectValue body;
    body.set("ok", true).set("result", std::move(result));
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-store");
    respondJson(msg, SOUP_STATUS_OK, body);
}

}  // namespace

RootActionHandler addCompatRoutes(SoupServer* server, Registry& registry, Outputs& outputs, const ServiceConfig& config) {
    auto routes = std::make_shared<CompatRoutes>(CompatRoutes{registry, outputs, config});
    for (const char* path : {"/stream", "/snapshot", "/state"}) {
        soup_server_add_handler(
            server, path,
            [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
                try {
                    (*static_cast<std::shared_ptr<CompatRoutes>*>(data))->handle(msg, path, query);
                } catch (const std::exception& e) {
                    respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", e.what());
                }
            },
            new std::shared_ptr<CompatRoutes>(routes),
            [](gpointer data) { delete static_cast<std::shared_ptr<CompatRoutes>*>(data); });
    }
    return [routes](SoupServerMessage* msg, const char* path, GHashTable* query) {
        return routes->handle(msg, path, query);
    };
}

std::string compatCameraFor(const Registry& registry, const ServiceConfig& config, const char* path, GHashTable* query) {
    const CompatRequest request = parseCompatRequest(path, queryText(query, "action"), queryText(query, "camera"));
    if (request.kind == CompatKind::None) return "";
    return resolveCompatCamera(request, cameraIds(registry), config.compat.defaultCamera).cameraId;
}

}  // namespace camrelay

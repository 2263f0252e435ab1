// /api/cameras[/{id}[/start|stop|stream|snapshot|ws|publish|token|hls/{file}]], /api/ws, /api/openapi.yaml
#include "core/json_input.h"
#include "http/access_gate.h"
#include "core/clock.h"
#include "core/gobject_ptr.h"
#include "core/log.h"
#include "http/camera_edit_routes.h"
#include "http/camera_json.h"
#include "http/camera_media.h"
#include "http/hls_routes.h"
#include "http/json.h"
#include "http/pipeline_routes.h"
#include "http/recording_routes.h"
#include "http/request.h"
#include "http/route_path.h"
#include "http/upgrade.h"
#include "http/whep_routes.h"
#include "http/server.h"

#include <cstring>
#include <cmath>
#include <memory>

#define GST_CAT_DEFAULT camrelay_http_debug

namespace camrelay {

namespace {

struct CameraRoutes {
    Registry& registry;
    Outputs& outputs;
    PushIngest& ingest;
    const ServiceConfig& config;
    Authenticator& auth;

    void handle(SoupServerMessage* msg, const char* path, GHashTable* query);
    void list(SoupServerMessage* msg);
    void stream(SoupServerMessage* msg, Camera& camera, GHashTable* query);
    void websocket(SoupServerMessage* msg, Camera& camera, GHashTable* query);
    void multiWebsocket(SoupServerMessage* msg, GHashTable* query);
    void publish(SoupServerMessage* msg, const CameraPtr& camera);
    void snapshot(SoupServerMessage* msg, Camera& camera);
    void control(SoupServerMessage* msg, Camera& camera, const std::string& action);
    void token(SoupServerMessage* msg, Camera& camera);
};

// docs/openapi.yaml as compiled into the binary (data/camrelay.gresource.xml):
// the description always matches the build that serves it.
void respondOpenApi(SoupServerMessage* msg) {
    if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
    GUniquePtr<GBytes> yaml(
        g_resources_lookup_data("/camrelay/docs/openapi.yaml", G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
    if (!yaml)
        return respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                            "docs/openapi.yaml is not compiled into this binary");
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_content_type(headers, "application/yaml", nullptr);
    soup_message_headers_replace(headers, "Cache-Control", "no-cache");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_message_body_append_bytes(soup_server_message_get_response_body(msg), yaml.get());
}

void CameraRoutes::handle(SoupServerMessage* msg, const char* path, GHashTable* query) {
    const ApiRoute route = parseApiRoute(path);
    if (route.kind == ApiRouteKind::OpenApi) return respondOpenApi(msg);
    if (route.kind == ApiRouteKind::MultiWebsocket) {
        if (!methodIs(msg, "GET")) return respondMethodNotAllowed(msg, "GET");
        return multiWebsocket(msg, query);
    }
    if (route.kind == ApiRouteKind::PipelineValidate) return respondPipelineValidate(msg);  // issue 12: validate
    if (route.kind == ApiRouteKind::NotFound || route.kind == ApiRouteKind::Session ||
        route.kind == ApiRouteKind::AccessCheck) {  // their own handlers (paths libsoup maps elsewhere)
        respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no API route ") + path);
        return;
    }
    const CameraEditContext edits{registry, outputs, config};  // issue 12: camera_edit_routes
    if (route.kind == ApiRouteKind::CameraList) {
        if (methodIs(msg, "POST")) return createCamera(msg, edits);
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD, POST");
        return list(msg);
    }
    const std::string& id = route.cameraId;
    if (route.kind == ApiRouteKind::BadCameraId) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
                     "camera ids use only A-Z a-z 0-9 _ - and at most 64 characters");
        return;
    }
    // The file is the truth: edits and the config view go by the file, not the registry.
    if (route.action == CameraAction::None && (methodIs(msg, "PUT") || methodIs(msg, "PATCH")))
        return editCamera(msg, edits, id, methodIs(msg, "PUT"));
    if (route.action == CameraAction::None && methodIs(msg, "DELETE")) return deleteCamera(msg, edits, id);
    if (route.action == CameraAction::Config) {
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
        return respondCameraConfig(msg, edits, id);
    }
    CameraPtr camera = registry.find(id);
    if (!camera) {
        respondError(msg, SOUP_STATUS_NOT_FOUND, "unknown_camera", "no camera \"" + id + "\"");
        return;
    }
    switch (route.action) {
    case CameraAction::None:
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD, PUT, PATCH, DELETE");
        setCameraEtag(msg, edits, id);
        return respondJson(msg, SOUP_STATUS_OK, cameraJson(*camera, outputs));
    case CameraAction::Stream:
        if (!methodIs(msg, "GET")) return respondMethodNotAllowed(msg, "GET");
        return stream(msg, *camera, query);
    case CameraAction::Ws:
        if (!methodIs(msg, "GET")) return respondMethodNotAllowed(msg, "GET");
        return websocket(msg, *camera, query);
    case CameraAction::Publish:
        if (!methodIs(msg, "GET")) return respondMethodNotAllowed(msg, "GET");
        return publish(msg, camera);
    case CameraAction::Snapshot:
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
        return snapshot(msg, *camera);
    case CameraAction::Start:
    case CameraAction::Stop:
        if (!methodIs(msg, "POST")) return respondMethodNotAllowed(msg, "POST");
        return control(msg, *camera, route.actionName);
    case CameraAction::Token:
        if (!methodIs(msg, "POST")) return respondMethodNotAllowed(msg, "POST");
        return token(msg, *camera);
    case CameraAction::Captures:
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
        return respondCaptureList(msg, config, camera->id());
    case CameraAction::Recording:
        return handleRecording(msg, *camera, outputs);
    case CameraAction::Graph:  // issue 12: graph dumps
        return respondCameraGraph(msg, *camera, query);
    case CameraAction::Whep:  // issue 14: WebRTC
        return handleWhep(msg, camera->id(), route.subName, outputs);
    case CameraAction::Hls:  // issue 14: HLS playlist and segments
        return respondHls(msg, *camera, outputs, route.subName, query);
    case CameraAction::Config:  // answered above
    case CameraAction::Unknown:
        break;
    }
    respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", "camera " + id + " has no \"" + route.actionName + "\"");
}

void CameraRoutes::list(SoupServerMessage* msg) {
    JsonObjectValue body;
    body.setEmptyArray("cameras");
    for (const CameraPtr& camera : registry.cameras()) body.append("cameras", cameraJson(*camera, outputs));
    respondJson(msg, SOUP_STATUS_OK, body);
}

void CameraRoutes::stream(SoupServerMessage* msg, Camera& camera, GHashTable* query) {
    respondCameraStream(msg, camera, query, outputs, config);
}

namespace {

// ?format=json|binary of both WebSocket viewer routes; nullopt after a 400.
std::optional<WsFrameFormat> parseWsFormat(SoupServerMessage* msg, GHashTable* query, WsFrameFormat fallback) {
    const char* format = queryValue(query, "format");
    if (!format) return fallback;
    if (g_str_equal(format, "json")) return WsFrameFormat::Json;
    if (g_str_equal(format, "binary")) return WsFrameFormat::Binary;
    // Echo a little of what came, not a URI's worth of it.
    const std::string got(format, strnlen(format, 32));
    respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_format",
                 "format must be json or binary (got \"" + got + (format[got.size()] ? "…" : "") + "\")");
    return std::nullopt;
}

}  // namespace

void CameraRoutes::websocket(SoupServerMessage* msg, Camera& camera, GHashTable* query) {
    WsViewerOptions options;
    const std::optional<WsFrameFormat> format = parseWsFormat(msg, query, WsFrameFormat::Json);
    if (!format) return;
    options.format = *format;
    const std::optional<double> fps = parseFps(msg, query);
    if (!fps || !viewerAllowed(msg, camera, outputs, config)) return;
    options.maxFps = *fps;
    const std::optional<std::string> handshake = checkWebSocketUpgrade(msg);
    if (!handshake) return;
    if (StolenConnection c = stealConnection(msg, SOUP_STATUS_SWITCHING_PROTOCOLS))
        outputs.websockets().addCameraViewer(std::move(c.stream), std::move(c.socket), *handshake, camera, options);
}

void CameraRoutes::multiWebsocket(SoupServerMessage* msg, GHashTable* query) {
    // Binary by default: the dashboard's format, and it costs a third less than base64.
    const std::optional<WsFrameFormat> format = parseWsFormat(msg, query, WsFrameFormat::Binary);
    if (!format) return;
    const std::optional<std::string> handshake = checkWebSocketUpgrade(msg);
    if (!handshake) return;
    if (StolenConnection c = stealConnection(msg, SOUP_STATUS_SWITCHING_PROTOCOLS))
        outputs.websockets().addMultiViewer(std::move(c.stream), std::move(c.socket), *handshake, *format);
}

void CameraRoutes::publish(SoupServerMessage* msg, const CameraPtr& cameraPtr) {
    Camera& camera = *cameraPtr;
    if (!camera.isPush())
        return respondError(msg, SOUP_STATUS_CONFLICT, "not_push",
                            "camera " + camera.id() + " has its own source; only source=push cameras take frames");
    const std::optional<std::string> handshake = checkWebSocketUpgrade(msg);
    if (!handshake) return;
    if (StolenConnection c = stealConnection(msg, SOUP_STATUS_SWITCHING_PROTOCOLS))
        ingest.addPublisher(std::move(c.stream), std::move(c.socket), *handshake, cameraPtr);
}

void CameraRoutes::snapshot(SoupServerMessage* msg, Camera& camera) {
    respondCameraSnapshot(msg, camera, outputs, config);
}

void CameraRoutes::control(SoupServerMessage* msg, Camera& camera, const std::string& action) {
    if (action == "start") {
        if (!camera.configValid()) {
            respondError(msg, SOUP_STATUS_CONFLICT, "camera_failed",
                         "camera " + camera.id() + " cannot start: " + camera.lastError());
            return;
        }
        camera.start();
    } else {
        camera.stop();
    }
    logInfo(camera.id(), action + " requested over HTTP; now " + toString(camera.state()));
    respondJson(msg, SOUP_STATUS_OK, cameraJson(camera, outputs));
}

// A read-only token for this camera's stream, snapshot and WebSocket, for
// clients that cannot log in (<img> on another page, Home Assistant).
void CameraRoutes::token(SoupServerMessage* msg, Camera& camera) {
    if (!auth.enabled())
        return respondError(msg, SOUP_STATUS_CONFLICT, "auth_off", "authentication is off: the camera needs no token");
    int ttl = auth.config().tokenTtlSec;
    const int maxTtl = auth.config().maxTokenTtlSec;
    const std::string request = requestBody(msg);
    if (!request.empty()) {
        JsonInput input(request, JsonInputLimits{4096, 2});
        JsonObjectView object = input.ok() ? input.rootObject() : JsonObjectView();
        double value = 0;
        const auto member = object ? object.number("ttl", &value) : JsonObjectView::Member::WrongType;
        if (member == JsonObjectView::Member::WrongType || (member == JsonObjectView::Member::Ok &&
                                                            (value != std::floor(value) || value < 60 || value > maxTtl)))
            return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_ttl",
                                "send {} or {\"ttl\": seconds}, a whole number from 60 to " + std::to_string(maxTtl) +
                                    " ([auth] max-token-ttl)");
        if (member == JsonObjectView::Member::Ok) ttl = int(value);
    }
    int64_t expires = 0;
    const std::string token = auth.issueToken(camera.id(), ttl, &expires);
    const Identity* who = requestIdentity(msg);
    logInfo(camera.id(), "stream token issued to " + (who ? printableName(who->user) : std::string("?")) + " for " +
                             std::to_string(ttl) + " s");
    const std::string base = "/api/cameras/" + camera.id();
    JsonObjectValue body;
    body.set("token", token).set("camera", camera.id()).set("expires", expires).set("expires_in", int64_t(ttl));
    body.set("stream", base + "/stream?token=" + token).set("snapshot", base + "/snapshot?token=" + token);
    body.set("ws", base + "/ws?token=" + token);
    respondJson(msg, SOUP_STATUS_OK, body);
}

}  // namespace

void addCameraRoutes(SoupServer* server, Registry& registry, Outputs& outputs, PushIngest& ingest,
                     const ServiceConfig& config, Authenticator& auth) {
    auto* routes = new CameraRoutes{registry, outputs, ingest, config, auth};
    soup_server_add_handler(
        server, "/api",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
            try {
                static_cast<CameraRoutes*>(data)->handle(msg, path, query);
            } catch (const std::exception& e) {
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", e.what());
            }
        },
        routes, [](gpointer data) { delete static_cast<CameraRoutes*>(data); });
}

}  // namespace camrelay

// "/" and the page's files (compiled in with GResource), and /health.
#include "core/clock.h"
#include "http/access_gate.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"

#include <regex>

namespace camrelay {

namespace {

const char* contentTypeFor(const std::string& name) {
    if (g_str_has_suffix(name.c_str(), ".html")) return "text/html; charset=utf-8";
    if (g_str_has_suffix(name.c_str(), ".js")) return "text/javascript; charset=utf-8";
    if (g_str_has_suffix(name.c_str(), ".css")) return "text/css; charset=utf-8";
    if (g_str_has_suffix(name.c_str(), ".svg")) return "image/svg+xml";
    if (g_str_has_suffix(name.c_str(), ".png")) return "image/png";
    if (g_str_has_suffix(name.c_str(), ".ico")) return "image/vnd.microsoft.icon";
    if (g_str_has_suffix(name.c_str(), "LICENSE")) return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

void serveWebFile(SoupServerMessage* msg, const char* path) {
    const char* method = soup_server_message_get_method(msg);
    if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) return respondMethodNotAllowed(msg, "GET, HEAD");
    std::string name = g_str_equal(path, "/") ? "index.html" : path + 1;
    // One flat folder of files, and vendor/ for third-party scripts (hls.js):
    // no "..", no hidden files, no other subfolders.
    static const std::regex safe("^(vendor/)?[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$");
    GBytes* data = nullptr;
    if (std::regex_match(name, safe))
        data = g_resources_lookup_data(("/camrelay/web/" + name).c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
    if (!data) return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no page ") + path);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_content_type(headers, contentTypeFor(name), nullptr);
    soup_message_headers_replace(headers, "Cache-Control", "no-cache");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_message_body_append_bytes(soup_server_message_get_response_body(msg), data);
    g_bytes_unref(data);
}

struct Health {
    Registry& registry;
    Outputs& outputs;
    const FrontDoor& door;
    int64_t startedUs = monotonicNowUs();
};

}  // namespace

void addStaticRoutes(SoupServer* server, Registry& registry, Outputs& outputs, const FrontDoor& door,
                     RootActionHandler rootAction) {
    soup_server_add_handler(
        server, "/",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
            try {
                // mjpg-streamer's /?action=stream|snapshot; any other query on "/" is the page.
                const auto& root = *static_cast<RootActionHandler*>(data);
                if (root && g_str_equal(path, "/") && queryValue(query, "action") && root(msg, path, query)) return;
                serveWebFile(msg, path);
            } catch (const std::exception& e) {
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", e.what());
            }
        },
        new RootActionHandler(std::move(rootAction)), [](gpointer data) { delete static_cast<RootActionHandler*>(data); });
    soup_server_add_handler(
        server, "/health",
        [](SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) noexcept {
            auto* health = static_cast<Health*>(data);
            if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
            if (!requestIdentity(msg)) {
                // Auth is on and no credential came: liveness only, nothing about the cameras.
                JsonObjectValue body;
                body.set("status", "ok");
                return respondJson(msg, SOUP_STATUS_OK, body);
            }
            int64_t live = 0, failed = 0, recovering = 0;
            for (const CameraPtr& c : health->registry.cameras()) {
                live += c->state() == CameraState::Live;
                failed += c->state() == CameraState::Failed;
                recovering += c->recovering();
            }
            JsonObjectValue body;
            body.set("status", "ok").set("uptime", (monotonicNowUs() - health->startedUs) / 1e6);
            body.set("cameras", int64_t(health->registry.cameras().size())).set("live", live).set("failed", failed);
            body.set("recovering", recovering);
            // Every WebSocket viewer (one set for all cameras): flow-control figures.
            const ViewerSocketStats ws = health->outputs.websockets().stats();
            JsonObjectValue websocket;
            websocket.set("viewers", uint64_t(ws.viewers)).set("frames_sent", ws.framesSent);
            websocket.set("frames_dropped", ws.framesDropped).set("viewers_timed_out", ws.viewersTimedOut);
            websocket.set("pending_bytes", ws.pendingBytes).set("max_viewer_pending_bytes", ws.maxClientPendingBytes);
            body.set("websocket", std::move(websocket));
            const FrontDoorStats d = health->door.stats();
            JsonObjectValue http;
            http.set("connections", d.open).set("connection_limit", health->door.connectionCap());
            http.set("reading_head", d.readingHead).set("awaiting_body", d.inLibsoup).set("accepted", d.accepted);
            http.set("refused", d.refused).set("rejected", d.rejected).set("timed_out", d.timedOut);
            body.set("http", std::move(http));
            respondJson(msg, SOUP_STATUS_OK, body);
        },
        new Health{registry, outputs, door}, [](gpointer data) { delete static_cast<Health*>(data); });
}

}  // namespace camrelay

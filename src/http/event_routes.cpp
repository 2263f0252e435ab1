// /api/events: what happened to the cameras.
//   GET  /api/events[?after=<id>][&limit=<n>][&camera=<id>]  recent history as JSON
//   WebSocket upgrade on the same path: one text message per new event,
//   {"type":"event","data":{...}}; ?after=<id> first replays what was missed
//   (a client that reconnects loses nothing the ring still holds).
// The WebSocket clients are served by ViewerSockets with camrelay's own
// RFC 6455 framing, like the viewers, not by libsoup's WebSocketConnection:
// its send queue has no bound (10 clients that never read, 40,000 events:
// +104 MB, kept after they closed). Here each event's message is built once
// and shared; a client may hold at most ViewerSockets::kMaxControl unsent
// messages beyond its socket buffer and is dropped when it has more, or when
// it accepts no bytes for limits.client-timeout.

#include "camera/registry.h"
#include "config/service_config.h"
#include "core/clock.h"
#include "core/fd_watch_set.h"
#include "core/log.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"
#include "http/upgrade.h"
#include "outputs/viewer_sockets.h"
#include "outputs/websocket_protocol.h"
#include "outputs/websocket_send.h"

#define GST_CAT_DEFAULT camrelay_http_debug

namespace camrelay {

namespace {

constexpr uint64_t kMaxLimit = 500;
constexpr size_t kMaxIncomingMessage = 4096;  // clients have nothing to say here
constexpr guint kKeepaliveSec = 30;           // pings, so a vanished client's socket errors out in time
// Events are a few hundred bytes: 16 KiB of kernel buffer (doubled by Linux)
// holds ~100 of them; a client that never reads is then stalled, and dropped,
// after kilobytes rather than the megabyte a video viewer may need.
constexpr int kEventSendBuffer = 16 * 1024;

JsonObjectValue eventJson(const LoggedEvent& logged) {
    const CameraEvent& e = logged.event;
    JsonObjectValue o;
    o.set("id", logged.id).set("time", formatIsoTime(logged.unixUs)).set("time_ms", logged.unixUs / 1000);
    o.set("camera", e.camera).set("type", e.type).set("state", e.state);
    o.set("message", e.message.empty() ? nullptr : e.message.c_str());
    if (e.type == "reconnect") o.set("attempt", e.attempt).set("delay", e.delaySec);
    return o;
}

struct EventFilter {
    uint64_t after = 0;
    uint64_t limit = 100;
    std::string camera;  // empty: every camera
    std::string problem;  // non-empty: the query was wrong, and why
    bool matches(const LoggedEvent& e) const { return camera.empty() || e.event.camera == camera; }
};

EventFilter parseFilter(GHashTable* query) {
    EventFilter f;
    if (const char* after = queryValue(query, "after")) {
        auto v = parseCount(after, G_MAXINT64);
        if (!v) f.problem = std::string("after must be an event id (got \"") + after + "\")";
        else f.after = *v;
    }
    if (const char* limit = queryValue(query, "limit")) {
        auto v = parseCount(limit, kMaxLimit);
        if (!v || *v == 0) f.problem = "limit must be 1.." + std::to_string(kMaxLimit) + " (got \"" + limit + "\")";
        else f.limit = *v;
    }
    if (const char* camera = queryValue(query, "camera")) f.camera = camera;
    return f;
}

class EventRoutes {
public:
    EventRoutes(Registry& registry, int clientTimeoutSec)
        : registry_(registry),
          sockets_(clientTimeoutSec, [this](ViewerSockets::Client& c, std::string_view data) { onInput(c, data); }, {},
                   "event clients"),
          subscription_(registry.events().onEvent([this](const LoggedEvent& e) { broadcast(e); })) {
        sockets_.setSocketSendBuffer(kEventSendBuffer);
    }

    void history(SoupServerMessage* msg, GHashTable* query) {
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
        EventFilter filter = parseFilter(query);
        if (!filter.problem.empty()) return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_query", filter.problem);
        JsonObjectValue body;
        body.setEmptyArray("events");
        std::vector<LoggedEvent> matching;
        for (const auto& e : registry_.events().recent(filter.after))
            if (filter.matches(e)) matching.push_back(e);
        const size_t skip = matching.size() > filter.limit ? matching.size() - filter.limit : 0;
        for (size_t i = skip; i < matching.size(); ++i) body.append("events", eventJson(matching[i]));
        const auto all = registry_.events().recent(0, 1);
        body.set("last_id", all.empty() ? uint64_t(0) : all.back().id);
        respondJson(msg, SOUP_STATUS_OK, body);
    }

    void accept(SoupServerMessage* msg, GHashTable* query) {
        const std::optional<std::string> handshake = checkWebSocketUpgrade(msg);
        if (!handshake) return;
        EventFilter filter = parseFilter(query);
        StolenConnection stolen = stealConnection(msg, SOUP_STATUS_SWITCHING_PROTOCOLS);
        if (!stolen) return;
        ViewerSockets::Client& client = sockets_.add(std::move(stolen.stream), std::move(stolen.socket));
        try {
            serveNew(client, filter, *handshake);
        } catch (...) {  // the connection is ours now: log, and close it here
            const std::string what = currentExceptionText();
            GST_ERROR("event client %s: %s; dropping it", client.peer.c_str(), what.c_str());
            logWarning("", "dropped event client " + client.peer + " after an internal error: " + what);
            sockets_.drop(client, "internal error");
        }
        sockets_.sweep();
    }

private:
    void serveNew(ViewerSockets::Client& client, const EventFilter& filter, const std::string& handshake) {
        auto state = std::make_shared<ClientState>();
        state->filter = filter;
        client.state = state;
        sockets_.sendControl(client, std::make_shared<const std::string>(handshake));
        if (!filter.problem.empty()) {
            closeWs(sockets_, client, kWsPolicyViolation, filter.problem);
        } else if (filter.after) {
            // What was missed, as one write of many frames: a replay of the
            // whole ring costs one control slot, not hundreds.
            std::string replay;
            for (const auto& e : registry_.events().recent(filter.after))
                if (filter.matches(e)) replay += websocketFrame(WsOpcode::Text, eventText(e));
            if (!replay.empty()) sockets_.sendControl(client, std::make_shared<const std::string>(std::move(replay)));
        }
        if (!keepalive_)
            keepalive_ = SourceHandle(g_timeout_add_seconds(kKeepaliveSec, [](gpointer self) noexcept -> gboolean {
                try {
                    return static_cast<EventRoutes*>(self)->ping();
                } catch (...) {
                    logError("", "event clients: keepalive failed: " + currentExceptionText());
                    return G_SOURCE_CONTINUE;
                }
            }, this));
    }

    struct ClientState {
        EventFilter filter;
        WsReader reader{kMaxIncomingMessage};
    };

    static std::string eventText(const LoggedEvent& e) {
        JsonObjectValue message;
        message.set("type", "event").set("data", eventJson(e));
        return message.toString();
    }

    void broadcast(const LoggedEvent& e) {
        ViewerSockets::Bytes frame;  // built once, for the first client that wants it
        sockets_.forEach([&](ViewerSockets::Client& client) {
            if (!static_cast<ClientState*>(client.state.get())->filter.matches(e)) return;
            if (!frame) frame = std::make_shared<const std::string>(websocketFrame(WsOpcode::Text, eventText(e)));
            sockets_.sendControl(client, frame);
        });
    }

    gboolean ping() {
        if (!sockets_.size()) {
            keepalive_.forget();
            return G_SOURCE_REMOVE;
        }
        const auto frame = std::make_shared<const std::string>(websocketFrame(WsOpcode::Ping, {}));
        sockets_.forEach([&](ViewerSockets::Client& client) { sockets_.sendControl(client, frame); });
        return G_SOURCE_CONTINUE;
    }

    void onInput(ViewerSockets::Client& client, std::string_view data) {
        auto& state = *static_cast<ClientState*>(client.state.get());
        try {
            std::vector<WsMessage> messages;
            const bool ok = state.reader.feed(data, messages);
            for (auto& m : messages) {
                if (m.opcode == WsOpcode::Ping) sendWsPong(sockets_, client, m.payload);
                else if (m.opcode == WsOpcode::Close) return closeWs(sockets_, client, kWsNormalClosure, "bye");
                // Text and binary messages mean nothing here; they are read and ignored.
            }
            if (!ok) {
                GST_INFO("closing event client %s: %s", client.peer.c_str(), state.reader.error().c_str());
                closeWs(sockets_, client, state.reader.closeCode(), state.reader.error());
            }
        } catch (...) {
            const std::string what = currentExceptionText();
            GST_ERROR("event client %s: %s; closing it with 1011", client.peer.c_str(), what.c_str());
            logWarning("", "closing event client " + client.peer + " after an internal error: " + what);
            closeWs(sockets_, client, kWsInternalError, "internal error");
        }
    }

    Registry& registry_;
    ViewerSockets sockets_;
    Connection subscription_;
    SourceHandle keepalive_;
};

}  // namespace

void addEventRoutes(SoupServer* server, Registry& registry, int clientTimeoutSec) {
    auto* routes = new EventRoutes(registry, clientTimeoutSec);
    soup_server_add_handler(
        server, "/api/events",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
            try {
                if (!g_str_equal(path, "/api/events"))
                    return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no API route ") + path);
                SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
                if (soup_message_headers_header_contains(headers, "Upgrade", "websocket"))
                    return static_cast<EventRoutes*>(data)->accept(msg, query);
                static_cast<EventRoutes*>(data)->history(msg, query);
            } catch (...) {
                const std::string what = currentExceptionText();
                GST_ERROR("/api/events: %s", what.c_str());
                logWarning("", "/api/events request failed: " + what);
                // accept() handles its own errors once the connection is stolen: this is still libsoup's.
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", what);
            }
        },
        routes, [](gpointer data) { delete static_cast<EventRoutes*>(data); });
}

}  // namespace camrelay

// /api/events: what happened to the cameras.
//   GET  /api/events[?after=<id>][&limit=<n>][&camera=<id>]  recent history as JSON
//   WebSocket upgrade on the same path: one text message per new event,
//   {"type":"event","data":{...}}; ?after=<id> first replays what was missed
//   (a client that reconnects loses nothing the ring still holds).
// Events are a few hundred bytes and come at most a few per camera per
// backoff step, so libsoup's own send queue is used as is (see docs/api.md).
#include "camera/registry.h"
#include "core/clock.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"

#include <list>

namespace camrelay {

namespace {

constexpr uint64_t kMaxLimit = 500;
constexpr guint64 kMaxIncomingMessage = 4096;  // clients have nothing to say here
constexpr guint kKeepaliveSec = 30;            // finds clients that vanished without a close

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
    explicit EventRoutes(Registry& registry)
        : registry_(registry), subscription_(registry.events().onEvent([this](const LoggedEvent& e) { broadcast(e); })) {}
    ~EventRoutes() {
        for (auto& client : clients_) g_signal_handlers_disconnect_by_data(client.connection.get(), this);
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

    void accept(SoupServerMessage* msg, SoupWebsocketConnection* connection) {
        GUniquePtr<GHashTable> query;
        if (const char* q = g_uri_get_query(soup_server_message_get_uri(msg)))
            query.reset(g_uri_parse_params(q, -1, "&", G_URI_PARAMS_NONE, nullptr));
        EventFilter filter = parseFilter(query.get());
        if (!filter.problem.empty()) {
            soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, filter.problem.c_str());
            return;
        }
        soup_websocket_connection_set_max_incoming_payload_size(connection, kMaxIncomingMessage);
        soup_websocket_connection_set_keepalive_interval(connection, kKeepaliveSec);
        clients_.push_back(Client{GRef<SoupWebsocketConnection>::ref(connection), filter});
        g_signal_connect(connection, "closed", G_CALLBACK(+[](SoupWebsocketConnection* c, gpointer self) noexcept {
            static_cast<EventRoutes*>(self)->forget(c);
        }), this);
        if (filter.after)
            for (const auto& e : registry_.events().recent(filter.after))
                if (filter.matches(e)) send(connection, e);
    }

private:
    struct Client {
        GRef<SoupWebsocketConnection> connection;
        EventFilter filter;
    };

    static void send(SoupWebsocketConnection* connection, const LoggedEvent& e) {
        JsonObjectValue message;
        message.set("type", "event").set("data", eventJson(e));
        soup_websocket_connection_send_text(connection, message.toString().c_str());
    }

    void broadcast(const LoggedEvent& e) {
        for (auto& client : clients_)
            if (client.filter.matches(e) &&
                soup_websocket_connection_get_state(client.connection.get()) == SOUP_WEBSOCKET_STATE_OPEN)
                send(client.connection.get(), e);
    }

    void forget(SoupWebsocketConnection* connection) {
        g_signal_handlers_disconnect_by_data(connection, this);
        clients_.remove_if([connection](const Client& c) { return c.connection.get() == connection; });
    }

    Registry& registry_;
    Connection subscription_;
    std::list<Client> clients_;
};

}  // namespace

void addEventRoutes(SoupServer* server, Registry& registry) {
    auto* routes = new EventRoutes(registry);
    soup_server_add_handler(
        server, "/api/events",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
            try {
                // An upgrade is left unanswered here: libsoup then hands it to the WebSocket handler.
                SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
                if (soup_message_headers_header_contains(headers, "Upgrade", "websocket")) return;
                if (!g_str_equal(path, "/api/events"))
                    return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no API route ") + path);
                static_cast<EventRoutes*>(data)->history(msg, query);
            } catch (const std::exception& e) {
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", e.what());
            }
        },
        routes, [](gpointer data) { delete static_cast<EventRoutes*>(data); });
    soup_server_add_websocket_handler(
        server, "/api/events", nullptr, nullptr,
        [](SoupServer*, SoupServerMessage* msg, const char*, SoupWebsocketConnection* connection, gpointer data) noexcept {
            try {
                static_cast<EventRoutes*>(data)->accept(msg, connection);
            } catch (...) {
                soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "internal error");
            }
        },
        routes, nullptr);
}

}  // namespace camrelay

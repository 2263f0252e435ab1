#include "ws_client.h"

#include "json_query.h"

#include <chrono>
#include <stdexcept>

namespace camrelay::testing {

WsClient::WsClient(int port, const std::string& path, int timeoutMs, const std::string& trustedCertificate)
    : context_(g_main_context_new()) {
    g_main_context_push_thread_default(context_);
    session_ = soup_session_new();
    if (!trustedCertificate.empty()) {
        GError* error = nullptr;
        GTlsDatabase* database = g_tls_file_database_new(trustedCertificate.c_str(), &error);
        if (!database) {
            const std::string why = error ? error->message : "?";
            g_clear_error(&error);
            g_main_context_pop_thread_default(context_);
            throw std::runtime_error("cannot read certificate " + trustedCertificate + ": " + why);
        }
        soup_session_set_tls_database(session_, database);
        g_object_unref(database);
    }
    const std::string url = std::string(trustedCertificate.empty() ? "ws" : "wss") + "://127.0.0.1:" +
                            std::to_string(port) + path;
    SoupMessage* msg = soup_message_new("GET", url.c_str());
    if (!msg) {
        g_main_context_pop_thread_default(context_);
        throw std::runtime_error("bad WebSocket URL " + url);
    }
    soup_session_websocket_connect_async(
        session_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
        [](GObject* source, GAsyncResult* result, gpointer data) {
            auto* self = static_cast<WsClient*>(data);
            GError* error = nullptr;
            self->connection_ = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
            if (error) {
                self->error_ = error->message;
                g_error_free(error);
            }
            self->done_ = true;
        },
        this);
    g_object_unref(msg);
    g_main_context_pop_thread_default(context_);
    waitFor([this] { return done_; }, timeoutMs);
    if (!connection_)
        throw std::runtime_error("WebSocket " + url + " failed: " + (error_.empty() ? "timeout" : error_));
    g_signal_connect(connection_, "message", G_CALLBACK(+[](SoupWebsocketConnection*, gint type, GBytes* bytes, gpointer data) {
        gsize size = 0;
        const char* p = static_cast<const char*>(g_bytes_get_data(bytes, &size));
        static_cast<WsClient*>(data)->messages_.push_back({type == SOUP_WEBSOCKET_DATA_BINARY, std::string(p, size)});
    }), this);
    g_signal_connect(connection_, "closed", G_CALLBACK(+[](SoupWebsocketConnection* c, gpointer data) {
        auto* self = static_cast<WsClient*>(data);
        self->closed_ = true;
        self->closeCode_ = soup_websocket_connection_get_close_code(c);
        const char* reason = soup_websocket_connection_get_close_data(c);
        self->closeReason_ = reason ? reason : "";
    }), this);
}

WsClient::~WsClient() {
    if (connection_) {
        g_signal_handlers_disconnect_by_data(connection_, this);
        if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
        g_object_unref(connection_);
    }
    g_object_unref(session_);
    while (g_main_context_iteration(context_, FALSE)) {
    }
    g_main_context_unref(context_);
}

bool WsClient::waitFor(const std::function<bool()>& pred, int timeoutMs) {
    g_main_context_push_thread_default(context_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    bool ok = pred();
    while (!ok && std::chrono::steady_clock::now() < deadline) {
        // Wake at least every 20 ms to re-check the deadline.
        GSource* tick = g_timeout_source_new(20);
        g_source_set_callback(tick, [](gpointer) -> gboolean { return G_SOURCE_REMOVE; }, nullptr, nullptr);
        g_source_attach(tick, context_);
        g_main_context_iteration(context_, TRUE);
        g_source_destroy(tick);
        g_source_unref(tick);
        ok = pred();
    }
    g_main_context_pop_thread_default(context_);
    return ok;
}

void WsClient::close() {
    if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    waitFor([this] { return closed_; }, 2000);
}

void WsClient::sendBinary(const std::string& bytes) {
    soup_websocket_connection_send_binary(connection_, bytes.data(), bytes.size());
}

void WsClient::sendText(const std::string& text) {
    soup_websocket_connection_send_text(connection_, text.c_str());
}

size_t binaryCount(const WsClient& ws) {
    size_t n = 0;
    for (const auto& m : ws.messages()) n += m.binary;
    return n;
}

size_t textCount(const WsClient& ws) { return ws.messages().size() - binaryCount(ws); }

std::vector<std::string> typed(const WsClient& ws, const std::string& type) {
    std::vector<std::string> out;
    for (const auto& m : ws.messages())
        if (!m.binary && jsonString(m.data, "$.type") == type) out.push_back(m.data);
    return out;
}

}  // namespace camrelay::testing

#include "upgrade.h"

#include "core/client_stream.h"
#include "http/json.h"
#include "http/metrics.h"
#include "outputs/websocket_protocol.h"

namespace camrelay {

std::optional<std::string> checkWebSocketUpgrade(SoupServerMessage* msg) {
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
    const char* key = soup_message_headers_get_one(headers, "Sec-WebSocket-Key");
    const char* version = soup_message_headers_get_one(headers, "Sec-WebSocket-Version");
    if (!soup_message_headers_header_contains(headers, "Upgrade", "websocket") ||
        !soup_message_headers_header_contains(headers, "Connection", "upgrade")) {
        respondError(msg, 426, "websocket_required",
                     "this is a WebSocket endpoint: send Upgrade: websocket and Connection: Upgrade");
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Upgrade", "websocket");
        return std::nullopt;
    }
    gsize decoded = 0;
    if (key) g_free(g_base64_decode(key, &decoded));
    if (!key || decoded != 16 || !version || !g_str_equal(version, "13")) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_websocket_handshake",
                     "need Sec-WebSocket-Key (16 bytes, base64) and Sec-WebSocket-Version: 13");
        return std::nullopt;
    }
    return websocketHandshakeResponse(key);
}

StolenConnection stealConnection(SoupServerMessage* msg, unsigned status) {
    countStolenRequest(msg, status);
    StolenConnection c;
    c.stream = GRef<GIOStream>::adopt(soup_server_message_steal_connection(msg));
    // The front door hands libsoup a GSocketConnection (HTTP) or a
    // GTlsConnection over one (HTTPS), for which libsoup reports no socket;
    // the stolen SoupIOStream wraps it. The stream is kept whole: over TLS the
    // outputs must write through it (ClientStream), never to the socket.
    if (GSocketConnection* base = c.stream ? findSocketConnection(c.stream.get()) : nullptr)
        c.socket = GRef<GSocket>::ref(g_socket_connection_get_socket(base));
    return c;
}

}  // namespace camrelay

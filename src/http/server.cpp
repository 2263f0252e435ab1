#include "server.h"

#include "core/log.h"

namespace camrelay {

HttpServer::HttpServer(const ServiceConfig& config, Registry& registry, Outputs& outputs, PushIngest& ingest)
    : config_(config), registry_(registry), outputs_(outputs), ingest_(ingest) {
    server_ = GRef<SoupServer>::adopt(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "camrelay", nullptr)));
    addCameraRoutes(server_.get(), registry_, outputs_, ingest_, config_);  // "/api"
    addEventRoutes(server_.get(), registry_);                      // "/api/events"
    addStaticRoutes(server_.get(), registry_, outputs_);                     // "/", "/health"
    addRequestLimits(server_.get(), {"/", "/api", "/api/events", "/health"});
}

HttpServer::~HttpServer() {
    if (server_) soup_server_disconnect(server_.get());
}

bool HttpServer::listen(std::string* error) {
    const std::string where = config_.listenAddress + ":" + std::to_string(config_.port);
    GRef<GInetAddress> address = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(config_.listenAddress.c_str()));
    if (!address) {
        *error = "cannot listen on " + where + ": not an IP address";
        return false;
    }
    GError* raw = nullptr;
    GRef<GSocket> socket = GRef<GSocket>::adopt(
        g_socket_new(g_inet_address_get_family(address.get()), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &raw));
    GRef<GSocketAddress> socketAddress =
        GRef<GSocketAddress>::adopt(g_inet_socket_address_new(address.get(), guint16(config_.port)));
    // soup_server_listen() would use GLib's backlog of 10: a burst of viewers
    // then waits seconds for SYN retries. Bind and listen ourselves.
    bool ok = socket && g_socket_bind(socket.get(), socketAddress.get(), TRUE, &raw);
    if (ok) {
        g_socket_set_listen_backlog(socket.get(), config_.listenBacklog);
        ok = g_socket_listen(socket.get(), &raw) && soup_server_listen_socket(server_.get(), socket.get(), SoupServerListenOptions(0), &raw);
    }
    GUniquePtr<GError> failure(raw);
    if (!ok) {
        *error = "cannot listen on " + where + ": " + errorMessage(failure);
        return false;
    }
    GRef<GSocketAddress> bound = GRef<GSocketAddress>::adopt(g_socket_get_local_address(socket.get(), nullptr));
    port_ = bound ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get())) : config_.port;
    return true;
}

}  // namespace camrelay

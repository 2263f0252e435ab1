#include "server.h"

#include "core/log.h"
#include "http/metrics.h"

namespace camrelay {

HttpServer::HttpServer(const ServiceConfig& config, Registry& registry, Outputs& outputs, PushIngest& ingest,
                       Authenticator& auth)
    : config_(config), registry_(registry), outputs_(outputs), ingest_(ingest), auth_(auth),
      gate_(GateSettings{config, auth, !config.web.tlsCertificate.empty(),
                         [&registry, &config](const char* path, GHashTable* query) {
                             return compatCameraFor(registry, config, path, query);
                         }}) {
    server_ = GRef<SoupServer>::adopt(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "camrelay", nullptr)));
    door_ = std::make_unique<FrontDoor>(config_.http, server_.get());
    addCameraRoutes(server_.get(), registry_, outputs_, ingest_, config_, auth_);  // "/api"
    addEventRoutes(server_.get(), registry_, config_.clientTimeoutSec);                      // "/api/events"
    RootActionHandler rootAction = addCompatRoutes(server_.get(), registry_, outputs_, config_);  // "/stream", "/snapshot", "/state"
    addStaticRoutes(server_.get(), registry_, outputs_, *door_, rootAction);  // "/" (and its ?action=), "/health"
    addSessionRoutes(server_.get(), auth_, !config_.web.tlsCertificate.empty());                         // "/api/session"
    addAccessCheckRoute(server_.get(), gate_);                                // "/api/access"
    addRecordingFileRoutes(server_.get(), config_);                          // "/api/recordings", "/api/captures"
    addMetricsRoutes(server_.get(), registry_, outputs_, *door_);            // "/metrics" (http/metrics.h)
    gate_.attach(server_.get(), {"/", "/api", "/api/events", "/api/session", "/api/access", "/health", "/api/recordings", "/api/captures",
                          "/stream", "/snapshot", "/state", "/metrics"});
}

HttpServer::~HttpServer() {
    door_.reset();
    if (server_) soup_server_disconnect(server_.get());
}

bool HttpServer::listen(std::string* error) {
    // HTTPS and WSS: the certificate is loaded once, before the port opens.
    if (!config_.web.tlsCertificate.empty() && !door_->useTls(config_.web.tlsCertificate, config_.web.tlsKey, error))
        return false;
    return door_->listen(config_.listenAddresses, config_.port, config_.listenBacklog, error);
}

}  // namespace camrelay

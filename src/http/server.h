#pragma once
// The HTTP front door: a SoupServer on a socket with a real listen backlog,
// and the route groups. Routes find the camera, check the request and hand
// the client to an output; they never move frames themselves.
// Thread affinity: loop thread only.
#include "auth/authenticator.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"
#include "http/access_gate.h"
#include "http/front_door.h"
#include "ingest/push_ingest.h"
#include "outputs/outputs.h"

#include <libsoup/soup.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

namespace camrelay {

class HttpServer {
public:
    HttpServer(const ServiceConfig& config, Registry& registry, Outputs& outputs, PushIngest& ingest, Authenticator& auth);
    ~HttpServer();

    // Binds and listens; false with a message naming the address on failure.
    bool listen(std::string* error);
    int port() const { return door_ ? door_->port() : 0; }
    bool tls() const { return door_ && door_->tls(); }  // serving https:// and wss://

private:
    const ServiceConfig& config_;
    Registry& registry_;
    Outputs& outputs_;
    PushIngest& ingest_;
    Authenticator& auth_;
    AccessGate gate_;  // before server_: its early handlers point at it
    GRef<SoupServer> server_;
    std::unique_ptr<FrontDoor> door_;
};

// Route groups, each in its own file.
void addCameraRoutes(SoupServer* server, Registry& registry, Outputs& outputs, PushIngest& ingest,
                     const ServiceConfig& config, Authenticator& auth);
// mjpg-streamer's "/?action=...": true when it answered msg, false for the page (addCompatRoutes).
using RootActionHandler = std::function<bool(SoupServerMessage* msg, const char* path, GHashTable* query)>;
void addStaticRoutes(SoupServer* server, Registry& registry, Outputs& outputs, const FrontDoor& door,
                     RootActionHandler rootAction = {});
// /stream, /snapshot, /state (ustreamer) and the handler of "/?action=" (compat_routes.cpp).
RootActionHandler addCompatRoutes(SoupServer* server, Registry& registry, Outputs& outputs, const ServiceConfig& config);
// The camera a compatibility URL serves ("" when none): the access gate checks stream tokens against it.
std::string compatCameraFor(const Registry& registry, const ServiceConfig& config, const char* path, GHashTable* query);
// clientTimeoutSec: an events WebSocket client that accepts no bytes for this long is dropped.
void addEventRoutes(SoupServer* server, Registry& registry, int clientTimeoutSec);
// GET /api/access: the gate's verdict on the request in X-Original-URI (nginx auth_request).
void addAccessCheckRoute(SoupServer* server, const AccessGate& gate);
// /api/session (login, who am I, logout).
void addSessionRoutes(SoupServer* server, Authenticator& auth, bool tls);
// /api/recordings[/<id>], /api/captures/<id> (recording_routes_files.cpp).
void addRecordingFileRoutes(SoupServer* server, const ServiceConfig& config);
// GET /api/cameras/{id}/captures: answers msg later (the folder is read off the loop).
void respondCaptureList(SoupServerMessage* msg, const ServiceConfig& config, const std::string& camera);

}  // namespace camrelay

#pragma once
// /api/events (history and the WebSocket of new events): see event_routes.cpp.
// Thread affinity: loop thread only.
#include "camera/registry.h"

#include <libsoup/soup.h>

namespace camrelay {

// clientTimeoutSec: an events client that accepts no bytes for this long is
// dropped (limits.client-timeout). The two-argument addEventRoutes() in
// server.h uses the default of ServiceConfig.
void addEventRoutes(SoupServer* server, Registry& registry, int clientTimeoutSec);

}  // namespace camrelay

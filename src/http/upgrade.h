#pragma once
// Handing a connection from libsoup to an output: checking a WebSocket
// upgrade request, and taking the socket over.
// Thread affinity: loop thread only.
#include "core/gobject_ptr.h"

#include <libsoup/soup.h>

#include <optional>
#include <string>

namespace camrelay {

// The 101 response for a valid WebSocket upgrade request; otherwise answers
// msg (400 or 426, JSON) and returns nullopt.
std::optional<std::string> checkWebSocketUpgrade(SoupServerMessage* msg);

struct StolenConnection {
    GRef<GIOStream> stream;
    GRef<GSocket> socket;
    explicit operator bool() const { return stream && socket; }
};
// From here libsoup sends nothing more on the connection; it is the caller's.
// status: what the new owner answers (101 for a WebSocket), for /metrics'
// request count (libsoup counts no request whose connection was taken).
StolenConnection stealConnection(SoupServerMessage* msg, unsigned status = 200);

}  // namespace camrelay

#pragma once
// Control messages to a WebSocket client held by ViewerSockets (queued in
// order, never dropped): JSON text, JSON errors, pongs, and the closing
// handshake. Shared by the viewer hub and the push ingest.
// Thread affinity: loop thread only.
#include "outputs/viewer_sockets.h"

#include <cstdint>
#include <string>

namespace camrelay {

void sendWsText(ViewerSockets& sockets, ViewerSockets::Client& client, const std::string& text);
// {"type":"error","data":{"code":...,"message":...}}
void sendWsError(ViewerSockets& sockets, ViewerSockets::Client& client, const std::string& code, const std::string& message);
void sendWsPong(ViewerSockets& sockets, ViewerSockets::Client& client, const std::string& payload);
// A close frame with code and reason, then the connection closes once it is sent.
void closeWs(ViewerSockets& sockets, ViewerSockets::Client& client, uint16_t code, const std::string& reason);

}  // namespace camrelay

#pragma once
// WHEP (issue 14): POST /api/cameras/{id}/whep with an SDP offer answers 201
// with the SDP answer (every ICE candidate in it: no trickle) and a Location;
// DELETE /api/cameras/{id}/whep/{peer} ends that peer.
// Thread affinity: loop thread only.
#include "outputs/outputs.h"

#include <libsoup/soup.h>

#include <string>

namespace camrelay {

// The largest offer taken (a browser's is 4-10 KB).
inline constexpr size_t kMaxWhepOfferBytes = 64 * 1024;

// peerId: the path's 5th segment ("" for the collection).
void handleWhep(SoupServerMessage* msg, const std::string& cameraId, const std::string& peerId, Outputs& outputs);

}  // namespace camrelay

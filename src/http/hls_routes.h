#pragma once
// GET|HEAD /api/cameras/{id}/hls/index.m3u8 and /api/cameras/{id}/hls/<segment>.ts
// (outputs/hls_output): the playlist (application/vnd.apple.mpegurl,
// Cache-Control: max-age=1) and its MPEG-TS segments (video/mp2t, immutable:
// their names are unique per pipeline run). A playlist request starts the
// camera's HLS pipeline; the first one of a run is held (paused, never
// blocking the loop) until two segments exist, at most
// HlsOutput::waitLimitMs(), else 503. A playlist fetched with ?token= lists
// its segments with the same token (players do not carry queries over).
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "outputs/outputs.h"

#include <libsoup/soup.h>

#include <string>

namespace camrelay {

// name: the path segment after hls/, as sent (undecoded).
void respondHls(SoupServerMessage* msg, Camera& camera, Outputs& outputs, const std::string& name, GHashTable* query);

}  // namespace camrelay

#pragma once
// Handing a client one camera's media: the MJPEG stream (the client's socket
// goes to the camera's MjpegFanout) and a snapshot (the next or latest JPEG).
// One code path for every URL that serves them: /api/cameras/{id}/stream and
// /snapshot (camera_routes) and the compatibility URLs (compat_routes).
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "config/service_config.h"
#include "outputs/outputs.h"

#include <libsoup/soup.h>

#include <optional>

namespace camrelay {

// ?fps=N: 0 < N <= 240 (0.0 when absent); answers 400 and returns nullopt when malformed.
std::optional<double> parseFps(SoupServerMessage* msg, GHashTable* query);
// The camera can run and has room for one more viewer; otherwise answers 503 and returns false.
bool viewerAllowed(SoupServerMessage* msg, const Camera& camera, const Outputs& outputs, const ServiceConfig& config);
// GET .../stream: multipart/x-mixed-replace JPEGs (the connection is stolen from libsoup).
void respondCameraStream(SoupServerMessage* msg, Camera& camera, GHashTable* query, Outputs& outputs,
                         const ServiceConfig& config);
// GET/HEAD .../snapshot: one image/jpeg, answered now or when the first frame comes.
void respondCameraSnapshot(SoupServerMessage* msg, Camera& camera, Outputs& outputs, const ServiceConfig& config);

}  // namespace camrelay

#pragma once
// POST /api/pipelines/validate and GET /api/cameras/{id}/graph (issue 12,
// docs/api.md "Validating a pipeline", "Pipeline graph"). Both answer later,
// from worker threads: the message is paused meanwhile.
// Access (admin only, same-origin writes) is the gate's job (access_rules.cpp).
// Thread affinity: loop thread.
#include "camera/camera.h"

#include <libsoup/soup.h>

namespace camrelay {

// At most this many validations without probe, and with, at once (503 beyond).
inline constexpr int kMaxChecksInFlight = 4;
inline constexpr int kMaxProbesInFlight = 2;
// Bounds on the request: the JSON body, and the source text in it.
inline constexpr size_t kMaxValidateBodyBytes = 64 * 1024;
inline constexpr size_t kMaxValidateSourceBytes = 16 * 1024;

void respondPipelineValidate(SoupServerMessage* msg);
void respondCameraGraph(SoupServerMessage* msg, Camera& camera, GHashTable* query);

}  // namespace camrelay

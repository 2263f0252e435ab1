#pragma once
// /api/cameras/{id}/recording (GET, POST, DELETE) and the camera JSON's
// "recording" member.
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "http/json.h"
#include "outputs/outputs.h"

#include <libsoup/soup.h>

namespace camrelay {

// {active, mode, format, file, bytes, since, until, error}
JsonObjectValue recordingJson(const Camera& camera, const Recorder* recorder);
void handleRecording(SoupServerMessage* msg, Camera& camera, Outputs& outputs);

}  // namespace camrelay

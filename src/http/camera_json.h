#pragma once
// The JSON shape of a camera in the API (one place, used by list and detail).
#include "camera/camera.h"
#include "http/json.h"
#include "outputs/outputs.h"

namespace camrelay {

JsonObjectValue cameraJson(const Camera& camera, const Outputs& outputs);

}  // namespace camrelay

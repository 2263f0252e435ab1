#include "outputs.h"

namespace camrelay {

Outputs::Outputs(Registry& registry, int clientTimeoutSec) {
    for (Camera* camera : registry.cameras())
        mjpeg_[camera->id()] = std::make_unique<MjpegFanout>(*camera, clientTimeoutSec);
}

MjpegFanout* Outputs::mjpeg(const std::string& cameraId) const {
    auto it = mjpeg_.find(cameraId);
    return it == mjpeg_.end() ? nullptr : it->second.get();
}

}  // namespace camrelay

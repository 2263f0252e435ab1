#include "outputs.h"

namespace camrelay {

Outputs::Outputs(Registry& registry, const ServiceConfig& config, Authenticator& auth)
    : websockets_(registry, config.clientTimeoutSec), diskGuard_(recordingsDir(config), config.recording),
      recorders_(registry, config) {
    for (const CameraPtr& camera : registry.cameras()) {
        mjpeg_[camera->id()] = std::make_unique<MjpegFanout>(*camera, config.clientTimeoutSec);
        if (camera->configValid() && camera->config().record.captureIntervalSec > 0)
            captures_[camera->id()] = std::make_unique<CaptureWriter>(*camera, recordingsDir(config),
                                                                      [this] { return diskGuard_.problem(); });
    }
    recorders_.setDiskProblem([this] { return diskGuard_.problem(); });
    if (config.rtspEnabled) rtsp_ = std::make_unique<RtspRestream>(registry, config, auth);
    // /api/ws subscriptions count against the same per-camera limit as stream requests.
    websockets_.setAdmission([this, limit = size_t(config.maxViewersPerCamera)](const std::string& id) {
        return viewers(id) < limit;
    });
}

size_t Outputs::viewers(const std::string& cameraId) const {
    // Asked on every stream request: a count, not stats() (which walks every viewer).
    MjpegFanout* fanout = mjpeg(cameraId);
    return (fanout ? fanout->viewerCount() : 0) + websockets_.viewers(cameraId);
}

MjpegStats Outputs::mjpegStats(const std::string& cameraId) const {
    MjpegFanout* fanout = mjpeg(cameraId);
    return fanout ? fanout->stats() : MjpegStats{};
}

CaptureWriter* Outputs::captures(const std::string& cameraId) const {
    auto it = captures_.find(cameraId);
    return it == captures_.end() ? nullptr : it->second.get();
}

MjpegFanout* Outputs::mjpeg(const std::string& cameraId) const {
    auto it = mjpeg_.find(cameraId);
    return it == mjpeg_.end() ? nullptr : it->second.get();
}

}  // namespace camrelay

#include "outputs.h"

#include <algorithm>

namespace camrelay {

Outputs::Outputs(Registry& registry, const ServiceConfig& config, Authenticator& auth)
    : config_(config), websockets_(config.clientTimeoutSec), diskGuard_(recordingsDir(config), config.recording),
      recorders_(config) {
    recorders_.setDiskProblem([this] { return diskGuard_.problem(); });
    if (config.rtspEnabled) rtsp_ = std::make_unique<RtspRestream>(config, auth);
    if (config.webrtc.enabled) whep_ = std::make_unique<WhepPeers>(config.webrtc);
    // /api/ws subscriptions count against the same per-camera limit as stream requests.
    websockets_.setAdmission([this, limit = size_t(config.maxViewersPerCamera)](const std::string& id) {
        return viewers(id) < limit;
    });
    for (const CameraPtr& camera : registry.cameras()) attach(camera);
    added_ = registry.onAdded([this](const CameraPtr& camera) { attach(camera); });
    removed_ = registry.onRemoved([this](const CameraPtr& camera) { detach(camera); });
    reconfigured_ = registry.onReconfigured([this](const CameraPtr& camera) { reconfigured(camera); });
}

Outputs::~Outputs() = default;

void Outputs::attach(const CameraPtr& camera) {
    mjpeg_[camera->id()] = std::make_unique<MjpegFanout>(camera, config_.clientTimeoutSec);
    websockets_.attach(camera);
    recorders_.attach(camera);
    attachCaptures(camera);
    if (rtsp_) rtsp_->attach(camera);
    if (whep_) whep_->attach(camera);
    if (config_.hls.enabled) hls_[camera->id()] = std::make_unique<HlsOutput>(camera, config_.hls, hlsReaper_);
}

void Outputs::attachCaptures(const CameraPtr& camera) {
    captures_.erase(camera->id());
    if (!camera->configValid() || camera->config().record.captureIntervalSec <= 0) return;
    Captures entry;
    entry.camera = camera;
    entry.writer = std::make_unique<CaptureWriter>(*camera, recordingsDir(config_), [this] { return diskGuard_.problem(); });
    captures_[camera->id()] = std::move(entry);
}

// Viewers keep watching through a reconfigure (the camera object stays);
// what depends on the config is rebuilt.
void Outputs::reconfigured(const CameraPtr& camera) {
    recorders_.reattach(camera);
    auto it = captures_.find(camera->id());
    const int interval = camera->configValid() ? camera->config().record.captureIntervalSec : 0;
    if (it == captures_.end() ? interval > 0 : it->second.writer->intervalSec() != interval) attachCaptures(camera);
    // A camera that was invalid gets its mount now (a no-op when it has one).
    if (rtsp_) rtsp_->attach(camera);
    if (whep_) whep_->reconfigured(camera);
    if (HlsOutput* output = hls(camera->id())) output->reconfigured();
}

void Outputs::detach(const CameraPtr& camera) {
    const std::string& id = camera->id();
    if (rtsp_) rtsp_->detach(id);
    if (whep_) whep_->detach(id);
    hls_.erase(id);  // its window closes: requests get 404
    captures_.erase(id);
    recorders_.detach(id);
    websockets_.detach(id);
    auto it = mjpeg_.find(id);
    if (it == mjpeg_.end()) return;
    it->second->close();
    if (it->second->viewerCount()) {
        closedMjpeg_.push_back(std::move(it->second));
        pruneTimer_.start(1, "closed MJPEG fan-outs", [this] { pruneClosedMjpeg(); });
    }
    mjpeg_.erase(it);
}

void Outputs::pruneClosedMjpeg() {
    // Each closing viewer is gone once its bytes are out, or after the client timeout.
    closedMjpeg_.erase(std::remove_if(closedMjpeg_.begin(), closedMjpeg_.end(),
                                      [](const std::unique_ptr<MjpegFanout>& f) { return f->viewerCount() == 0; }),
                       closedMjpeg_.end());
    if (closedMjpeg_.empty()) pruneTimer_.stop();
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
    return it == captures_.end() ? nullptr : it->second.writer.get();
}

HlsOutput* Outputs::hls(const std::string& cameraId) const {
    auto it = hls_.find(cameraId);
    return it == hls_.end() ? nullptr : it->second.get();
}

MjpegFanout* Outputs::mjpeg(const std::string& cameraId) const {
    auto it = mjpeg_.find(cameraId);
    return it == mjpeg_.end() ? nullptr : it->second.get();
}

}  // namespace camrelay

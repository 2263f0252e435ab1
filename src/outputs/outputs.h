#pragma once
// The outputs of every camera: MJPEG fan-out, WebSocket viewers, snapshots,
// RTSP re-streaming, recording, timed captures, and the low-disk guard the
// recorders and captures share.
// Cameras do not know about outputs; outputs attach to cameras.
// Thread affinity: loop thread only.
#include "auth/authenticator.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "outputs/mjpeg_fanout.h"
#include "outputs/rtsp_restream.h"
#include "outputs/snapshot.h"
#include "outputs/websocket_hub.h"
#include "recording/capture_writer.h"
#include "recording/disk_guard.h"
#include "recording/recorders.h"

#include <map>
#include <memory>
#include <string>

namespace camrelay {

class Outputs {
public:
    // auth outlives the outputs (RTSP clients are checked against it).
    Outputs(Registry& registry, const ServiceConfig& config, Authenticator& auth);
    MjpegFanout* mjpeg(const std::string& cameraId) const;
    MjpegStats mjpegStats(const std::string& cameraId) const;
    SnapshotRequests& snapshots() { return snapshots_; }
    WebSocketHub& websockets() { return websockets_; }
    const WebSocketHub& websockets() const { return websockets_; }
    // MJPEG and WebSocket viewers of a camera now.
    size_t viewers(const std::string& cameraId) const;
    // Null when RTSP is disabled in the config.
    RtspRestream* rtsp() const { return rtsp_.get(); }
    Recorders& recorders() { return recorders_; }
    const Recorders& recorders() const { return recorders_; }
    // [recording] min-free over the recordings dir: recorders and captures ask it.
    DiskGuard& diskGuard() { return diskGuard_; }
    // Null when the camera has no capture-interval.
    CaptureWriter* captures(const std::string& cameraId) const;

private:
    std::map<std::string, std::unique_ptr<MjpegFanout>> mjpeg_;
    SnapshotRequests snapshots_;
    WebSocketHub websockets_;
    std::unique_ptr<RtspRestream> rtsp_;
    DiskGuard diskGuard_;
    std::map<std::string, std::unique_ptr<CaptureWriter>> captures_;
    Recorders recorders_;
};

}  // namespace camrelay

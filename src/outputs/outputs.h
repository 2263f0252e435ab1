#pragma once
// The outputs of every camera: MJPEG fan-out, WebSocket viewers, snapshots,
// RTSP re-streaming, HLS, recording, timed captures, and the low-disk guard the
// recorders and captures share.
// Cameras do not know about outputs; outputs attach to cameras as the
// registry announces them (added, reconfigured, removed). Every output keeps a
// reference (CameraPtr) to each camera it serves and drops it on removal.
// Thread affinity: loop thread only.
#include "auth/authenticator.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/repeating_timer.h"
#include "outputs/hls_output.h"
#include "outputs/mjpeg_fanout.h"
#include "outputs/rtsp_restream.h"
#include "outputs/snapshot.h"
#include "outputs/websocket_hub.h"
#include "outputs/whep_peers.h"
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
    // Attaches to every camera of the registry now and to those that come later.
    Outputs(Registry& registry, const ServiceConfig& config, Authenticator& auth);
    ~Outputs();
    Outputs(const Outputs&) = delete;
    Outputs& operator=(const Outputs&) = delete;
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
    // WebRTC peers (WHEP); null when [webrtc] enabled=false.
    WhepPeers* whep() const { return whep_.get(); }
    // Null when HLS is off ([hls] enabled=false) or the camera is unknown.
    HlsOutput* hls(const std::string& cameraId) const;
    // Null when the camera has no capture-interval.
    CaptureWriter* captures(const std::string& cameraId) const;

private:
    struct Captures {
        CameraPtr camera;  // declared first: outlives its writer
        std::unique_ptr<CaptureWriter> writer;
    };
    void attach(const CameraPtr& camera);
    void detach(const CameraPtr& camera);
    void reconfigured(const CameraPtr& camera);
    void attachCaptures(const CameraPtr& camera);
    void pruneClosedMjpeg();

    const ServiceConfig& config_;
    std::map<std::string, std::unique_ptr<MjpegFanout>> mjpeg_;
    // Fan-outs of removed cameras, until their viewers have read the end of stream.
    std::vector<std::unique_ptr<MjpegFanout>> closedMjpeg_;
    RepeatingTimer pruneTimer_;
    SnapshotRequests snapshots_;
    WebSocketHub websockets_;
    std::unique_ptr<RtspRestream> rtsp_;
    DiskGuard diskGuard_;
    std::map<std::string, Captures> captures_;
    Recorders recorders_;
    std::unique_ptr<WhepPeers> whep_;
    // Before hls_: the HLS pipelines go to NULL here, off the loop thread.
    PipelineReaper hlsReaper_;
    std::map<std::string, std::unique_ptr<HlsOutput>> hls_;
    Connection added_, removed_, reconfigured_;
};

}  // namespace camrelay

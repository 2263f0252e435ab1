#pragma once
// RTSP re-streaming with gst-rtsp-server: rtsp://host:<port>/<camera id>.
//
// Each camera's mount is a shared media fed with the camera's JPEG frames
// (one source connection, whatever the number of viewers of all kinds). The
// media, and so the H.264 encoder, exists only while RTSP clients are
// connected: gst-rtsp-server creates it for the first client and unprepares
// it after the last one leaves. Placeholder frames flow too, so RTSP clients
// see "camera offline" during an outage instead of a frozen picture.
// Thread affinity: loop thread only (gst-rtsp-server callbacks that may come
// from its own threads are moved to the loop first).
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"

#include <gst/rtsp-server/rtsp-server.h>

#include <map>
#include <memory>
#include <string>

namespace camrelay {

class RtspRestream {
public:
    RtspRestream(Registry& registry, const ServiceConfig& config);
    ~RtspRestream();
    RtspRestream(const RtspRestream&) = delete;
    RtspRestream& operator=(const RtspRestream&) = delete;

    // Binds the port and starts serving; false with a message naming the port.
    bool start(std::string* error);
    int port() const { return port_; }
    // True while an encoder runs for this camera (RTSP clients are watching).
    bool encoding(const std::string& cameraId) const;

private:
    struct Mount;
    static void onMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer mount) noexcept;

    const ServiceConfig& config_;
    GRef<GstRTSPServer> server_;
    SourceHandle serverSource_;
    std::map<std::string, std::shared_ptr<Mount>> mounts_;
    int port_ = 0;
};

// The gst-launch text of a mount's media (JPEG in, H.264 RTP out).
std::string rtspMediaLaunch();

}  // namespace camrelay

#pragma once
// RTSP re-streaming with gst-rtsp-server: rtsp://host:<port>/<camera id>.
//
// Each camera's mount is a shared media (one source connection, whatever the
// number of viewers of all kinds), fed either
//   - with the camera's own H.264 access units, untouched, when the source
//     delivers H.264 (passthrough: no decoder, no encoder), or
//   - with the camera's JPEG frames, encoded once to H.264 for all clients;
//     placeholder frames flow too, so clients see "camera offline" during an
//     outage instead of a frozen picture.
// The media exists only while RTSP clients are connected: gst-rtsp-server
// creates it for the first client and unprepares it after the last one leaves.
// With auth on, DESCRIBE and SETUP need a user or a stream token for the
// camera (rtsp_auth.h); with auth off anyone may watch.
// Thread affinity: loop thread only (gst-rtsp-server callbacks that may come
// from its own threads are moved to the loop first).
#include "auth/authenticator.h"
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
    // auth: when it is enabled, RTSP clients authenticate (rtsp_auth.h); it must outlive this.
    RtspRestream(Registry& registry, const ServiceConfig& config, Authenticator& auth);
    ~RtspRestream();
    RtspRestream(const RtspRestream&) = delete;
    RtspRestream& operator=(const RtspRestream&) = delete;

    // Binds the port and starts serving; false with a message naming the port.
    bool start(std::string* error);
    int port() const { return port_; }
    // RTSPS: the whole RTSP connection (and the RTP it carries) over TLS, with
    // the HTTP certificate ([server] tls-certificate/tls-key).
    bool tls() const { return tls_; }
    // True while RTSP clients are watching (an encoder runs, unless passthrough).
    bool active(const std::string& cameraId) const;
    // The camera's H.264 is passed through rather than encoded from JPEG.
    bool passthrough(const std::string& cameraId) const;

private:
    struct Mount;
    static void onMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer mount) noexcept;

    const ServiceConfig& config_;
    GRef<GstRTSPServer> server_;
    SourceHandle serverSource_;
    std::map<std::string, std::shared_ptr<Mount>> mounts_;
    int port_ = 0;
    bool tls_ = false;
    std::string setupError_;  // a certificate that cannot be loaded: start() fails with it
};

// The gst-launch text of a mount's media: JPEG or H.264 in, H.264 RTP out.
std::string rtspMediaLaunch(bool h264Passthrough);

}  // namespace camrelay

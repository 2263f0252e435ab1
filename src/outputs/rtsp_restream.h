#pragma once
// RTSP re-streaming with gst-rtsp-server: rtsp://host:<port>/<camera id>.
//
// Each camera's mount is a shared media (one source connection, whatever the
// number of viewers of all kinds), `appsrc ! h264parse ! rtph264pay`, fed from
// the camera's shared H.264 stream (camera/h264_stream.h) while it holds a
// claim: the source's own access units when it delivers H.264 (passthrough:
// no decoder, no encoder, no JPEG), else the camera's one encoder, shared with
// every other H.264 consumer; placeholder frames flow through it, so clients
// see "camera offline" during an outage instead of a frozen picture.
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

// One camera's RTSP figures (/metrics). The media is shared: frames and bytes
// are what went into it once, whatever the number of clients.
struct RtspStats {
    uint64_t viewers = 0;        // RTSP sessions set up on the camera's mount now
    uint64_t framesSent = 0;     // access units the media's appsrc passed to the payloader, every media so far
    uint64_t bytesSent = 0;      // their H.264 bytes
    uint64_t framesDropped = 0;  // access units its leaky queue dropped or held unsent, counted when a media ends
};

class RtspRestream {
public:
    // auth: when it is enabled, RTSP clients authenticate (rtsp_auth.h); it must outlive this.
    RtspRestream(const ServiceConfig& config, Authenticator& auth);
    ~RtspRestream();
    RtspRestream(const RtspRestream&) = delete;
    RtspRestream& operator=(const RtspRestream&) = delete;

    // Binds the port and starts serving; false with a message naming the port.
    bool start(std::string* error);
    int port() const { return port_; }
    // RTSPS: the whole RTSP connection (and the RTP it carries) over TLS, with
    // the HTTP certificate ([server] tls-certificate/tls-key).
    bool tls() const { return tls_; }
    // A camera came (or is there at start): its mount rtsp://host:port/<id> appears.
    void attach(const CameraPtr& camera);
    // A camera is removed: its mount goes, its sessions are ended and the
    // camera's stream is let go.
    void detach(const std::string& cameraId);
    // True while RTSP clients are watching (the mount holds an H.264 claim).
    bool active(const std::string& cameraId) const;
    // The camera's H.264 is passed through rather than encoded from JPEG.
    bool passthrough(const std::string& cameraId) const;
    // Walks the session pool once for the camera (bounded by its max sessions).
    RtspStats stats(const std::string& cameraId) const;

private:
    struct Mount;
    static void onMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer mount) noexcept;

    const ServiceConfig& config_;
    GRef<GstRTSPServer> server_;
    GMainContext* loop_ = nullptr;  // the loop's context, for callbacks from gst-rtsp-server's threads
    bool protect_ = false;  // auth on: every factory checks roles (rtsp_auth.h)
    SourceHandle serverSource_;
    std::map<std::string, std::shared_ptr<Mount>> mounts_;
    int port_ = 0;
    bool tls_ = false;
    std::string setupError_;  // a certificate that cannot be loaded: start() fails with it
};

// The gst-launch text of a mount's media: H.264 access units in, H.264 RTP out.
std::string rtspMediaLaunch();

}  // namespace camrelay

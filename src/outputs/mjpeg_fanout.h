#pragma once
// MJPEG over HTTP for one camera: every viewer's socket, fed from one shared
// multipart part per frame (the JPEG is never copied or encoded per viewer).
// Flow control, timeouts and hang-ups are ViewerSockets': each viewer holds
// at most the part being written and the newest waiting one.
// Thread affinity: loop thread only.
#include "camera/registry.h"
#include "core/gobject_ptr.h"
#include "outputs/viewer_sockets.h"

#include <memory>
#include <string>

namespace camrelay {

inline constexpr const char* kMjpegBoundary = "camrelayframe";

struct MjpegViewerOptions {
    double maxFps = 0;  // 0: every frame
};

using MjpegStats = ViewerSocketStats;

class MjpegFanout {
public:
    // Holds the camera while attached; close() lets it go.
    MjpegFanout(CameraPtr camera, int clientTimeoutSec);
    MjpegFanout(const MjpegFanout&) = delete;
    MjpegFanout& operator=(const MjpegFanout&) = delete;

    // Takes over an accepted HTTP/1.1 connection whose request has been read:
    // writes the response head, then frames until the viewer leaves.
    // socket is the connection's socket (the stream may be a wrapper around it).
    void addViewer(GRef<GIOStream> connection, GRef<GSocket> socket, MjpegViewerOptions options);
    MjpegStats stats() const { return viewers_.stats(); }  // walks every viewer
    size_t viewerCount() const { return viewers_.size(); }
    // The camera is removed: every viewer gets the multipart close delimiter
    // (end of stream) and is closed once it is sent; claims on the camera and
    // the camera itself are let go at once. The fan-out takes no new viewer.
    void close();

    // The bytes of one multipart part (headers, JPEG, closing boundary).
    static std::string buildPart(const Frame& frame);

private:
    using Part = ViewerSockets::Bytes;
    struct ViewerState;
    void onFrame(const FramePtr& frame);
    Part partFor(const FramePtr& frame);

    CameraPtr camera_;  // null once closed
    ViewerSockets viewers_;
    Part latestPart_;
    FramePtr latestPartFrame_;  // the frame latestPart_ was built from
    Connection frameConnection_;
};

}  // namespace camrelay

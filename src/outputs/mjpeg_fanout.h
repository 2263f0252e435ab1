#pragma once
// MJPEG over HTTP for one camera: every viewer's socket, fed from one shared
// multipart part per frame (the JPEG is never copied or encoded per viewer).
//
// Each viewer holds at most two parts: the one being written and the newest
// one waiting. A newer frame replaces the waiting one (counted as a drop), so
// a slow viewer skips ahead and costs bounded memory; sockets are non-blocking,
// so it never delays anyone else. A viewer that accepts no bytes for
// clientTimeout is dropped; a viewer that hangs up is dropped when its socket
// says so, frames or not.
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "core/fd_watch_set.h"
#include "core/gobject_ptr.h"

#include <memory>
#include <string>
#include <vector>

namespace camrelay {

inline constexpr const char* kMjpegBoundary = "camrelayframe";

struct MjpegViewerOptions {
    double maxFps = 0;  // 0: every frame
};

struct MjpegStats {
    size_t viewers = 0;
    uint64_t bytesSent = 0;       // all viewers, this fan-out's life
    uint64_t framesSent = 0;
    uint64_t framesDropped = 0;   // replaced before a slow viewer could take them
    uint64_t viewersTimedOut = 0;
};

class MjpegFanout {
public:
    MjpegFanout(Camera& camera, int clientTimeoutSec);
    ~MjpegFanout();
    MjpegFanout(const MjpegFanout&) = delete;
    MjpegFanout& operator=(const MjpegFanout&) = delete;

    // Takes over an accepted HTTP/1.1 connection whose request has been read:
    // writes the response head, then frames until the viewer leaves.
    // socket is the connection's socket (the stream may be a wrapper around it).
    void addViewer(GRef<GIOStream> connection, GRef<GSocket> socket, MjpegViewerOptions options);
    MjpegStats stats() const;

    // The bytes of one multipart part (headers, JPEG, closing boundary).
    static std::string buildPart(const Frame& frame);

private:
    struct Viewer;
    using Part = std::shared_ptr<const std::string>;

    void onFrame(const FramePtr& frame);
    Part partFor(const FramePtr& frame);
    void offer(Viewer& viewer, const Part& part, int64_t captureUs);
    void flush(Viewer& viewer);
    void onSocketsReady();
    void dropViewer(Viewer& viewer, const char* why);
    void sweepDropped();
    gboolean checkTimeouts();

    Camera& camera_;
    const int64_t clientTimeoutUs_;
    FdWatchSet sockets_;
    std::vector<std::unique_ptr<Viewer>> viewers_;
    bool anyDropped_ = false;
    Part latestPart_;
    FramePtr latestPartFrame_;  // the frame latestPart_ was built from
    Connection frameConnection_;
    SourceHandle timeoutTimer_;
    MjpegStats totals_;
};

}  // namespace camrelay

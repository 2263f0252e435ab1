#include "mjpeg_fanout.h"

#include "core/clock.h"
#include "core/log.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

const std::string& responseHead() {
    // The first boundary goes out with the head, and every part ends with the
    // next boundary, so a browser shows each frame as soon as its bytes arrive.
    static const std::string head = std::string(
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: multipart/x-mixed-replace;boundary=") + kMjpegBoundary + "\r\n"
        "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
        "Pragma: no-cache\r\n"
        "Connection: close\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "\r\n"
        "--" + kMjpegBoundary + "\r\n";
    return head;
}

// Kernel memory per viewer is bounded too: without this, Linux grows a
// stalled viewer's send buffer to megabytes (tcp_wmem), times every viewer.
// 512 KiB (the kernel doubles it) still carries 20 MB/s at 50 ms RTT.
constexpr int kSocketSendBuffer = 512 * 1024;

// Small tolerance so a 30 fps camera thinned to 10 fps sends every third
// frame despite capture jitter.
constexpr int64_t kFpsToleranceUs = 5000;

}  // namespace

struct MjpegFanout::Viewer {
    GRef<GIOStream> connection;  // owns the socket
    int fd = -1;
    FdWatchSet::Tag tag = nullptr;
    Part inflight;               // being written, from offset
    size_t offset = 0;
    Part waiting;                // the newest part not yet started
    int64_t intervalUs = 0;      // from ?fps=, 0: every frame
    int64_t nextDueCaptureUs = 0;
    int64_t lastProgressUs = 0;  // last time the socket took bytes (or had nothing to take)
    bool wantsWrite = false;
    bool dropped = false;

    ~Viewer() {
        // Close now rather than whenever the last reference goes.
        if (connection) g_io_stream_close(connection.get(), nullptr, nullptr);
    }
};

MjpegFanout::MjpegFanout(Camera& camera, int clientTimeoutSec)
    : camera_(camera),
      clientTimeoutUs_(int64_t(clientTimeoutSec) * 1000000),
      sockets_([this] { onSocketsReady(); }) {
    frameConnection_ = camera_.onFrame([this](const FramePtr& frame) { onFrame(frame); });
}

MjpegFanout::~MjpegFanout() {
    for (auto& v : viewers_)
        if (!v->dropped) sockets_.remove(v->tag);
}

std::string MjpegFanout::buildPart(const Frame& frame) {
    std::string_view jpeg = frame.jpeg();
    std::string part;
    part.reserve(jpeg.size() + 160);
    part += "Content-Type: image/jpeg\r\nContent-Length: ";
    part += std::to_string(jpeg.size());
    part += "\r\nX-Timestamp: ";
    part += formatUnixSeconds(frame.captureUnixUs());
    part += "\r\nX-Frame-Number: ";
    part += std::to_string(frame.number());
    // Lets clients tell "camera offline" pictures from the camera's own.
    if (frame.isPlaceholder()) part += "\r\nX-Camera-Offline: true";
    part += "\r\n\r\n";
    part.append(jpeg.data(), jpeg.size());
    part += "\r\n--";
    part += kMjpegBoundary;
    part += "\r\n";
    return part;
}

MjpegFanout::Part MjpegFanout::partFor(const FramePtr& frame) {
    // Built once per frame, and only when someone watches. Keyed by the frame
    // itself: numbers restart with every run of the camera.
    if (!latestPart_ || latestPartFrame_ != frame) {
        latestPart_ = std::make_shared<const std::string>(buildPart(*frame));
        latestPartFrame_ = frame;
    }
    return latestPart_;
}

void MjpegFanout::addViewer(GRef<GIOStream> connection, GRef<GSocket> socket, MjpegViewerOptions options) {
    auto viewer = std::make_unique<Viewer>();
    viewer->connection = std::move(connection);
    viewer->fd = g_socket_get_fd(socket.get());
    g_socket_set_blocking(socket.get(), FALSE);
    // Each part is written whole; Nagle would hold its tail back for an ACK.
    int one = 1;
    setsockopt(viewer->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(viewer->fd, SOL_SOCKET, SO_SNDBUF, &kSocketSendBuffer, sizeof kSocketSendBuffer);
    if (options.maxFps > 0) viewer->intervalUs = int64_t(1e6 / options.maxFps);
    viewer->lastProgressUs = monotonicNowUs();
    viewer->tag = sockets_.add(viewer->fd, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR));
    viewer->inflight = std::shared_ptr<const std::string>(&responseHead(), [](const std::string*) {});

    Viewer& v = *viewer;
    viewers_.push_back(std::move(viewer));
    // A new viewer sees the latest frame at once, not after the next capture.
    if (FramePtr latest = camera_.latestFrame()) offer(v, partFor(latest), latest->captureUnixUs());
    flush(v);
    sweepDropped();
    if (!timeoutTimer_)
        timeoutTimer_ = SourceHandle(g_timeout_add_seconds(1, [](gpointer self) noexcept -> gboolean {
            return static_cast<MjpegFanout*>(self)->checkTimeouts();
        }, this));
}

void MjpegFanout::onFrame(const FramePtr& frame) {
    if (viewers_.empty()) return;
    Part part = partFor(frame);
    for (auto& v : viewers_) {
        if (v->dropped) continue;
        offer(*v, part, frame->captureUnixUs());
        flush(*v);
    }
    sweepDropped();
}

void MjpegFanout::offer(Viewer& v, const Part& part, int64_t captureUs) {
    if (v.intervalUs) {
        if (captureUs + kFpsToleranceUs < v.nextDueCaptureUs) return;
        const bool behind = v.nextDueCaptureUs == 0 || captureUs - v.nextDueCaptureUs > v.intervalUs;
        v.nextDueCaptureUs = (behind ? captureUs : v.nextDueCaptureUs) + v.intervalUs;
    }
    if (!v.inflight) {
        v.inflight = part;
        v.offset = 0;
        v.lastProgressUs = monotonicNowUs();  // the stall clock starts with the work
    } else {
        if (v.waiting) ++totals_.framesDropped;  // newest wins
        v.waiting = part;
    }
}

void MjpegFanout::flush(Viewer& v) {
    while (v.inflight) {
        const std::string& bytes = *v.inflight;
        ssize_t n = ::send(v.fd, bytes.data() + v.offset, bytes.size() - v.offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            dropViewer(v, g_strerror(errno));
            return;
        }
        v.offset += size_t(n);
        totals_.bytesSent += uint64_t(n);
        v.lastProgressUs = monotonicNowUs();
        if (v.offset < bytes.size()) continue;
        if (v.inflight.get() != &responseHead()) ++totals_.framesSent;
        v.inflight = std::move(v.waiting);
        v.waiting.reset();
        v.offset = 0;
    }
    const bool wantsWrite = bool(v.inflight);
    if (wantsWrite != v.wantsWrite) {
        v.wantsWrite = wantsWrite;
        sockets_.modify(v.tag, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR | (wantsWrite ? G_IO_OUT : 0)));
    }
}

void MjpegFanout::onSocketsReady() {
    for (auto& v : viewers_) {
        if (v->dropped) continue;
        GIOCondition ready = sockets_.ready(v->tag);
        if (ready & (G_IO_ERR | G_IO_HUP)) {
            dropViewer(*v, "hung up");
            continue;
        }
        if (ready & G_IO_IN) {
            // Viewers have nothing to say after the request: read to notice a
            // hang-up (0 bytes) and discard anything else.
            char sink[4096];
            ssize_t n = ::recv(v->fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                dropViewer(*v, "hung up");
                continue;
            }
        }
        if (ready & G_IO_OUT) flush(*v);
    }
    sweepDropped();
}

gboolean MjpegFanout::checkTimeouts() {
    const int64_t now = monotonicNowUs();
    for (auto& v : viewers_) {
        if (!v->dropped && v->inflight && now - v->lastProgressUs > clientTimeoutUs_) {
            ++totals_.viewersTimedOut;
            dropViewer(*v, "timed out: accepted no data");
        }
    }
    sweepDropped();
    if (!viewers_.empty()) return G_SOURCE_CONTINUE;
    timeoutTimer_.forget();
    return G_SOURCE_REMOVE;
}

void MjpegFanout::dropViewer(Viewer& v, const char* why) {
    GST_DEBUG("camera %s: dropping viewer fd %d: %s", camera_.id().c_str(), v.fd, why);
    sockets_.remove(v.tag);
    v.dropped = true;
    anyDropped_ = true;
}

void MjpegFanout::sweepDropped() {
    if (!std::exchange(anyDropped_, false)) return;
    // Dropping the connection closes the socket at once.
    viewers_.erase(std::remove_if(viewers_.begin(), viewers_.end(), [](const auto& v) { return v->dropped; }),
                   viewers_.end());
}

MjpegStats MjpegFanout::stats() const {
    MjpegStats s = totals_;
    s.viewers = viewers_.size();
    return s;
}

}  // namespace camrelay

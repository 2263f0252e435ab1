#include "mjpeg_fanout.h"

#include "core/clock.h"
#include "core/log.h"


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

}  // namespace

MjpegFanout::MjpegFanout(CameraPtr camera, int clientTimeoutSec)
    // Viewers have nothing to say after the request: input is discarded
    // (reading it is how a hang-up is noticed).
    : camera_(std::move(camera)),
      viewers_(clientTimeoutSec, [](ViewerSockets::Client&, std::string_view) {},
               [](ViewerSockets::Client& gone) { gone.state.reset(); }) {  // releases its demand at once
    frameConnection_ = camera_->onFrame([this](const FramePtr& frame) { onFrame(frame); });
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

// What the fan-out keeps per viewer.
struct MjpegFanout::ViewerState {
    FpsThinner thinner;
    Camera::Demand demand;  // an on-demand camera runs while viewers watch
};

void MjpegFanout::addViewer(GRef<GIOStream> connection, GRef<GSocket> socket, MjpegViewerOptions options) {
    if (!camera_) return;  // closed: the connection goes with its last reference
    ViewerSockets::Client& viewer = viewers_.add(std::move(connection), std::move(socket));
    auto state = std::make_shared<ViewerState>();
    state->thinner.setMaxFps(options.maxFps);
    state->demand = camera_->demand();
    FpsThinner* thinner = &state->thinner;
    viewer.state = state;
    viewers_.sendControl(viewer, Part(&responseHead(), [](const std::string*) {}));
    // A new viewer sees the latest frame at once, not after the next capture.
    if (FramePtr latest = camera_->latestFrame()) {
        thinner->due(latest->captureUnixUs());
        viewers_.offerFrame(viewer, 0, partFor(latest));
    }
    viewers_.sweep();
}

void MjpegFanout::close() {
    if (!camera_) return;
    frameConnection_.disconnect();
    static const std::string end = std::string("\r\n--") + kMjpegBoundary + "--\r\n";
    viewers_.forEach([&](ViewerSockets::Client& viewer) {
        viewer.state.reset();  // its claim on the camera
        viewers_.sendControl(viewer, Part(&end, [](const std::string*) {}));
        viewers_.closeAfterSending(viewer);
    });
    latestPart_.reset();
    latestPartFrame_.reset();
    logInfo(camera_->id(), "camera removed: MJPEG viewers closed");
    camera_.reset();
}

void MjpegFanout::onFrame(const FramePtr& frame) {
    if (!viewers_.size()) return;
    Part part = partFor(frame);
    viewers_.forEach([&](ViewerSockets::Client& viewer) {
        if (static_cast<ViewerState*>(viewer.state.get())->thinner.due(frame->captureUnixUs()))
            viewers_.offerFrame(viewer, 0, part);
    });
}

}  // namespace camrelay

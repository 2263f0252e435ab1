#include "camera_media.h"

#include "core/clock.h"
#include "core/gobject_ptr.h"
#include "http/json.h"
#include "http/request.h"
#include "http/upgrade.h"

#include <cmath>
#include <memory>

namespace camrelay {

std::optional<double> parseFps(SoupServerMessage* msg, GHashTable* query) {
    const char* fps = queryValue(query, "fps");
    if (!fps) return 0.0;
    char* end = nullptr;
    const double value = g_ascii_strtod(fps, &end);
    if (!*fps || *end || !std::isfinite(value) || value <= 0 || value > 240) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_fps",
                     std::string("fps must be a number of frames per second, more than 0 and at most 240 (got \"") + fps + "\")");
        return std::nullopt;
    }
    return value;
}

bool viewerAllowed(SoupServerMessage* msg, const Camera& camera, const Outputs& outputs, const ServiceConfig& config) {
    if (!camera.configValid()) {
        respondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "camera_failed",
                     "camera " + camera.id() + " cannot run: " + camera.lastError());
        return false;
    }
    if (outputs.viewers(camera.id()) >= size_t(config.maxViewersPerCamera)) {
        // A viewer may leave at any moment: say when to try again.
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                     std::to_string(config.http.retryAfterSec).c_str());
        respondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_viewers",
                     "camera " + camera.id() + " already has " + std::to_string(config.maxViewersPerCamera) +
                         " viewers (limits.max-viewers-per-camera)");
        return false;
    }
    return true;
}

void respondCameraStream(SoupServerMessage* msg, Camera& camera, GHashTable* query, Outputs& outputs,
                         const ServiceConfig& config) {
    const std::optional<double> fps = parseFps(msg, query);
    if (!fps || !viewerAllowed(msg, camera, outputs, config)) return;
    if (StolenConnection c = stealConnection(msg))
        outputs.mjpeg(camera.id())->addViewer(std::move(c.stream), std::move(c.socket), MjpegViewerOptions{*fps});
}

void respondCameraSnapshot(SoupServerMessage* msg, Camera& camera, Outputs& outputs, const ServiceConfig& config) {
    // The reply may come at once or later; pause only in the second case.
    struct Progress { bool answered = false; bool paused = false; };
    auto progress = std::make_shared<Progress>();
    GRef<SoupServerMessage> held = GRef<SoupServerMessage>::ref(msg);
    outputs.snapshots().request(camera, config.snapshotTimeoutMs,
                                [held, progress](const FramePtr& frame, const std::string& whyNot) {
        SoupServerMessage* m = held.get();
        if (!frame) {
            soup_message_headers_replace(soup_server_message_get_response_headers(m), "Retry-After", "1");
            respondError(m, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame", whyNot);
        } else {
            SoupMessageHeaders* headers = soup_server_message_get_response_headers(m);
            soup_message_headers_replace(headers, "Cache-Control", "no-store");
            soup_message_headers_replace(headers, "X-Timestamp", formatUnixSeconds(frame->captureUnixUs()).c_str());
            soup_message_headers_replace(headers, "X-Frame-Number", std::to_string(frame->number()).c_str());
            soup_message_headers_set_content_type(headers, "image/jpeg", nullptr);
            soup_server_message_set_status(m, SOUP_STATUS_OK, nullptr);
            // Zero copy: the body borrows the frame's bytes and keeps the frame alive.
            auto* keep = new FramePtr(frame);
            GBytes* bytes = g_bytes_new_with_free_func(frame->jpeg().data(), frame->jpeg().size(),
                                                       [](gpointer p) { delete static_cast<FramePtr*>(p); }, keep);
            soup_message_body_append_bytes(soup_server_message_get_response_body(m), bytes);
            g_bytes_unref(bytes);
        }
        progress->answered = true;
        if (progress->paused) soup_server_message_unpause(m);
    });
    // request() may have answered already; else wait for its reply.
    if (!progress->answered) {
        progress->paused = true;
        soup_server_message_pause(msg);
    }
}

}  // namespace camrelay

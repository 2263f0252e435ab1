#include "snapshot.h"

namespace camrelay {

void SnapshotRequests::request(Camera& camera, int timeoutMs, Reply reply) {
    // A JPEG consumer while it waits: an idle on-demand camera starts now, and
    // an H.264 camera's JPEG branch opens (its first JPEG comes with the next key frame).
    Camera::Demand demand = camera.demand();
    const CameraState state = camera.state();
    if (state == CameraState::Live && camera.latestFrame() && !camera.latestFrame()->isPlaceholder()) {
        reply(camera.latestFrame(), {});
        return;
    }
    if (state != CameraState::Starting && state != CameraState::Live && state != CameraState::Reconnecting) {
        std::string why = "camera " + camera.id() + " is " + toString(state);
        if (!camera.lastError().empty()) why += ": " + camera.lastError();
        reply(nullptr, why);
        return;
    }
    waiting_.emplace_front();
    auto it = waiting_.begin();
    it->reply = std::move(reply);
    it->demand = std::move(demand);
    const std::string id = camera.id();
    it->frames = camera.onFrame([this, it](const FramePtr& frame) {
        if (!frame->isPlaceholder()) finish(it, frame, {});
    });
    it->states = camera.onStateChanged([this, it, id, &camera](CameraState s) {
        if (s == CameraState::Stopped || s == CameraState::Failed || s == CameraState::Stalled)
            finish(it, nullptr, "camera " + id + " became " + toString(s) + ": " + camera.lastError());
    });
    struct TimerData { SnapshotRequests* self; std::list<Waiter>::iterator it; std::string id; int ms; };
    it->timer = SourceHandle(g_timeout_add_full(
        G_PRIORITY_DEFAULT, guint(timeoutMs),
        [](gpointer p) noexcept -> gboolean {
            auto* d = static_cast<TimerData*>(p);
            d->it->timer.forget();
            d->self->finish(d->it, nullptr,
                            "camera " + d->id + " produced no frame within " + std::to_string(d->ms) + " ms");
            return G_SOURCE_REMOVE;
        },
        new TimerData{this, it, id, timeoutMs}, [](gpointer p) noexcept { delete static_cast<TimerData*>(p); }));
}

void SnapshotRequests::finish(std::list<Waiter>::iterator it, const FramePtr& frame, const std::string& whyNot) {
    Reply reply = std::move(it->reply);
    waiting_.erase(it);  // disconnects and removes the timer first: no second call
    reply(frame, whyNot);
}

}  // namespace camrelay

#pragma once
// Snapshots from memory: the camera's latest JPEG at once, or, while a camera
// is starting or reconnecting, the first frame it produces within a bound; an
// idle on-demand camera is started and waited for the same way.
// Placeholder frames are never snapshots: a camera that is down says so (503).
// Thread affinity: loop thread only.
#include "camera/camera.h"

#include <functional>
#include <list>
#include <string>

namespace camrelay {

class SnapshotRequests {
public:
    // frame is null when none came; whyNot then says why, naming the camera state.
    using Reply = std::function<void(const FramePtr& frame, const std::string& whyNot)>;

    // Replies at once when it can, else within timeoutMs. The reply is always called exactly once.
    void request(Camera& camera, int timeoutMs, Reply reply);
    size_t waiting() const { return waiting_.size(); }

private:
    struct Waiter {
        Reply reply;
        Camera::Demand demand;  // starts an idle on-demand camera, keeps it up while waiting
        Connection frames;
        Connection states;
        SourceHandle timer;
    };
    void finish(std::list<Waiter>::iterator it, const FramePtr& frame, const std::string& whyNot);

    std::list<Waiter> waiting_;
};

}  // namespace camrelay

#pragma once
// Publishers of source=push cameras: GET /api/cameras/{id}/publish (WebSocket).
// A publisher sends JPEG frames as binary messages, or as text messages in
// the JSON frame shape ({"type":"frame","data":{"frame":"<base64 JPEG>"}},
// parsed by parsePublishMessage()). Each frame is checked (whole JPEG,
// baseline or progressive, with a size) before it reaches the camera's
// pipeline; a bad one gets a JSON error message and the connection stays up.
// One publisher per camera: a second is refused with close code 1008 and the
// reason. A publisher that sends no valid frame for limits.publish-idle-timeout
// is closed with 1008, so a silent client cannot hold the single slot. When
// the publisher leaves the camera stops; its viewers stay connected and
// resume with the next one.
// Thread affinity: loop thread only.
#include "camera/registry.h"
#include "ingest/publish_message.h"
#include "outputs/viewer_sockets.h"

#include <string>

namespace camrelay {

struct PushStats {
    uint64_t framesAccepted = 0;
    uint64_t framesRejected = 0;
    uint64_t idleClosed = 0;  // publishers closed for sending no valid frame
};

class PushIngest {
public:
    // idleTimeoutSec: a publisher with no valid frame for this long is closed.
    explicit PushIngest(int clientTimeoutSec, int idleTimeoutSec = 10);
    PushIngest(const PushIngest&) = delete;
    PushIngest& operator=(const PushIngest&) = delete;

    // camera.isPush(); the upgrade request has been checked.
    // The publisher holds the camera until it leaves or the camera is removed.
    void addPublisher(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake, CameraPtr camera);
    // The camera is removed: its publisher is closed (1001, going away).
    void detach(const std::string& cameraId);
    PushStats stats() const { return stats_; }

    static constexpr size_t kMaxFrame = kMaxPublishMessage;

private:
    struct Publisher;
    using Client = ViewerSockets::Client;
    void onInput(Client& client, std::string_view data);
    void accept(Client& client, Publisher& publisher, std::string jpeg);
    void release(Publisher& publisher);
    gboolean checkIdle();

    const int idleTimeoutSec_;
    ViewerSockets sockets_;
    PushStats stats_;
    SourceHandle idleTimer_;
};

}  // namespace camrelay

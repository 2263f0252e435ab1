#pragma once
// WebSocket viewers of every camera, on camrelay's own WebSocket framing over
// ViewerSockets (so flow control is bounded: see viewer_sockets.h).
//
//   /api/cameras/{id}/ws?format=json|binary   one camera
//   /api/ws?format=binary|json                any cameras: subscribe/unsubscribe
//
// Every frame message (JSON with base64, or binary with a small header) is
// built once per frame and format, when the first viewer needs it, and the
// same bytes go to every viewer. Wire formats: docs/api.md.
// Thread affinity: loop thread only.
#include "camera/registry.h"
#include "outputs/viewer_sockets.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace camrelay {

enum class WsFrameFormat { Json, Binary };

struct WsViewerOptions {
    WsFrameFormat format = WsFrameFormat::Json;
    double maxFps = 0;
};

class WebSocketHub {
public:
    explicit WebSocketHub(int clientTimeoutSec);
    ~WebSocketHub();
    WebSocketHub(const WebSocketHub&) = delete;
    WebSocketHub& operator=(const WebSocketHub&) = delete;

    // A camera came (or is there at start): its feed starts.
    void attach(const CameraPtr& camera);
    // A camera is removed: per-camera viewers get a `state` message with
    // state "removed" and a close (1001, going away); /api/ws subscribers get
    // the same state message and are unsubscribed (their socket stays).
    void detach(const std::string& cameraId);

    // Take over a connection whose upgrade request has been checked; the
    // handshake response is written first.
    void addCameraViewer(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake,
                         Camera& camera, WsViewerOptions options);
    // /api/ws: the server greets with {"type":"hello","data":{"format":...}}; frames of
    // every subscribed camera come in that format (JSON carries the id as stream_id).
    void addMultiViewer(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake,
                        WsFrameFormat format);

    // Asked before an /api/ws subscription adds a viewer to a camera (the
    // owner counts every kind of viewer against limits.max-viewers-per-camera).
    using Admission = std::function<bool(const std::string& cameraId)>;
    void setAdmission(Admission admission) { admission_ = std::move(admission); }

    // Viewers watching this camera now (either endpoint).
    size_t viewers(const std::string& cameraId) const;
    ViewerSocketStats stats() const { return sockets_.stats(); }
    // This camera's frames to WebSocket viewers since it was attached (zeros if unknown).
    StreamTally cameraTally(const std::string& cameraId) const;

    // The binary frame message (header + JPEG), as sent.
    static std::string buildBinaryFrame(const Frame& frame, const std::string& cameraId);
    // The JSON frame message text (before WebSocket framing).
    static std::string buildJsonFrame(const Frame& frame, const std::string& cameraId, int quality);

private:
    struct Feed;
    struct ClientState;
    using Client = ViewerSockets::Client;

    void onFrame(Feed& feed, const FramePtr& frame);
    void onState(Feed& feed);
    void onInput(Client& client, std::string_view data);
    void onMessage(Client& client, ClientState& state, const std::string& text);
    void subscribe(Client& client, ClientState& state, const std::string& cameraId, double fps);
    bool admits(const std::string& cameraId) const;
    std::string streamInfo(const Camera& camera) const;
    std::string stateMessage(const Camera& camera) const;

    std::map<std::string, std::unique_ptr<Feed>> feeds_;
    int nextKey_ = 0;  // stream keys in ViewerSockets, never reused
    Admission admission_;
    ViewerSockets sockets_;
};

}  // namespace camrelay

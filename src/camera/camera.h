#pragma once
// One camera: its config, its GstPipeline, its state and its latest frame.
//   stopped -> starting -> live ; any -> failed (with GStreamer's message) ; any -> stopped
// Frames leave the streaming thread through a mailbox that keeps only the
// newest frame and wakes the loop once, so capture never waits on viewers.
// Thread affinity: loop thread only (the appsink callback is internal).
#include "camera/frame.h"
#include "camera/graph_builder.h"
#include "config/camera_config.h"
#include "core/gobject_ptr.h"
#include "core/signal.h"

#include <array>
#include <memory>
#include <string>

namespace camrelay {

enum class CameraState { Stopped, Starting, Live, Failed };
const char* toString(CameraState state);

struct CameraStats {
    double fps = 0;             // measured over the last two seconds
    uint64_t frames = 0;        // frames in this run
    int width = 0;
    int height = 0;
    double uptimeSec = 0;       // time since the first frame of this run
    double stateAgeSec = 0;     // time in the current state
};

class Camera {
public:
    // configProblems non-empty: the camera is listed as failed and never starts.
    Camera(CameraConfig config, ConfigProblems configProblems);
    ~Camera();
    Camera(const Camera&) = delete;
    Camera& operator=(const Camera&) = delete;

    const std::string& id() const { return config_.id; }
    const CameraConfig& config() const { return config_; }
    CameraState state() const { return state_; }
    const std::string& lastError() const { return lastError_; }
    // Effective pipeline text (empty while the config is invalid).
    const std::string& pipelineText() const { return plan_.pipelineText; }
    SourceKind sourceKind() const { return plan_.sourceKind; }
    bool configValid() const { return configProblems_.empty(); }

    // Builds and plays the pipeline. False (and state failed) when it cannot.
    bool start();
    void stop();

    FramePtr latestFrame() const { return latest_; }
    CameraStats stats() const;

    // Called on the loop thread for every new frame.
    Connection onFrame(std::function<void(const FramePtr&)> fn) { return frameSignal_.connect(std::move(fn)); }
    Connection onStateChanged(std::function<void(CameraState)> fn) { return stateSignal_.connect(std::move(fn)); }

private:
    struct Mailbox;

    void setState(CameraState state, std::string error = {});
    void fail(const std::string& error);
    void teardown();
    void deliver();
    gboolean onBusMessage(GstMessage* message);
    static gboolean busTrampoline(GstBus*, GstMessage* message, gpointer self) noexcept;

    CameraConfig config_;
    ConfigProblems configProblems_;
    GraphPlan plan_;
    CameraState state_ = CameraState::Stopped;
    std::string lastError_;
    int64_t stateSinceUs_;
    int64_t liveSinceUs_ = 0;

    GRef<GstElement> pipeline_;
    SourceHandle busWatch_;
    std::shared_ptr<Mailbox> mailbox_;

    FramePtr latest_;
    uint64_t frames_ = 0;
    std::array<int64_t, 64> arrivalUs_{};  // ring of recent arrival times, for fps
    Signal<const FramePtr&> frameSignal_;
    Signal<CameraState> stateSignal_;
};

}  // namespace camrelay

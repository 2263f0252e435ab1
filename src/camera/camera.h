#pragma once
// One camera: its config, its GstPipeline, its state and its latest frame.
//
//   stopped ─start─► starting ─first frame─► live
//   live ─error / end of stream / watchdog─► stalled ─backoff─► reconnecting ─first frame─► live
//   reconnecting ─error / start timeout─► stalled (next delay doubled, capped)
//   failed: the config is wrong (never retried); stop() from anywhere: stopped
//   on-demand cameras: idle ─first consumer─► starting ... ─linger after the last─► idle
//
// JPEG only while someone looks: for a source that delivers H.264, the decode
// → JPEG branch after the H.264 tee runs only while a JPEG consumer (demand())
// exists; H.264 consumers (h264().claim(), keepRunning()) keep the source
// running without it. While that branch is closed the source's access units
// count as its frames (liveness, fps, watchdog) and latestFrame() is empty;
// when it opens, JPEG starts at the next key frame.
//
// One run of the pipeline (parse, named elements, frame receiver, bus watch,
// JPEG gate, H.264 tap feed, teardown to the reaper) is a PipelineRun
// (pipeline_run.h); the camera keeps the one that feeds viewers (run_) and,
// during a hot apply, the one on trial (trial_), and decides states, retries
// and which run's frames are published.
//
// Recovery rebuilds only this camera's pipeline. While the source is down
// (stalled, reconnecting) the camera emits "camera offline" placeholder frames
// at 1 fps, so viewers stay connected and see why. Frames leave the streaming
// thread through a FrameReceiver, so capture never waits on viewers.
// Everything shown to users or logged is passed through redactCredentials:
// setState() stores lastError_ redacted, emitEvent() redacts every event, the
// pipeline text is redacted once, and logLine() redacts every line.
// Thread affinity: loop thread only.
#include "camera/encoded_tap.h"
#include "camera/event_log.h"
#include "camera/frame.h"
#include "camera/frame_receiver.h"
#include "camera/graph_builder.h"
#include "camera/offline_placeholder.h"
#include "camera/pipeline_reaper.h"
#include "camera/pipeline_run.h"
#include "camera/shared_h264_stream.h"
#include "config/camera_config.h"
#include "core/gobject_ptr.h"
#include "core/one_shot_timer.h"
#include "core/signal.h"

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace camrelay {

enum class CameraState { Stopped, Idle, Starting, Live, Stalled, Reconnecting, Failed };
const char* toString(CameraState state);

struct CameraStats {
    double fps = 0;             // measured over the last two seconds
    uint64_t frames = 0;        // source frames in this run (placeholders not counted)
    int width = 0;
    int height = 0;
    double uptimeSec = 0;       // time since the camera last became live
    double stateAgeSec = 0;     // time in the current state
    double lastFrameAgeSec = -1;  // since the last source frame; -1: none yet
    uint64_t reconnects = 0;    // reconnect attempts since start()
    int attempt = 0;            // attempts in a row since the camera was last live
    double nextRetrySec = -1;   // stalled: time until the next attempt; else -1
};

// Made only by the Registry, as a shared_ptr: whoever holds a camera beyond
// one call holds a shared_ptr or weak_ptr to it (claims hold a weak_ptr).
class Camera : public std::enable_shared_from_this<Camera> {
public:
    // configProblems non-empty: the camera is listed as failed and never starts.
    // reaper (outlives the camera) takes old pipelines to NULL off the loop
    // thread; without one they are stopped here, blocking.
    Camera(CameraConfig config, ConfigProblems configProblems, PipelineReaper* reaper = nullptr);
    ~Camera();
    Camera(const Camera&) = delete;
    Camera& operator=(const Camera&) = delete;

    const std::string& id() const { return config_.id; }
    const CameraConfig& config() const { return config_; }
    CameraState state() const { return state_; }
    // Source down or coming back: stalled or reconnecting.
    bool recovering() const { return state_ == CameraState::Stalled || state_ == CameraState::Reconnecting; }
    const std::string& lastError() const { return lastError_; }  // redacted
    // Effective pipeline text, credentials redacted (empty while the config is invalid).
    const std::string& pipelineText() const { return displayText_; }
    SourceKind sourceKind() const { return plan_.sourceKind; }
    bool configValid() const { return configProblems_.empty(); }

    // Hot apply (issue 12): a new config for this camera, same id, already
    // checked (config problems and planGraph are the caller's; a config that
    // does not plan only sets applyError() here). Equal to the current config:
    // nothing happens.
    //  - Running (starting, live): a trial. The new pipeline (a PipelineRun)
    //    starts beside the old one; its frames are not published. Its first
    //    frame (or, for a gated H.264 source, its first access unit) promotes
    //    it: the old run goes to the reaper, the new config takes over, viewers
    //    stay attached and see the new frames, event "apply". An error, end of
    //    stream or no first frame within the NEW config's start-timeout drops
    //    the trial and keeps the old run untouched, with applyError() set
    //    (event "apply-error"). A second reconfigure while a trial runs replaces it.
    //  - One device, two pipelines: when the old and new source name the same
    //    device= value (v4l2src, ...) or both use libcamerasrc, the two cannot
    //    run side by side. Then it is sequential: the old pipeline is stopped
    //    (to NULL on the loop thread, so the device is free), the new config
    //    takes over and starts; if it fails (error, end of stream, start
    //    timeout) the old config is restored and started again, with
    //    applyError() set. onReconfigured fires at both switches.
    //  - Nothing to keep (stopped, idle, failed, stalled, reconnecting, push
    //    cameras): the new config takes over at once and starts if the camera
    //    was running (or waiting to) or the new config is enabled.
    // The H.264 stream (h264()) survives: its claims and tap listeners stay,
    // it switches between encode and passthrough in place.
    // onReconfigured fires when the new config has taken over.
    void reconfigure(CameraConfig config);
    // A trial of a new config runs beside the current pipeline.
    bool applying() const { return bool(trial_); }
    // Why the last hot apply (or the last edit of the camera's file) did not
    // take effect, redacted; empty once a new config has taken over.
    const std::string& applyError() const { return applyError_; }
    // The file on disk was edited into something that does not load: the
    // camera keeps running as it was and shows this (redacted).
    void setApplyError(std::string error);
    Connection onReconfigured(std::function<void()> fn) { return reconfiguredSignal_.connect(std::move(fn)); }
    // The running pipeline (graph dumps), null when none runs.
    GstElement* runningPipeline() const { return run_ ? run_->pipeline() : nullptr; }

    // Builds and plays the pipeline. False (and state failed) when the config
    // cannot run; a source that cannot be reached is retried with backoff.
    // While stalled, starts the next attempt at once.
    bool start();
    void stop();

    // The camera's one H.264 stream, shared by every H.264 consumer (h264_stream.h):
    // the source's own access units when it delivers H.264, else one encoder.
    SharedH264Stream& h264() { return *h264_; }
    const SharedH264Stream& h264() const { return *h264_; }
    // Old pipelines go here (may be null: they are stopped in place).
    PipelineReaper* reaper() const { return reaper_; }

    // source=push: frames come from one publisher at a time, which starts the
    // pipeline when it arrives and stops the camera when it leaves (viewers stay).
    bool isPush() const { return plan_.push; }
    bool hasPublisher() const { return publisher_; }
    void setPublisher(bool present);
    // A publisher's JPEG (checked by the caller); false when the camera is not running.
    bool pushJpeg(GRef<GstBuffer> jpeg);

    // A JPEG consumer of the camera (viewer, snapshot, H.264 encoder) holds
    // one while it consumes: an on-demand camera runs while any claim exists
    // and goes idle `linger` seconds after the last is released; an H.264
    // source's JPEG branch runs while a demand() exists. Copies share one claim.
    using Demand = std::shared_ptr<const void>;
    Demand demand();
    // A consumer that needs the source running but no JPEG (H.264 passthrough).
    Demand keepRunning();
    size_t consumers() const { return consumers_; }        // every claim
    size_t jpegConsumers() const { return jpegConsumers_; }
    // JPEG frames are being produced now (or will be from the next key frame).
    bool jpegActive() const;

    // The newest frame, which is a placeholder while recovering.
    FramePtr latestFrame() const { return latest_; }
    CameraStats stats() const;

    // Called on the loop thread for every new frame (placeholders included).
    Connection onFrame(std::function<void(const FramePtr&)> fn) { return frameSignal_.connect(std::move(fn)); }
    Connection onStateChanged(std::function<void(CameraState)> fn) { return stateSignal_.connect(std::move(fn)); }
    Connection onEvent(std::function<void(const CameraEvent&)> fn) { return eventSignal_.connect(std::move(fn)); }
    // The one place events leave the camera (event log, /api/events), redacted
    // here; outputs of the camera (recording) report theirs through it too.
    void emitEvent(const char* type, std::string message, int attempt = 0, double delaySec = 0);

private:
    void launch(CameraState launching);
    std::unique_ptr<PipelineRun> makeRun(const GraphPlan& plan, const std::string& label, std::string* error);
    void sourceLost(const std::string& why);
    void retry();
    void setState(CameraState state, std::string error = {});
    void fail(const std::string& error);
    void teardownPipeline();
    void onRunFrame(PipelineRun& from, CapturedFrame captured);
    void onRunLost(PipelineRun& from, const std::string& why);
    void onCaptured(CapturedFrame captured);
    void onPlaceholder(CapturedFrame captured);
    void publish(FramePtr frame);
    gboolean watchdogTick();
    void release();
    void releaseJpeg();
    void updateJpegGate();
    void absorbAccessUnits();
    void becomeLive(const std::string& what);
    void goIdle();
    void halt();
    // Hot apply (reconfigure()).
    void switchConfig(CameraConfig config, GraphPlan plan);
    void startTrial(CameraConfig config, GraphPlan plan);
    void promoteTrial(const char* message);
    void trialFailed(const std::string& why);
    void dropTrial();
    void applySequentially(CameraConfig config, GraphPlan plan);
    void restoreAfterFailedApply(const std::string& why);

    CameraConfig config_;
    ConfigProblems configProblems_;
    PipelineReaper* reaper_;
    GraphPlan plan_;
    std::string displayText_;
    CameraState state_ = CameraState::Stopped;
    std::string lastError_;
    int64_t stateSinceUs_;
    int64_t liveSinceUs_ = 0;
    int64_t lastFrameUs_ = 0;

    std::unique_ptr<PipelineRun> run_;  // the pipeline that feeds viewers
    // A new config on trial (reconfigure()) and the run trying it.
    std::unique_ptr<PipelineRun> trial_;
    CameraConfig trialConfig_;
    GraphPlan trialPlan_;
    OneShotTimer trialTimer_;  // the new config's start-timeout
    // Sequential apply (one device): the config to go back to if the new one fails to start.
    std::optional<CameraConfig> fallback_;
    SourceHandle watchdog_;
    OneShotTimer retryTimer_;
    int64_t retryAtUs_ = 0;
    int attempt_ = 0;
    uint64_t reconnects_ = 0;
    size_t consumers_ = 0;
    bool publisher_ = false;
    OneShotTimer lingerTimer_;
    OfflinePlaceholder placeholder_;
    std::unique_ptr<SharedH264Stream> h264_;
    size_t jpegConsumers_ = 0;
    int h264Width_ = 0, h264Height_ = 0;  // the run's H.264 caps: the size while no JPEG is made

    FramePtr latest_;
    uint64_t frameNumber_ = 0;  // last number given, placeholders included
    uint64_t frames_ = 0;
    std::array<int64_t, 64> arrivalUs_{};  // ring of recent arrival times, for fps
    Signal<const FramePtr&> frameSignal_;
    Signal<CameraState> stateSignal_;
    Signal<const CameraEvent&> eventSignal_;
    Signal<> reconfiguredSignal_;
    std::string applyError_;
};

}  // namespace camrelay

#include "camera.h"

#include "camera/reconnect_policy.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/redact.h"

#include <algorithm>
#include <atomic>
#include <vector>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

namespace {

constexpr guint kWatchdogTickMs = 250;

std::string seconds(double s) {
    char text[32];
    g_snprintf(text, sizeof text, "%g s", s);
    return text;
}

}  // namespace

const char* toString(CameraState state) {
    switch (state) {
    case CameraState::Stopped: return "stopped";
    case CameraState::Idle: return "idle";
    case CameraState::Starting: return "starting";
    case CameraState::Live: return "live";
    case CameraState::Stalled: return "stalled";
    case CameraState::Reconnecting: return "reconnecting";
    case CameraState::Failed: return "failed";
    }
    return "unknown";
}

Camera::Camera(CameraConfig config, ConfigProblems configProblems, PipelineReaper* reaper)
    : config_(std::move(config)), configProblems_(std::move(configProblems)), reaper_(reaper), stateSinceUs_(monotonicNowUs()),
      placeholder_([this](CapturedFrame captured) { onPlaceholder(std::move(captured)); }),
      // A camera whose config is invalid never runs: its stream stays an idle encode-mode one.
      h264_(std::make_unique<SharedH264Stream>(*this, false)) {
    if (!configProblems_.empty()) {
        setState(CameraState::Failed, joinProblems(configProblems_));
        return;
    }
    GraphPlanResult result = planGraph(config_);
    if (!result.plan) {
        configProblems_ = std::move(result.problems);
        setState(CameraState::Failed, joinProblems(configProblems_));
        return;
    }
    plan_ = std::move(*result.plan);
    if (plan_.h264Tap) h264_ = std::make_unique<SharedH264Stream>(*this, true);
    displayText_ = redactCredentials(plan_.pipelineText);
    if (!plan_.chromaNote.empty()) logWarning(id(), plan_.chromaNote);
}

Camera::~Camera() {
    h264_->shutdown();
    lingerTimer_.cancel();
    retryTimer_.cancel();
    trialTimer_.cancel();
    watchdog_.reset();
    trial_.reset();
    teardownPipeline();
    placeholder_.hide();  // its frames would reach this camera
}

namespace {

// What start() does in each state (a valid config; push cameras without a
// publisher and on-demand cameras without consumers wait instead of launching).
enum class StartAction { Launch, RetryNow, Nothing };
struct StartRule {
    CameraState state;
    StartAction action;
};
constexpr StartRule kStartRules[] = {
    {CameraState::Stopped, StartAction::Launch},
    {CameraState::Idle, StartAction::Launch},          // when a consumer waits; else stays idle
    {CameraState::Starting, StartAction::Nothing},     // already on its way
    {CameraState::Live, StartAction::Nothing},
    {CameraState::Stalled, StartAction::RetryNow},     // waiting out a backoff: try now
    {CameraState::Reconnecting, StartAction::Nothing},
    {CameraState::Failed, StartAction::Nothing},       // a pipeline that did not parse stays failed
};

StartAction startActionFor(CameraState state) {
    for (const auto& rule : kStartRules)
        if (rule.state == state) return rule.action;
    return StartAction::Nothing;
}

}  // namespace

bool Camera::start() {
    if (!configValid()) return false;
    const StartAction action = startActionFor(state_);
    if (action == StartAction::RetryNow) {
        retryTimer_.cancel();
        retry();
        return true;
    }
    if (action == StartAction::Nothing) return true;
    if (isPush() && !publisher_) return true;  // starts when a publisher arrives
    if (state_ == CameraState::Idle && consumers_ == 0) return true;  // waits for a consumer
    if (state_ == CameraState::Stopped) {
        reconnects_ = 0;
        lastError_.clear();
    }
    attempt_ = 0;
    if (config_.onDemand && consumers_ == 0) {
        setState(CameraState::Idle);
        return true;
    }
    launch(CameraState::Starting);
    return state_ != CameraState::Failed;
}

void Camera::reconfigure(CameraConfig config) {
    if (trial_ && config == trialConfig_) return;  // already on trial
    dropTrial();  // a newer config replaces the one on trial
    if (configValid() && config == config_) return;
    GraphPlanResult result = planGraph(config);
    if (!result.plan) {  // the caller's check, repeated: this camera must never run it
        if (configValid()) {
            setApplyError(joinProblems(result.problems));
            return;
        }
        config_ = std::move(config);
        configProblems_ = std::move(result.problems);
        setState(CameraState::Failed, joinProblems(configProblems_));
        reconfiguredSignal_.emit();
        return;
    }
    GraphPlan plan = std::move(*result.plan);
    // The same pipeline (only the name, timeouts, on-demand, [record] or
    // h264-* changed): nothing is rebuilt, viewers see no change at all.
    if (configValid() && plan.pipelineText == plan_.pipelineText && plan.push == plan_.push && plan.h264Tap == plan_.h264Tap) {
        const bool enabledChanged = config.enabled != config_.enabled;
        switchConfig(std::move(config), std::move(plan));
        emitEvent("apply", "new config applied (same pipeline: nothing rebuilt)");
        reconfiguredSignal_.emit();
        if (enabledChanged && config_.enabled) start();
        else if (enabledChanged) stop();
        return;
    }
    // Something worth keeping runs: try the new pipeline beside it.
    const bool running = configValid() && run_ && (state_ == CameraState::Starting || state_ == CameraState::Live);
    const bool sameDevice = configValid() && sourcesShareDevice(config_.source, config.source);
    if (running && !plan_.push && !plan.push) {
        if (sameDevice) applySequentially(std::move(config), std::move(plan));
        else startTrial(std::move(config), std::move(plan));
        return;
    }
    // Nothing to keep: the new config takes over at once.
    const bool wasRunning = configValid() && state_ != CameraState::Stopped;
    if (run_ && sameDevice) run_->stopNow();  // a reconnecting run may hold the device
    halt();
    fallback_.reset();
    switchConfig(std::move(config), std::move(plan));
    setState(CameraState::Stopped);
    if (wasRunning || config_.enabled) start();
    emitEvent("apply", "new config applied");
    reconfiguredSignal_.emit();
}

// The new config and its plan become the camera's (nothing is started here).
void Camera::switchConfig(CameraConfig config, GraphPlan plan) {
    const bool h264SettingsChanged = !(config.h264 == config_.h264);
    config_ = std::move(config);
    configProblems_.clear();
    plan_ = std::move(plan);
    displayText_ = redactCredentials(plan_.pipelineText);
    if (!plan_.chromaNote.empty()) logWarning(id(), plan_.chromaNote);
    applyError_.clear();
    h264_->setPassthrough(plan_.h264Tap);
    if (h264SettingsChanged) h264_->applySettings();
}

void Camera::startTrial(CameraConfig config, GraphPlan plan) {
    trialConfig_ = std::move(config);
    trialPlan_ = std::move(plan);
    logInfo(id(), "trying the new pipeline beside the running one: " + redactCredentials(trialPlan_.pipelineText));
    std::string error;
    trial_ = makeRun(trialPlan_, id() + " (new config)", &error);
    if (!trial_ || !trial_->play(jpegConsumers_ > 0, &error)) {
        trialFailed(error);
        return;
    }
    trialTimer_.startMs(guint(trialConfig_.startTimeout) * 1000, [this] {
        trialFailed("new pipeline: no first frame within " + seconds(trialConfig_.startTimeout));
    });
}

// The trial's first frame (or access unit): it becomes the camera's run.
void Camera::promoteTrial(const char* message) {
    trialTimer_.cancel();
    fallback_.reset();  // the new config runs
    std::unique_ptr<PipelineRun> old = std::move(run_);
    run_ = std::move(trial_);
    old.reset();  // to the reaper; its access units stop reaching the tap here
    switchConfig(std::move(trialConfig_), std::move(trialPlan_));
    trialConfig_ = CameraConfig{};
    trialPlan_ = GraphPlan{};
    h264Width_ = h264Height_ = 0;
    run_->setTapForwarding(true);  // from its next key frame
    updateJpegGate();              // the encoder's claim may have come or gone with the mode
    if (latest_ && !latest_->isPlaceholder() && !run_->jpegActive()) latest_.reset();  // no longer current
    if (h264_->claims() > 0) {  // existing consumers switch at the earliest key frame
        run_->requestKeyframe();
        h264_->requestKeyframe();
    }
    logInfo(id(), std::string(message) + ": " + displayText_);
    emitEvent("apply", message);
    reconfiguredSignal_.emit();
}

void Camera::trialFailed(const std::string& why) {
    trialTimer_.cancel();
    trial_.reset();  // to the reaper (may be called from the trial's own bus watch: see PipelineRun)
    const std::string reason = why.empty() ? std::string("new pipeline failed") : why;
    logWarning(id(), "new config not applied, the running pipeline stays: " + redactCredentials(reason));
    setApplyError(reason);
}

void Camera::dropTrial() {
    if (!trial_) return;
    trialTimer_.cancel();
    trial_.reset();
    logInfo(id(), "the new config on trial was dropped");
}

// One device, two configs: stop the old pipeline (to NULL here, so the
// device is free when the new one opens it), then start the new one. Its
// failure to start brings the old config back (restoreAfterFailedApply).
void Camera::applySequentially(CameraConfig config, GraphPlan plan) {
    logInfo(id(), "the new config uses the same device: stopping the running pipeline first");
    if (run_) run_->stopNow();
    // Applied again before the last one started: the config to go back to is still the last one that ran.
    CameraConfig old = fallback_ ? std::move(*fallback_) : config_;
    halt();
    switchConfig(std::move(config), std::move(plan));
    fallback_ = std::move(old);
    reconfiguredSignal_.emit();
    launch(CameraState::Starting);
}

void Camera::restoreAfterFailedApply(const std::string& why) {
    CameraConfig old = std::move(*fallback_);
    fallback_.reset();
    if (run_) run_->stopNow();
    halt();
    GraphPlanResult result = planGraph(old);
    const std::string reason = redactCredentials(why);
    logWarning(id(), "new config failed to start (" + reason + "): the previous config is back");
    if (!result.plan) {  // planned before; only a changed install gets here
        config_ = std::move(old);
        configProblems_ = std::move(result.problems);
        setState(CameraState::Failed, joinProblems(configProblems_));
        setApplyError(reason);
        reconfiguredSignal_.emit();
        return;
    }
    switchConfig(std::move(old), std::move(*result.plan));
    setApplyError(reason);
    reconfiguredSignal_.emit();
    launch(CameraState::Starting);
}

void Camera::setApplyError(std::string error) {
    applyError_ = redactCredentials(error);
    emitEvent("apply-error", applyError_);
}

void Camera::setPublisher(bool present) {
    publisher_ = present;
    if (present) {
        logInfo(id(), "publisher connected");
        start();
    } else {
        logInfo(id(), "publisher left: stopped until the next one");
        stop();
    }
}

bool Camera::pushJpeg(GRef<GstBuffer> jpeg) {
    return run_ && run_->pushJpeg(std::move(jpeg));
}

Camera::Demand Camera::demand() {
    Demand running = keepRunning();
    ++jpegConsumers_;
    updateJpegGate();
    // The JPEG claim goes first, then the running one it holds.
    return Demand(this, [running, weak = weak_from_this()](Camera*) {
        if (auto camera = weak.lock()) camera->releaseJpeg();
    });
}

void Camera::releaseJpeg() {
    if (jpegConsumers_ > 0) --jpegConsumers_;
    updateJpegGate();
}

bool Camera::jpegActive() const {
    return run_ && run_->jpegActive();
}

// H.264 sources: the decode → JPEG branch runs while a JPEG consumer exists.
void Camera::updateJpegGate() {
    const bool wanted = jpegConsumers_ > 0;
    if (trial_) trial_->setJpegWanted(wanted);
    if (!run_ || !run_->setJpegWanted(wanted)) return;
    if (wanted) {
        logInfo(id(), "JPEG consumers: decoding from the next key frame");
        return;
    }
    // Nobody may be served a frame that is no longer current.
    if (latest_ && !latest_->isPlaceholder()) latest_.reset();
    logInfo(id(), "no JPEG consumers: decoding stopped (H.264 passes on)");
}

Camera::Demand Camera::keepRunning() {
    ++consumers_;
    lingerTimer_.cancel();
    if (state_ == CameraState::Idle) {
        logInfo(id(), "first consumer: starting on demand");
        launch(CameraState::Starting);
    }
    // The deleter runs when the last copy goes; a removed camera is not called.
    return Demand(this, [weak = weak_from_this()](Camera*) {
        if (auto camera = weak.lock()) camera->release();
    });
}

void Camera::release() {
    if (consumers_ == 0 || --consumers_ > 0 || !config_.onDemand) return;
    if (state_ == CameraState::Stopped || state_ == CameraState::Idle || state_ == CameraState::Failed) return;
    lingerTimer_.start(guint(config_.linger), [this] { goIdle(); });
}

// No consumer for `linger` seconds: stop the pipeline (no CPU) until the next one.
void Camera::goIdle() {
    if (consumers_ > 0) return;
    logInfo(id(), "no consumers for " + std::to_string(config_.linger) + " s: idle");
    halt();
    setState(CameraState::Idle);
}

void Camera::stop() {
    halt();
    if (configValid()) setState(CameraState::Stopped);
}

// Nothing runs any more for this camera: no pipeline, placeholder or timer.
void Camera::halt() {
    dropTrial();
    lingerTimer_.cancel();
    retryTimer_.cancel();
    watchdog_.reset();
    teardownPipeline();
    placeholder_.hide();
    latest_.reset();
    attempt_ = 0;
}

std::unique_ptr<PipelineRun> Camera::makeRun(const GraphPlan& plan, const std::string& label, std::string* error) {
    PipelineRun::Callbacks callbacks;
    callbacks.frame = [this](PipelineRun& from, CapturedFrame f) { onRunFrame(from, std::move(f)); };
    callbacks.lost = [this](PipelineRun& from, const std::string& why) { onRunLost(from, why); };
    return PipelineRun::create(plan, label, h264_->sharedTap(), reaper_, std::move(callbacks), error);
}

void Camera::launch(CameraState launching) {
    teardownPipeline();
    std::string error;
    run_ = makeRun(plan_, id(), &error);
    if (!run_) {
        fail(error);
        return;
    }
    run_->setTapForwarding(true);
    h264Width_ = h264Height_ = 0;
    if (!watchdog_) {
        watchdog_ = SourceHandle(g_timeout_add(kWatchdogTickMs, [](gpointer self) noexcept -> gboolean {
            try {
                return static_cast<Camera*>(self)->watchdogTick();
            } catch (...) {
                logError(static_cast<Camera*>(self)->id(), "watchdog tick failed: " + currentExceptionText());
                return G_SOURCE_CONTINUE;
            }
        }, this));
    }
    frames_ = 0;
    arrivalUs_.fill(0);
    setState(launching);
    logInfo(id(), std::string(launching == CameraState::Starting ? "starting: " : "reconnecting: ") + displayText_);
    if (!run_->play(jpegConsumers_ > 0, &error)) sourceLost(error);
}

void Camera::onRunFrame(PipelineRun& from, CapturedFrame captured) {
    if (&from == trial_.get()) promoteTrial("new pipeline running");
    if (&from == run_.get()) onCaptured(std::move(captured));
}

void Camera::onRunLost(PipelineRun& from, const std::string& why) {
    if (&from == trial_.get()) trialFailed(why);
    else if (&from == run_.get()) sourceLost(why);
}

// The source is gone (error, end of stream, watchdog): show the placeholder,
// wait, rebuild. The camera's config is fine, so this never ends in failed.
void Camera::sourceLost(const std::string& why) {
    if (fallback_) {  // a sequential apply whose new config did not start
        restoreAfterFailedApply(why);
        return;
    }
    const std::string reason = redactCredentials(why);  // also drawn into the placeholder frames
    logWarning(id(), reason);
    if (trial_) {
        // The old pipeline is gone anyway: the new one on trial takes over now
        // and has the start timeout to show a first frame.
        emitEvent("error", reason);
        promoteTrial("the running pipeline failed; the new config takes over");
        setState(CameraState::Starting, reason);
        stateSinceUs_ = monotonicNowUs();
        return;
    }
    teardownPipeline();
    if (plan_.push) {  // nothing to reconnect to: the publisher decides
        emitEvent("error", reason);
        setState(CameraState::Stopped, reason);
        return;
    }
    ++attempt_;
    const int delay = reconnectDelaySec(attempt_, config_.reconnectDelay, config_.reconnectMaxDelay);
    emitEvent("error", reason);
    setState(CameraState::Stalled, reason);
    emitEvent("reconnect", "reconnecting in " + seconds(delay) + " (attempt " + std::to_string(attempt_) + ")",
              attempt_, delay);
    retryAtUs_ = monotonicNowUs() + int64_t(delay) * 1000000;
    retryTimer_.start(guint(delay), [this] { retry(); });
    std::string text = config_.name + "\ncamera offline\n" + reason.substr(0, 70);
    const int width = latest_ ? latest_->width() : config_.width;
    const int height = latest_ ? latest_->height() : config_.height;
    placeholder_.show(text, width, height);
}

void Camera::retry() {
    ++reconnects_;
    launch(CameraState::Reconnecting);
}

// The run goes to the reaper (PipelineRun cuts its paths back here first).
void Camera::teardownPipeline() {
    run_.reset();
}

// The one place an error is stored: everything that shows it (/api/cameras,
// /api/ws, 503 bodies, snapshots, events) reads lastError_, already redacted.
void Camera::setState(CameraState state, std::string error) {
    if (!error.empty()) lastError_ = redactCredentials(error);
    if (state == state_) return;
    state_ = state;
    stateSinceUs_ = monotonicNowUs();
    if (state == CameraState::Live) liveSinceUs_ = stateSinceUs_;
    std::string why;
    if (state == CameraState::Stalled || state == CameraState::Failed) why = lastError_;
    if (state == CameraState::Reconnecting) why = "attempt " + std::to_string(attempt_);
    emitEvent("state", why);
    stateSignal_.emit(state);
}

// The one place events leave the camera (event log, /api/events): redacted here.
void Camera::emitEvent(const char* type, std::string message, int attempt, double delaySec) {
    eventSignal_.emit(CameraEvent{id(), type, toString(state_), redactCredentials(message), attempt, delaySec});
}

void Camera::fail(const std::string& error) {
    logError(id(), error);  // logLine, emitEvent and setState redact
    halt();
    emitEvent("error", error);
    setState(CameraState::Failed, error);
}

void Camera::becomeLive(const std::string& what) {
    logInfo(id(), "live " + what + (attempt_ ? " after " + std::to_string(attempt_) + " reconnect attempt(s)" : ""));
    attempt_ = 0;
    placeholder_.hide();
    if (latest_ && latest_->isPlaceholder()) latest_.reset();  // replaced at once when JPEG runs
    setState(CameraState::Live);
    if (fallback_) {  // a sequential apply: the new config runs, nothing to go back to
        fallback_.reset();
        emitEvent("apply", "new pipeline running");
    }
}

void Camera::onCaptured(CapturedFrame captured) {
    lastFrameUs_ = monotonicNowUs();
    ++frames_;
    arrivalUs_[frames_ % arrivalUs_.size()] = lastFrameUs_;
    if (state_ != CameraState::Live)
        becomeLive(std::to_string(captured.width) + "x" + std::to_string(captured.height));
    publish(std::make_shared<const Frame>(std::move(captured.jpeg), ++frameNumber_, captured.captureUnixUs,
                                          captured.width, captured.height));
}

void Camera::onPlaceholder(CapturedFrame captured) {
    if (!recovering()) return;
    publish(std::make_shared<const Frame>(std::move(captured.jpeg), ++frameNumber_, captured.captureUnixUs,
                                          captured.width, captured.height, true));
}

void Camera::publish(FramePtr frame) {
    latest_ = frame;
    frameSignal_.emit(frame);
}

// H.264 sources: while no JPEG comes (the gate is closed, or opened and
// waiting for its first frame), the source's access units are its frames.
void Camera::absorbAccessUnits() {
    if (!run_) return;
    std::array<int64_t, 64> times{};
    const size_t n = run_->takeAccessUnits(times);
    if (n == 0 || run_->jpegSinceOpen()) return;
    if (!h264Width_) run_->h264Size(h264Width_, h264Height_);
    for (size_t i = 0; i < n; ++i) {
        ++frames_;
        arrivalUs_[frames_ % arrivalUs_.size()] = times[i];
        lastFrameUs_ = std::max(lastFrameUs_, times[i]);
    }
    if (state_ == CameraState::Starting || state_ == CameraState::Reconnecting) becomeLive("(H.264; JPEG only while someone looks)");
}

gboolean Camera::watchdogTick() {
    // A gated H.264 trial makes no JPEG: its first access unit promotes it.
    if (trial_ && trial_->accessUnits() > 0) promoteTrial("new pipeline running (H.264)");
    if (plan_.push) return G_SOURCE_CONTINUE;  // a publisher may send as slowly as it likes
    absorbAccessUnits();
    const int64_t now = monotonicNowUs();
    if (state_ == CameraState::Live && now - lastFrameUs_ > int64_t(config_.watchdogTimeout) * 1000000)
        sourceLost("watchdog: no new frame for " + seconds(config_.watchdogTimeout));
    else if ((state_ == CameraState::Starting || state_ == CameraState::Reconnecting) &&
             now - stateSinceUs_ > int64_t(config_.startTimeout) * 1000000)
        sourceLost("watchdog: no first frame within " + seconds(config_.startTimeout));
    return G_SOURCE_CONTINUE;
}

CameraStats Camera::stats() const {
    CameraStats s;
    const int64_t now = monotonicNowUs();
    s.frames = frames_;
    s.stateAgeSec = (now - stateSinceUs_) / 1e6;
    s.reconnects = reconnects_;
    s.attempt = attempt_;
    if (lastFrameUs_ && state_ != CameraState::Stopped) s.lastFrameAgeSec = (now - lastFrameUs_) / 1e6;
    if (state_ == CameraState::Stalled) s.nextRetrySec = std::max<int64_t>(0, retryAtUs_ - now) / 1e6;
    if (latest_ && !latest_->isPlaceholder()) {
        s.width = latest_->width();
        s.height = latest_->height();
    } else if (run_ && h264Width_ > 0 && h264Height_ > 0) {  // JPEG off: the source's own size
        s.width = h264Width_;
        s.height = h264Height_;
    }
    if (state_ == CameraState::Live) s.uptimeSec = (now - liveSinceUs_) / 1e6;
    // Frames that arrived in the last two seconds, over the time they span.
    const size_t n = std::min<uint64_t>(frames_, arrivalUs_.size());
    int64_t newest = 0, oldest = 0;
    size_t counted = 0;
    for (size_t i = 0; i < n; ++i) {
        int64_t t = arrivalUs_[(frames_ - i) % arrivalUs_.size()];
        if (now - t > 2000000) break;
        if (i == 0) newest = t;
        oldest = t;
        ++counted;
    }
    if (counted >= 2 && newest > oldest) s.fps = (counted - 1) * 1e6 / double(newest - oldest);
    return s;
}

}  // namespace camrelay

#include "camera.h"

#include "camera/reconnect_policy.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/redact.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

namespace {

constexpr guint kWatchdogTickMs = 250;
constexpr size_t kMaxErrorBytes = 1024;

// "v4l2src0: Could not open device ..." : the element and GStreamer's own words.
std::string describeError(GstMessage* message) {
    GError* raw = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &raw, &debug);
    GUniquePtr<GError> error(raw);
    GUniquePtr<gchar> details(debug);
    GST_DEBUG("error details: %s", redactCredentials(debug ? debug : "").c_str());
    // The text may come from the camera itself (an HTTP reason phrase): it is
    // shown in every /api/cameras answer and kept in the event log, so bounded.
    // Redacted before it is cut: a URL cut inside its password has no '@' left.
    return clipText(redactCredentials(std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + errorMessage(error)),
                    kMaxErrorBytes);
}

}  // namespace

// Access units of the running pipeline, counted on the streaming thread and
// read by the watchdog tick: while the JPEG branch is closed they are the
// camera's frames (liveness, fps).
struct AccessUnitMeter {
    std::mutex mutex;
    uint64_t count = 0;
    std::array<int64_t, 64> arrivalUs{};  // ring, indexed by count
    void record(int64_t now) {
        std::lock_guard<std::mutex> lock(mutex);
        arrivalUs[++count % arrivalUs.size()] = now;
    }
};

namespace {

// The H.264 branch's appsink feeds the shared tap; every access unit is also
// counted for liveness (the camera's frames while the JPEG branch is closed).
std::shared_ptr<std::atomic<bool>> attachH264Tap(GstElement* pipeline, const std::shared_ptr<EncodedTap>& tap,
                                                 const std::shared_ptr<AccessUnitMeter>& meter) {
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), kH264SinkName));
    return feedTapFromAppSink(sink.get(), tap, [meter](GstBuffer*) { meter->record(monotonicNowUs()); });
}

// The JPEG gate: a buffer probe on the queue before the decoder (H.264
// sources). Closed: every access unit is dropped (no decode, no JPEG encode).
// Opening: dropped until the first key frame, so the decoder starts clean.
enum JpegGate : int { kGateClosed = 0, kGateWaitingForKey = 1, kGateOpen = 2 };

bool attachJpegGate(GstElement* pipeline, const std::shared_ptr<std::atomic<int>>& gate) {
    GRef<GstElement> queue = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), kJpegGateName));
    if (!queue) return false;
    GRef<GstPad> pad = GRef<GstPad>::adopt(gst_element_get_static_pad(queue.get(), "sink"));
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
        std::atomic<int>* state = static_cast<std::shared_ptr<std::atomic<int>>*>(data)->get();
        int now = state->load();
        if (now == kGateOpen) return GST_PAD_PROBE_OK;
        if (now == kGateClosed) return GST_PAD_PROBE_DROP;
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_DROP;
        // The first key frame after a gap: opens unless closed again meanwhile.
        if (!state->compare_exchange_strong(now, kGateOpen)) return GST_PAD_PROBE_DROP;
        buffer = gst_buffer_make_writable(buffer);
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
        return GST_PAD_PROBE_OK;
    }, new std::shared_ptr<std::atomic<int>>(gate), [](gpointer p) noexcept {
        delete static_cast<std::shared_ptr<std::atomic<int>>*>(p);
    });
    return true;
}

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
}

Camera::~Camera() {
    h264_->shutdown();
    lingerTimer_.cancel();
    retryTimer_.cancel();
    watchdog_.reset();
    teardownPipeline();
    placeholder_.hide();  // its frames would reach this camera
}

bool Camera::start() {
    if (!configValid()) return false;
    if (state_ == CameraState::Stalled) {  // asked to start while waiting out a backoff: try now
        retryTimer_.cancel();
        retry();
        return true;
    }
    if (isPush() && !publisher_) return true;  // starts when a publisher arrives
    if (state_ == CameraState::Idle && consumers_ == 0) return true;  // waits for a consumer
    if (state_ != CameraState::Stopped && state_ != CameraState::Idle) return true;  // already running or reconnecting
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

// Interim (replaced by the trial apply of issue 12): stop, swap, start.
void Camera::reconfigure(CameraConfig config) {
    const bool wasRunning = state_ != CameraState::Stopped && state_ != CameraState::Failed;
    halt();
    GraphPlanResult result = planGraph(config);
    config_ = std::move(config);
    configProblems_.clear();
    applyError_.clear();
    if (!result.plan) {
        configProblems_ = std::move(result.problems);
        setState(CameraState::Failed, joinProblems(configProblems_));
        return;
    }
    plan_ = std::move(*result.plan);
    displayText_ = redactCredentials(plan_.pipelineText);
    setState(CameraState::Stopped);
    reconfiguredSignal_.emit();
    if (wasRunning || config_.enabled) start();
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
    if (!pushSource_) return false;
    return gst_app_src_push_buffer(GST_APP_SRC(pushSource_.get()), GRef<GstBuffer>(jpeg).release()) == GST_FLOW_OK;
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
    if (!pipeline_) return false;
    return !jpegGate_ || jpegGate_->load() != kGateClosed;
}

// H.264 sources: the decode → JPEG branch runs while a JPEG consumer exists.
void Camera::updateJpegGate() {
    if (!jpegGate_) return;
    const bool wanted = jpegConsumers_ > 0;
    const bool open = jpegGate_->load() != kGateClosed;
    if (wanted == open) return;
    if (wanted) {
        jpegSinceOpen_ = false;
        jpegGate_->store(kGateWaitingForKey);
        logInfo(id(), "JPEG consumers: decoding from the next key frame");
        return;
    }
    jpegGate_->store(kGateClosed);
    jpegSinceOpen_ = false;  // access units are the frames again
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
    lingerTimer_.cancel();
    retryTimer_.cancel();
    watchdog_.reset();
    teardownPipeline();
    placeholder_.hide();
    latest_.reset();
    attempt_ = 0;
}

void Camera::launch(CameraState launching) {
    teardownPipeline();
    std::string error;
    GRef<GstElement> pipeline = parsePipeline(plan_.pipelineText, &error);
    if (!pipeline) {
        fail("pipeline does not parse: " + error);
        return;
    }
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kFrameSinkName));
    if (!sink) {
        fail("pipeline has no element named " + std::string(kFrameSinkName));
        return;
    }
    if (plan_.h264Tap) {
        auMeter_ = std::make_shared<AccessUnitMeter>();
        seenAccessUnits_ = 0;
        h264Live_ = attachH264Tap(pipeline.get(), h264_->sharedTap(), auMeter_);
        h264Sink_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kH264SinkName));
        h264Width_ = h264Height_ = 0;
        // Open until the source says whether it is live (below).
        jpegGate_ = std::make_shared<std::atomic<int>>(kGateWaitingForKey);
        jpegSinceOpen_ = false;
        if (!attachJpegGate(pipeline.get(), jpegGate_)) jpegGate_.reset();  // a planned H.264 pipeline always has it
    }
    if (plan_.push) pushSource_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kPushSourceName));
    pipeline_ = pipeline;
    receiver_ = std::make_unique<FrameReceiver>(sink.get(), [this](CapturedFrame f) { onCaptured(std::move(f)); });
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    busWatch_ = SourceHandle(gst_bus_add_watch(bus.get(), &Camera::busTrampoline, this));
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

    // Live sources (cameras) are shown as soon as a frame exists; anything
    // else (files, non-live test sources) is paced by the clock at the sink.
    GstStateChangeReturn ret = gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED);
    g_object_set(sink.get(), "sync", ret == GST_STATE_CHANGE_NO_PREROLL ? FALSE : TRUE, nullptr);
    // A non-live H.264 source (a file) is paced by the frame sink: with the
    // JPEG branch gated it would be read as fast as the disk allows. Its JPEG
    // branch stays open (from its first key frame).
    // A live source sends nothing before PLAYING: the gate closes in time.
    if (jpegGate_ && ret != GST_STATE_CHANGE_NO_PREROLL) jpegGate_.reset();
    else if (jpegGate_ && jpegConsumers_ == 0) jpegGate_->store(kGateClosed);
    if (ret != GST_STATE_CHANGE_FAILURE) ret = gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
    if (ret == GST_STATE_CHANGE_FAILURE) {
        // The reason is on the bus as an ERROR; take it now rather than later.
        GRef<GstMessage> msg = GRef<GstMessage>::adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
        sourceLost(msg ? describeError(msg.get()) : "the pipeline refused to start");
    }
}

// The source is gone (error, end of stream, watchdog): show the placeholder,
// wait, rebuild. The camera's config is fine, so this never ends in failed.
void Camera::sourceLost(const std::string& why) {
    const std::string reason = redactCredentials(why);  // also drawn into the placeholder frames
    logWarning(id(), reason);
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

// Cuts every path from the pipeline back into this camera (bus watch, frame
// receiver, H.264 tap, push source), then lets the reaper take it to NULL off
// the loop thread: that joins the streaming threads, which a source stuck in
// a blocking read may never let happen (see pipeline_reaper.h).
void Camera::teardownPipeline() {
    pushSource_.reset();
    busWatch_.reset();
    receiver_.reset();  // frames still in flight are dropped
    if (h264Live_) h264Live_->store(false);
    h264Live_.reset();
    jpegGate_.reset();  // the probe keeps its own reference
    auMeter_.reset();
    h264Sink_.reset();
    if (!pipeline_) return;
    if (reaper_) {
        reaper_->reap(std::move(pipeline_), id());
        return;
    }
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);  // no reaper (unit tests): joins here
    pipeline_.reset();
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
}

void Camera::onCaptured(CapturedFrame captured) {
    // A frame decoded just before the JPEG gate closed: nobody wants it.
    if (jpegGate_ && jpegGate_->load() == kGateClosed) return;
    jpegSinceOpen_ = true;
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
    if (!auMeter_) return;
    std::array<int64_t, 64> times{};
    size_t n = 0;
    {
        std::lock_guard<std::mutex> lock(auMeter_->mutex);
        const uint64_t total = auMeter_->count;
        n = size_t(std::min<uint64_t>(total - seenAccessUnits_, times.size()));
        for (size_t i = 0; i < n; ++i)  // oldest first
            times[i] = auMeter_->arrivalUs[(total - n + 1 + i) % auMeter_->arrivalUs.size()];
        seenAccessUnits_ = total;
    }
    if (n == 0 || jpegSinceOpen_) return;
    if (!h264Width_ && h264Sink_) {  // the parser puts the size in the caps
        GRef<GstPad> pad = GRef<GstPad>::adopt(gst_element_get_static_pad(h264Sink_.get(), "sink"));
        GRef<GstCaps> caps = pad ? GRef<GstCaps>::adopt(gst_pad_get_current_caps(pad.get())) : GRef<GstCaps>();
        if (caps && gst_caps_get_size(caps.get()) > 0) {
            const GstStructure* st = gst_caps_get_structure(caps.get(), 0);
            gst_structure_get_int(st, "width", &h264Width_);
            gst_structure_get_int(st, "height", &h264Height_);
        }
    }
    for (size_t i = 0; i < n; ++i) {
        ++frames_;
        arrivalUs_[frames_ % arrivalUs_.size()] = times[i];
        lastFrameUs_ = std::max(lastFrameUs_, times[i]);
    }
    if (state_ == CameraState::Starting || state_ == CameraState::Reconnecting) becomeLive("(H.264; JPEG only while someone looks)");
}

gboolean Camera::watchdogTick() {
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
    } else if (pipeline_ && h264Width_ > 0 && h264Height_ > 0) {  // JPEG off: the source's own size
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

gboolean Camera::busTrampoline(GstBus*, GstMessage* message, gpointer self) noexcept {
    try {
        return static_cast<Camera*>(self)->onBusMessage(message);
    } catch (...) {
        logError(static_cast<Camera*>(self)->id(), "handling a bus message failed: " + currentExceptionText());
        return G_SOURCE_CONTINUE;
    }
}

gboolean Camera::onBusMessage(GstMessage* message) {
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
        busWatch_.forget();  // returning G_SOURCE_REMOVE ends this watch; sourceLost() tears down the rest
        sourceLost(describeError(message));
        return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING: {
        GError* raw = nullptr;
        gst_message_parse_warning(message, &raw, nullptr);
        GUniquePtr<GError> warning(raw);
        logWarning(id(), std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + errorMessage(warning));
        break;
    }
    case GST_MESSAGE_EOS:
        // A camera that ends has gone away (an RTSP server closing the session,
        // an HTTP camera hanging up): treated like any other loss.
        busWatch_.forget();
        sourceLost("end of stream");
        return G_SOURCE_REMOVE;
    case GST_MESSAGE_LATENCY:
        if (pipeline_) gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

}  // namespace camrelay

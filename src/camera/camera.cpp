#include "camera.h"

#include "camera/reconnect_policy.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/redact.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <atomic>

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

// The H.264 branch's appsink feeds the tap on the streaming thread while
// *live is true. The camera clears it before handing the pipeline to the
// reaper: an old pipeline still draining never interleaves its access units
// with the new one's.
struct TapFeed {
    std::shared_ptr<EncodedTap> tap;
    std::shared_ptr<std::atomic<bool>> live;
};

std::shared_ptr<std::atomic<bool>> attachH264Tap(GstElement* pipeline, const std::shared_ptr<EncodedTap>& tap) {
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), kH264SinkName));
    if (!sink) return nullptr;
    auto live = std::make_shared<std::atomic<bool>>(true);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* appsink, gpointer data) noexcept -> GstFlowReturn {
        GRef<GstSample> sample = GRef<GstSample>::adopt(gst_app_sink_pull_sample(appsink));
        GstBuffer* buffer = sample ? gst_sample_get_buffer(sample.get()) : nullptr;
        auto* feed = static_cast<TapFeed*>(data);
        try {
            if (buffer && feed->live->load()) feed->tap->push(buffer);
        } catch (const std::exception& e) {
            GST_ERROR("H.264 access unit dropped: %s", e.what());
        } catch (...) {
            GST_ERROR("H.264 access unit dropped: unknown exception");
        }
        return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, new TapFeed{tap, live},
                               [](gpointer p) noexcept { delete static_cast<TapFeed*>(p); });
    return live;
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
      placeholder_([this](CapturedFrame captured) { onPlaceholder(std::move(captured)); }) {
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
    if (plan_.h264Tap) h264Tap_ = std::make_shared<EncodedTap>();
    displayText_ = redactCredentials(plan_.pipelineText);
}

Camera::~Camera() {
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
    ++consumers_;
    lingerTimer_.cancel();
    if (state_ == CameraState::Idle) {
        logInfo(id(), "first consumer: starting on demand");
        launch(CameraState::Starting);
    }
    // The deleter runs when the last copy goes; cameras outlive their consumers.
    return Demand(this, [](Camera* camera) { camera->release(); });
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
    if (h264Tap_) h264Live_ = attachH264Tap(pipeline.get(), h264Tap_);
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

void Camera::onCaptured(CapturedFrame captured) {
    lastFrameUs_ = monotonicNowUs();
    ++frames_;
    arrivalUs_[frames_ % arrivalUs_.size()] = lastFrameUs_;
    if (state_ != CameraState::Live) {
        logInfo(id(), "live " + std::to_string(captured.width) + "x" + std::to_string(captured.height) +
                          (attempt_ ? " after " + std::to_string(attempt_) + " reconnect attempt(s)" : ""));
        attempt_ = 0;
        placeholder_.hide();
        setState(CameraState::Live);
    }
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

gboolean Camera::watchdogTick() {
    if (plan_.push) return G_SOURCE_CONTINUE;  // a publisher may send as slowly as it likes
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

#include "camera.h"

#include "core/clock.h"
#include "core/log.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <mutex>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

const char* toString(CameraState state) {
    switch (state) {
    case CameraState::Stopped: return "stopped";
    case CameraState::Starting: return "starting";
    case CameraState::Live: return "live";
    case CameraState::Failed: return "failed";
    }
    return "unknown";
}

// Hand-over point between the streaming thread and the loop thread. One per
// run, so frames of a stopped run can never reach a new one. Only the newest
// frame is kept: a busy loop skips frames instead of queueing them.
struct Camera::Mailbox {
    GMainContext* context = nullptr;   // the loop's context
    Camera* camera = nullptr;          // loop thread only; null once the run ended
    std::mutex mutex;
    FramePtr pending;                  // guarded by mutex
    bool wakeScheduled = false;        // guarded by mutex
    uint64_t produced = 0;             // streaming thread only
    GstCaps* lastCaps = nullptr;       // streaming thread only (identity, never dereferenced later)
    int width = 0, height = 0;         // streaming thread only

    // data is a heap std::shared_ptr<Mailbox>, owned by the appsink.
    static GstFlowReturn onNewSample(GstAppSink* sink, gpointer data) noexcept;
};

namespace {

// When the source captured the frame, as Unix time: the buffer's PTS (for a
// live source, the start of the frame's capture) as running time, mapped to
// the pipeline clock, then to the wall clock. Not "when it reached us": that
// would hide the time spent decoding and encoding from every latency figure.
int64_t captureTimeUs(GstElement* sink, GstSample* sample, GstBuffer* buffer) {
    const int64_t now = unixNowUs();
    GstClockTime pts = GST_BUFFER_PTS(buffer);
    GRef<GstClock> clock = GRef<GstClock>::adopt(gst_element_get_clock(sink));
    const GstSegment* segment = gst_sample_get_segment(sample);
    if (!clock || !GST_CLOCK_TIME_IS_VALID(pts) || !segment) return now;
    GstClockTime running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID(running)) return now;
    GstClockTime captured = gst_element_get_base_time(sink) + running;
    GstClockTime clockNow = gst_clock_get_time(clock.get());
    if (clockNow <= captured) return now;
    return now - int64_t((clockNow - captured) / 1000);
}

// "v4l2src0: Could not open device ..." : the element and GStreamer's own words.
std::string describeError(GstMessage* message) {
    GError* raw = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &raw, &debug);
    GUniquePtr<GError> error(raw);
    GUniquePtr<gchar> details(debug);
    GST_DEBUG("error details: %s", debug ? debug : "");
    return std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + errorMessage(error);
}

}  // namespace

GstFlowReturn Camera::Mailbox::onNewSample(GstAppSink* sink, gpointer data) noexcept {
    const std::shared_ptr<Mailbox>& shared = *static_cast<std::shared_ptr<Mailbox>*>(data);
    Mailbox* box = shared.get();
    GRef<GstSample> sample = GRef<GstSample>::adopt(gst_app_sink_pull_sample(sink));
    if (!sample) return GST_FLOW_OK;
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    if (!buffer) return GST_FLOW_OK;
    try {
        GstCaps* caps = gst_sample_get_caps(sample.get());
        if (caps && caps != box->lastCaps) {
            const GstStructure* s = gst_caps_get_structure(caps, 0);
            gst_structure_get_int(s, "width", &box->width);
            gst_structure_get_int(s, "height", &box->height);
            box->lastCaps = caps;
        }
        auto frame = std::make_shared<const Frame>(GRef<GstBuffer>::ref(buffer), ++box->produced,
                                                   captureTimeUs(GST_ELEMENT(sink), sample.get(), buffer),
                                                   box->width, box->height);
        bool wake = false;
        {
            std::lock_guard<std::mutex> lock(box->mutex);
            box->pending = std::move(frame);
            wake = !std::exchange(box->wakeScheduled, true);
        }
        if (wake) {
            // The invocation keeps the mailbox alive, not the camera.
            auto* keep = new std::shared_ptr<Mailbox>(shared);
            g_main_context_invoke_full(
                box->context, G_PRIORITY_HIGH,
                [](gpointer p) noexcept -> gboolean {
                    auto& mailbox = *static_cast<std::shared_ptr<Mailbox>*>(p);
                    if (mailbox && mailbox->camera) mailbox->camera->deliver();
                    return G_SOURCE_REMOVE;
                },
                keep, [](gpointer p) noexcept { delete static_cast<std::shared_ptr<Mailbox>*>(p); });
        }
    } catch (...) {
        GST_ERROR("dropping a frame: out of memory");
    }
    return GST_FLOW_OK;
}

Camera::Camera(CameraConfig config, ConfigProblems configProblems)
    : config_(std::move(config)), configProblems_(std::move(configProblems)), stateSinceUs_(monotonicNowUs()) {
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
}

Camera::~Camera() { teardown(); }

bool Camera::start() {
    if (!configValid()) return false;
    if (state_ == CameraState::Starting || state_ == CameraState::Live) return true;
    teardown();

    std::string error;
    GRef<GstElement> pipeline = parsePipeline(plan_.pipelineText, &error);
    if (!pipeline) {
        fail("pipeline does not parse: " + error);
        return false;
    }
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kFrameSinkName));
    if (!sink) {
        fail("pipeline has no element named " + std::string(kFrameSinkName));
        return false;
    }
    pipeline_ = pipeline;
    mailbox_ = std::make_shared<Mailbox>();
    mailbox_->context = g_main_context_ref_thread_default();
    g_main_context_unref(mailbox_->context);  // the loop's context outlives every camera
    mailbox_->camera = this;
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = &Mailbox::onNewSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, new std::shared_ptr<Mailbox>(mailbox_),
                               [](gpointer p) noexcept { delete static_cast<std::shared_ptr<Mailbox>*>(p); });

    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    busWatch_ = SourceHandle(gst_bus_add_watch(bus.get(), &Camera::busTrampoline, this));

    frames_ = 0;
    arrivalUs_.fill(0);
    setState(CameraState::Starting);

    // Live sources (cameras) are shown as soon as a frame exists; anything
    // else (files, non-live test sources) is paced by the clock at the sink.
    GstStateChangeReturn ret = gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED);
    g_object_set(sink.get(), "sync", ret == GST_STATE_CHANGE_NO_PREROLL ? FALSE : TRUE, nullptr);
    if (ret != GST_STATE_CHANGE_FAILURE) ret = gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
    if (ret == GST_STATE_CHANGE_FAILURE) {
        // The reason is on the bus as an ERROR; take it now rather than later.
        GRef<GstMessage> msg = GRef<GstMessage>::adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
        fail(msg ? describeError(msg.get()) : "the pipeline refused to start");
        return false;
    }
    logInfo(id(), "starting: " + plan_.pipelineText);
    return true;
}

void Camera::stop() {
    teardown();
    if (configValid()) setState(CameraState::Stopped);
}

void Camera::teardown() {
    busWatch_.reset();
    if (mailbox_) mailbox_->camera = nullptr;  // frames still in flight are ignored
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);  // joins streaming threads
    pipeline_.reset();
    mailbox_.reset();
    latest_.reset();
}

void Camera::setState(CameraState state, std::string error) {
    if (!error.empty()) lastError_ = std::move(error);
    if (state == state_) return;
    state_ = state;
    stateSinceUs_ = monotonicNowUs();
    if (state == CameraState::Live) liveSinceUs_ = stateSinceUs_;
    stateSignal_.emit(state);
}

void Camera::fail(const std::string& error) {
    logError(id(), error);
    teardown();
    setState(CameraState::Failed, error);
}

void Camera::deliver() {
    FramePtr frame;
    {
        std::lock_guard<std::mutex> lock(mailbox_->mutex);
        frame = std::move(mailbox_->pending);
        mailbox_->wakeScheduled = false;
    }
    if (!frame) return;
    latest_ = frame;
    ++frames_;
    arrivalUs_[frames_ % arrivalUs_.size()] = monotonicNowUs();
    if (state_ == CameraState::Starting) {
        logInfo(id(), "live " + std::to_string(frame->width()) + "x" + std::to_string(frame->height()));
        setState(CameraState::Live);
    }
    frameSignal_.emit(frame);
}

CameraStats Camera::stats() const {
    CameraStats s;
    const int64_t now = monotonicNowUs();
    s.frames = frames_;
    s.stateAgeSec = (now - stateSinceUs_) / 1e6;
    if (latest_) {
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
        return G_SOURCE_CONTINUE;
    }
}

gboolean Camera::onBusMessage(GstMessage* message) {
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
        busWatch_.forget();  // returning G_SOURCE_REMOVE ends this watch; fail() tears down the rest
        fail(describeError(message));
        return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING: {
        GError* raw = nullptr;
        gst_message_parse_warning(message, &raw, nullptr);
        GUniquePtr<GError> warning(raw);
        logWarning(id(), std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + errorMessage(warning));
        break;
    }
    case GST_MESSAGE_EOS:
        logInfo(id(), "end of stream");
        busWatch_.forget();
        teardown();
        setState(CameraState::Stopped, "end of stream");
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

#include "camera/pipeline_run.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/redact.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video-event.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <vector>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

namespace {

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

// The JPEG gate: a buffer probe on the queue before the decoder (H.264
// sources). Closed: every access unit is dropped (no decode, no JPEG encode).
// Opening: dropped until the first key frame, so the decoder starts clean.
enum JpegGate : int { kGateClosed = 0, kGateWaitingForKey = 1, kGateOpen = 2 };

// Access units to the camera's shared tap: off (a trial), from the next key frame, on.
enum TapForward : int { kForwardOff = 0, kForwardWaitingForKey = 1, kForwardOn = 2 };

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

// The values of every device=... property in a gst-launch fragment, unquoted.
std::vector<std::string> deviceValues(const std::string& source) {
    static const std::regex pattern(R"((?:^|[\s!])device\s*=\s*("[^"]*"|'[^']*'|[^\s!]+))");
    std::vector<std::string> values;
    for (auto it = std::sregex_iterator(source.begin(), source.end(), pattern); it != std::sregex_iterator(); ++it) {
        std::string v = (*it)[1].str();
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
        values.push_back(v);
    }
    return values;
}

}  // namespace

bool sourcesShareDevice(const std::string& oldSource, const std::string& newSource) {
    if (oldSource.find("libcamerasrc") != std::string::npos && newSource.find("libcamerasrc") != std::string::npos)
        return true;
    const std::vector<std::string> oldDevices = deviceValues(oldSource);
    for (const auto& device : deviceValues(newSource))
        if (std::find(oldDevices.begin(), oldDevices.end(), device) != oldDevices.end()) return true;
    return false;
}

// Access units of one run, counted on the streaming thread and read by the
// camera's watchdog tick: while the JPEG branch is closed they are the
// camera's frames (liveness, fps), and a trial's first one promotes it.
struct AccessUnitMeter {
    std::mutex mutex;
    uint64_t count = 0;
    std::array<int64_t, 64> arrivalUs{};  // ring, indexed by count
    void record(int64_t now) {
        std::lock_guard<std::mutex> lock(mutex);
        arrivalUs[++count % arrivalUs.size()] = now;
    }
};

PipelineRun::PipelineRun(std::string label, PipelineReaper* reaper, Callbacks callbacks)
    : label_(std::move(label)), reaper_(reaper), callbacks_(std::move(callbacks)) {}

std::unique_ptr<PipelineRun> PipelineRun::create(const GraphPlan& plan, std::string label,
                                                 std::shared_ptr<EncodedTap> tap, PipelineReaper* reaper,
                                                 Callbacks callbacks, std::string* error) {
    std::string parseError;
    GRef<GstElement> pipeline = parsePipeline(plan.pipelineText, &parseError);
    if (!pipeline) {
        *error = "pipeline does not parse: " + parseError;
        return nullptr;
    }
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kFrameSinkName));
    if (!sink) {
        *error = "pipeline has no element named " + std::string(kFrameSinkName);
        return nullptr;
    }
    std::unique_ptr<PipelineRun> run(new PipelineRun(std::move(label), reaper, std::move(callbacks)));
    run->pipeline_ = pipeline;
    run->frameSink_ = sink;
    if (plan.h264Tap) {
        run->h264Sink_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kH264SinkName));
        auto meter = std::make_shared<AccessUnitMeter>();
        auto forward = std::make_shared<std::atomic<int>>(kForwardOff);
        // The run's own tap only counts and forwards: one listener, which
        // passes access units on to the camera's tap while forwarding is on.
        auto runTap = std::make_shared<EncodedTap>();
        runTap->add([tap, forward](GstBuffer* unit) {
            int now = forward->load();
            if (now == kForwardOff) return;
            if (now == kForwardWaitingForKey) {
                if (GST_BUFFER_FLAG_IS_SET(unit, GST_BUFFER_FLAG_DELTA_UNIT)) return;
                if (!forward->compare_exchange_strong(now, kForwardOn)) return;
            }
            tap->push(unit);
        });
        // Counted from the very first access unit (a runTap listener starts at a key frame).
        run->feedLive_ = feedTapFromAppSink(run->h264Sink_.get(), runTap, [meter](GstBuffer*) { meter->record(monotonicNowUs()); });
        run->meter_ = meter;
        run->forward_ = forward;
        // Open until the source says whether it is live (play()).
        run->gate_ = std::make_shared<std::atomic<int>>(kGateWaitingForKey);
        if (!attachJpegGate(pipeline.get(), run->gate_)) run->gate_.reset();  // a planned H.264 pipeline always has it
    }
    if (plan.push) run->pushSource_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kPushSourceName));
    PipelineRun* self = run.get();
    run->receiver_ = std::make_unique<FrameReceiver>(sink.get(), [self](CapturedFrame f) { self->onCaptured(std::move(f)); });
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline.get()));
    run->busWatch_ = SourceHandle(gst_bus_add_watch(bus.get(), [](GstBus*, GstMessage* message, gpointer data) noexcept -> gboolean {
        auto* run = static_cast<PipelineRun*>(data);
        try {
            return run->onBusMessage(message);
        } catch (...) {
            logError(run->label_, "handling a bus message failed: " + currentExceptionText());
            return G_SOURCE_CONTINUE;
        }
    }, self));
    return run;
}

PipelineRun::~PipelineRun() { teardown(false); }

bool PipelineRun::play(bool jpegWanted, std::string* error) {
    // Live sources (cameras) are shown as soon as a frame exists; anything
    // else (files, non-live test sources) is paced by the clock at the sink.
    GstStateChangeReturn ret = gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED);
    g_object_set(frameSink_.get(), "sync", ret == GST_STATE_CHANGE_NO_PREROLL ? FALSE : TRUE, nullptr);
    // A non-live H.264 source (a file) is paced by the frame sink: with the
    // JPEG branch gated it would be read as fast as the disk allows. Its JPEG
    // branch stays open (from its first key frame).
    // A live source sends nothing before PLAYING: the gate closes in time.
    if (gate_ && ret != GST_STATE_CHANGE_NO_PREROLL) gate_.reset();
    else if (gate_ && !jpegWanted) gate_->store(kGateClosed);
    if (ret != GST_STATE_CHANGE_FAILURE) ret = gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
    if (ret != GST_STATE_CHANGE_FAILURE) return true;
    // The reason is on the bus as an ERROR; take it now rather than later.
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    GRef<GstMessage> msg = GRef<GstMessage>::adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    *error = msg ? describeError(msg.get()) : "the pipeline refused to start";
    return false;
}

bool PipelineRun::jpegActive() const {
    if (!pipeline_) return false;
    return !gate_ || gate_->load() != kGateClosed;
}

bool PipelineRun::setJpegWanted(bool wanted) {
    if (!gate_) return false;
    const bool open = gate_->load() != kGateClosed;
    if (wanted == open) return false;
    jpegSinceOpen_ = false;  // opening: none yet; closing: access units are the frames again
    gate_->store(wanted ? kGateWaitingForKey : kGateClosed);
    return true;
}

void PipelineRun::onCaptured(CapturedFrame frame) {
    // A frame decoded just before the JPEG gate closed: nobody wants it.
    if (gate_ && gate_->load() == kGateClosed) return;
    jpegSinceOpen_ = true;
    auto handler = callbacks_.frame;  // the owner may destroy this run from it
    handler(*this, std::move(frame));
}

size_t PipelineRun::takeAccessUnits(std::array<int64_t, 64>& times) {
    if (!meter_) return 0;
    std::lock_guard<std::mutex> lock(meter_->mutex);
    const uint64_t total = meter_->count;
    const size_t n = size_t(std::min<uint64_t>(total - seenAccessUnits_, times.size()));
    for (size_t i = 0; i < n; ++i)  // oldest first
        times[i] = meter_->arrivalUs[(total - n + 1 + i) % meter_->arrivalUs.size()];
    seenAccessUnits_ = total;
    return n;
}

uint64_t PipelineRun::accessUnits() const {
    if (!meter_) return 0;
    std::lock_guard<std::mutex> lock(meter_->mutex);
    return meter_->count;
}

void PipelineRun::h264Size(int& width, int& height) {
    if (!h264Width_ && h264Sink_) {  // the parser puts the size in the caps
        GRef<GstPad> pad = GRef<GstPad>::adopt(gst_element_get_static_pad(h264Sink_.get(), "sink"));
        GRef<GstCaps> caps = pad ? GRef<GstCaps>::adopt(gst_pad_get_current_caps(pad.get())) : GRef<GstCaps>();
        if (caps && gst_caps_get_size(caps.get()) > 0) {
            const GstStructure* st = gst_caps_get_structure(caps.get(), 0);
            gst_structure_get_int(st, "width", &h264Width_);
            gst_structure_get_int(st, "height", &h264Height_);
        }
    }
    width = h264Width_;
    height = h264Height_;
}

void PipelineRun::setTapForwarding(bool on) {
    if (forward_) forward_->store(on ? kForwardWaitingForKey : kForwardOff);
}

void PipelineRun::requestKeyframe() {
    if (!h264Sink_) return;
    GRef<GstPad> pad = GRef<GstPad>::adopt(gst_element_get_static_pad(h264Sink_.get(), "sink"));
    if (pad) gst_pad_send_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, FALSE, 0));
}

bool PipelineRun::pushJpeg(GRef<GstBuffer> jpeg) {
    if (!pushSource_) return false;
    return gst_app_src_push_buffer(GST_APP_SRC(pushSource_.get()), jpeg.release()) == GST_FLOW_OK;
}

void PipelineRun::stopNow() { teardown(true); }

gboolean PipelineRun::onBusMessage(GstMessage* message) {
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
        busWatch_.forget();  // returning G_SOURCE_REMOVE ends this watch
        auto lost = callbacks_.lost;  // the owner destroys this run from it
        lost(*this, describeError(message));
        return G_SOURCE_REMOVE;
    }
    case GST_MESSAGE_WARNING: {
        GError* raw = nullptr;
        gst_message_parse_warning(message, &raw, nullptr);
        GUniquePtr<GError> warning(raw);
        logWarning(label_, std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + errorMessage(warning));
        break;
    }
    case GST_MESSAGE_EOS: {
        // A camera that ends has gone away (an RTSP server closing the session,
        // an HTTP camera hanging up): treated like any other loss.
        busWatch_.forget();
        auto lost = callbacks_.lost;
        lost(*this, "end of stream");
        return G_SOURCE_REMOVE;
    }
    case GST_MESSAGE_LATENCY:
        if (pipeline_) gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

// Cuts every path from the pipeline back into the owner (bus watch, frame
// receiver, H.264 tap, push source), then lets the reaper take it to NULL off
// the loop thread: that joins the streaming threads, which a source stuck in
// a blocking read may never let happen (see pipeline_reaper.h).
void PipelineRun::teardown(bool blocking) {
    pushSource_.reset();
    busWatch_.reset();
    receiver_.reset();  // frames still in flight are dropped
    if (feedLive_) feedLive_->store(false);
    if (forward_) forward_->store(kForwardOff);
    gate_.reset();  // the probe keeps its own reference
    if (!pipeline_) return;
    if (reaper_ && !blocking) {
        reaper_->reap(std::move(pipeline_), label_);
        return;
    }
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);  // no reaper (unit tests) or asked to: joins here
    pipeline_.reset();
}

}  // namespace camrelay

#include "frame_receiver.h"

#include "core/clock.h"
#include "core/log.h"

#include <gst/app/gstappsink.h>

#include <mutex>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

// Shared by the appsink (streaming thread) and the receiver (loop thread), so
// a buffer in flight when the receiver goes away finds owner == nullptr.
struct FrameReceiver::Mailbox {
    GMainContext* context = nullptr;   // the loop's context
    FrameReceiver* owner = nullptr;    // loop thread only
    std::mutex mutex;
    CapturedFrame pending;             // guarded by mutex
    bool wakeScheduled = false;        // guarded by mutex
    bool closed = false;               // guarded by mutex: the receiver is gone, drop everything
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

}  // namespace

GstFlowReturn FrameReceiver::Mailbox::onNewSample(GstAppSink* sink, gpointer data) noexcept {
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
        CapturedFrame frame{GRef<GstBuffer>::ref(buffer), captureTimeUs(GST_ELEMENT(sink), sample.get(), buffer),
                            box->width, box->height};
        bool wake = false;
        {
            std::lock_guard<std::mutex> lock(box->mutex);
            // An old pipeline still draining on the reaper: nobody to wake.
            if (box->closed) return GST_FLOW_OK;
            box->pending = std::move(frame);
            wake = !std::exchange(box->wakeScheduled, true);
        }
        if (wake) {
            // The invocation keeps the mailbox alive, not the receiver.
            auto* keep = new std::shared_ptr<Mailbox>(shared);
            g_main_context_invoke_full(
                box->context, G_PRIORITY_HIGH,
                [](gpointer p) noexcept -> gboolean {
                    auto& mailbox = *static_cast<std::shared_ptr<Mailbox>*>(p);
                    try {
                        if (mailbox->owner) mailbox->owner->deliver();
                    } catch (...) {
                        GST_ERROR("a frame handler threw; frame dropped: %s", currentExceptionText().c_str());
                    }
                    return G_SOURCE_REMOVE;
                },
                keep, [](gpointer p) noexcept { delete static_cast<std::shared_ptr<Mailbox>*>(p); });
        }
    } catch (const std::exception& e) {
        GST_ERROR("dropping a frame: %s", e.what());
    } catch (...) {
        GST_ERROR("dropping a frame: unknown exception");
    }
    return GST_FLOW_OK;
}

FrameReceiver::FrameReceiver(GstElement* appsink, Handler handler)
    : handler_(std::move(handler)), mailbox_(std::make_shared<Mailbox>()) {
    mailbox_->context = g_main_context_ref_thread_default();
    g_main_context_unref(mailbox_->context);  // the loop's context outlives every receiver
    mailbox_->owner = this;
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = &Mailbox::onNewSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, new std::shared_ptr<Mailbox>(mailbox_),
                               [](gpointer p) noexcept { delete static_cast<std::shared_ptr<Mailbox>*>(p); });
}

FrameReceiver::~FrameReceiver() {
    mailbox_->owner = nullptr;
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    mailbox_->closed = true;
    mailbox_->pending = {};
}

void FrameReceiver::deliver() {
    CapturedFrame frame;
    {
        std::lock_guard<std::mutex> lock(mailbox_->mutex);
        frame = std::move(mailbox_->pending);
        mailbox_->wakeScheduled = false;
    }
    if (frame.jpeg) handler_(std::move(frame));
}

}  // namespace camrelay

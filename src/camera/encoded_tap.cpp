#include "encoded_tap.h"

#include "core/log.h"

#include <gst/app/gstappsink.h>

#include <algorithm>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

int EncodedTap::add(Listener listener) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_back({nextId_, std::move(listener), false});
    return nextId_++;
}

void EncodedTap::remove(int id) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [id](const Entry& e) { return e.id == id; }),
                   entries_.end());
}

size_t EncodedTap::listeners() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

void EncodedTap::push(GstBuffer* accessUnit) {
    const bool keyFrame = !GST_BUFFER_FLAG_IS_SET(accessUnit, GST_BUFFER_FLAG_DELTA_UNIT);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& e : entries_) {
        e.started = e.started || keyFrame;
        if (e.started) e.listener(accessUnit);
    }
}

namespace {
struct TapFeed {
    std::shared_ptr<EncodedTap> tap;
    std::shared_ptr<std::atomic<bool>> live;
    std::function<void(GstBuffer*)> onUnit;
};
}  // namespace

std::shared_ptr<std::atomic<bool>> feedTapFromAppSink(GstElement* appsink, std::shared_ptr<EncodedTap> tap,
                                                      std::function<void(GstBuffer*)> onUnit) {
    if (!appsink) return nullptr;
    auto live = std::make_shared<std::atomic<bool>>(true);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* sink, gpointer data) noexcept -> GstFlowReturn {
        GRef<GstSample> sample = GRef<GstSample>::adopt(gst_app_sink_pull_sample(sink));
        GstBuffer* buffer = sample ? gst_sample_get_buffer(sample.get()) : nullptr;
        auto* feed = static_cast<TapFeed*>(data);
        try {
            if (!buffer || !feed->live->load()) return GST_FLOW_OK;
            if (feed->onUnit) feed->onUnit(buffer);
            feed->tap->push(buffer);
        } catch (...) {
            GST_ERROR("H.264 access unit dropped: %s", currentExceptionText().c_str());
        }
        return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, new TapFeed{std::move(tap), live, std::move(onUnit)},
                               [](gpointer p) noexcept { delete static_cast<TapFeed*>(p); });
    return live;
}

}  // namespace camrelay

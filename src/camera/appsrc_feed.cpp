#include "camera/appsrc_feed.h"

#include "core/log.h"

#include <gst/app/gstappsrc.h>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

AppSrcFeed::AppSrcFeed(GRef<GstElement> appsrc, GstClockTime spacing, guint64 maxQueuedBytes)
    : appsrc_(std::move(appsrc)), stamper_(spacing, G_MAXUINT64 / 2), maxQueuedBytes_(maxQueuedBytes) {}

GstClockTime AppSrcFeed::push(GstBuffer* buffer) {
    const bool keyFrame = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return GST_CLOCK_TIME_NONE;
    if (waitKey_ && !keyFrame) {
        ++dropped;
        return GST_CLOCK_TIME_NONE;
    }
    if (gst_app_src_get_current_level_bytes(GST_APP_SRC(appsrc_.get())) > maxQueuedBytes_) {
        waitKey_ = true;
        ++dropped;
        overflowed = true;
        return GST_CLOCK_TIME_NONE;
    }
    const GstClockTime pts = stamper_.stamp(appsrc_.get());
    if (!GST_CLOCK_TIME_IS_VALID(pts)) {  // not playing yet
        GST_DEBUG("%s: no clock yet, buffer dropped", GST_OBJECT_NAME(appsrc_.get()));
        waitKey_ = true;
        ++dropped;
        return GST_CLOCK_TIME_NONE;
    }
    GstBuffer* copy = gst_buffer_copy(buffer);  // shares the memory
    GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = pts;
    GST_BUFFER_DURATION(copy) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), copy);
    waitKey_ = false;
    ++pushed;
    return pts;
}

void AppSrcFeed::close(bool endOfStream) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return;
    open_ = false;
    if (endOfStream) gst_app_src_end_of_stream(GST_APP_SRC(appsrc_.get()));
}

bool AppSrcFeed::open() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_;
}

}  // namespace camrelay

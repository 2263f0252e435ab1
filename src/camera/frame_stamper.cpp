#include "camera/frame_stamper.h"

#include "core/gobject_ptr.h"

#include <gst/app/gstappsrc.h>

namespace camrelay {

GstClockTime FrameStamper::stamp(GstElement* element) {
    GRef<GstClock> clock = GRef<GstClock>::adopt(gst_element_get_clock(element));
    if (!clock) return GST_CLOCK_TIME_NONE;
    const GstClockTime now = gst_clock_get_time(clock.get()) - gst_element_get_base_time(element);
    GstClockTime pts = now;
    if (GST_CLOCK_TIME_IS_VALID(last_) && pts < last_ + spacing_) pts = last_ + spacing_;
    if (pts > now + maxLead_) return GST_CLOCK_TIME_NONE;
    return last_ = pts;
}

bool FrameStamper::push(GstElement* appsrc, GstBuffer* buffer) {
    const GstClockTime pts = stamp(appsrc);
    if (!GST_CLOCK_TIME_IS_VALID(pts)) {
        gst_buffer_unref(buffer);
        return false;
    }
    GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer) = pts;
    GST_BUFFER_DURATION(buffer) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(appsrc), buffer);
    return true;
}

}  // namespace camrelay

#pragma once
// Timestamps for buffers pushed into an appsrc of a live pipeline (RTSP media,
// recording): the element's running time at arrival, but never closer than
// `spacing` to the previous stamp. Frames arrive with jitter; two stamped
// 10 ms apart round to the same tick at 30 fps, and players and muxers
// (ffmpeg, mp4mux) then see a repeated DTS. A buffer that would have to be
// stamped more than `maxLead` ahead of now comes faster than the declared
// rate: stamp() returns GST_CLOCK_TIME_NONE and the caller may skip it.
// Thread affinity: one thread at a time (the one pushing).
#include <gst/gst.h>

namespace camrelay {

class FrameStamper {
public:
    FrameStamper(GstClockTime spacing, GstClockTime maxLead) : spacing_(spacing), maxLead_(maxLead) {}

    // NONE when the element has no clock yet (not playing) or the buffer does not fit.
    GstClockTime stamp(GstElement* element);
    // Pushes `buffer` (owned) into the appsrc stamped, or drops it; false when dropped.
    bool push(GstElement* appsrc, GstBuffer* buffer);

private:
    GstClockTime spacing_, maxLead_;
    GstClockTime last_ = GST_CLOCK_TIME_NONE;
};

}  // namespace camrelay

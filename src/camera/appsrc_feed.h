#pragma once
// Buffers into a live pipeline's appsrc, for consumers of the camera's shared
// streams that run a pipeline of their own (recording, HLS): stamped with the
// pipeline's running time at arrival (FrameStamper), bounded (past
// maxQueuedBytes queued the pipeline is behind: buffers are dropped until the
// next key frame, so what it gets always decodes), and starting at a key
// frame. A buffer without GST_BUFFER_FLAG_DELTA_UNIT is a key frame (every
// JPEG is). The caller never blocks.
// Thread affinity: any thread (mutex); the counters are atomics.
#include "camera/frame_stamper.h"
#include "core/gobject_ptr.h"

#include <atomic>
#include <cstdint>
#include <mutex>

namespace camrelay {

class AppSrcFeed {
public:
    // spacing: the least distance between two stamps (frame_stamper.h).
    AppSrcFeed(GRef<GstElement> appsrc, GstClockTime spacing, guint64 maxQueuedBytes);
    AppSrcFeed(const AppSrcFeed&) = delete;
    AppSrcFeed& operator=(const AppSrcFeed&) = delete;

    // buffer is borrowed (a copy sharing its memory is pushed). The stamp it
    // got, or GST_CLOCK_TIME_NONE when it was dropped (closed, waiting for a
    // key frame, queue full, or no clock yet).
    GstClockTime push(GstBuffer* buffer);
    // Nothing is pushed any more; endOfStream: the appsrc gets EOS (a muxer finalizes).
    void close(bool endOfStream);
    bool open() const;

    std::atomic<uint64_t> pushed{0};
    std::atomic<uint64_t> dropped{0};       // not pushed: waiting for a key frame, queue full, or no clock yet
    std::atomic<bool> overflowed{false};    // a full queue nobody has reported yet (exchange(false) to report)

private:
    mutable std::mutex mutex_;
    GRef<GstElement> appsrc_;
    FrameStamper stamper_;
    const guint64 maxQueuedBytes_;
    bool open_ = true;
    bool waitKey_ = true;  // at start and after a drop: only a key frame may come next
};

}  // namespace camrelay

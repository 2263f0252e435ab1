#pragma once
// Takes JPEG buffers out of an appsink on its streaming thread and hands them
// to the loop thread. Only the newest buffer is kept and the loop is woken
// once, so a busy loop skips frames instead of queueing them and capture never
// waits on viewers. Used by camera pipelines and the offline placeholder.
// Thread affinity: construct and destroy on the loop thread; the handler runs
// there. Once destroyed, buffers still in flight are dropped, never delivered.
#include "core/gobject_ptr.h"

#include <cstdint>
#include <functional>
#include <memory>

namespace camrelay {

struct CapturedFrame {
    GRef<GstBuffer> jpeg;
    int64_t captureUnixUs = 0;  // when the source captured it (see frame_receiver.cpp)
    int width = 0;
    int height = 0;
};

class FrameReceiver {
public:
    using Handler = std::function<void(CapturedFrame)>;

    // appsink: a GstAppSink. Frames go to handler on the calling thread's
    // default main context.
    FrameReceiver(GstElement* appsink, Handler handler);
    ~FrameReceiver();
    FrameReceiver(const FrameReceiver&) = delete;
    FrameReceiver& operator=(const FrameReceiver&) = delete;

private:
    struct Mailbox;
    void deliver();

    Handler handler_;
    std::shared_ptr<Mailbox> mailbox_;
};

}  // namespace camrelay

#pragma once
// Takes pipelines the loop is done with and sets them to NULL off the loop
// thread, then drops the last reference.
//
// Going to NULL joins the pipeline's streaming threads. A source stuck in a
// blocking call that its element cannot interrupt (a hung USB device, a
// filesrc reading a FIFO nobody writes, a stalled network read) never lets
// that join finish: done on the loop thread, it froze HTTP, every other
// camera and the watchdog (issue 9). Here it only holds one reaper worker.
//
// Before handing a pipeline over, its owner removes everything that could
// call back into it (bus watch, appsink callbacks): the reaper calls nothing
// but gst_element_set_state and unref.
//
// Workers: up to kMaxWorkers threads, started when a pipeline arrives and no
// worker is free, so one stuck pipeline does not hold up the others; they
// exit after kIdleExitMs without work. A pipeline stuck for more than
// kStuckWarnMs is logged once.
//
// Shutdown: the destructor waits up to shutdownWait for the queue to drain,
// logs the pipelines still stuck, and leaves their workers behind (they only
// touch state they share with the reaper, never the reaper itself).
// Thread affinity: reap() and the destructor on the loop thread; workers on their own.
#include "core/gobject_ptr.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace camrelay {

class PipelineReaper {
public:
    static constexpr size_t kMaxWorkers = 4;
    static constexpr int kIdleExitMs = 5000;
    static constexpr int kStuckWarnMs = 5000;

    explicit PipelineReaper(std::chrono::milliseconds shutdownWait = std::chrono::milliseconds(3000));
    ~PipelineReaper();
    PipelineReaper(const PipelineReaper&) = delete;
    PipelineReaper& operator=(const PipelineReaper&) = delete;

    // label names the pipeline in logs (the camera id).
    void reap(GRef<GstElement> pipeline, std::string label);
    // Pipelines queued or on their way to NULL.
    size_t pending() const;
    // Labels of pipelines that have been going to NULL for more than kStuckWarnMs.
    std::vector<std::string> stuck() const;

private:
    struct State;
    std::shared_ptr<State> state_;
    std::chrono::milliseconds shutdownWait_;
};

}  // namespace camrelay

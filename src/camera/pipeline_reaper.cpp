#include "pipeline_reaper.h"

#include "core/log.h"

#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

namespace {
using Clock = std::chrono::steady_clock;
}

// Shared by the reaper and its workers: a worker left behind at shutdown
// keeps it alive, so it never touches freed memory when its pipeline finally lets go.
struct PipelineReaper::State {
    struct Job {
        GRef<GstElement> pipeline;
        std::string label;
    };
    struct Busy {
        std::string label;
        Clock::time_point since;
        bool warned = false;
    };

    std::mutex mutex;
    std::condition_variable wake;     // workers: a job arrived, or stopping
    std::condition_variable drained;  // the destructor: a job finished
    std::deque<Job> queue;
    std::list<Busy> busy;             // jobs being set to NULL now
    size_t workers = 0;
    size_t idle = 0;
    bool stopping = false;

    void work(std::shared_ptr<State> self);
};

void PipelineReaper::State::work(std::shared_ptr<State> self) {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
        ++idle;
        const bool got = wake.wait_for(lock, std::chrono::milliseconds(kIdleExitMs),
                                       [&] { return stopping || !queue.empty(); });
        --idle;
        if (queue.empty()) {
            if (stopping || !got) break;
            continue;
        }
        Job job = std::move(queue.front());
        queue.pop_front();
        auto mine = busy.insert(busy.end(), Busy{job.label, Clock::now()});
        lock.unlock();
        const auto started = Clock::now();
        gst_element_set_state(job.pipeline.get(), GST_STATE_NULL);  // joins the streaming threads
        job.pipeline.reset();
        const auto tookMs = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
        GST_DEBUG("pipeline of %s stopped in %lld ms", job.label.c_str(), (long long)tookMs);
        lock.lock();
        if (mine->warned) logInfo(job.label, "old pipeline finally stopped after " + std::to_string(tookMs) + " ms");
        busy.erase(mine);
        drained.notify_all();
    }
    --workers;
    drained.notify_all();
    (void)self;  // held until here: the state outlives the reaper for a worker left behind
}

PipelineReaper::PipelineReaper(std::chrono::milliseconds shutdownWait)
    : state_(std::make_shared<State>()), shutdownWait_(shutdownWait) {}

PipelineReaper::~PipelineReaper() {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->stopping = true;
    state_->wake.notify_all();
    const auto deadline = Clock::now() + shutdownWait_;
    state_->drained.wait_until(lock, deadline, [&] { return state_->queue.empty() && state_->busy.empty(); });
    for (const auto& b : state_->busy)
        logWarning(b.label, "old pipeline still stopping at shutdown (its source does not let go); left behind");
    if (!state_->queue.empty())
        logWarning("", std::to_string(state_->queue.size()) + " old pipeline(s) never reached a free reaper worker");
    // Workers hold state_ themselves; the ones still stuck are detached at creation.
}

void PipelineReaper::reap(GRef<GstElement> pipeline, std::string label) {
    if (!pipeline) return;
    std::lock_guard<std::mutex> lock(state_->mutex);
    // Logged here, on the loop thread, where it costs nothing: a pipeline
    // stuck since the last reap is worth a line once.
    for (auto& b : state_->busy) {
        if (!b.warned && Clock::now() - b.since > std::chrono::milliseconds(kStuckWarnMs)) {
            b.warned = true;
            logWarning(b.label, "old pipeline has been stopping for more than " + std::to_string(kStuckWarnMs / 1000) +
                                    " s: its source does not let go (the service carries on without it)");
        }
    }
    state_->queue.push_back({std::move(pipeline), std::move(label)});
    if (state_->idle > state_->queue.size() - 1) {
        state_->wake.notify_one();
        return;
    }
    if (state_->workers < kMaxWorkers) {
        try {
            std::thread(&State::work, state_.get(), state_).detach();
            ++state_->workers;
        } catch (const std::system_error& e) {
            logError(state_->queue.back().label, std::string("cannot start a reaper worker: ") + e.what() + "; the pipeline waits for one");
        }
        return;
    }
    state_->wake.notify_one();  // every worker busy: the job waits for the first to finish
    GST_WARNING("all %zu reaper workers busy; %zu pipeline(s) queued", kMaxWorkers, state_->queue.size());
}

size_t PipelineReaper::pending() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->queue.size() + state_->busy.size();
}

std::vector<std::string> PipelineReaper::stuck() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::vector<std::string> out;
    for (const auto& b : state_->busy)
        if (Clock::now() - b.since > std::chrono::milliseconds(kStuckWarnMs)) out.push_back(b.label);
    return out;
}

}  // namespace camrelay

#include "recording/recorders.h"

#include "core/log.h"

namespace camrelay {

Recorders::Recorders(const ServiceConfig& config) : dir_(recordingsDir(config)) {}

Recorders::~Recorders() = default;

void Recorders::attach(const CameraPtr& camera) {
    Entry entry;
    entry.camera = camera;
    entry.recorder = std::make_unique<Recorder>(*camera, dir_, reaper_);
    entry.record = camera->config().record;
    entry.h264 = camera->config().h264;
    entry.kind = camera->sourceKind();
    if (diskProblem_) entry.recorder->setDiskProblem(diskProblem_);
    recorders_[camera->id()] = std::move(entry);
}

void Recorders::detach(const std::string& cameraId) {
    auto it = recorders_.find(cameraId);
    if (it == recorders_.end()) return;
    Entry entry = std::move(it->second);
    recorders_.erase(it);
    retire(std::move(entry), "camera removed");
}

void Recorders::reattach(const CameraPtr& camera) {
    auto it = recorders_.find(camera->id());
    RecordingStatus before;
    if (it != recorders_.end()) {
        const Entry& old = it->second;
        if (old.record == camera->config().record && old.h264 == camera->config().h264 && old.kind == camera->sourceKind())
            return;
        // Only a manual recording goes on (always mode starts by itself).
        if (old.record.mode == RecordMode::Manual) before = old.recorder->status();
        Entry entry = std::move(it->second);
        recorders_.erase(it);
        retire(std::move(entry), "camera reconfigured");
    }
    attach(camera);
    if (!before.wanted || camera->config().record.mode != RecordMode::Manual) return;
    int64_t left = 0;
    if (before.untilUnix) {
        left = before.untilUnix - g_get_real_time() / G_USEC_PER_SEC;
        if (left <= 0) return;
    }
    Recorder::Answer answer = recorders_[camera->id()].recorder->start(left);
    if (answer.refusal != Recorder::Refusal::None)
        logWarning(camera->id(), "the manual recording did not go on after the config change: " + answer.message);
}

void Recorders::retire(Entry entry, const std::string& why) {
    entry.recorder->finish(why);
    if (entry.recorder->finished()) return;  // nothing was being written
    entry.retiredUs = g_get_monotonic_time();
    retired_.push_back(std::move(entry));
    pruneTimer_.start(1, "retired recorders", [this] { pruneRetired(); });
}

void Recorders::pruneRetired() {
    const int64_t now = g_get_monotonic_time();
    for (auto it = retired_.begin(); it != retired_.end();) {
        if (!it->recorder->finished() && now - it->retiredUs < kRetireLimitUs) {
            ++it;
            continue;
        }
        if (!it->recorder->finished()) {
            logWarning(it->camera->id(), "a retired recording did not finalize in time (its .partial marker stays)");
            it->recorder->abandon();
        }
        it = retired_.erase(it);
    }
    if (retired_.empty()) pruneTimer_.stop();
}

Recorder* Recorders::find(const std::string& cameraId) const {
    auto it = recorders_.find(cameraId);
    return it == recorders_.end() ? nullptr : it->second.recorder.get();
}

void Recorders::setDiskProblem(const Recorder::DiskProblem& problem) {
    diskProblem_ = problem;
    for (auto& [id, entry] : recorders_) entry.recorder->setDiskProblem(problem);
}

bool Recorders::finishAll(std::chrono::milliseconds wait) {
    for (auto& [id, entry] : recorders_) entry.recorder->finish();
    const int64_t deadline = g_get_monotonic_time() + std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
    auto pending = [this] {
        for (auto& [id, entry] : recorders_)
            if (!entry.recorder->finished()) return true;
        for (auto& entry : retired_)
            if (!entry.recorder->finished()) return true;
        return false;
    };
    // The bus watches run on the default context: iterate it until every
    // pipeline has posted EOS (its files are finalized). A 20 ms timer keeps
    // the iteration from blocking past the deadline.
    SourceHandle wake(g_timeout_add(20, [](gpointer) noexcept -> gboolean { return G_SOURCE_CONTINUE; }, nullptr));
    while (pending() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, TRUE);
    const bool complete = !pending();
    for (auto& [id, entry] : recorders_) entry.recorder->abandon();
    for (auto& entry : retired_) entry.recorder->abandon();
    if (!complete) logWarning("", "some recordings did not finalize within " + std::to_string(wait.count()) + " ms");
    return complete;
}

}  // namespace camrelay

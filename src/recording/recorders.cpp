#include "recording/recorders.h"

#include "core/log.h"

namespace camrelay {

Recorders::Recorders(Registry& registry, const ServiceConfig& config) {
    const std::string dir = recordingsDir(config);
    for (const CameraPtr& camera : registry.cameras())
        recorders_[camera->id()] = std::make_unique<Recorder>(*camera, dir, reaper_);
}

Recorders::~Recorders() = default;

Recorder* Recorders::find(const std::string& cameraId) const {
    auto it = recorders_.find(cameraId);
    return it == recorders_.end() ? nullptr : it->second.get();
}

void Recorders::setDiskProblem(const Recorder::DiskProblem& problem) {
    for (auto& [id, recorder] : recorders_) recorder->setDiskProblem(problem);
}

bool Recorders::finishAll(std::chrono::milliseconds wait) {
    for (auto& [id, recorder] : recorders_) recorder->finish();
    const int64_t deadline = g_get_monotonic_time() + std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
    auto pending = [this] {
        for (auto& [id, recorder] : recorders_)
            if (!recorder->finished()) return true;
        return false;
    };
    // The bus watches run on the default context: iterate it until every
    // pipeline has posted EOS (its files are finalized). A 20 ms timer keeps
    // the iteration from blocking past the deadline.
    SourceHandle wake(g_timeout_add(20, [](gpointer) noexcept -> gboolean { return G_SOURCE_CONTINUE; }, nullptr));
    while (pending() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, TRUE);
    const bool complete = !pending();
    for (auto& [id, recorder] : recorders_) recorder->abandon();
    if (!complete) logWarning("", "some recordings did not finalize within " + std::to_string(wait.count()) + " ms");
    return complete;
}

}  // namespace camrelay

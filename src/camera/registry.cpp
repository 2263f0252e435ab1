#include "registry.h"

#include "core/gobject_ptr.h"

#include <algorithm>

namespace camrelay {

bool isCameraFileName(const std::string& name) {
    return name.size() > 5 && name[0] != '.' && g_str_has_suffix(name.c_str(), ".conf");
}

std::vector<CameraConfigLoad> loadCameraDirectory(const std::string& dir, ConfigProblems& dirProblems) {
    std::vector<CameraConfigLoad> loads;
    GError* raw = nullptr;
    GUniquePtr<GDir> handle(g_dir_open(dir.c_str(), 0, &raw));
    GUniquePtr<GError> error(raw);
    if (!handle) {
        dirProblems.push_back({dir, "", "cannot read the pipelines directory: " + errorMessage(error)});
        return loads;
    }
    std::vector<std::string> names;
    while (const char* name = g_dir_read_name(handle.get()))
        if (isCameraFileName(name)) names.emplace_back(name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        GUniquePtr<gchar> path(g_build_filename(dir.c_str(), name.c_str(), nullptr));
        loads.push_back(loadCameraConfigFile(path.get()));
    }
    return loads;
}

Registry::Registry() = default;

// Cameras go before the reaper and event log (declaration order would do the
// same); listeners are told nothing: outputs are gone by then.
Registry::~Registry() { cameras_.clear(); }

CameraPtr Registry::add(CameraConfigLoad load) {
    const std::string id = load.config.id;
    if (cameras_.count(id)) remove(id);
    auto camera = std::make_shared<Camera>(std::move(load.config), std::move(load.problems), &reaper_);
    Entry entry;
    entry.camera = camera;
    entry.events = camera->onEvent([this](const CameraEvent& e) { events_.record(e); });
    std::weak_ptr<Camera> weak = camera;
    entry.reconfigured = camera->onReconfigured([this, weak] {
        if (auto c = weak.lock()) reconfigured_.emit(c);
    });
    cameras_[id] = std::move(entry);
    added_.emit(camera);
    return camera;
}

CameraPtr Registry::apply(CameraConfigLoad load) {
    CameraPtr camera = find(load.config.id);
    if (!camera) {
        camera = add(std::move(load));
        if (camera->config().enabled) camera->start();
        return camera;
    }
    if (!load.problems.empty()) {
        if (camera->configValid()) {
            camera->setApplyError(joinProblems(load.problems));
            return camera;
        }
        return add(std::move(load));  // failed before, failed still: show the new problems
    }
    GraphPlanResult plan = planGraph(load.config);
    if (!plan.plan) {
        load.problems = std::move(plan.problems);
        if (camera->configValid()) {
            camera->setApplyError(joinProblems(load.problems));
            return camera;
        }
        return add(std::move(load));
    }
    camera->reconfigure(std::move(load.config));
    return camera;
}

bool Registry::remove(const std::string& id) {
    auto it = cameras_.find(id);
    if (it == cameras_.end()) return false;
    CameraPtr camera = it->second.camera;
    camera->stop();
    removed_.emit(camera);
    cameras_.erase(it);
    return true;
}

CameraPtr Registry::find(const std::string& id) const {
    auto it = cameras_.find(id);
    return it == cameras_.end() ? nullptr : it->second.camera;
}

std::vector<CameraPtr> Registry::cameras() const {
    std::vector<CameraPtr> out;
    for (const auto& [id, entry] : cameras_) out.push_back(entry.camera);
    return out;
}

void Registry::startEnabled() {
    for (const auto& [id, entry] : cameras_)
        if (entry.camera->config().enabled) entry.camera->start();
}

void Registry::stopAll() {
    for (const auto& [id, entry] : cameras_) entry.camera->stop();
}

}  // namespace camrelay

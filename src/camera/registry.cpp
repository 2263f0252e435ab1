#include "registry.h"

#include "core/gobject_ptr.h"

#include <algorithm>

namespace camrelay {

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
        if (g_str_has_suffix(name, ".conf")) names.emplace_back(name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        GUniquePtr<gchar> path(g_build_filename(dir.c_str(), name.c_str(), nullptr));
        loads.push_back(loadCameraConfigFile(path.get()));
    }
    return loads;
}

Camera& Registry::add(CameraConfigLoad load) {
    auto camera = std::make_unique<Camera>(std::move(load.config), std::move(load.problems), &reaper_);
    Camera& ref = *camera;
    eventConnections_.push_back(ref.onEvent([this](const CameraEvent& e) { events_.record(e); }));
    cameras_[ref.id()] = std::move(camera);
    return ref;
}

Camera* Registry::find(const std::string& id) const {
    auto it = cameras_.find(id);
    return it == cameras_.end() ? nullptr : it->second.get();
}

std::vector<Camera*> Registry::cameras() const {
    std::vector<Camera*> out;
    for (const auto& [id, camera] : cameras_) out.push_back(camera.get());
    return out;
}

void Registry::startEnabled() {
    for (const auto& [id, camera] : cameras_)
        if (camera->config().enabled) camera->start();
}

void Registry::stopAll() {
    for (const auto& [id, camera] : cameras_) camera->stop();
}

}  // namespace camrelay

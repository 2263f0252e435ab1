#include "camera/pipeline_watcher.h"

#include "core/log.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <set>

namespace camrelay {

namespace {

std::set<std::string> cameraFiles(const std::string& dir) {
    std::set<std::string> names;
    GUniquePtr<GDir> handle(g_dir_open(dir.c_str(), 0, nullptr));
    if (!handle) return names;
    while (const char* name = g_dir_read_name(handle.get()))
        if (isCameraFileName(name)) names.insert(name);
    return names;
}

}  // namespace

PipelineWatcher::PipelineWatcher(Registry& registry, std::string dir) : registry_(registry), dir_(std::move(dir)) {}

PipelineWatcher::~PipelineWatcher() {
    settle_.cancel();
    if (monitor_ && handler_) g_signal_handler_disconnect(monitor_.get(), handler_);
    if (monitor_) g_file_monitor_cancel(monitor_.get());
}

std::string PipelineWatcher::fingerprint(const std::string& path) {
    GStatBuf st{};
    if (g_stat(path.c_str(), &st) != 0) return "\x01missing";
    if (!S_ISREG(st.st_mode) || size_t(st.st_size) > kMaxCameraFileBytes)
        return "\x01unreadable " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtime);
    gchar* text = nullptr;
    gsize size = 0;
    if (!g_file_get_contents(path.c_str(), &text, &size, nullptr))
        return "\x01unreadable " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtime);
    GUniquePtr<gchar> owned(text);
    return std::string(text, size);
}

bool PipelineWatcher::start(std::map<std::string, std::string> texts, std::string* error) {
    seen_ = std::move(texts);
    GRef<GFile> dir = GRef<GFile>::adopt(g_file_new_for_path(dir_.c_str()));
    GError* raw = nullptr;
    monitor_ = GRef<GFileMonitor>::adopt(g_file_monitor_directory(dir.get(), G_FILE_MONITOR_WATCH_MOVES, nullptr, &raw));
    GUniquePtr<GError> failure(raw);
    if (!monitor_) {
        rescan("start");
        *error = "cannot watch the pipelines directory " + dir_ + " for changes: " + errorMessage(failure) +
                 " (send SIGHUP to reload)";
        return false;
    }
    // Events come in bursts (create, change, done, rename): settle, then re-read once.
    handler_ = g_signal_connect(monitor_.get(), "changed",
                                G_CALLBACK(+[](GFileMonitor*, GFile*, GFile*, GFileMonitorEvent, gpointer self) noexcept {
                                    auto* watcher = static_cast<PipelineWatcher*>(self);
                                    watcher->settle_.startMs(kSettleMs, [watcher] { watcher->rescan("file change"); });
                                }),
                                this);
    // Files changed between the first load and now (the monitor was not yet watching).
    rescan("start");
    return true;
}

void PipelineWatcher::rescan(const std::string& why) {
    const std::set<std::string> names = cameraFiles(dir_);
    std::set<std::string> present;
    for (const std::string& name : names) {
        const std::string id = name.substr(0, name.size() - 5);
        present.insert(id);
        GUniquePtr<gchar> path(g_build_filename(dir_.c_str(), name.c_str(), nullptr));
        std::string print = fingerprint(path.get());
        auto it = seen_.find(id);
        if (it != seen_.end() && it->second == print) continue;
        const bool known = registry_.find(id) != nullptr;
        seen_[id] = std::move(print);
        CameraConfigLoad load = loadCameraConfigFile(path.get());
        const bool problems = !load.problems.empty();
        for (const auto& p : load.problems) logWarning(id, p.toString());
        CameraPtr camera = registry_.apply(std::move(load));
        logInfo(id, std::string(known ? "reloaded " : "added from ") + name + " (" + why + ")" +
                        (problems && known && camera->configValid() ? ": kept running as it was" : ""));
    }
    for (auto it = seen_.begin(); it != seen_.end();) {
        if (present.count(it->first)) {
            ++it;
            continue;
        }
        if (registry_.remove(it->first)) logInfo(it->first, it->first + ".conf is gone (" + why + "): camera removed");
        it = seen_.erase(it);
    }
}

}  // namespace camrelay

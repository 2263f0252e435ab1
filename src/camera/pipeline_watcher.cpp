#include "camera/pipeline_watcher.h"

#include "core/log.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>

namespace camrelay {

namespace {

// nullopt (and *error) when the directory cannot be read: not the same as empty.
std::optional<std::set<std::string>> cameraFiles(const std::string& dir, std::string* error) {
    std::set<std::string> names;
    GError* raw = nullptr;
    GUniquePtr<GDir> handle(g_dir_open(dir.c_str(), 0, &raw));
    GUniquePtr<GError> failure(raw);
    if (!handle) {
        *error = errorMessage(failure);
        return std::nullopt;
    }
    while (const char* name = g_dir_read_name(handle.get()))
        if (isCameraFileName(name)) names.insert(name);
    return names;
}

// Closes a descriptor with its owner.
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

PipelineWatcher::PipelineWatcher(Registry& registry, std::string dir, size_t maxCameras)
    : registry_(registry), dir_(std::move(dir)), maxCameras_(maxCameras) {}

PipelineWatcher::~PipelineWatcher() {
    settle_.cancel();
    if (monitor_ && handler_) g_signal_handler_disconnect(monitor_.get(), handler_);
    if (monitor_) g_file_monitor_cancel(monitor_.get());
}

std::string PipelineWatcher::fingerprint(const std::string& path) {
    // Opened without blocking and checked on the descriptor: a file swapped for
    // a FIFO after a stat would hang the loop, one growing after it would be
    // read whole. Symbolic links are followed (config managers link files in).
    FdCloser fd{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (fd.fd < 0) return errno == ENOENT ? "\x01missing" : std::string("\x01unreadable ") + g_strerror(errno);
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) return "\x01unreadable";
    const std::string unreadable = "\x01unreadable " + std::to_string(st.st_mode & S_IFMT) + " " + std::to_string(st.st_size) +
                                   " " + std::to_string(st.st_mtime);
    if (!S_ISREG(st.st_mode) || size_t(st.st_size) > kMaxCameraFileBytes) return unreadable;
    std::string text;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return unreadable;
        if (n == 0) break;
        text.append(buffer, size_t(n));
        if (text.size() > kMaxCameraFileBytes) return unreadable;  // grew since the fstat
    }
    return text;
}

void PipelineWatcher::onChange() {
    // Trailing settle, but bounded: a file rewritten every few milliseconds
    // would otherwise push the re-read back for ever (and every other file's with it).
    const gint64 now = g_get_monotonic_time();
    if (!settle_.pending()) burstStartUs_ = now;
    const gint64 leftMs = std::max<gint64>(0, burstStartUs_ / 1000 + kMaxSettleMs - now / 1000);
    settle_.startMs(guint(std::min<gint64>(kSettleMs, leftMs)), [this] { rescan("file change"); });
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
                                    try {
                                        static_cast<PipelineWatcher*>(self)->onChange();
                                    } catch (...) {
                                        logError("", "pipelines watcher: " + currentExceptionText());
                                    }
                                }),
                                this);
    // Files changed between the first load and now (the monitor was not yet watching).
    rescan("start");
    return true;
}

void PipelineWatcher::rescan(const std::string& why) {
    std::string dirError;
    const auto listed = cameraFiles(dir_, &dirError);
    if (!listed) {
        // Deleted, renamed or unmounted: not "every camera removed". The
        // cameras run on as they are until the directory reads again.
        if (!dirUnreadable_)
            logWarning("", "cannot read the pipelines directory " + dir_ + " (" + why + "): " + dirError +
                               "; every camera is kept as it is until it can be read again");
        dirUnreadable_ = true;
        return;
    }
    if (dirUnreadable_) logInfo("", "the pipelines directory " + dir_ + " reads again (" + why + ")");
    dirUnreadable_ = false;
    const std::set<std::string>& names = *listed;
    std::set<std::string> present;
    for (const std::string& name : names) {
        const std::string id = name.substr(0, name.size() - 5);
        present.insert(id);
        GUniquePtr<gchar> path(g_build_filename(dir_.c_str(), name.c_str(), nullptr));
        std::string print = fingerprint(path.get());
        auto it = seen_.find(id);
        if (it != seen_.end() && it->second == print) continue;
        const bool known = registry_.find(id) != nullptr;
        if (!known && registry_.cameras().size() >= maxCameras_) {
            // Not remembered in seen_: taken in by a later re-read once there is room.
            if (leftOut_.insert(id).second)
                logWarning(id, name + " left out (" + why + "): the service already has " +
                                   std::to_string(registry_.cameras().size()) + " cameras, [limits] max-cameras is " +
                                   std::to_string(maxCameras_));
            continue;
        }
        leftOut_.erase(id);
        seen_[id] = std::move(print);
        CameraConfigLoad load = loadCameraConfigFile(path.get());
        const bool problems = !load.problems.empty();
        for (const auto& p : load.problems) logWarning(id, p.toString());
        CameraPtr camera = registry_.apply(std::move(load));
        logInfo(id, std::string(known ? "reloaded " : "added from ") + name + " (" + why + ")" +
                        (problems && known && camera->configValid() ? ": kept running as it was" : ""));
    }
    for (auto it = leftOut_.begin(); it != leftOut_.end();) it = present.count(*it) ? std::next(it) : leftOut_.erase(it);
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

#include "recording/recording_store.h"

#include "config/camera_config.h"
#include "core/gobject_ptr.h"
#include "core/log.h"

#include <gst/pbutils/pbutils.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr std::string_view kMarkerSuffix = ".partial";
// How long the discoverer may take over one file.
constexpr GstClockTime kDiscoverTimeout = 10 * GST_SECOND;

bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Entries of a directory given by an fd we own; the fd is handed to fdopendir.
template <typename F> void forEachEntry(UniqueFd dir, F&& f) {
    DIR* d = fdopendir(dir.get());
    if (!d) return;  // dir still owns the fd
    (void)dir.release();  // closedir closes it
    while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;  // ".", "..", hidden files: never ours
        if (!f(std::string_view(e->d_name))) break;
    }
    closedir(d);
}

}  // namespace

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

UniqueFd openRecordingsRoot(const std::string& recordingsDir) {
    return UniqueFd(::open(recordingsDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

UniqueFd openNameFolder(int rootFd, const RecordingName& name) {
    UniqueFd camera(::openat(rootFd, name.camera.c_str(), kDirFlags));
    if (!camera) return {};
    return UniqueFd(::openat(camera.get(), name.day.c_str(), kDirFlags));
}

std::optional<OpenedFile> openRecordingFile(int rootFd, const RecordingName& name) {
    UniqueFd folder = openNameFolder(rootFd, name);
    if (!folder) return std::nullopt;
    // O_NONBLOCK: a FIFO planted under the name must not hang the open (fstat refuses it next).
    OpenedFile opened;
    opened.fd = UniqueFd(::openat(folder.get(), name.file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!opened.fd || fstat(opened.fd.get(), &opened.info) != 0 || !S_ISREG(opened.info.st_mode)) return std::nullopt;
    return opened;
}

ScanResult scanRecordings(const std::string& recordingsDir, const ScanOptions& options) {
    ScanResult result;
    UniqueFd root = openRecordingsRoot(recordingsDir);
    if (!root) {
        if (errno != ENOENT) result.error = recordingsDir + ": " + g_strerror(errno);
        return result;
    }
    auto full = [&] {
        if (result.files.size() < options.maxFiles) return false;
        result.truncated = true;
        return true;
    };
    std::vector<std::string> cameras;
    if (!options.camera.empty()) {
        if (!isValidCameraId(options.camera)) return result;
        cameras.push_back(options.camera);
    } else {
        forEachEntry(UniqueFd(::openat(root.get(), ".", kDirFlags & ~O_NOFOLLOW)), [&](std::string_view n) {
            if (isValidCameraId(std::string(n))) cameras.emplace_back(n);
            return cameras.size() < 100000;
        });
    }
    for (const std::string& camera : cameras) {
        if (full()) break;
        UniqueFd cameraDir(::openat(root.get(), camera.c_str(), kDirFlags));
        if (!cameraDir) continue;  // missing, a symlink, not a folder
        std::vector<std::string> folders;
        forEachEntry(UniqueFd(::openat(cameraDir.get(), ".", kDirFlags & ~O_NOFOLLOW)), [&](std::string_view n) {
            if (n.size() <= 16) folders.emplace_back(n);  // "YYYY-MM-DD" or "captures"
            return folders.size() < 100000;
        });
        for (const std::string& folder : folders) {
            const bool captures = folder == "captures";
            if ((captures && !options.captures) || (!captures && !options.segments)) continue;
            if (full()) break;
            const int folderFd = ::openat(cameraDir.get(), folder.c_str(), kDirFlags);
            if (folderFd < 0) continue;
            // Stat through a second descriptor: forEachEntry owns the first.
            UniqueFd statFd(::dup(folderFd));
            std::map<std::string, int64_t> markers;  // segment file -> marker mtime
            forEachEntry(UniqueFd(folderFd), [&](std::string_view n) {
                const bool marker = endsWith(n, kMarkerSuffix);
                const std::string_view file = marker ? n.substr(0, n.size() - kMarkerSuffix.size()) : n;
                const std::string id = camera + "/" + folder + "/" + std::string(file);
                std::optional<RecordingName> name = captures ? parseCaptureId(id) : parseRecordingId(id);
                if (!name) return true;  // not ours: never listed, never deleted
                struct stat st {};
                if (fstatat(statFd.get(), std::string(n).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                    return true;
                if (!marker && (name->startUnix < options.fromUnix || name->startUnix > options.toUnix)) return true;
                if (marker) {
                    if (!captures) markers[name->file] = int64_t(st.st_mtime);
                    return true;
                }
                if (result.files.size() >= options.maxFiles) {
                    result.truncated = true;
                    return false;
                }
                StoredFile f;
                f.name = std::move(*name);
                f.capture = captures;
                f.size = int64_t(st.st_size);
                f.mtimeUnix = int64_t(st.st_mtime);
                result.files.push_back(std::move(f));
                return true;
            });
            // Markers found in this folder: pair them with their files.
            for (size_t i = result.files.size(); i-- > 0 && !markers.empty();) {
                StoredFile& f = result.files[i];
                if (f.name.camera != camera || f.name.day != folder) break;
                auto it = markers.find(f.name.file);
                if (it == markers.end()) continue;
                f.hasMarker = true;
                f.markerMtimeUnix = it->second;
                markers.erase(it);
            }
            for (const auto& [file, mtime] : markers) {
                OrphanMarker o;
                o.name = *parseRecordingId(camera + "/" + folder + "/" + file);
                o.mtimeUnix = mtime;
                result.orphanMarkers.push_back(std::move(o));
            }
        }
    }
    return result;
}

bool beingWritten(const StoredFile& file, int64_t nowUnix, int64_t freshSec) {
    return file.hasMarker && (nowUnix - file.markerMtimeUnix < freshSec || nowUnix - file.mtimeUnix < freshSec);
}

const char* codecForExtension(const std::string& ext) {
    if (ext == "mp4") return "h264";
    if (ext == "mkv") return "mjpeg";
    if (ext == "jpg") return "jpeg";
    return "unknown";
}

DurationCache::DurationCache() : worker_([this] { run(); }) {}

DurationCache::~DurationCache() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    wake_.notify_all();
    worker_.join();
}

std::optional<double> DurationCache::lookup(const std::string& path, int64_t size, int64_t mtimeUnix) {
    Key key{path, size, mtimeUnix};
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = known_.find(key);
    if (it != known_.end()) {
        if (it->second < 0) return std::nullopt;
        return it->second;
    }
    if (queue_.size() < kMaxQueued) {
        for (const Key& k : queue_)
            if (!(k < key) && !(key < k)) return std::nullopt;
        queue_.push_back(std::move(key));
        wake_.notify_one();
    }
    return std::nullopt;
}

void DurationCache::run() {
    GError* raw = nullptr;
    GRef<GstDiscoverer> discoverer = GRef<GstDiscoverer>::adopt(gst_discoverer_new(kDiscoverTimeout, &raw));
    GUniquePtr<GError> error(raw);
    if (!discoverer) logWarning("", std::string("recording durations unknown: GstDiscoverer: ") +
                                        (error ? error->message : "could not be created"));
    for (;;) {
        Key key;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            key = queue_.front();
            queue_.pop_front();
        }
        double seconds = -1;
        if (discoverer) {
            GUniquePtr<gchar> uri(g_filename_to_uri(key.path.c_str(), nullptr, nullptr));
            GError* why = nullptr;
            GRef<GstDiscovererInfo> info =
                uri ? GRef<GstDiscovererInfo>::adopt(gst_discoverer_discover_uri(discoverer.get(), uri.get(), &why))
                    : GRef<GstDiscovererInfo>();
            GUniquePtr<GError> whyOwned(why);
            const GstClockTime duration = info ? gst_discoverer_info_get_duration(info.get()) : GST_CLOCK_TIME_NONE;
            if (GST_CLOCK_TIME_IS_VALID(duration) && duration > 0) seconds = double(duration) / GST_SECOND;
            else GST_DEBUG("no duration for %s: %s", key.path.c_str(), whyOwned ? whyOwned->message : "none reported");
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (known_.size() >= kMaxEntries) known_.clear();  // rare: far more files than a listing shows
        known_[key] = seconds;
    }
}

}  // namespace camrelay

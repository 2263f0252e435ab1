#pragma once
// Recordings and captures on disk: a bounded scan that never follows a
// symlink, the only way an id becomes an open file, and the durations of
// finished segments (GstDiscoverer, on a worker thread, cached).
//
// Every walk starts at the recordings dir's descriptor and opens each further
// component with openat(O_NOFOLLOW): a symlinked camera folder, day folder or
// file is never followed, whatever it points at, and anything that is not a
// regular file (FIFOs, devices, sockets) is skipped. Only names that
// parseRecordingId()/parseCaptureId() accept are ever opened.
// Thread affinity: the free functions: any thread (they only touch the
// filesystem). RecordingStore: loop thread, except where noted.
#include "recording/recording_paths.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <sys/stat.h>

namespace camrelay {

// An owned file descriptor (move-only), closed when it goes.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    [[nodiscard]] int release() { int fd = fd_; fd_ = -1; return fd; }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// The recordings dir itself (configured by the admin, so it may be a symlink).
UniqueFd openRecordingsRoot(const std::string& recordingsDir);
// The folder of name (<camera>/<day or captures>), walked from root with
// O_NOFOLLOW|O_DIRECTORY at each step; invalid fd if any step is missing or a symlink.
UniqueFd openNameFolder(int rootFd, const RecordingName& name);

struct OpenedFile {
    UniqueFd fd;
    struct stat info {};
};
// name's file for reading: the folder walk above, then the file itself with
// O_NOFOLLOW, and fstat must say regular file. nullopt when any of that fails
// (missing, a symlink anywhere, not a regular file).
std::optional<OpenedFile> openRecordingFile(int rootFd, const RecordingName& name);

// One segment or capture found on disk.
struct StoredFile {
    RecordingName name;
    bool capture = false;
    int64_t size = 0;
    int64_t mtimeUnix = 0;
    bool hasMarker = false;       // <file>.partial beside it
    int64_t markerMtimeUnix = 0;
};
// A marker whose segment is gone (a crash before the first byte, or a deletion cut short).
struct OrphanMarker {
    RecordingName name;  // of the segment it belonged to
    int64_t mtimeUnix = 0;
};

struct ScanOptions {
    std::string camera;          // empty: every camera
    bool segments = true;
    bool captures = true;
    int64_t fromUnix = INT64_MIN;  // only files whose name's start time is in [fromUnix, toUnix]
    int64_t toUnix = INT64_MAX;
    size_t maxFiles = 10000;     // stop after this many (truncated = true)
};
struct ScanResult {
    std::vector<StoredFile> files;    // in directory order
    std::vector<OrphanMarker> orphanMarkers;
    bool truncated = false;
    std::string error;                // the recordings dir could not be opened (missing is not an error)
};
// Walks <root>/<camera>/<day|captures>/ (any thread).
ScanResult scanRecordings(const std::string& recordingsDir, const ScanOptions& options);

// A segment is being written while its marker or the file itself changed
// within freshSec (the recorder writes continuously).
bool beingWritten(const StoredFile& file, int64_t nowUnix, int64_t freshSec);

// "h264" (mp4) or "mjpeg" (mkv); "jpeg" for captures.
const char* codecForExtension(const std::string& ext);

// The media duration of finished segments, learnt on one worker thread and
// cached by (path, size, mtime); the loop thread asks and never waits.
class DurationCache {
public:
    DurationCache();
    ~DurationCache();  // stops the worker (waits for the file being read)
    DurationCache(const DurationCache&) = delete;
    DurationCache& operator=(const DurationCache&) = delete;

    // Seconds if known; otherwise queues the file (at most kMaxQueued waiting)
    // and returns nullopt. Any thread.
    std::optional<double> lookup(const std::string& path, int64_t size, int64_t mtimeUnix);

    static constexpr size_t kMaxQueued = 256;
    static constexpr size_t kMaxEntries = 20000;

private:
    struct Key {
        std::string path;
        int64_t size;
        int64_t mtime;
        bool operator<(const Key& o) const {
            return std::tie(path, size, mtime) < std::tie(o.path, o.size, o.mtime);
        }
    };
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<Key, double> known_;   // < 0: the discoverer could not tell (not asked again)
    std::deque<Key> queue_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace camrelay

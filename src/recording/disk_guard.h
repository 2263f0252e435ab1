#pragma once
// The low-disk guard ([recording] min-free): says whether the filesystem that
// holds the recordings dir has room left for recordings and captures.
// "Room" is more than max(min-free bytes, min-free percent of the filesystem's
// size) available to the service (statvfs f_bavail: what an unprivileged
// writer may use, without the root reserve). The answer is cached for a
// second, so recorders and capture writers may ask on every segment or tick;
// one statvfs() is the only work, and it never waits on file contents.
// When space returns, problem() is empty again on the next check: callers
// resume by themselves.
// Thread affinity: any thread (the cache is guarded by a mutex).
#include "config/service_config.h"

#include <cstdint>
#include <mutex>
#include <string>

namespace camrelay {

struct DiskSpace {
    bool known = false;     // false: statvfs failed (error says why)
    uint64_t availableBytes = 0;
    uint64_t sizeBytes = 0;
    std::string error;
};

// statvfs() of dir, or of its nearest existing parent (the recordings dir is
// created with the first file: until then its parent's filesystem holds it).
DiskSpace queryDiskSpace(const std::string& dir);

// "120 MB", "3.4 GB", "512 KB": for messages.
std::string formatBytes(uint64_t bytes);

class DiskGuard {
public:
    DiskGuard(std::string dir, const RecordingLimits& limits);

    // Empty while there is room; else a sentence for the API, page, events and
    // log: "only 120 MB free on /var/lib/camrelay/recordings (min-free 2%)".
    std::string problem();
    // The bytes that must stay free on the filesystem of `sizeBytes`.
    uint64_t thresholdBytes(uint64_t sizeBytes) const;
    const std::string& dir() const { return dir_; }

private:
    std::string check() const;

    const std::string dir_;
    const int64_t minFreeBytes_;
    const int minFreePercent_;
    std::mutex mutex_;
    int64_t checkedAtUs_ = 0;  // monotonic; 0: never
    std::string cached_;
};

}  // namespace camrelay

#include "disk_guard.h"

#include "core/clock.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace camrelay {

namespace {
constexpr int64_t kRecheckUs = 1000000;  // at most one statvfs() a second
}  // namespace

DiskSpace queryDiskSpace(const std::string& dir) {
    DiskSpace space;
    std::string path = dir.empty() ? std::string(".") : dir;
    // Up to the nearest folder that exists (bounded: one step per path component).
    for (int steps = 0; steps < 4096; ++steps) {
        struct statvfs s {};
        if (statvfs(path.c_str(), &s) == 0) {
            space.known = true;
            space.availableBytes = uint64_t(s.f_bavail) * s.f_frsize;
            space.sizeBytes = uint64_t(s.f_blocks) * s.f_frsize;
            return space;
        }
        const int err = errno;
        const size_t slash = path.find_last_of('/');
        if (err != ENOENT || path == "/" || path == ".") {
            space.error = "cannot check the free space of " + path + ": " + std::strerror(err);
            return space;
        }
        if (slash == std::string::npos) path = ".";
        else if (slash == 0) path = "/";
        else path.resize(slash);
    }
    space.error = "cannot check the free space of " + dir + ": path too deep";
    return space;
}

std::string formatBytes(uint64_t bytes) {
    char text[32];
    if (bytes >= 10ull * 1000 * 1000 * 1000) std::snprintf(text, sizeof text, "%.0f GB", bytes / 1e9);
    else if (bytes >= 1000ull * 1000 * 1000) std::snprintf(text, sizeof text, "%.1f GB", bytes / 1e9);
    else if (bytes >= 10ull * 1000 * 1000) std::snprintf(text, sizeof text, "%.0f MB", bytes / 1e6);
    else if (bytes >= 1000ull * 1000) std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1000) std::snprintf(text, sizeof text, "%.0f KB", bytes / 1e3);
    else std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
    return text;
}

DiskGuard::DiskGuard(std::string dir, const RecordingLimits& limits)
    : dir_(std::move(dir)), minFreeBytes_(std::max<int64_t>(0, limits.minFreeBytes)),
      minFreePercent_(std::clamp(limits.minFreePercent, 0, 100)) {}

uint64_t DiskGuard::thresholdBytes(uint64_t sizeBytes) const {
    const uint64_t byPercent = sizeBytes / 100 * uint64_t(minFreePercent_) + sizeBytes % 100 * uint64_t(minFreePercent_) / 100;
    return std::max<uint64_t>(uint64_t(minFreeBytes_), byPercent);
}

std::string DiskGuard::problem() {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t now = monotonicNowUs();
    if (checkedAtUs_ == 0 || now - checkedAtUs_ >= kRecheckUs) {
        cached_ = check();
        checkedAtUs_ = now;
    }
    return cached_;
}

std::string DiskGuard::check() const {
    const DiskSpace space = queryDiskSpace(dir_);
    if (!space.known) return space.error;
    const uint64_t threshold = thresholdBytes(space.sizeBytes);
    if (space.availableBytes > threshold) return {};
    // Name the setting that won, as the operator wrote it.
    const bool bytesWon = minFreeBytes_ > 0 && threshold == uint64_t(minFreeBytes_);
    const std::string setting = bytesWon ? formatBytes(uint64_t(minFreeBytes_)) : std::to_string(minFreePercent_) + "%";
    return "only " + formatBytes(space.availableBytes) + " free on " + dir_ + " (min-free " + setting + ")";
}

}  // namespace camrelay

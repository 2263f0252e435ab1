#include "recording/retention.h"

#include "core/clock.h"
#include "core/log.h"
#include "recording/off_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace camrelay {

namespace {

// Every file, not a listing's page: retention must see the oldest.
constexpr size_t kMaxScannedFiles = 2000000;

bool oldestFirst(const StoredFile* a, const StoredFile* b) {
    if (a->name.startUnix != b->name.startUnix) return a->name.startUnix < b->name.startUnix;
    if (a->name.sequence != b->name.sequence) return a->name.sequence < b->name.sequence;
    return a->name.id() < b->name.id();
}

std::string describeBytes(int64_t bytes) {
    GUniquePtr<gchar> text(g_format_size_full(guint64(bytes), G_FORMAT_SIZE_IEC_UNITS));
    return text.get();
}

}  // namespace

bool RetentionPolicy::any() const {
    if (global.any()) return true;
    for (const auto& [id, limits] : cameras)
        if (limits.any()) return true;
    return false;
}

std::vector<RetentionDeletion> planRetention(const ScanResult& scan, const RetentionPolicy& policy, int64_t nowUnix) {
    std::vector<RetentionDeletion> plan;
    std::vector<const StoredFile*> files;
    for (const StoredFile& f : scan.files) files.push_back(&f);
    std::sort(files.begin(), files.end(), oldestFirst);
    std::set<const StoredFile*> gone;
    auto remove = [&](const StoredFile* f, std::string reason) {
        gone.insert(f);
        RetentionDeletion d;
        d.name = f->name;
        d.capture = f->capture;
        d.bytes = f->size;
        d.reason = std::move(reason);
        plan.push_back(std::move(d));
    };
    auto kept = [&](const StoredFile* f) { return !gone.count(f) && !beingWritten(*f, nowUnix, kRetentionFreshSec); };
    auto cameraLimits = [&](const std::string& camera) {
        auto it = policy.cameras.find(camera);
        return it == policy.cameras.end() ? RetentionLimits{} : it->second;
    };
    // Age first: what is old goes whatever the sizes.
    for (const StoredFile* f : files) {
        if (!kept(f)) continue;
        const int64_t age = nowUnix - f->name.startUnix;
        const RetentionLimits own = cameraLimits(f->name.camera);
        if (own.maxAgeSec > 0 && age > own.maxAgeSec)
            remove(f, "older than the camera's max-age (" + std::to_string(own.maxAgeSec) + " s)");
        else if (policy.global.maxAgeSec > 0 && age > policy.global.maxAgeSec)
            remove(f, "older than [recording] max-age (" + std::to_string(policy.global.maxAgeSec) + " s)");
    }
    // Then sizes, oldest first, per camera and over all.
    auto trim = [&](const std::vector<const StoredFile*>& group, int64_t maxBytes, const std::string& why) {
        int64_t total = 0;
        for (const StoredFile* f : group)
            if (!gone.count(f)) total += f->size;
        for (const StoredFile* f : group) {
            if (total <= maxBytes) break;
            if (!kept(f)) continue;
            total -= f->size;
            remove(f, why);
        }
    };
    std::map<std::string, std::vector<const StoredFile*>> byCamera;
    for (const StoredFile* f : files) byCamera[f->name.camera].push_back(f);
    for (const auto& [camera, group] : byCamera) {
        const int64_t max = cameraLimits(camera).maxBytes;
        if (max > 0) trim(group, max, "the camera's files exceed its max-size (" + describeBytes(max) + ")");
    }
    if (policy.global.maxBytes > 0)
        trim(files, policy.global.maxBytes, "all files exceed [recording] max-size (" + describeBytes(policy.global.maxBytes) + ")");
    for (const OrphanMarker& m : scan.orphanMarkers) {
        if (nowUnix - m.mtimeUnix < kRetentionFreshSec) continue;  // its file may be about to appear
        RetentionDeletion d;
        d.name = m.name;
        d.markerOnly = true;
        d.reason = "a leftover .partial marker without its file";
        plan.push_back(std::move(d));
    }
    return plan;
}

std::vector<RetentionDeletion> enforceRetention(const std::string& recordingsDir, const RetentionPolicy& policy,
                                                int64_t nowUnix) {
    ScanOptions options;
    options.maxFiles = kMaxScannedFiles;
    const ScanResult scan = scanRecordings(recordingsDir, options);
    if (!scan.error.empty()) {
        logWarning("", "retention: " + scan.error);
        return {};
    }
    if (scan.truncated) logWarning("", "retention: more than " + std::to_string(kMaxScannedFiles) + " files; only those were considered");
    std::vector<RetentionDeletion> done;
    UniqueFd root = openRecordingsRoot(recordingsDir);
    if (!root) return done;
    for (RetentionDeletion& d : planRetention(scan, policy, nowUnix)) {
        UniqueFd folder = openNameFolder(root.get(), d.name);  // no symlink followed on the way
        if (!folder) continue;
        const std::string marker = d.name.file + ".partial";
        if (!d.markerOnly && unlinkat(folder.get(), d.name.file.c_str(), 0) != 0 && errno != ENOENT) {
            logWarning(d.name.camera, "retention: could not delete " + d.name.id() + ": " + g_strerror(errno));
            continue;
        }
        if (!d.capture) unlinkat(folder.get(), marker.c_str(), 0);
        done.push_back(std::move(d));
    }
    return done;
}

Retention::Retention(const ServiceConfig& config, Registry& registry, int intervalSec)
    : config_(config), registry_(registry), intervalSec_(intervalSec), alive_(std::make_shared<bool>(true)) {}

Retention::~Retention() { *alive_ = false; }

void Retention::start() {
    pass();
    timer_.start(guint(intervalSec_), "retention", [this] { pass(); });
}

void Retention::pass() {
    if (running_) return;  // the last pass is still walking a large tree
    RetentionPolicy policy;
    policy.global = RetentionLimits{config_.recording.maxAgeSec, config_.recording.maxBytes};
    for (const CameraPtr& camera : registry_.cameras())
        policy.cameras[camera->id()] = RetentionLimits{camera->config().record.maxAgeSec, camera->config().record.maxBytes};
    if (!policy.any()) return;
    running_ = true;
    const std::string root = recordingsDir(config_);
    std::shared_ptr<bool> alive = alive_;
    offLoop<std::vector<RetentionDeletion>>(
        [root, policy]() { return enforceRetention(root, policy, unixNowUs() / 1000000); },
        [this, alive](std::vector<RetentionDeletion>& deleted) {
            if (!*alive) return;
            running_ = false;
            finished(deleted);
        });
}

void Retention::finished(const std::vector<RetentionDeletion>& deleted) {
    std::map<std::string, std::pair<int, int64_t>> perCamera;  // files, bytes
    for (const RetentionDeletion& d : deleted) {
        logInfo(d.name.camera, "retention deleted " + d.name.id() + (d.markerOnly ? std::string(".partial") : std::string()) +
                                   ": " + d.reason);
        if (d.markerOnly) continue;
        auto& [files, bytes] = perCamera[d.name.camera];
        ++files;
        bytes += d.bytes;
    }
    for (const auto& [id, count] : perCamera)
        if (CameraPtr camera = registry_.find(id))
            camera->emitEvent("record-retention", "deleted " + std::to_string(count.first) + " old file(s), " +
                                                      describeBytes(count.second));
}

}  // namespace camrelay

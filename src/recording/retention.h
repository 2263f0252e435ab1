#pragma once
// Retention: recordings and captures older than max-age, or beyond max-size,
// are deleted, oldest first (by the start time in their names), per camera
// ([record] max-age/max-size in the camera file) and over the whole
// recordings dir ([recording] max-age/max-size). A segment being written (its
// .partial marker or the file itself changed within kRetentionFreshSec) is
// never deleted, even when that leaves the total over a limit; a leftover
// marker goes with its file, and a marker whose file is gone is removed once
// it is stale.
// Thread affinity: planRetention/enforceRetention: any thread (the worker
// calls them). Retention: loop thread only; its passes run off the loop.
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"
#include "core/repeating_timer.h"
#include "recording/recording_store.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace camrelay {

struct RetentionLimits {
    int64_t maxAgeSec = 0;  // 0: no limit
    int64_t maxBytes = 0;   // 0: no limit
    bool any() const { return maxAgeSec > 0 || maxBytes > 0; }
};
struct RetentionPolicy {
    RetentionLimits global;                          // [recording]
    std::map<std::string, RetentionLimits> cameras;  // [record] of each configured camera
    bool any() const;
};
struct RetentionDeletion {
    RecordingName name;
    bool capture = false;
    bool markerOnly = false;  // a stale marker whose file was gone
    int64_t bytes = 0;
    std::string reason;
};

constexpr int64_t kRetentionFreshSec = 60;

// Which files to delete, and why (pure: the scan is given).
std::vector<RetentionDeletion> planRetention(const ScanResult& scan, const RetentionPolicy& policy, int64_t nowUnix);
// Scans recordingsDir, plans and deletes; returns what was deleted (failures
// are left out and logged).
std::vector<RetentionDeletion> enforceRetention(const std::string& recordingsDir, const RetentionPolicy& policy,
                                                int64_t nowUnix);

class Retention {
public:
    Retention(const ServiceConfig& config, Registry& registry, int intervalSec = 10);
    ~Retention();
    Retention(const Retention&) = delete;
    Retention& operator=(const Retention&) = delete;

    // A pass now (off the loop), then one every interval.
    void start();

private:
    void pass();
    void finished(const std::vector<RetentionDeletion>& deleted);

    const ServiceConfig& config_;
    Registry& registry_;
    const int intervalSec_;
    RepeatingTimer timer_;
    bool running_ = false;
    std::shared_ptr<bool> alive_;  // passes that finish after this is gone see false
};

}  // namespace camrelay

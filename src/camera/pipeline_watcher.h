#pragma once
// Hot reload: keeps the registry in step with the pipelines directory.
//
// A GFileMonitor on the directory reports every change; after a short quiet
// time (kSettleMs, so an editor's write-temp-then-rename or a burst of saves
// is one reload) the directory is re-read and compared, file by file, with
// the text last applied:
//   - a changed file  → Registry::apply (only that camera is rebuilt; a file
//     that no longer loads keeps the camera running and sets its applyError);
//   - a new file      → a new camera (started when enabled; failed, with its
//     problems, when it does not load — as at start);
//   - a removed file  → the camera is removed.
// Only "<id>.conf" names count; hidden files (".x.conf", the API's temporary
// files, the .backup folder) and editors' leftovers ("x.conf~", ".swp") do not.
// rescan() does the same at once (SIGHUP).
// Hostile directories: a file rewritten without pause still reloads (a burst
// waits at most kMaxSettleMs); new files beyond maxCameras are left out with
// one warning each (taken in when cameras go); a directory that cannot be
// read (deleted, unmounted) keeps every camera as it is; FIFOs, devices and
// files over 1 MiB are never read. Cameras the API writes are applied
// by the API; the watcher then sees the same text and does nothing.
// Thread affinity: loop thread only.
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"
#include "core/one_shot_timer.h"

#include <gio/gio.h>

#include <map>
#include <set>
#include <string>

namespace camrelay {

class PipelineWatcher {
public:
    static constexpr guint kSettleMs = 250;
    static constexpr gint64 kMaxSettleMs = 1000;  // a burst that never settles is re-read this often

    // The registry outlives the watcher; its cameras were loaded from dir.
    // maxCameras: [limits] max-cameras (new files beyond it are not added).
    PipelineWatcher(Registry& registry, std::string dir, size_t maxCameras = kDefaultMaxCameras);
    ~PipelineWatcher();
    PipelineWatcher(const PipelineWatcher&) = delete;
    PipelineWatcher& operator=(const PipelineWatcher&) = delete;

    // texts: id → file text the registry was loaded from (CameraConfigLoad::text).
    // Starts watching, then re-reads at once what changed since that load.
    // False with a message when the directory cannot be watched (the service
    // still runs; SIGHUP still reloads).
    bool start(std::map<std::string, std::string> texts, std::string* error);
    // Re-reads the directory now; `why` goes into the log line.
    void rescan(const std::string& why);

private:
    // The file's text, or a marker naming why it could not be read (so an
    // unreadable file is reported once, not on every rescan).
    static std::string fingerprint(const std::string& path);

    void onChange();

    Registry& registry_;
    const std::string dir_;
    const size_t maxCameras_;
    gint64 burstStartUs_ = 0;               // monotonic time of the first change of the pending burst
    bool dirUnreadable_ = false;            // warned once until it reads again
    std::set<std::string> leftOut_;         // new ids over maxCameras, warned once each
    GRef<GFileMonitor> monitor_;
    gulong handler_ = 0;
    OneShotTimer settle_;
    std::map<std::string, std::string> seen_;  // id → fingerprint last applied
};

}  // namespace camrelay

#pragma once
// Every camera, keyed by id (the file stem of pipelines/<id>.conf), and the
// one place cameras come and go: outputs learn of every camera through
// onAdded / onRemoved / onReconfigured (attach, detach, re-attach) instead of
// copying the list at start.
// Ownership: the registry owns each camera through a shared_ptr; whoever keeps
// a camera beyond one call keeps a shared_ptr or weak_ptr (claims keep a
// weak_ptr, so a removed camera is never called back).
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "camera/event_log.h"
#include "camera/pipeline_reaper.h"
#include "config/camera_config.h"
#include "core/signal.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace camrelay {

using CameraPtr = std::shared_ptr<Camera>;

// "<id>.conf" names that are camera files: not hidden (the API's temporary
// files, .backup), ending in .conf (not an editor's "x.conf~" or ".swp").
bool isCameraFileName(const std::string& name);

// Reads every camera file in dir, sorted by name. Problems with the directory
// itself go to dirProblems; each file's problems stay with its load.
std::vector<CameraConfigLoad> loadCameraDirectory(const std::string& dir, ConfigProblems& dirProblems);

class Registry {
public:
    Registry();
    ~Registry();
    // A camera whose config has problems is kept, as failed, so the API can say why.
    // Announced through onAdded. Replaces (remove, then add) a camera of the same id.
    CameraPtr add(CameraConfigLoad load);
    // Hot apply of a camera's (new) config: a new id is added (and started
    // when enabled); a known one is reconfigured in place (Camera::reconfigure),
    // so its viewers stay attached. A load with problems changes nothing for a
    // known, valid camera: the problems become its applyError(). Returns the camera.
    CameraPtr apply(CameraConfigLoad load);
    // Stops and forgets the camera: onRemoved first (outputs close its viewers
    // and drop their references), then the registry's own reference. False when unknown.
    bool remove(const std::string& id);
    CameraPtr find(const std::string& id) const;
    std::vector<CameraPtr> cameras() const;  // sorted by id
    void startEnabled();
    void stopAll();
    // Every camera's state changes, errors and reconnect attempts.
    EventLog& events() { return events_; }

    Connection onAdded(std::function<void(const CameraPtr&)> fn) { return added_.connect(std::move(fn)); }
    Connection onRemoved(std::function<void(const CameraPtr&)> fn) { return removed_.connect(std::move(fn)); }
    // After a camera's new config took over (Camera::onReconfigured).
    Connection onReconfigured(std::function<void(const CameraPtr&)> fn) { return reconfigured_.connect(std::move(fn)); }

private:
    struct Entry {
        CameraPtr camera;
        Connection events;
        Connection reconfigured;
    };
    EventLog events_;  // declared first: outlives the cameras' connections to it
    PipelineReaper reaper_;  // before the cameras: takes their last pipelines when they go
    Signal<const CameraPtr&> added_;
    Signal<const CameraPtr&> removed_;
    Signal<const CameraPtr&> reconfigured_;
    std::map<std::string, Entry> cameras_;
};

}  // namespace camrelay

#pragma once
// Every camera, keyed by id (the file stem of pipelines/<id>.conf).
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "camera/event_log.h"
#include "camera/pipeline_reaper.h"
#include "config/camera_config.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace camrelay {

// Reads every "*.conf" in dir, sorted by name. Problems with the directory
// itself go to dirProblems; each file's problems stay with its load.
std::vector<CameraConfigLoad> loadCameraDirectory(const std::string& dir, ConfigProblems& dirProblems);

class Registry {
public:
    // A camera whose config has problems is kept, as failed, so the API can say why.
    Camera& add(CameraConfigLoad load);
    Camera* find(const std::string& id) const;
    std::vector<Camera*> cameras() const;  // sorted by id
    void startEnabled();
    void stopAll();
    // Every camera's state changes, errors and reconnect attempts.
    EventLog& events() { return events_; }

private:
    EventLog events_;  // declared first: outlives the cameras' connections to it
    PipelineReaper reaper_;  // before the cameras: takes their last pipelines when they go
    std::map<std::string, std::unique_ptr<Camera>> cameras_;
    std::vector<Connection> eventConnections_;
};

}  // namespace camrelay

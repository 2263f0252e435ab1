#pragma once
// Every camera's Recorder, and the end of recording at shutdown.
// Owned by Outputs; cameras outlive it.
// Thread affinity: loop thread only.
#include "camera/pipeline_reaper.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "recording/recorder.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace camrelay {

class Recorders {
public:
    Recorders(Registry& registry, const ServiceConfig& config);
    ~Recorders();
    Recorders(const Recorders&) = delete;
    Recorders& operator=(const Recorders&) = delete;

    Recorder* find(const std::string& cameraId) const;
    // The disk guard every recorder polls (empty answer: room to record).
    void setDiskProblem(const Recorder::DiskProblem& problem);
    // Shutdown (SIGINT/SIGTERM, after the loop quit): ends every file being
    // written and iterates the default main context until each is finalized
    // or `wait` is over (then the rest keep their .partial markers).
    // True when every file was finalized.
    bool finishAll(std::chrono::milliseconds wait);

private:
    // Before the recorders: their last pipelines go to NULL here, off the
    // loop thread (a recording stuck on a hung disk holds only a worker).
    PipelineReaper reaper_;
    std::map<std::string, std::unique_ptr<Recorder>> recorders_;
};

}  // namespace camrelay

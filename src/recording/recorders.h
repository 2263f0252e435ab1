#pragma once
// Every camera's Recorder, as cameras come and go, and the end of recording
// at shutdown. Each recorder keeps a reference to its camera; a recorder whose
// camera was removed or reconfigured is retired: its file is finalized (EOS)
// and it goes once that is done, or after kRetireLimit (the .partial marker
// then stays, as after a crash).
// Thread affinity: loop thread only.
#include "camera/pipeline_reaper.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/repeating_timer.h"
#include "recording/recorder.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace camrelay {

class Recorders {
public:
    explicit Recorders(const ServiceConfig& config);
    ~Recorders();
    Recorders(const Recorders&) = delete;
    Recorders& operator=(const Recorders&) = delete;

    void attach(const CameraPtr& camera);
    // The camera is removed: its file is finalized; its recordings stay.
    void detach(const std::string& cameraId);
    // The camera's config changed. When what its files depend on changed
    // (the [record] settings, the H.264 settings, the kind of source) the
    // file being written ends and a recorder for the new config takes over (a
    // new file when it records; a manual recording goes on in the new file
    // until its end, if the new config still allows manual recording). Any
    // other change (name, JPEG quality...) leaves the recording alone.
    void reattach(const CameraPtr& camera);

    Recorder* find(const std::string& cameraId) const;
    // The disk guard every recorder polls (empty answer: room to record).
    void setDiskProblem(const Recorder::DiskProblem& problem);
    // Shutdown (SIGINT/SIGTERM, after the loop quit): ends every file being
    // written and iterates the default main context until each is finalized
    // or `wait` is over (then the rest keep their .partial markers).
    // True when every file was finalized.
    bool finishAll(std::chrono::milliseconds wait);

private:
    struct Entry {
        CameraPtr camera;  // declared first: outlives its recorder
        std::unique_ptr<Recorder> recorder;
        // What the recorder was made for (the camera's config may change since).
        RecordConfig record;
        H264Settings h264;
        SourceKind kind = SourceKind::Raw;
        int64_t retiredUs = 0;
    };
    void retire(Entry entry, const std::string& why);
    void pruneRetired();

    static constexpr int64_t kRetireLimitUs = 10 * G_USEC_PER_SEC;
    const std::string dir_;
    Recorder::DiskProblem diskProblem_;
    // Before the recorders: their last pipelines go to NULL here, off the
    // loop thread (a recording stuck on a hung disk holds only a worker).
    PipelineReaper reaper_;
    std::map<std::string, Entry> recorders_;
    std::vector<Entry> retired_;
    RepeatingTimer pruneTimer_;
};

}  // namespace camrelay

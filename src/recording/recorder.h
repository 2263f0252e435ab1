#pragma once
// Records one camera to disk in segments ([record] group, issue 11).
//
//   format=mp4: the camera's shared H.264 access units (H264Stream::tap())
//               appsrc ! h264parse ! splitmuxsink (mp4mux, robust muxing)
//   format=mkv: the camera's JPEG frames, zero encode
//               appsrc ! jpegparse ! splitmuxsink (matroskamux)
//
// The recording pipeline is separate from the camera's: a slow, full or
// failing disk shows up on the recording pipeline's bus only. The appsrc is
// bounded and never blocks the pusher: when the disk falls behind, access
// units are dropped until the next key frame (logged once per episode).
// Any error stops recording with a reason (status().error, record-error
// event, log line naming camera and path); live outputs never notice.
//
// Crash safety: mp4mux runs in robust muxing mode (moov rewritten in a
// reserved space at the start of the file every second), so a file cut by
// SIGKILL or power loss plays, missing at most the last ~1-2 s. A file being
// written has a ".partial" marker beside it, removed once the file is
// finalized (splitmuxsink-fragment-closed).
//
// Wanted vs. running: `wanted` is what the user asked for (always mode, or a
// manual recording until its duration or DELETE); a session (one recording
// pipeline, one or more segment files) runs while wanted, the camera is live
// and the disk guard has no problem. A camera that goes offline ends the
// session (file finalized); the next one starts in a new file when it is
// live again. While wanted, the recorder holds the stream's claim (the
// camera's demand for mkv), so an on-demand camera keeps running.
// Thread affinity: loop thread only (the tap listener inside runs on the
// camera's streaming thread and only queues into the appsrc).
#include "camera/camera.h"
#include "camera/pipeline_reaper.h"
#include "core/gobject_ptr.h"
#include "core/repeating_timer.h"
#include "core/one_shot_timer.h"
#include "core/signal.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace camrelay {

struct RecordingStatus {
    bool active = false;    // a recording pipeline is writing now
    bool wanted = false;    // recording is requested (always mode, or a manual recording running)
    std::string file;       // id of the segment being written; empty when none
    uint64_t bytes = 0;     // bytes of this recording, every segment so far
    uint64_t frames = 0;    // frames (access units or JPEGs) handed to the muxer in this recording
    int64_t sinceUnix = 0;  // when this recording was requested; 0 when none
    int64_t untilUnix = 0;  // a manual recording's end; 0 when open-ended or none
    std::string error;      // why recording stopped or pauses; empty when fine
};

// Everything this recorder handed to its files, across recordings (/metrics).
struct RecorderTotals {
    uint64_t frames = 0;   // access units or JPEGs handed to the muxer
    uint64_t bytes = 0;    // bytes in finished segments, plus the one being written (as of the last tick)
    uint64_t dropped = 0;  // frames dropped: disk behind (queue full, then until the next key frame), or no clock yet
};

class Recorder {
public:
    // Empty when recording may go on, else why it must pause (disk guard).
    using DiskProblem = std::function<std::string()>;
    static constexpr int64_t kMaxDurationSec = 86400;

    // reaper outlives the recorder. An always-mode recorder starts on the next
    // loop iteration.
    Recorder(Camera& camera, std::string recordingsDir, PipelineReaper& reaper, DiskProblem diskProblem = {});
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    enum class Refusal { None, ModeOff, ModeAlways, CameraFailed, DiskProblem };
    struct Answer {
        Refusal refusal = Refusal::None;
        std::string message;  // set when refused
    };
    // A manual recording: durationSec 0 = until stop(). While one runs, a new
    // start() replaces its duration.
    Answer start(int64_t durationSec);
    // Stops a manual recording (the file is finalized).
    Answer stop();
    RecordingStatus status() const;
    RecorderTotals totals() const;
    const CameraConfig& config() const { return camera_.config(); }
    void setDiskProblem(DiskProblem problem) { diskProblem_ = std::move(problem); }

    // Service shutdown, or the camera removed or reconfigured: ends the file
    // being written (EOS); finished() is true once it is finalized or
    // abandoned. No new session starts afterwards.
    void finish(const std::string& why = "the service is shutting down");
    bool finished() const { return !session_; }
    // Gives up on a session that did not finalize in time (the reaper takes it).
    void abandon();

private:
    struct Feed;
    struct Session;

    void tick();
    void reconsider();
    void openSession();
    void endSession(const std::string& why);
    void failSession(const std::string& error);
    void dropSession();
    void setWanted(bool wanted, int64_t durationSec);
    void attachSource();
    std::string unavailable() const;
    gboolean onBusMessage(GstMessage* message);
    static gboolean busTrampoline(GstBus*, GstMessage* message, gpointer self) noexcept;
    std::string segmentId(const std::string& path) const;

    Camera& camera_;
    std::string dir_;
    PipelineReaper& reaper_;
    DiskProblem diskProblem_;
    const bool mp4_;

    bool wanted_ = false;
    bool finishing_ = false;
    int64_t sinceUnix_ = 0;
    int64_t untilUnix_ = 0;
    std::string error_;
    int64_t retryAtUs_ = 0;       // after a write error, always mode tries again from then
    uint64_t closedBytes_ = 0;   // finished segments of this recording
    uint64_t currentBytes_ = 0;  // the segment being written, as of the last tick
    uint64_t framesDone_ = 0;    // frames of this recording's ended sessions
    RecorderTotals ended_;       // sessions ended and segments finished, every recording (totals())
    std::shared_ptr<const void> claim_;  // H.264 stream claim (mp4) or camera demand (mkv)
    std::unique_ptr<Session> session_;
    RepeatingTimer ticker_;
    OneShotTimer durationTimer_;
    Connection stateConnection_;
};

}  // namespace camrelay

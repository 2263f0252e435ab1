#pragma once
// Timed captures of one camera ([record] capture-interval=N): every N seconds
// the camera's current JPEG from the shared frames (no second connection, no
// pipeline, no re-encode) goes to <recordings>/<camera>/captures/<name>.jpg,
// named by the frame's capture time (recording_paths.h captureRelativePath).
//
// The frame is the camera's latest one when it is fresh (captured within the
// last 2 s) and not an "offline" placeholder; otherwise the writer holds a
// demand on the camera (which starts an idle on-demand camera, or the JPEG
// branch of a camera that only runs it while someone looks) until the next
// real frame, at most min(N, 5) seconds, and releases it.
//
// Files are written by GIO's worker threads (g_task_run_in_thread), never on
// the loop thread: to a hidden temporary name beside the target, synced, then
// renamed, so a reader (the captures list, a browser) never sees half a file.
// One capture at a time: a tick while the previous one is still being written
// (a slow disk) is skipped, so a slow disk never piles up frames in memory.
// A capture is skipped when the disk guard reports a problem; that and a
// failed write emit one `capture-error` event per streak of failures (the
// next success ends the streak) and log it. Live outputs never notice.
// Thread affinity: loop thread only.
#include "camera/camera.h"
#include "core/gobject_ptr.h"
#include "core/signal.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace camrelay {

class CaptureWriter {
public:
    // camera outlives the writer. diskProblem (may be empty) answers "" while
    // there is room (DiskGuard::problem), else why not.
    CaptureWriter(Camera& camera, std::string recordingsDir, std::function<std::string()> diskProblem);
    ~CaptureWriter();
    CaptureWriter(const CaptureWriter&) = delete;
    CaptureWriter& operator=(const CaptureWriter&) = delete;

    int intervalSec() const { return intervalSec_; }
    uint64_t written() const { return written_; }
    // Why the last capture failed or was skipped; empty once one succeeded.
    const std::string& lastError() const { return lastError_; }

private:
    struct Job;
    void tick();
    void waitForFrame();
    void stopWaiting();
    void write(const FramePtr& frame);
    void finished(const std::string& relativePath, const std::string& error);
    void fail(const std::string& why);
    static void writeInThread(GTask* task, gpointer, gpointer data, GCancellable*) noexcept;
    static void writeDone(GObject*, GAsyncResult* result, gpointer) noexcept;

    Camera& camera_;
    const std::string dir_;  // the recordings dir
    std::function<std::string()> diskProblem_;
    const int intervalSec_;
    SourceHandle timer_;
    // While waiting for a real frame:
    Camera::Demand demand_;
    Connection frames_;
    SourceHandle waitTimer_;
    bool writing_ = false;
    int64_t lastWrittenSec_ = -1;  // Unix second of the last capture (names have one-second resolution)
    bool failing_ = false;         // in a streak of failures: its event was sent
    std::string lastError_;
    uint64_t written_ = 0;
    // Completions of writes still running when the writer goes find nullptr here.
    std::shared_ptr<CaptureWriter*> self_;
};

}  // namespace camrelay

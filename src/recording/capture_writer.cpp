#include "capture_writer.h"

#include "core/clock.h"
#include "core/log.h"
#include "recording/recording_paths.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>

namespace camrelay {

namespace {
constexpr int64_t kFreshUs = 2000000;  // a latest frame older than this is not "current"
constexpr int kMaxWaitMs = 5000;

bool isFresh(const FramePtr& frame) {
    return frame && !frame->isPlaceholder() && std::llabs(unixNowUs() - frame->captureUnixUs()) < kFreshUs;
}

std::string systemError(const std::string& what, const std::string& path, int err) {
    return "cannot " + what + " " + path + ": " + std::strerror(err);
}

// Runs on a GIO worker thread: <dir>/<rel>, via "<folder>/.<name>.part".
std::string writeAtomically(const std::string& path, std::string_view bytes) {
    const size_t slash = path.find_last_of('/');
    const std::string folder = path.substr(0, slash);
    if (g_mkdir_with_parents(folder.c_str(), 0755) != 0) return systemError("create", folder, errno);
    const std::string temp = folder + "/." + path.substr(slash + 1) + ".part";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return systemError("create", temp, errno);
    std::string error;
    size_t done = 0;
    while (done < bytes.size() && error.empty()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) error = systemError("write", temp, n < 0 ? errno : ENOSPC);
        else done += size_t(n);
    }
    // Synced before the rename: after a power loss the name holds the whole JPEG or nothing.
    if (error.empty() && ::fdatasync(fd) != 0) error = systemError("sync", temp, errno);
    if (::close(fd) != 0 && error.empty()) error = systemError("close", temp, errno);
    if (error.empty() && ::rename(temp.c_str(), path.c_str()) != 0) error = systemError("rename to", path, errno);
    if (!error.empty()) ::unlink(temp.c_str());
    return error;
}
}  // namespace

struct CaptureWriter::Job {
    std::shared_ptr<CaptureWriter*> owner;
    FramePtr frame;             // immutable, shared with the viewers: safe on the worker thread
    std::string path;           // absolute target
    std::string relativePath;   // for messages
    std::string error;          // set by the worker
};

CaptureWriter::CaptureWriter(Camera& camera, std::string recordingsDir, std::function<std::string()> diskProblem)
    : camera_(camera), dir_(std::move(recordingsDir)), diskProblem_(std::move(diskProblem)),
      intervalSec_(std::max(1, camera.config().record.captureIntervalSec)),
      self_(std::make_shared<CaptureWriter*>(this)) {
    // Milliseconds, not g_timeout_add_seconds: that one rounds to whole seconds
    // and may run two ticks in one second (one name).
    timer_ = SourceHandle(g_timeout_add_full(
        G_PRIORITY_DEFAULT, guint(intervalSec_) * 1000,
        [](gpointer self) noexcept -> gboolean {
            try {
                static_cast<CaptureWriter*>(self)->tick();
            } catch (...) {
                logError("", "capture tick failed: " + currentExceptionText());
            }
            return G_SOURCE_CONTINUE;
        },
        this, nullptr));
}

CaptureWriter::~CaptureWriter() {
    *self_ = nullptr;  // a write still running finishes on its own; its completion finds no writer
}

void CaptureWriter::tick() {
    if (writing_ || demand_) return;  // the previous capture is still under way
    const CameraState state = camera_.state();
    if (state == CameraState::Stopped || state == CameraState::Failed) return;  // nothing to capture, and said so elsewhere
    if (diskProblem_) {
        const std::string problem = diskProblem_();
        if (!problem.empty()) return fail("capture skipped: " + problem);
    }
    const FramePtr latest = camera_.latestFrame();
    if (isFresh(latest)) return write(latest);
    waitForFrame();
}

void CaptureWriter::waitForFrame() {
    demand_ = camera_.demand();
    frames_ = camera_.onFrame([this](const FramePtr& frame) {
        if (frame->isPlaceholder()) return;
        FramePtr keep = frame;
        stopWaiting();
        write(keep);
    });
    waitTimer_ = SourceHandle(g_timeout_add_full(
        G_PRIORITY_DEFAULT, guint(std::min(intervalSec_ * 1000, kMaxWaitMs)),
        [](gpointer p) noexcept -> gboolean {
            auto* self = static_cast<CaptureWriter*>(p);
            self->waitTimer_.forget();
            // The camera's own events say why it has no frames: no capture-error for that.
            GST_CAT_DEBUG(camrelay_output_debug, "camera %s: no frame for a capture", self->camera_.id().c_str());
            self->stopWaiting();
            return G_SOURCE_REMOVE;
        },
        this, nullptr));
}

void CaptureWriter::stopWaiting() {
    frames_.disconnect();
    waitTimer_.reset();
    demand_.reset();  // an on-demand camera lingers, then goes idle
}

void CaptureWriter::write(const FramePtr& frame) {
    const int64_t second = frame->captureUnixUs() / 1000000;
    if (second == lastWrittenSec_) return;  // names have one-second resolution: that second is on disk already
    auto* job = new Job{self_, frame, {}, captureRelativePath(camera_.id(), second), {}};
    job->path = dir_ + "/" + job->relativePath;
    lastWrittenSec_ = second;
    writing_ = true;
    GRef<GTask> task = GRef<GTask>::adopt(g_task_new(nullptr, nullptr, &CaptureWriter::writeDone, nullptr));
    g_task_set_task_data(task.get(), job, [](gpointer p) { delete static_cast<Job*>(p); });
    g_task_run_in_thread(task.get(), &CaptureWriter::writeInThread);
}

void CaptureWriter::writeInThread(GTask* task, gpointer, gpointer data, GCancellable*) noexcept {
    auto* job = static_cast<Job*>(data);
    try {
        job->error = writeAtomically(job->path, job->frame->jpeg());
    } catch (...) {
        job->error = "cannot write " + job->path + ": " + currentExceptionText();
    }
    g_task_return_boolean(task, job->error.empty());
}

void CaptureWriter::writeDone(GObject*, GAsyncResult* result, gpointer) noexcept {
    auto* job = static_cast<Job*>(g_task_get_task_data(G_TASK(result)));
    try {
        if (CaptureWriter* self = *job->owner) self->finished(job->relativePath, job->error);
    } catch (...) {
        logError("", "capture completion failed: " + currentExceptionText());
    }
}

void CaptureWriter::finished(const std::string& relativePath, const std::string& error) {
    writing_ = false;
    if (!error.empty()) return fail("capture failed: " + error);
    ++written_;
    if (failing_) logInfo(camera_.id(), "captures resumed: " + relativePath);
    failing_ = false;
    lastError_.clear();
}

void CaptureWriter::fail(const std::string& why) {
    lastError_ = why;
    if (failing_) return;  // one event and one log line per streak
    failing_ = true;
    logWarning(camera_.id(), why);
    camera_.emitEvent("capture-error", why);
}

}  // namespace camrelay

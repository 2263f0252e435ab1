#include "recording/recorder.h"

#include "camera/appsrc_feed.h"
#include "core/log.h"
#include "recording/recording_paths.h"

#include <glib/gstdio.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

// The appsrc holds at most this much; beyond it the disk is behind and
// access units are dropped until the next key frame.
constexpr guint64 kMaxQueuedBytes = 16 * 1024 * 1024;
// mp4mux rewrites the moov this often: a crash loses at most about this much.
constexpr GstClockTime kMoovUpdatePeriod = GST_SECOND;
// A segment runs over max-size-time until the next key frame: reserve room
// for that in the robust-muxing moov.
constexpr int64_t kReserveMarginSec = 60;
// A recording pipeline that has not finalized this long after EOS is given up.
constexpr int64_t kDrainTimeoutUs = 5 * G_USEC_PER_SEC;
// always mode: after a write error, try again after this long.
constexpr int64_t kRetryAfterErrorUs = 30 * G_USEC_PER_SEC;

int64_t nowUnix() { return g_get_real_time() / G_USEC_PER_SEC; }

bool fileExists(const std::string& path) { return g_file_test(path.c_str(), G_FILE_TEST_EXISTS); }

uint64_t fileSize(const std::string& path) {
    GStatBuf st;
    return g_stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

// The camera's shared H.264 stream (its own or its one encoder's) for format=mp4.
EncodedTap* h264TapOf(Camera& camera) { return &camera.h264().tap(); }
std::shared_ptr<const void> h264ClaimOf(Camera& camera) { return camera.h264().claim(); }

}  // namespace

// What the camera's streaming thread (mp4) or the loop (mkv) pushes through:
// the bounded appsrc, dropping until the next key frame when the disk is behind.
struct Recorder::Feed : AppSrcFeed {
    Feed(GRef<GstElement> appsrc, GstClockTime spacing) : AppSrcFeed(std::move(appsrc), spacing, kMaxQueuedBytes) {}
};

// Segment names, chosen on splitmuxsink's thread when a file opens.
// Thread affinity: any thread (mutex).
struct SegmentNaming {
    std::string dir, camera, ext;
    std::mutex mutex;
    std::string problem;  // why the last file could not be prepared

    std::string next() {
        const int64_t start = nowUnix();
        std::string path;
        for (int seq = 0; seq < 1000; ++seq) {
            path = dir + "/" + segmentRelativePath(camera, start, ext, seq);
            if (!fileExists(path) && !fileExists(partialMarkerPath(path))) break;
        }
        GUniquePtr<gchar> folder(g_path_get_dirname(path.c_str()));
        std::string why;
        if (g_mkdir_with_parents(folder.get(), 0755) != 0) {
            why = std::string("cannot create ") + folder.get() + ": " + g_strerror(errno);
        } else {
            GError* raw = nullptr;
            if (!g_file_set_contents(partialMarkerPath(path).c_str(), "", 0, &raw)) {
                GUniquePtr<gchar> text(g_strdup(raw->message));
                g_error_free(raw);
                why = std::string("cannot write ") + partialMarkerPath(path) + ": " + text.get();
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        problem = why;
        return path;
    }
    std::string lastProblem() {
        std::lock_guard<std::mutex> lock(mutex);
        return problem;
    }

    static gchar* formatLocation(GstElement*, guint, GstSample*, gpointer data) noexcept {
        try {
            return g_strdup((*static_cast<std::shared_ptr<SegmentNaming>*>(data))->next().c_str());
        } catch (...) {
            logError("", "naming a recording segment failed: " + currentExceptionText());
            return nullptr;  // splitmuxsink then fails with its own error, which stops the recording
        }
    }
};

struct Recorder::Session {
    GRef<GstElement> pipeline;
    std::shared_ptr<Feed> feed;
    std::shared_ptr<SegmentNaming> naming;
    SourceHandle busWatch;
    EncodedTap* tap = nullptr;  // the camera's, which outlives the recorder
    int tapListener = 0;
    Connection frames;
    bool attached = false;
    bool draining = false;
    int64_t drainSinceUs = 0;
    std::string currentPath;

    void detachSource() {
        if (tapListener) tap->remove(std::exchange(tapListener, 0));
        frames.disconnect();
        feed->close(true);
    }
};

Recorder::Recorder(Camera& camera, std::string recordingsDir, PipelineReaper& reaper, DiskProblem diskProblem)
    : camera_(camera), dir_(std::move(recordingsDir)), reaper_(reaper), diskProblem_(std::move(diskProblem)),
      mp4_(camera.config().record.format == RecordFormat::Mp4) {
    ticker_.start(1, "recording tick of " + camera_.id(), [this] { tick(); });
    stateConnection_ = camera_.onStateChanged([this](CameraState state) {
        if (state == CameraState::Live) return reconsider();
        if (session_ && !session_->draining) endSession(std::string("camera ") + toString(state));
    });
    if (camera.configValid() && camera.config().record.mode == RecordMode::Always) setWanted(true, 0);
}

Recorder::~Recorder() {
    stateConnection_.disconnect();
    if (session_) {
        logWarning(camera_.id(), "recording pipeline dropped before it finalized (its .partial marker stays)");
        dropSession();
    }
}

Recorder::Answer Recorder::start(int64_t durationSec) {
    const RecordConfig& record = camera_.config().record;
    if (record.mode == RecordMode::Off)
        return {Refusal::ModeOff, "recording is off for camera " + camera_.id() + " ([record] mode=off in " + camera_.config().file + ")"};
    if (record.mode == RecordMode::Always)
        return {Refusal::ModeAlways, "camera " + camera_.id() + " records always ([record] mode=always in " + camera_.config().file + ")"};
    if (!camera_.configValid()) return {Refusal::CameraFailed, "camera " + camera_.id() + " cannot run: " + camera_.lastError()};
    if (finishing_) return {Refusal::CameraFailed, "the service is shutting down"};
    const std::string why = unavailable();
    if (!why.empty()) return {Refusal::CameraFailed, why};
    const std::string disk = diskProblem_ ? diskProblem_() : std::string();
    if (!disk.empty()) return {Refusal::DiskProblem, "cannot record camera " + camera_.id() + ": " + disk};
    setWanted(true, durationSec);
    return {};
}

Recorder::Answer Recorder::stop() {
    if (camera_.config().record.mode == RecordMode::Always)
        return {Refusal::ModeAlways, "camera " + camera_.id() + " records always ([record] mode=always in " + camera_.config().file + ")"};
    if (wanted_) setWanted(false, 0);
    return {};
}

RecordingStatus Recorder::status() const {
    RecordingStatus s;
    s.active = session_ && !session_->draining;
    s.wanted = wanted_;
    if (s.active && !session_->currentPath.empty()) s.file = segmentId(session_->currentPath);
    s.bytes = closedBytes_ + currentBytes_;
    s.frames = framesDone_ + (session_ ? session_->feed->pushed.load() : 0);
    s.sinceUnix = wanted_ ? sinceUnix_ : 0;
    s.untilUnix = wanted_ ? untilUnix_ : 0;
    s.error = error_;
    return s;
}

RecorderTotals Recorder::totals() const {
    RecorderTotals t = ended_;
    t.bytes += currentBytes_;
    if (session_) {
        t.frames += session_->feed->pushed.load();
        t.dropped += session_->feed->dropped.load();
    }
    return t;
}

void Recorder::setWanted(bool wanted, int64_t durationSec) {
    if (!wanted) {
        const bool wasWanted = std::exchange(wanted_, false);
        durationTimer_.cancel();
        const std::string why = durationSec < 0 ? "the duration is over" : "stopped";
        if (session_ && !session_->draining) endSession(why);
        else if (wasWanted) camera_.emitEvent("record-stop", "recording stopped: " + why);
        claim_.reset();
        return;
    }
    if (!wanted_) {
        wanted_ = true;
        sinceUnix_ = nowUnix();
        closedBytes_ = currentBytes_ = framesDone_ = 0;
        error_.clear();
        retryAtUs_ = 0;
        claim_ = mp4_ ? h264ClaimOf(camera_) : std::shared_ptr<const void>(camera_.demand());
    }
    durationTimer_.cancel();
    untilUnix_ = 0;
    if (durationSec > 0) {
        untilUnix_ = nowUnix() + durationSec;
        // On time, not coalesced to whole seconds: "record 10 s" gives 10 s.
        durationTimer_.startMs(guint(durationSec * 1000), [this] { setWanted(false, -1); });
    }
    reconsider();
}

std::string Recorder::unavailable() const {
    return {};
}

void Recorder::reconsider() {
    if (finishing_ || !wanted_ || session_) return;
    if (camera_.state() != CameraState::Live) return;
    const std::string why = unavailable();
    const std::string disk = why.empty() && diskProblem_ ? diskProblem_() : std::string();
    const std::string problem = why.empty() ? disk : why;
    if (!problem.empty()) {
        if (error_ != problem) {
            error_ = problem;
            logWarning(camera_.id(), "recording paused: " + problem);
            camera_.emitEvent("record-error", "recording paused: " + problem);
        }
        return;
    }
    if (retryAtUs_ && g_get_monotonic_time() < retryAtUs_) return;
    openSession();
}

void Recorder::openSession() {
    const RecordConfig& record = camera_.config().record;
    auto session = std::make_unique<Session>();
    const char* caps = mp4_ ? "video/x-h264,stream-format=byte-stream,alignment=au" : "image/jpeg";
    // Built element by element: splitmuxsink's pads take what its muxer takes,
    // so the muxer is set before anything links to it.
    auto make = [](const char* factory, const char* name) {
        return GRef<GstElement>::adopt(gst_element_factory_make(factory, name));
    };
    session->pipeline = make("pipeline", ("recording-" + camera_.id()).c_str());
    GRef<GstElement> appsrc = make("appsrc", "src");
    GRef<GstElement> parser = make(mp4_ ? "h264parse" : "jpegparse", nullptr);
    GRef<GstElement> split = make("splitmuxsink", "split");
    GRef<GstElement> muxer = make(mp4_ ? "mp4mux" : "matroskamux", nullptr);
    std::string problem;
    if (!appsrc || !parser || !split || !muxer) problem = "an element is missing (appsrc, h264parse/jpegparse, splitmuxsink, mp4mux/matroskamux)";
    if (problem.empty()) {
        GRef<GstCaps> appsrcCaps = GRef<GstCaps>::adopt(gst_caps_from_string(caps));
        g_object_set(appsrc.get(), "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE, "block", FALSE,
                     "max-bytes", guint64(kMaxQueuedBytes), "caps", appsrcCaps.get(), nullptr);
        if (mp4_) {
            // Robust muxing: the moov is rewritten into space reserved at the start
            // of the file every kMoovUpdatePeriod, so a cut file plays.
            g_object_set(muxer.get(), "reserved-max-duration", guint64(record.segmentSec + kReserveMarginSec) * GST_SECOND,
                         "reserved-moov-update-period", guint64(kMoovUpdatePeriod), nullptr);
        }
        g_object_set(split.get(), "muxer", muxer.get(), "max-size-time", guint64(record.segmentSec) * GST_SECOND, nullptr);
        gst_bin_add_many(GST_BIN(session->pipeline.get()), GST_ELEMENT(gst_object_ref(appsrc.get())),
                         GST_ELEMENT(gst_object_ref(parser.get())), GST_ELEMENT(gst_object_ref(split.get())), nullptr);
        if (!gst_element_link_many(appsrc.get(), parser.get(), split.get(), nullptr))
            problem = std::string("cannot link appsrc ! ") + (mp4_ ? "h264parse" : "jpegparse") + " ! splitmuxsink";
    }
    if (!problem.empty()) {
        problem = "cannot build the recording pipeline: " + problem;
        error_ = problem;
        logError(camera_.id(), problem);
        camera_.emitEvent("record-error", problem);
        wanted_ = false;
        durationTimer_.cancel();
        claim_.reset();
        return;
    }
    session->naming = std::make_shared<SegmentNaming>();
    session->naming->dir = dir_;
    session->naming->camera = camera_.id();
    session->naming->ext = mp4_ ? "mp4" : "mkv";
    // The copy of the shared_ptr lives as long as the signal connection (the element).
    g_signal_connect_data(split.get(), "format-location-full", G_CALLBACK(&SegmentNaming::formatLocation),
                          new std::shared_ptr<SegmentNaming>(session->naming),
                          [](gpointer p, GClosure*) { delete static_cast<std::shared_ptr<SegmentNaming>*>(p); },
                          GConnectFlags(0));
    // Encoded access units come at most kEncodedFps a second: spaced so, two
    // never share a tick (players reject that); the source's own are spaced 1 ms.
    const bool encoded = mp4_ && !camera_.h264().passthrough();
    session->feed = std::make_shared<Feed>(appsrc, encoded ? GST_SECOND / SharedH264Stream::kEncodedFps : GST_MSECOND);
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(session->pipeline.get()));
    session->busWatch = SourceHandle(gst_bus_add_watch(bus.get(), &Recorder::busTrampoline, this));
    session_ = std::move(session);
    if (gst_element_set_state(session_->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        failSession("the recording pipeline does not start");
        return;
    }
    // A live pipeline (appsrc is-live) has its clock now, but reaches PLAYING
    // only once its sink has a buffer: feed it at once.
    attachSource();
    const std::string what = std::string(mp4_ ? "mp4 (H.264)" : "mkv (MJPEG)") + " in segments of " +
                             std::to_string(record.segmentSec) + " s under " + dir_ + "/" + camera_.id() +
                             (untilUnix_ ? ", until " + std::to_string(untilUnix_) + " (Unix time)" : std::string());
    logInfo(camera_.id(), "recording " + what);
    camera_.emitEvent("record-start", "recording " + what);
}

void Recorder::endSession(const std::string& why) {
    if (!session_ || session_->draining) return;
    session_->detachSource();  // sends EOS: splitmuxsink finalizes the file
    session_->draining = true;
    session_->drainSinceUs = g_get_monotonic_time();
    logInfo(camera_.id(), "recording stopped: " + why);
    camera_.emitEvent("record-stop", "recording stopped: " + why);
}

void Recorder::failSession(const std::string& error) {
    std::string problem = error;
    if (session_) {
        const std::string naming = session_->naming->lastProblem();
        if (!naming.empty()) problem = naming + " (" + error + ")";
        else if (!session_->currentPath.empty()) problem += " (" + session_->currentPath + ")";
        // A file that never came to be has no use for its marker.
        if (!session_->currentPath.empty() && !fileExists(session_->currentPath))
            g_remove(partialMarkerPath(session_->currentPath).c_str());
    }
    error_ = problem;
    logError(camera_.id(), "recording failed: " + problem);
    camera_.emitEvent("record-error", "recording failed: " + problem);
    const bool wasActive = session_ && !session_->draining;
    dropSession();
    if (camera_.config().record.mode == RecordMode::Always && !finishing_) {
        retryAtUs_ = g_get_monotonic_time() + kRetryAfterErrorUs;
        if (wasActive) camera_.emitEvent("record-stop", "recording stopped: " + problem + "; retrying in 30 s");
        return;
    }
    if (wanted_) {
        wanted_ = false;
        durationTimer_.cancel();
        claim_.reset();
        camera_.emitEvent("record-stop", "recording stopped: " + problem);
    }
}

void Recorder::dropSession() {
    if (!session_) return;
    std::unique_ptr<Session> session = std::move(session_);
    session->detachSource();
    framesDone_ += session->feed->pushed.load();
    ended_.frames += session->feed->pushed.load();
    ended_.dropped += session->feed->dropped.load();
    session->busWatch.reset();
    reaper_.reap(std::move(session->pipeline), "recording " + camera_.id());
}

void Recorder::finish(const std::string& why) {
    finishing_ = true;
    durationTimer_.cancel();
    if (session_ && !session_->draining) endSession(why);
    wanted_ = false;
    claim_.reset();
}

void Recorder::abandon() {
    if (!session_) return;
    logWarning(camera_.id(), "recording did not finalize in time: " +
                                 (session_->currentPath.empty() ? std::string("no file") : session_->currentPath + " keeps its .partial marker"));
    dropSession();
}

void Recorder::tick() {
    if (!session_) return reconsider();
    if (session_->draining) {
        if (g_get_monotonic_time() - session_->drainSinceUs > kDrainTimeoutUs) abandon();
        return;
    }
    if (!session_->currentPath.empty()) currentBytes_ = fileSize(session_->currentPath);
    if (session_->feed->overflowed.exchange(false))
        logWarning(camera_.id(), "recording falls behind the disk: dropping until the next key frame (" +
                                     std::to_string(session_->feed->dropped.load()) + " dropped so far)");
    const std::string disk = diskProblem_ ? diskProblem_() : std::string();
    if (!disk.empty()) {
        error_ = disk;
        logWarning(camera_.id(), "recording paused: " + disk);
        camera_.emitEvent("record-error", "recording paused: " + disk);
        endSession("paused: " + disk);
    }
}

std::string Recorder::segmentId(const std::string& path) const {
    const std::string prefix = dir_ + "/";
    return path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : path;
}

gboolean Recorder::busTrampoline(GstBus*, GstMessage* message, gpointer self) noexcept {
    try {
        return static_cast<Recorder*>(self)->onBusMessage(message);
    } catch (...) {
        logError("", "recording bus message failed: " + currentExceptionText());
        return G_SOURCE_CONTINUE;
    }
}

gboolean Recorder::onBusMessage(GstMessage* message) {
    if (!session_) return G_SOURCE_CONTINUE;
    Session& s = *session_;
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ELEMENT: {
        const GstStructure* st = gst_message_get_structure(message);
        const char* location = st ? gst_structure_get_string(st, "location") : nullptr;
        if (!location) break;
        if (gst_structure_has_name(st, "splitmuxsink-fragment-opened")) {
            s.currentPath = location;
            currentBytes_ = 0;
            error_.clear();
            retryAtUs_ = 0;
            camera_.emitEvent("record-segment", "recording to " + segmentId(location));
        } else if (gst_structure_has_name(st, "splitmuxsink-fragment-closed")) {
            g_remove(partialMarkerPath(location).c_str());
            if (s.feed->pushed.load() == 0) {
                // Stopped before its first frame (POST then DELETE at once): the
                // file holds a reserved header and no sample, and no player opens it.
                g_remove(location);
                logInfo(camera_.id(), std::string("recording stopped before its first frame: ") + location + " removed");
            } else {
                const uint64_t size = fileSize(location);
                closedBytes_ += size;
                ended_.bytes += size;
            }
            if (s.currentPath == location) {
                s.currentPath.clear();
                currentBytes_ = 0;
            }
            GST_INFO("%s: segment %s finalized", camera_.id().c_str(), location);
        }
        break;
    }
    case GST_MESSAGE_EOS:
        // Every file is finalized: the pipeline has nothing left to do.
        dropSession();
        reconsider();
        break;
    case GST_MESSAGE_ERROR: {
        GError* raw = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(message, &raw, &debug);
        GUniquePtr<GError> error(raw);
        GUniquePtr<gchar> debugText(debug);
        GUniquePtr<gchar> source(gst_object_get_name(GST_MESSAGE_SRC(message)));
        GST_WARNING("%s: recording error from %s: %s (%s)", camera_.id().c_str(), source.get(), errorMessage(error).c_str(),
                    debug ? debug : "");
        failSession(std::string(source.get()) + ": " + errorMessage(error));
        break;
    }
    case GST_MESSAGE_WARNING: {
        GError* raw = nullptr;
        gst_message_parse_warning(message, &raw, nullptr);
        GUniquePtr<GError> warning(raw);
        logWarning(camera_.id(), "recording: " + errorMessage(warning));
        break;
    }
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

// Feeds the pipeline, starting at a key frame.
void Recorder::attachSource() {
    Session& s = *session_;
    if (s.attached || !s.feed->open()) return;
    s.attached = true;
    GST_INFO("%s: recording pipeline plays, feeding it", camera_.id().c_str());
    std::shared_ptr<Feed> feed = s.feed;
    if (mp4_) {
        s.tap = h264TapOf(camera_);
        if (!s.tap) return;
        // Streaming thread: only queue (Feed::push never blocks).
        s.tapListener = s.tap->add([feed](GstBuffer* accessUnit) { feed->push(accessUnit); });
    } else {
        s.frames = camera_.onFrame([feed](const FramePtr& frame) {
            if (!frame->isPlaceholder()) feed->push(frame->buffer());
        });
    }
}

}  // namespace camrelay

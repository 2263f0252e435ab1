#include "outputs/hls_output.h"

#include "camera/appsrc_feed.h"
#include "core/clock.h"
#include "core/log.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

constexpr const char* kSourceName = "hls_src";
constexpr const char* kSinkName = "hls_sink";
constexpr const char* kPlaylistName = "index.m3u8";
// The appsrc holds at most this much; beyond it the muxer is behind and
// access units are dropped until the next key frame.
constexpr guint64 kMaxQueuedBytes = 8 * 1024 * 1024;
// Segments kept beyond the listed ones: a client (or cache) holding the
// previous playlist still finds the segment that just left it.
constexpr int kExtraSegments = 5;
// After a pipeline error, playlist requests get the error this long before a rebuild.
constexpr int64_t kRetryAfterErrorUs = 3 * G_USEC_PER_SEC;
constexpr guint kWaitPollMs = 100;

std::string runToken() {
    char token[16];
    std::snprintf(token, sizeof token, "%08x", g_random_int());
    return token;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(std::move(line));
    }
    return out;
}

// The bytes a GMemoryOutputStream holds now (copied: hlssink2 keeps writing to
// the playlist stream's successor, and the fragment's goes away with giostreamsink).
GBytes* copyOut(GOutputStream* stream) {
    auto* memory = G_MEMORY_OUTPUT_STREAM(stream);
    return g_bytes_new(g_memory_output_stream_get_data(memory), g_memory_output_stream_get_data_size(memory));
}

}  // namespace

// ---------------------------------------------------------------------------
// HlsStore

void HlsStore::publish(const std::string& name, GBytes* bytes, int64_t startUnixUs, const std::string& playlist) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t size = g_bytes_get_size(bytes);
    segments_.push_back({name, GUniquePtr<GBytes>(g_bytes_ref(bytes)), startUnixUs});
    bytes_ += size;
    while (segments_.size() > maxSegments_ || (bytes_ > kMaxBytes && segments_.size() > 1)) {
        bytes_ -= g_bytes_get_size(segments_.front().bytes.get());
        segments_.pop_front();
    }
    playlist_ = withProgramDateTime(playlist);
    listed_ = 0;
    for (const std::string& line : lines(playlist))
        if (!line.empty() && line[0] != '#') ++listed_;
}

void HlsStore::forget(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = segments_.begin(); it != segments_.end(); ++it)
        if (it->name == name) {
            bytes_ -= g_bytes_get_size(it->bytes.get());
            segments_.erase(it);
            return;
        }
}

// Before each segment's #EXTINF, the wall-clock time of its first frame.
std::string HlsStore::withProgramDateTime(const std::string& playlist) const {
    const std::vector<std::string> in = lines(playlist);
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i].rfind("#EXTINF", 0) == 0) {
            size_t uri = i + 1;
            while (uri < in.size() && (in[uri].empty() || in[uri][0] == '#')) ++uri;
            if (uri < in.size())
                for (const Segment& s : segments_)
                    if (s.name == in[uri] && s.startUnixUs > 0)
                        out += "#EXT-X-PROGRAM-DATE-TIME:" + formatIsoTime(s.startUnixUs) + "\n";
        }
        out += in[i] + "\n";
    }
    return out;
}

std::optional<std::string> HlsStore::playlist(size_t minSegments) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (playlist_.empty() || listed_ < minSegments) return std::nullopt;
    return playlist_;
}

GBytes* HlsStore::segment(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Segment& s : segments_)
        if (s.name == name) return g_bytes_ref(s.bytes.get());
    return nullptr;
}

size_t HlsStore::segments() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return segments_.size();
}

// ---------------------------------------------------------------------------
// One pipeline run: what its streaming threads (the tap's, the muxer's) touch.
// Owned by HlsOutput and, through their signal/handler data, by the pipeline's
// callbacks; it never points back at the HlsOutput.
// Thread affinity: any thread (mutex).
struct HlsOutput::Run {
    std::shared_ptr<HlsStore> store;
    std::shared_ptr<std::atomic<uint64_t>> segmentsTotal;
    std::string camera;
    GRef<GstElement> pipeline;
    H264Stream::Claim claim;
    int tapListener = 0;

    std::unique_ptr<AppSrcFeed> feed;  // bounded, drops until the next key frame when the muxer is behind
    std::atomic<int64_t> unixAtZeroUs{0};  // wall-clock time at running time 0 (set with the first stamp)

    std::mutex mutex;  // guards what follows (hlssink2's signals and the bus, on the muxing thread)
    GRef<GOutputStream> fragment;
    std::string fragmentName;
    GRef<GOutputStream> playlist;
    std::map<std::string, int64_t> startUnixUs;  // by segment name, set when a segment opens

    // The tap's streaming thread; accessUnit is borrowed.
    void push(GstBuffer* accessUnit) {
        const GstClockTime pts = feed->push(accessUnit);
        if (GST_CLOCK_TIME_IS_VALID(pts) && !unixAtZeroUs.load())
            unixAtZeroUs = unixNowUs() - int64_t(pts / GST_USECOND);
    }

    // hlssink2's signals, on the muxing thread.
    static GOutputStream* onFragmentStream(GstElement*, const gchar* location, gpointer data) noexcept {
        Run& run = **static_cast<std::shared_ptr<Run>*>(data);
        std::lock_guard<std::mutex> lock(run.mutex);
        run.fragment = GRef<GOutputStream>::adopt(g_memory_output_stream_new_resizable());
        run.fragmentName = location ? location : "";
        return G_OUTPUT_STREAM(g_object_ref(run.fragment.get()));
    }
    static GOutputStream* onPlaylistStream(GstElement*, const gchar*, gpointer data) noexcept {
        Run& run = **static_cast<std::shared_ptr<Run>*>(data);
        std::lock_guard<std::mutex> lock(run.mutex);
        run.playlist = GRef<GOutputStream>::adopt(g_memory_output_stream_new_resizable());
        return G_OUTPUT_STREAM(g_object_ref(run.playlist.get()));
    }
    // Connected so that hlssink2 deletes no file (it wrote none).
    static void onDeleteFragment(GstElement*, const gchar* location, gpointer data) noexcept {
        Run& run = **static_cast<std::shared_ptr<Run>*>(data);
        if (location) run.store->forget(location);
    }

    // The muxing thread, synchronously: fragment-opened gives a segment's start
    // (running time, mapped to the wall clock); fragment-closed publishes it.
    GstBusSyncReply onSyncMessage(GstMessage* message) {
        if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ELEMENT) return GST_BUS_PASS;
        const GstStructure* st = gst_message_get_structure(message);
        const bool opened = st && gst_structure_has_name(st, "splitmuxsink-fragment-opened");
        const bool closed = st && gst_structure_has_name(st, "splitmuxsink-fragment-closed");
        if (!opened && !closed) return GST_BUS_PASS;
        // The message names no file (giostreamsink has no location): the
        // segment is the one get-fragment-stream handed out last.
        std::unique_lock<std::mutex> lock(mutex);
        const std::string name = fragmentName;
        if (opened) {
            GstClockTime runningTime = GST_CLOCK_TIME_NONE;
            gst_structure_get_clock_time(st, "running-time", &runningTime);
            const int64_t zero = unixAtZeroUs.load();
            if (zero && GST_CLOCK_TIME_IS_VALID(runningTime) && !name.empty())
                startUnixUs[name] = zero + int64_t(runningTime / GST_USECOND);
            return GST_BUS_DROP;
        }
        if (!fragment || name.empty() || !playlist) {
            GST_WARNING("%s: HLS segment %s closed without its stream", camera.c_str(), name.c_str());
            return GST_BUS_DROP;
        }
        GUniquePtr<GBytes> bytes(copyOut(fragment.get()));
        GUniquePtr<GBytes> text(copyOut(playlist.get()));
        const auto start = startUnixUs.find(name);
        const int64_t startUs = start == startUnixUs.end() ? 0 : start->second;
        startUnixUs.erase(startUnixUs.begin(), start == startUnixUs.end() ? start : std::next(start));
        lock.unlock();
        gsize textSize = 0;
        const auto* textData = static_cast<const char*>(g_bytes_get_data(text.get(), &textSize));
        store->publish(name, bytes.get(), startUs, std::string(textData ? textData : "", textSize));
        segmentsTotal->fetch_add(1);
        GST_DEBUG("%s: HLS segment %s, %zu bytes", camera.c_str(), name.c_str(), size_t(g_bytes_get_size(bytes.get())));
        return GST_BUS_DROP;
    }
};

namespace {

template <typename Fn> void connectRun(GstElement* element, const char* signal, Fn fn, const std::shared_ptr<HlsOutput::Run>& run) {
    g_signal_connect_data(element, signal, G_CALLBACK(fn), new std::shared_ptr<HlsOutput::Run>(run),
                          [](gpointer p, GClosure*) { delete static_cast<std::shared_ptr<HlsOutput::Run>*>(p); },
                          GConnectFlags(0));
}

}  // namespace

// ---------------------------------------------------------------------------
// HlsOutput

HlsOutput::HlsOutput(CameraPtr camera, const HlsConfig& config, PipelineReaper& reaper)
    : camera_(std::move(camera)), config_(config), reaper_(reaper) {}

HlsOutput::~HlsOutput() {
    stop("the camera is removed");
    answerWaiters({std::nullopt, "camera " + camera_->id() + " is removed"});
}

int HlsOutput::waitLimitMs() const { return 3 * config_.segmentSec * 1000 + 4000; }

void HlsOutput::requestPlaylist(Waiter done) {
    lastRequestUs_ = monotonicNowUs();
    if (!run_) {
        if (failedAtUs_ && monotonicNowUs() - failedAtUs_ < kRetryAfterErrorUs) return done({std::nullopt, failure_});
        const std::string problem = start();
        if (!problem.empty()) return done({std::nullopt, problem});
    }
    if (auto text = run_->store->playlist(kFirstSegments)) return done({std::move(text), ""});
    waiters_.push_back({std::move(done), monotonicNowUs() + int64_t(waitLimitMs()) * 1000});
    if (!waitPoll_)
        waitPoll_ = SourceHandle(g_timeout_add(kWaitPollMs, [](gpointer self) noexcept -> gboolean {
            try {
                static_cast<HlsOutput*>(self)->pollWaiters();
            } catch (...) {
                logError("", "HLS playlist wait failed: " + currentExceptionText());
            }
            return G_SOURCE_CONTINUE;
        }, this));
}

void HlsOutput::pollWaiters() {
    std::optional<std::string> text = run_ ? run_->store->playlist(kFirstSegments) : std::nullopt;
    if (text) {
        lastRequestUs_ = monotonicNowUs();  // the linger runs from the answer
        return answerWaiters({std::move(text), ""});
    }
    const int64_t now = monotonicNowUs();
    const std::string late = "no HLS segment of camera " + camera_->id() + " within " +
                             std::to_string(waitLimitMs() / 1000) + " s" +
                             (run_ ? std::string() : std::string(": ") + failure_);
    std::vector<PendingWaiter> due;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->deadlineUs <= now || !run_) {
            due.push_back(std::move(*it));
            it = waiters_.erase(it);
        } else {
            ++it;
        }
    }
    if (waiters_.empty()) waitPoll_.reset();
    for (PendingWaiter& w : due) w.done({std::nullopt, late});
}

void HlsOutput::answerWaiters(const Answer& answer) {
    std::vector<PendingWaiter> all = std::move(waiters_);
    waiters_.clear();
    waitPoll_.reset();
    for (PendingWaiter& w : all) w.done(answer);
}

GBytes* HlsOutput::segment(const std::string& name) const { return run_ ? run_->store->segment(name) : nullptr; }

std::string HlsOutput::start() {
    Camera& camera = *camera_;
    if (!camera.configValid()) return "camera " + camera.id() + " cannot run: " + camera.lastError();
    SharedH264Stream& stream = camera.h264();
    // Each segment is made of whole GOPs: asking for key frames here would
    // only reach this pipeline's appsrc, never the shared encoder.
    const std::string launch =
        std::string("appsrc name=") + kSourceName +
        " is-live=true format=time block=false caps=video/x-h264,stream-format=byte-stream,alignment=au"
        " ! h264parse config-interval=-1 ! hlssink2 name=" + kSinkName +
        " send-keyframe-requests=false target-duration=" + std::to_string(config_.segmentSec) +
        " playlist-length=" + std::to_string(config_.playlistLength) +
        " max-files=" + std::to_string(config_.playlistLength + kExtraSegments) +
        " playlist-location=" + kPlaylistName + " location=" + runToken() + "-%05d.ts";
    GError* raw = nullptr;
    GRef<GstElement> pipeline = GRef<GstElement>::adopt(gst_parse_launch(launch.c_str(), &raw));
    GUniquePtr<GError> error(raw);
    if (!pipeline || error) {
        const std::string problem = "cannot build the HLS pipeline: " + errorMessage(error);
        logError(camera.id(), problem);
        if (pipeline) reaper_.reap(std::move(pipeline), "HLS " + camera.id());
        return problem;
    }
    // Passthrough: stamps only have to increase (the camera's rate is unknown);
    // encoded: at most kEncodedFps a second, spaced by a whole frame.
    const GstClockTime spacing = stream.passthrough() ? GST_MSECOND : GST_SECOND / SharedH264Stream::kEncodedFps;
    auto run = std::make_shared<Run>();
    run->store = std::make_shared<HlsStore>(size_t(config_.playlistLength + kExtraSegments));
    run->segmentsTotal = segmentsTotal_;
    run->camera = camera.id();
    run->pipeline = pipeline;
    GRef<GstElement> appsrc = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kSourceName));
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kSinkName));
    g_object_set(appsrc.get(), "max-bytes", guint64(2 * kMaxQueuedBytes), nullptr);
    run->feed = std::make_unique<AppSrcFeed>(appsrc, spacing, kMaxQueuedBytes);
    connectRun(sink.get(), "get-fragment-stream", &Run::onFragmentStream, run);
    connectRun(sink.get(), "get-playlist-stream", &Run::onPlaylistStream, run);
    connectRun(sink.get(), "delete-fragment", &Run::onDeleteFragment, run);
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline.get()));
    gst_bus_set_sync_handler(
        bus.get(),
        [](GstBus*, GstMessage* message, gpointer data) noexcept -> GstBusSyncReply {
            try {
                return (*static_cast<std::shared_ptr<Run>*>(data))->onSyncMessage(message);
            } catch (...) {
                logError("", "HLS segment handling failed: " + currentExceptionText());
                return GST_BUS_DROP;
            }
        },
        new std::shared_ptr<Run>(run), [](gpointer p) { delete static_cast<std::shared_ptr<Run>*>(p); });
    busWatch_ = SourceHandle(gst_bus_add_watch(bus.get(), [](GstBus*, GstMessage* message, gpointer self) noexcept -> gboolean {
        try {
            return static_cast<HlsOutput*>(self)->onBusMessage(message);
        } catch (...) {
            logError("", "HLS bus message failed: " + currentExceptionText());
            return G_SOURCE_CONTINUE;
        }
    }, this));
    run_ = run;
    made_ = madeNow();
    run->claim = stream.claim();
    if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        stop("the HLS pipeline does not start");
        failedAtUs_ = monotonicNowUs();
        failure_ = "the HLS pipeline of camera " + camera.id() + " does not start";
        return failure_;
    }
    std::weak_ptr<Run> weak = run;
    run->tapListener = stream.tap().add([weak](GstBuffer* accessUnit) {
        if (auto r = weak.lock()) r->push(accessUnit);
    });
    if (!stream.passthrough()) {
        // Key frames every segment-duration: segments of that length.
        keyTimer_ = SourceHandle(g_timeout_add(guint(config_.segmentSec) * 1000, [](gpointer self) noexcept -> gboolean {
            try {
                static_cast<HlsOutput*>(self)->camera_->h264().requestKeyframe();
            } catch (...) {
                logError("", "HLS key frame request failed: " + currentExceptionText());
            }
            return G_SOURCE_CONTINUE;
        }, this));
    }
    lingerTimer_.start(1, "HLS linger of " + camera.id(), [this] { tick(); });
    logInfo(camera.id(), std::string("HLS started (") + (stream.passthrough() ? "passthrough: segments follow the camera's key frames" :
                                                        "on the shared H.264 encoder") +
                             ", " + std::to_string(config_.segmentSec) + " s segments)");
    return {};
}

void HlsOutput::stop(const std::string& why) {
    if (!run_) return;
    std::shared_ptr<Run> run = std::move(run_);
    keyTimer_.reset();
    lingerTimer_.stop();
    busWatch_.reset();
    if (run->tapListener) camera_->h264().tap().remove(std::exchange(run->tapListener, 0));
    run->feed->close(false);
    run->claim.reset();
    reaper_.reap(std::move(run->pipeline), "HLS " + camera_->id());
    logInfo(camera_->id(), "HLS stopped: " + why);
}

void HlsOutput::tick() {
    if (!run_) return;
    if (run_->feed->overflowed.exchange(false))
        logWarning(camera_->id(), "HLS falls behind: dropping until the next key frame (" +
                                      std::to_string(run_->feed->dropped.load()) + " dropped so far)");
    // A request still waiting for the first segments counts as one now.
    if (!waiters_.empty()) lastRequestUs_ = monotonicNowUs();
    if (monotonicNowUs() - lastRequestUs_ > int64_t(config_.lingerSec) * G_USEC_PER_SEC)
        stop("no playlist request for " + std::to_string(config_.lingerSec) + " s ([hls] linger)");
}

HlsOutput::Made HlsOutput::madeNow() const {
    const CameraConfig& c = camera_->config();
    return {camera_->sourceKind(), c.h264, c.width, c.height};
}

void HlsOutput::reconfigured() {
    if (!run_ || (camera_->configValid() && madeNow() == made_)) return;
    stop("the camera's source, size or H.264 settings changed");
    if (camera_->configValid() && monotonicNowUs() - lastRequestUs_ <= int64_t(config_.lingerSec) * G_USEC_PER_SEC) start();
}

gboolean HlsOutput::onBusMessage(GstMessage* message) {
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR) return G_SOURCE_CONTINUE;
    GError* raw = nullptr;
    gst_message_parse_error(message, &raw, nullptr);
    GUniquePtr<GError> error(raw);
    GUniquePtr<gchar> source(gst_object_get_name(GST_MESSAGE_SRC(message)));
    failure_ = "HLS pipeline of camera " + camera_->id() + ": " + source.get() + ": " + errorMessage(error);
    logError(camera_->id(), failure_);
    camera_->emitEvent("error", failure_);
    failedAtUs_ = monotonicNowUs();
    busWatch_.forget();  // G_SOURCE_REMOVE ends this watch
    stop("pipeline error");
    answerWaiters({std::nullopt, failure_});
    return G_SOURCE_REMOVE;
}

}  // namespace camrelay

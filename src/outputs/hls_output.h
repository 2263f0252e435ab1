#pragma once
// HTTP Live Streaming of one camera (issue 14), made from the camera's shared
// H.264 stream while someone follows the playlist:
//
//   appsrc (access units, FrameStamper, bounded) ! h264parse config-interval=-1 ! hlssink2
//
// hlssink2 (splitmuxsink + mpegtsmux inside) cuts the MPEG-TS segments on key
// frames and writes the playlist; nothing is muxed here. It writes no files:
// its get-fragment-stream / get-playlist-stream / delete-fragment signals hand
// it GMemoryOutputStreams, and on splitmuxsink-fragment-closed (a sync bus
// handler, on the muxing thread, when that segment and the playlist listing
// it are complete) both are published into an HlsStore that HTTP reads.
//
// Lifetime: a playlist request (touch()) starts the pipeline, with a claim on
// the camera's H.264 stream (an on-demand camera runs then); after [hls]
// linger seconds without one it is handed to the reaper, the claim dropped,
// and the store with it. Segment names carry a token drawn per pipeline run,
// so a name never means two different segments ("immutable" caching).
//
// Segment length: encode mode asks the shared encoder for a key frame every
// segment-duration while HLS runs (hlssink2's own key-unit requests are off:
// they cannot reach the shared encoder's source); passthrough cameras cut
// where the camera puts its key frames (set its GOP to 2 s or less).
//
// Playlist times: hlssink2 1.22 writes no EXT-X-PROGRAM-DATE-TIME; the served
// playlist gets one per segment, the wall-clock time its first access unit
// reached camrelay (passthrough: capture plus network; encode: capture plus
// encoding, tens of ms), so players (hls.js playingDate) show the latency.
// Thread affinity: HlsOutput on the loop thread; HlsStore from any thread.
#include "camera/camera.h"
#include "camera/pipeline_reaper.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"
#include "core/repeating_timer.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace camrelay {

// One pipeline run's segments and playlist. Bounded: at most maxSegments
// segments and kMaxBytes of them (the oldest go first).
// Thread affinity: any thread (mutex).
class HlsStore {
public:
    static constexpr size_t kMaxBytes = 64 * 1024 * 1024;
    explicit HlsStore(size_t maxSegments) : maxSegments_(maxSegments) {}

    // Muxing thread: a finished segment, and the playlist that lists it as
    // hlssink2 wrote it (EXT-X-PROGRAM-DATE-TIME added here).
    void publish(const std::string& name, GBytes* bytes, int64_t startUnixUs, const std::string& playlist);
    // hlssink2 let go of a segment (max-files): it is no longer served.
    void forget(const std::string& name);

    // The playlist once it lists at least minSegments segments.
    std::optional<std::string> playlist(size_t minSegments) const;
    // A new reference to the segment's bytes; null when unknown.
    GBytes* segment(const std::string& name) const;
    size_t segments() const;

private:
    struct Segment {
        std::string name;
        GUniquePtr<GBytes> bytes;
        int64_t startUnixUs;
    };
    std::string withProgramDateTime(const std::string& playlist) const;  // mutex held

    const size_t maxSegments_;
    mutable std::mutex mutex_;
    std::deque<Segment> segments_;
    size_t bytes_ = 0;
    std::string playlist_;
    size_t listed_ = 0;  // segments the playlist lists
};

class HlsOutput {
public:
    // What a playlist request gets: the text, or why there is none.
    struct Answer {
        std::optional<std::string> playlist;
        std::string problem;  // set when playlist is empty
    };
    using Waiter = std::function<void(const Answer&)>;
    // The first playlist of a run is served once this many segments exist.
    static constexpr size_t kFirstSegments = 2;

    // camera and reaper outlive the output.
    HlsOutput(CameraPtr camera, const HlsConfig& config, PipelineReaper& reaper);
    ~HlsOutput();
    HlsOutput(const HlsOutput&) = delete;
    HlsOutput& operator=(const HlsOutput&) = delete;

    // A playlist request: starts the pipeline if needed and restarts the linger.
    // done runs now (playlist ready, or cannot start) or later on the loop,
    // at the latest after waitLimitMs() (problem: no segment in time).
    void requestPlaylist(Waiter done);
    // A segment of the running pipeline; null when unknown (or none runs).
    GBytes* segment(const std::string& name) const;
    // The camera's config changed: a running pipeline is rebuilt when what
    // its segments depend on changed (the kind of source, the H.264 settings,
    // the picture's size); players then follow new names from the playlist.
    // Other changes (name, JPEG quality...) leave it alone.
    void reconfigured();

    bool running() const { return bool(run_); }
    int waitLimitMs() const;
    uint64_t segmentsTotal() const { return segmentsTotal_->load(); }
    uint64_t playlistRequests() const { return playlistRequests_; }
    uint64_t segmentRequests() const { return segmentRequests_; }
    // Requests answered with a playlist or a segment (the routes count them).
    void countPlaylistRequest() { ++playlistRequests_; }
    void countSegmentRequest() { ++segmentRequests_; }

    struct Run;  // one pipeline's state, shared with its streaming threads

private:
    std::string start();
    void stop(const std::string& why);
    void tick();
    void pollWaiters();
    void answerWaiters(const Answer& answer);
    gboolean onBusMessage(GstMessage* message);

    CameraPtr camera_;
    const HlsConfig config_;
    PipelineReaper& reaper_;
    std::shared_ptr<Run> run_;
    std::shared_ptr<std::atomic<uint64_t>> segmentsTotal_ = std::make_shared<std::atomic<uint64_t>>(0);
    uint64_t playlistRequests_ = 0;
    uint64_t segmentRequests_ = 0;
    int64_t lastRequestUs_ = 0;
    // What the running pipeline was made for.
    struct Made {
        SourceKind kind = SourceKind::Raw;
        H264Settings h264;
        int width = 0, height = 0;
        bool operator==(const Made& o) const {
            return kind == o.kind && h264 == o.h264 && width == o.width && height == o.height;
        }
    };
    Made made_;
    Made madeNow() const;
    int64_t failedAtUs_ = 0;  // the last pipeline error: no restart for a while
    std::string failure_;
    struct PendingWaiter {
        Waiter done;
        int64_t deadlineUs;
    };
    std::vector<PendingWaiter> waiters_;
    RepeatingTimer lingerTimer_;
    SourceHandle waitPoll_;
    SourceHandle keyTimer_;
    SourceHandle busWatch_;
};

}  // namespace camrelay

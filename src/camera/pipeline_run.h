#pragma once
// One run of a camera's planned pipeline, from parse to the reaper.
//
// A Camera holds the run that feeds its viewers and, while a new config is
// being tried (Camera::reconfigure), a second one beside it. The run owns
// everything that ties one GstPipeline to its owner: the FrameReceiver (its
// JPEG frames), the bus watch (errors, end of stream), the access-unit meter
// and H.264 tap feeding (H.264 sources), the JPEG gate (H.264 sources) and the
// push appsrc (source=push). It reports to its owner through callbacks and
// knows nothing of camera states, retries or viewers.
//
// H.264 tap: the run's H.264 appsink always counts its access units; they
// reach the camera's shared tap only once setTapForwarding(true) was called,
// and then from the next key frame, so a trial never interleaves its access
// units with the running pipeline's and consumers switch at a decodable point.
//
// Destruction cuts every path back into the owner (bus watch, receiver, tap
// feed, push source) and hands the pipeline to the reaper, which takes it to
// NULL off the loop thread (pipeline_reaper.h); without a reaper it is set to
// NULL here, blocking.
// Thread affinity: loop thread only (the appsink and probe callbacks it
// installs run on streaming threads and touch only atomics, the meter and the tap).
#include "camera/encoded_tap.h"
#include "camera/frame_receiver.h"
#include "camera/graph_builder.h"
#include "camera/pipeline_reaper.h"
#include "core/gobject_ptr.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace camrelay {

struct AccessUnitMeter;

// Two runs cannot be open side by side on one device: true when both
// gst-launch source fragments name the same device= value (v4l2src, ...) or
// both use libcamerasrc (the camera manager gives a camera to one user).
bool sourcesShareDevice(const std::string& oldSource, const std::string& newSource);

class PipelineRun {
public:
    struct Callbacks {
        // Each names the run it comes from: a trial that got promoted keeps its callbacks.
        std::function<void(PipelineRun&, CapturedFrame)> frame;      // a JPEG frame (not while the JPEG gate is closed)
        std::function<void(PipelineRun&, const std::string&)> lost;  // ERROR ("element: message") or "end of stream";
                                                                     // the owner may destroy the run from it
    };

    // Parses plan.pipelineText and finds its named elements. Null, with
    // GStreamer's message in *error, when it does not parse or lacks the frame sink.
    // label names the pipeline in logs (the camera id).
    static std::unique_ptr<PipelineRun> create(const GraphPlan& plan, std::string label,
                                               std::shared_ptr<EncodedTap> tap, PipelineReaper* reaper,
                                               Callbacks callbacks, std::string* error);
    ~PipelineRun();
    PipelineRun(const PipelineRun&) = delete;
    PipelineRun& operator=(const PipelineRun&) = delete;

    // PAUSED then PLAYING. jpegWanted: an H.264 source's JPEG branch starts open
    // (from its first key frame). False, with the reason from the bus, when
    // the pipeline refuses to start.
    bool play(bool jpegWanted, std::string* error);

    GstElement* pipeline() const { return pipeline_.get(); }
    bool gated() const { return bool(gate_); }
    // JPEG frames are produced now (or from the next key frame).
    bool jpegActive() const;
    // Opens (from the next key frame) or closes the JPEG gate; true when it changed.
    bool setJpegWanted(bool wanted);
    // A JPEG frame arrived since the gate last opened.
    bool jpegSinceOpen() const { return jpegSinceOpen_; }

    // Access units that arrived since the last call (at most times.size(),
    // oldest first), as monotonic arrival times.
    size_t takeAccessUnits(std::array<int64_t, 64>& times);
    // Access units since the run started (a trial's first one promotes it).
    uint64_t accessUnits() const;
    // The H.264 branch's size from its caps (0 until known).
    void h264Size(int& width, int& height);
    // Access units go to the shared tap from the next key frame (true) or not at all.
    void setTapForwarding(bool on);
    // H.264 sources: asks the source for a key frame (force-key-unit upstream).
    void requestKeyframe();

    // source=push: a publisher's JPEG; false when it was not accepted.
    bool pushJpeg(GRef<GstBuffer> jpeg);

    // Takes the pipeline to NULL here, on the loop thread, before returning:
    // for a device that must be released before the next run opens it.
    void stopNow();

private:
    PipelineRun(std::string label, PipelineReaper* reaper, Callbacks callbacks);
    void onCaptured(CapturedFrame frame);
    gboolean onBusMessage(GstMessage* message);
    void teardown(bool blocking);

    std::string label_;
    PipelineReaper* reaper_;
    Callbacks callbacks_;
    GRef<GstElement> pipeline_;
    GRef<GstElement> frameSink_;
    GRef<GstElement> h264Sink_;
    GRef<GstElement> pushSource_;
    SourceHandle busWatch_;
    std::unique_ptr<FrameReceiver> receiver_;
    std::shared_ptr<std::atomic<bool>> feedLive_;   // the H.264 appsink may call back at all
    std::shared_ptr<std::atomic<int>> forward_;     // TapForward in pipeline_run.cpp
    std::shared_ptr<std::atomic<int>> gate_;        // JpegGate in pipeline_run.cpp
    std::shared_ptr<AccessUnitMeter> meter_;
    uint64_t seenAccessUnits_ = 0;
    bool jpegSinceOpen_ = false;
    int h264Width_ = 0, h264Height_ = 0;
};

}  // namespace camrelay

#pragma once
// The camera's H264Stream (h264_stream.h).
//
// Passthrough (the source delivers H.264): the camera pipeline's H.264 appsink
// feeds tap() directly; a claim only keeps the camera running (it does not
// open the camera's JPEG branch: Camera::keepRunning()).
//
// Encode (every other source): one encoder pipeline per camera,
//   appsrc (JPEG, FrameStamper) ! jpegdec ! videoconvert ! x264enc ! h264parse ! appsink
// built when the first claim arrives and handed to the camera's reaper when
// the last one goes. It is fed from Camera::onFrame, placeholder frames
// included: an RTSP client or a recording keeps running through an outage
// and shows "camera offline" instead of a frozen picture (each placeholder is
// made a key frame, so it decodes on its own). An encode claim is a JPEG
// consumer of the camera (Camera::demand()).
// Key frames: x264enc's own key-int-max is only a fallback; a loop timer asks
// for a key frame when the last one is nearly h264-keyframe-interval old, so
// the bound holds whatever the camera's real frame rate.
// Hot apply: the camera may switch the stream between passthrough and encode
// (setPassthrough); the tap and its listeners are the same object throughout.
// Thread affinity: loop thread, except tap() (encoded_tap.h) and the appsink
// callback (streaming thread, touches only the tap and atomics).
#include "camera/encoded_tap.h"
#include "camera/frame.h"
#include "camera/frame_stamper.h"
#include "camera/h264_stream.h"
#include "core/gobject_ptr.h"
#include "core/signal.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace camrelay {

class Camera;
struct H264Settings;

// The encoder pipeline's gst-launch text for these settings (pure; unit-tested).
std::string h264EncoderLaunch(const H264Settings& settings);

class SharedH264Stream final : public H264Stream {
public:
    // Encode mode: frames enter the encoder at most at this rate (faster
    // cameras lose the frames that do not fit), so its access units come at
    // most this often on average: a consumer restamping them at arrival may
    // space them by 1/kEncodedFps (players such as ffmpeg reject two frames
    // on one tick).
    static constexpr int kEncodedFps = 30;
    // passthrough: the camera's source delivers H.264 (its pipeline feeds tap()).
    SharedH264Stream(Camera& camera, bool passthrough);
    ~SharedH264Stream() override;
    SharedH264Stream(const SharedH264Stream&) = delete;
    SharedH264Stream& operator=(const SharedH264Stream&) = delete;

    Claim claim() override;
    EncodedTap& tap() override { return *tap_; }
    bool passthrough() const override { return passthrough_; }
    bool encoding() const override { return bool(pipeline_); }
    size_t claims() const override { return claims_; }
    void requestKeyframe() override;

    // Encoder pipelines built since the camera was created (tests count them).
    uint64_t encoderStarts() const { return encoderStarts_; }
    // The tap, shared with the camera pipeline's streaming threads (passthrough).
    const std::shared_ptr<EncodedTap>& sharedTap() const { return tap_; }
    // The camera's new config (hot apply, Camera::reconfigure) changes the
    // source: passthrough (its own H.264) or encode, switched in place, so
    // claims and tap listeners stay. With claims, the encoder stops or
    // starts, and the camera claim changes kind (keepRunning / demand).
    void setPassthrough(bool passthrough);
    // The camera's h264-* keys changed: a running encoder is rebuilt with them.
    void applySettings();
    // The camera is going away: stop the encoder now.
    void shutdown();

    struct KeyClock;  // last key frame time, written on the streaming thread

private:
    void release();
    void startEncoder();
    void stopEncoder(const char* why);
    void teardownPipeline();
    void push(const FramePtr& frame);
    gboolean keyframeTick();
    gboolean onBusMessage(GstMessage* message);

    Camera& camera_;
    bool passthrough_;
    std::shared_ptr<EncodedTap> tap_ = std::make_shared<EncodedTap>();
    size_t claims_ = 0;
    std::shared_ptr<const void> cameraDemand_;  // the camera runs (and, encoding, makes JPEG) while claimed

    GRef<GstElement> pipeline_;
    GRef<GstElement> source_;   // its appsrc
    GRef<GstElement> encoder_;  // its x264enc
    std::shared_ptr<std::atomic<bool>> feedLive_;  // the appsink may feed the tap
    std::shared_ptr<KeyClock> keyClock_;
    SourceHandle busWatch_;
    SourceHandle keyTimer_;
    Connection frames_;
    FrameStamper stamper_;
    int64_t keyRequestedUs_ = 0;  // a requested key frame not yet seen
    int64_t failedAtUs_ = 0;      // the last encoder error: not rebuilt for a second
    uint64_t encoderStarts_ = 0;
};

}  // namespace camrelay

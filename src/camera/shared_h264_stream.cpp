#include "camera/shared_h264_stream.h"

#include "camera/camera.h"
#include "core/clock.h"
#include "core/log.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video-event.h>

#define GST_CAT_DEFAULT camrelay_camera_debug

namespace camrelay {

namespace {

constexpr const char* kEncSourceName = "camrelay_h264_src";
constexpr const char* kEncoderName = "camrelay_h264enc";
constexpr const char* kEncSinkName = "camrelay_h264_out";
// The encoder's declared rate: frames are stamped at most this often, up to
// two frames ahead of now to absorb arrival jitter (see frame_stamper.h).
constexpr int kEncodedFps = SharedH264Stream::kEncodedFps;
constexpr GstClockTime kEncodedFrameDuration = GST_SECOND / kEncodedFps;
constexpr guint kKeyTickMs = 100;
// A key frame is asked for this long before the interval ends: the encoder
// makes it from the next frame, which at 5 fps is up to 200 ms away.
constexpr int64_t kKeyLeadUs = 300000;
constexpr int64_t kRebuildAfterErrorUs = 1000000;

}  // namespace

struct SharedH264Stream::KeyClock {
    std::atomic<int64_t> lastKeyUs{0};
};

std::string h264EncoderLaunch(const H264Settings& h) {
    // appsrc never queues more than two frames: a slow encoder skips frames
    // rather than growing memory. Constant quality (pass=qual) unless a
    // bitrate is set, so the bitrate follows the picture whatever the
    // camera's real rate. key-int-max is a fallback only (keyframeTick).
    // h264parse repeats SPS/PPS before every key frame, so a consumer can
    // start at any key frame without out-of-band headers.
    std::string enc = std::string("x264enc name=") + kEncoderName + " speed-preset=" + h.preset;
    if (h.tune != "none") enc += " tune=" + h.tune;
    if (h.bitrateKbps > 0) enc += " bitrate=" + std::to_string(h.bitrateKbps);
    else enc += " pass=qual quantizer=" + std::to_string(h.quality);
    enc += " key-int-max=" + std::to_string(2 * kEncodedFps * h.keyframeIntervalSec);
    return std::string("appsrc name=") + kEncSourceName +
           " is-live=true format=time max-buffers=2 leaky-type=downstream block=false"
           " caps=image/jpeg,framerate=" + std::to_string(kEncodedFps) + "/1"
           " ! jpegdec ! videoconvert ! video/x-raw,format=I420 ! " + enc +
           " ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"
           " ! appsink name=" + kEncSinkName + " max-buffers=30 drop=true sync=false emit-signals=false";
}

SharedH264Stream::SharedH264Stream(Camera& camera, bool passthrough)
    : camera_(camera), passthrough_(passthrough), stamper_(kEncodedFrameDuration, 2 * kEncodedFrameDuration) {}

SharedH264Stream::~SharedH264Stream() { shutdown(); }

void SharedH264Stream::shutdown() {
    stopEncoder(nullptr);
    cameraDemand_.reset();
}

H264Stream::Claim SharedH264Stream::claim() {
    ++claims_;
    if (claims_ == 1) {
        // Passthrough needs the source running, not its JPEG branch; encoding
        // is fed from the JPEG frames.
        cameraDemand_ = passthrough_ ? camera_.keepRunning() : camera_.demand();
        if (!passthrough_) startEncoder();
    }
    requestKeyframe();  // the new consumer starts sooner
    // The deleter runs when the last copy goes; cameras outlive their consumers.
    return Claim(this, [](SharedH264Stream* stream) { stream->release(); });
}

void SharedH264Stream::release() {
    if (claims_ == 0 || --claims_ > 0) return;
    stopEncoder("no H.264 consumers");
    cameraDemand_.reset();
}

void SharedH264Stream::setPassthrough(bool passthrough) {
    if (passthrough == passthrough_) return;
    passthrough_ = passthrough;
    if (claims_ == 0) return;
    // The new claim first: the camera never sees zero consumers (no linger).
    std::shared_ptr<const void> previous = std::move(cameraDemand_);
    cameraDemand_ = passthrough_ ? camera_.keepRunning() : camera_.demand();
    previous.reset();
    if (passthrough_) {
        stopEncoder("the source delivers H.264 now");
    } else {
        failedAtUs_ = 0;
        startEncoder();
    }
}

void SharedH264Stream::applySettings() {
    if (!pipeline_) return;
    stopEncoder("new H.264 settings");
    failedAtUs_ = 0;
    startEncoder();
}

void SharedH264Stream::requestKeyframe() {
    if (!encoder_) return;
    GRef<GstPad> pad = GRef<GstPad>::adopt(gst_element_get_static_pad(encoder_.get(), "src"));
    // all-headers=FALSE: h264parse puts SPS/PPS before every key frame anyway;
    // asking x264enc for them too made ffmpeg see repeated DTS over RTSP.
    if (pad) gst_pad_send_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, FALSE, 0));
    keyRequestedUs_ = monotonicNowUs();
}


void SharedH264Stream::startEncoder() {
    if (pipeline_ || passthrough_) return;
    if (failedAtUs_ && monotonicNowUs() - failedAtUs_ < kRebuildAfterErrorUs) return;  // push() tries again later
    std::string error;
    const std::string launch = h264EncoderLaunch(camera_.config().h264);
    GRef<GstElement> pipeline = parsePipeline(launch, &error);
    if (!pipeline) {
        // The h264-* keys are checked when the config loads; this is a broken install.
        logError(camera_.id(), "H.264 encoder pipeline does not parse: " + error);
        failedAtUs_ = monotonicNowUs();
        return;
    }
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kEncSinkName));
    source_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kEncSourceName));
    encoder_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kEncoderName));
    keyClock_ = std::make_shared<KeyClock>();
    keyClock_->lastKeyUs = monotonicNowUs();  // the first frame is a key frame anyway
    // A draining old encoder never interleaves with a new one (feedLive_ is
    // cleared before the reaper takes it); key frames are timed for the
    // h264-keyframe-interval bound.
    std::shared_ptr<KeyClock> keys = keyClock_;
    feedLive_ = feedTapFromAppSink(sink.get(), tap_, [keys](GstBuffer* unit) {
        if (!GST_BUFFER_FLAG_IS_SET(unit, GST_BUFFER_FLAG_DELTA_UNIT)) keys->lastKeyUs = monotonicNowUs();
    });
    pipeline_ = pipeline;
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    busWatch_ = SourceHandle(gst_bus_add_watch(bus.get(), [](GstBus*, GstMessage* message, gpointer self) noexcept -> gboolean {
        auto* stream = static_cast<SharedH264Stream*>(self);
        try {
            return stream->onBusMessage(message);
        } catch (...) {
            logError(stream->camera_.id(), "H.264 encoder bus message: " + currentExceptionText());
            return G_SOURCE_CONTINUE;
        }
    }, this));
    keyTimer_ = SourceHandle(g_timeout_add(kKeyTickMs, [](gpointer self) noexcept -> gboolean {
        try {
            return static_cast<SharedH264Stream*>(self)->keyframeTick();
        } catch (...) {
            logError(static_cast<SharedH264Stream*>(self)->camera_.id(), "key frame tick: " + currentExceptionText());
            return G_SOURCE_CONTINUE;
        }
    }, this));
    stamper_ = FrameStamper(kEncodedFrameDuration, 2 * kEncodedFrameDuration);  // a new pipeline starts at its own zero
    keyRequestedUs_ = 0;
    frames_ = camera_.onFrame([this](const FramePtr& frame) { push(frame); });
    ++encoderStarts_;
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        logError(camera_.id(), "H.264 encoder refused to start");
        failedAtUs_ = monotonicNowUs();
        teardownPipeline();  // frames_ stays connected: push() retries after the pause
        return;
    }
    logInfo(camera_.id(), "H.264 encoder started (" + std::to_string(claims_) + " consumer(s))");
}

void SharedH264Stream::stopEncoder(const char* why) {
    frames_.disconnect();
    if (why && pipeline_) logInfo(camera_.id(), std::string(why) + ": H.264 encoder stopped");
    teardownPipeline();
}

// Cuts every path from the encoder pipeline back here, then lets the camera's
// reaper take it to NULL off the loop thread (pipeline_reaper.h).
void SharedH264Stream::teardownPipeline() {
    keyTimer_.reset();
    busWatch_.reset();
    if (feedLive_) feedLive_->store(false);
    feedLive_.reset();
    source_.reset();
    encoder_.reset();
    keyClock_.reset();
    if (!pipeline_) return;
    if (PipelineReaper* reaper = camera_.reaper()) {
        reaper->reap(std::move(pipeline_), camera_.id() + " H.264 encoder");
        return;
    }
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);  // no reaper (unit tests): joins here
    pipeline_.reset();
}

void SharedH264Stream::push(const FramePtr& frame) {
    if (!pipeline_) {
        // An encoder that failed is rebuilt once the pause is over, while claimed.
        if (claims_ > 0) startEncoder();
        if (!pipeline_) return;
    }
    // Frames are stamped with the pipeline's running time, which only means
    // something once it plays: earlier ones are skipped.
    if (GST_STATE(source_.get()) != GST_STATE_PLAYING) return;
    // A placeholder comes once a second: make each one decodable on its own.
    if (frame->isPlaceholder()) requestKeyframe();
    stamper_.push(source_.get(), gst_buffer_copy(frame->buffer()));  // the copy shares the JPEG's memory
}

// Key frames at least every h264-keyframe-interval, whatever the frame rate.
gboolean SharedH264Stream::keyframeTick() {
    if (!keyClock_) return G_SOURCE_CONTINUE;
    const int64_t now = monotonicNowUs();
    const int64_t lastKey = keyClock_->lastKeyUs.load();
    if (keyRequestedUs_ > lastKey && now - keyRequestedUs_ < 1000000) return G_SOURCE_CONTINUE;  // on its way
    if (now - lastKey >= int64_t(camera_.config().h264.keyframeIntervalSec) * 1000000 - kKeyLeadUs) requestKeyframe();
    return G_SOURCE_CONTINUE;
}

gboolean SharedH264Stream::onBusMessage(GstMessage* message) {
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR) return G_SOURCE_CONTINUE;
    GError* raw = nullptr;
    gst_message_parse_error(message, &raw, nullptr);
    GUniquePtr<GError> error(raw);
    const std::string text = "H.264 encoder: " + std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + errorMessage(error);
    logError(camera_.id(), text + " (rebuilt with the next frame)");
    camera_.emitEvent("error", text);
    busWatch_.forget();  // G_SOURCE_REMOVE ends this watch
    failedAtUs_ = monotonicNowUs();
    teardownPipeline();  // frames_ stays connected: push() rebuilds after the pause
    return G_SOURCE_REMOVE;
}

}  // namespace camrelay

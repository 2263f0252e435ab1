#pragma once
// One H.264 stream per camera, shared by every H.264 consumer: RTSP clients,
// recording, later HLS and WebRTC (issue 11). Either
//   - passthrough: the source's own access units (no decoder, no encoder), or
//   - encode: ONE encoder per camera (x264enc, [camera] h264-* keys), fed from
//     the camera's shared JPEG frames, running only while a claim exists.
// Access units reach consumers through tap() (EncodedTap: on a streaming
// thread, in order; a new listener starts at a key frame), always as
// video/x-h264,stream-format=byte-stream,alignment=au with SPS/PPS in band
// before every key frame. Their timestamps mean nothing to a consumer: each
// one stamps what it pushes into its own pipeline (camera/frame_stamper.h).
// Key frames come at least every [camera] h264-keyframe-interval seconds.
// Thread affinity: loop thread, except tap() (see encoded_tap.h).
#include "camera/encoded_tap.h"

#include <memory>

namespace camrelay {

class H264Stream {
public:
    virtual ~H264Stream() = default;
    // Held by a consumer while it consumes: the stream runs (and the camera,
    // for an on-demand one) while any claim exists. Copies share one claim.
    using Claim = std::shared_ptr<const void>;
    virtual Claim claim() = 0;
    virtual EncodedTap& tap() = 0;
    virtual bool passthrough() const = 0;  // the source's own H.264
    virtual bool encoding() const = 0;     // an encoder pipeline runs now (encode mode, claimed)
    virtual size_t claims() const = 0;
    // Encode: the next access unit is a key frame (a new consumer starts
    // sooner). Passthrough: nothing (the camera decides).
    virtual void requestKeyframe() = 0;
};

}  // namespace camrelay

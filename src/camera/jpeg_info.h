#pragma once
// Checks that bytes are one whole baseline or progressive JPEG image and reads
// its size, without decoding it: the gate for frames pushed in by clients.
// Thread affinity: any thread (pure).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camrelay {

struct JpegInfo {
    int width = 0;
    int height = 0;
    // Chroma subsampling from the frame header's sampling factors: "420",
    // "422", "444", "gray" (one component) or "other" (4:1:1, CMYK, ...).
    std::string chroma;
};

// The largest image the gate lets through. A frame header costs a client a few
// bytes but every decoder that meets the frame (the RTSP encoder, a browser,
// the snapshot scaler) allocates width x height x 1.5 bytes or more for it:
// 20000x20000 took the service from 47 to 574 MB, 65000x65000 ended the RTSP
// session. 8192 a side covers 8K UHD (7680x4320, 33 Mpixel); the pixel cap
// keeps a decoded frame near 60 MB.
struct JpegLimits {
    int maxWidth = 8192;
    int maxHeight = 8192;
    int64_t maxPixels = 40'000'000;
};

// nullopt and why when the bytes are not a JPEG image camrelay can pass on,
// including an image larger than limits ("JPEG image is 65000x65000 pixels;
// the limit is 8192x8192 and 40000000 pixels").
std::optional<JpegInfo> inspectJpeg(std::string_view bytes, std::string* why, const JpegLimits& limits = JpegLimits{});

}  // namespace camrelay

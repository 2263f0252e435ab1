// Fuzz target: the JPEG gate for frames pushed to /publish (src/camera/jpeg_info.h).
#include "camera/jpeg_info.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
// The largest frame a camera may be configured to produce (camera files:
// width/height 16..16384). A pushed JPEG claiming more is a decoder-memory
// attack (the 65000x65000 header), not a frame to pass on.
constexpr int kMaxAcceptedSide = 16384;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string why;
    const auto info = camrelay::inspectJpeg(bytes, &why);
    if (!info && why.empty()) {
        std::fprintf(stderr, "inspectJpeg refused without saying why\n");
        std::abort();
    }
    if (info && (info->width < 1 || info->height < 1 || info->width > kMaxAcceptedSide || info->height > kMaxAcceptedSide)) {
        std::fprintf(stderr, "inspectJpeg accepted a %dx%d image (limit %d per side)\n", info->width, info->height,
                     kMaxAcceptedSide);
        std::abort();
    }
    return 0;
}

// Fuzz target: the text of pipelines/<id>.conf → parseCameraConfig, the loader
// the service runs on every camera file (src/config/camera_config.h).
#include "config/camera_config.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const camrelay::CameraConfigLoad load = camrelay::parseCameraConfig("fuzz", "fuzz.conf", text);
    const camrelay::CameraConfig& c = load.config;
    // What the loader accepted must be what its validation promises to the rest of the service.
    if (load.problems.empty()) {
        const bool sane = !c.source.empty() && !c.encoder.empty() && c.quality >= 1 && c.quality <= 100 &&
                          (c.width == 0 || (c.width >= 16 && c.width <= 16384)) &&
                          (c.height == 0 || (c.height >= 16 && c.height <= 16384)) &&
                          (!c.framerate.isSet() || (c.framerate.den > 0 && c.framerate.value() <= 240.0));
        if (!sane) {
            std::fprintf(stderr, "camera config accepted without problems but out of range\n");
            std::abort();
        }
    }
    return 0;
}

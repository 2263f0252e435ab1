#pragma once
// Checks that bytes are one whole baseline or progressive JPEG image and reads
// its size, without decoding it: the gate for frames pushed in by clients.
// Thread affinity: any thread (pure).
#include <optional>
#include <string>
#include <string_view>

namespace camrelay {

struct JpegInfo {
    int width = 0;
    int height = 0;
};

// nullopt and why when the bytes are not a JPEG image camrelay can pass on.
std::optional<JpegInfo> inspectJpeg(std::string_view bytes, std::string* why);

}  // namespace camrelay

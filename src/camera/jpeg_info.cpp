#include "jpeg_info.h"

#include <cstdint>

namespace camrelay {

namespace {
// seg points at a frame header's payload (after the length): P, Y, X, Nf,
// then Nf x (id, H<<4|V, Tq). length counts the two length bytes.
std::string chromaOf(const uint8_t* seg, size_t length) {
    const size_t components = seg[5];
    if (length < 8 + 3 * components || components == 0) return "other";
    if (components == 1) return "gray";
    if (components != 3) return "other";
    auto h = [&](size_t i) { return seg[6 + 3 * i + 1] >> 4; };
    auto v = [&](size_t i) { return seg[6 + 3 * i + 1] & 0x0f; };
    if (h(1) != h(2) || v(1) != v(2) || !h(1) || !v(1)) return "other";
    if (h(0) % h(1) || v(0) % v(1)) return "other";
    const int hr = h(0) / h(1), vr = v(0) / v(1);
    if (hr == 2 && vr == 2) return "420";
    if (hr == 2 && vr == 1) return "422";
    if (hr == 1 && vr == 1) return "444";
    return "other";
}
}  // namespace

std::optional<JpegInfo> inspectJpeg(std::string_view bytes, std::string* why, const JpegLimits& limits) {
    auto fail = [&](const char* reason) -> std::optional<JpegInfo> {
        if (why) *why = reason;
        return std::nullopt;
    };
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t n = bytes.size();
    if (n < 4 || p[0] != 0xff || p[1] != 0xd8) return fail("not a JPEG image (no start-of-image marker)");
    // Trailing padding after EOI is common; look at the last few bytes.
    size_t end = n;
    while (end > 2 && p[end - 1] != 0xd9) --end;
    if (end < 4 || p[end - 2] != 0xff || n - end > 16) return fail("truncated JPEG image (no end-of-image marker)");
    // Walk the marker segments up to the frame header (SOF).
    size_t at = 2;
    while (at + 4 <= n) {
        if (p[at] != 0xff) return fail("corrupt JPEG image (bad marker)");
        const uint8_t marker = p[at + 1];
        if (marker == 0xff) { ++at; continue; }  // fill byte
        if (marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) { at += 2; continue; }
        if (marker == 0xd9 || marker == 0xda) break;  // end or scan before any frame header
        const size_t length = (size_t(p[at + 2]) << 8) | p[at + 3];
        if (length < 2 || at + 2 + length > n) return fail("corrupt JPEG image (segment runs past the end)");
        const bool sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
        if (sof) {
            if (length < 8) return fail("corrupt JPEG image (short frame header)");
            JpegInfo info;
            info.height = (p[at + 5] << 8) | p[at + 6];
            info.width = (p[at + 7] << 8) | p[at + 8];
            if (!info.width || !info.height) return fail("JPEG image without a size");
            info.chroma = chromaOf(p + at + 4, length);
            if (marker != 0xc0 && marker != 0xc1 && marker != 0xc2)
                return fail("unsupported JPEG (only baseline and progressive Huffman images)");
            if (info.width > limits.maxWidth || info.height > limits.maxHeight ||
                int64_t(info.width) * info.height > limits.maxPixels) {
                if (why)
                    *why = "JPEG image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                           " pixels; the limit is " + std::to_string(limits.maxWidth) + "x" +
                           std::to_string(limits.maxHeight) + " and " + std::to_string(limits.maxPixels) + " pixels";
                return std::nullopt;
            }
            return info;
        }
        at += 2 + length;
    }
    return fail("corrupt JPEG image (no frame header)");
}

}  // namespace camrelay

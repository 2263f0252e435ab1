#pragma once
// One encoded JPEG frame, immutable and shared by every output and viewer.
// Thread affinity: any thread (immutable after construction).
#include "core/gobject_ptr.h"

#include <cstdint>
#include <memory>
#include <string_view>

namespace camrelay {

class Frame {
public:
    Frame(GRef<GstBuffer> jpeg, uint64_t number, int64_t captureUnixUs, int width, int height,
          bool placeholder = false);
    ~Frame();
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;

    std::string_view jpeg() const { return {reinterpret_cast<const char*>(map_.data), map_.size}; }
    // The JPEG as a GStreamer buffer, for outputs that feed pipelines (borrowed).
    GstBuffer* buffer() const { return buffer_.get(); }
    uint64_t number() const { return number_; }          // 1, 2, 3 ... per camera, placeholders included
    int64_t captureUnixUs() const { return captureUnixUs_; }  // when the source captured it
    int width() const { return width_; }
    int height() const { return height_; }
    // A "camera offline" frame rendered by the service while the source is down.
    bool isPlaceholder() const { return placeholder_; }

private:
    GRef<GstBuffer> buffer_;
    GstMapInfo map_{};
    bool mapped_ = false;
    uint64_t number_;
    int64_t captureUnixUs_;
    int width_;
    int height_;
    bool placeholder_;
};

using FramePtr = std::shared_ptr<const Frame>;

}  // namespace camrelay

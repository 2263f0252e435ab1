#include "frame.h"

namespace camrelay {

Frame::Frame(GRef<GstBuffer> jpeg, uint64_t number, int64_t captureUnixUs, int width, int height,
             bool placeholder)
    : buffer_(std::move(jpeg)), number_(number), captureUnixUs_(captureUnixUs), width_(width), height_(height),
      placeholder_(placeholder) {
    // Mapped once for the frame's life: every viewer reads the same bytes.
    mapped_ = buffer_ && gst_buffer_map(buffer_.get(), &map_, GST_MAP_READ);
    if (!mapped_) map_ = GstMapInfo{};
}

Frame::~Frame() {
    if (mapped_) gst_buffer_unmap(buffer_.get(), &map_);
}

}  // namespace camrelay

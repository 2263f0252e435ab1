#pragma once
// The "camera offline" picture viewers see while a camera's source is down:
// rendered by a small GStreamer pipeline (solid background, the camera's name,
// the reason, the time) at one frame per second, at the camera's last size so
// pages do not jump. It runs only while shown.
// Thread affinity: loop thread only.
#include "camera/frame_receiver.h"
#include "core/gobject_ptr.h"

#include <memory>
#include <string>

namespace camrelay {

class OfflinePlaceholder {
public:
    explicit OfflinePlaceholder(FrameReceiver::Handler handler) : handler_(std::move(handler)) {}
    ~OfflinePlaceholder() { hide(); }
    OfflinePlaceholder(const OfflinePlaceholder&) = delete;
    OfflinePlaceholder& operator=(const OfflinePlaceholder&) = delete;

    // Starts rendering (or just updates the text when already showing at this size).
    void show(const std::string& text, int width, int height);
    void hide();
    bool showing() const { return bool(pipeline_); }

private:
    FrameReceiver::Handler handler_;
    GRef<GstElement> pipeline_;
    GRef<GstElement> overlay_;
    std::unique_ptr<FrameReceiver> receiver_;
    int width_ = 0, height_ = 0;
};

}  // namespace camrelay

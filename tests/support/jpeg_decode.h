#pragma once
#include "core/gobject_ptr.h"

#include <string>
#include <utility>
#include <vector>

namespace camrelay::testing {
// Decodes a JPEG with GStreamer (appsrc ! jpegdec ! appsink); {0,0} if it does not decode.
std::pair<int, int> decodeJpegSize(const std::string& jpeg);
// A GStreamer player of a real stream, decoding to raw video in the test.
// decodingSource: gst-launch text ending in decoded video, e.g.
// "rtspsrc location=... ! rtph264depay ! h264parse ! avdec_h264".
class DecodingPlayer {
public:
    explicit DecodingPlayer(const std::string& decodingSource);
    ~DecodingPlayer();
    // Waits for up to `frames` decoded frames, each within timeoutMs; returns how many came.
    int pull(int frames, int timeoutMs);
    std::pair<int, int> size() const { return size_; }  // of the last frame

private:
    GRef<GstElement> pipeline_;
    GRef<GstElement> sink_;
    std::pair<int, int> size_{0, 0};
};

// Plays an MJPEG URL with souphttpsrc ! multipartdemux ! jpegdec until `frames`
// frames decoded; returns their size, {0,0} if it did not get that far.
std::pair<int, int> decodeStreamFrames(const std::string& url, int frames);
// A real JPEG made by GStreamer's jpegenc from a test pattern.
std::string makeTestJpeg(int width, int height);
// A Matroska file of `frames` test-pattern JPEGs at fps (an MJPEG clip with
// timestamps); returns the JPEGs exactly as they are stored in the file.
std::vector<std::string> makeMjpegClip(const std::string& path, int width, int height, int fps, int frames);
}  // namespace camrelay::testing

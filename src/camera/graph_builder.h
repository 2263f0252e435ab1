#pragma once
// Turns a camera's config into the effective gst-launch text:
//   <source> ! <managed tail: decode? / convert / scale / rate / caps / encode> ! tee ! appsink
// and parses that text into a GstPipeline. No state, no threads.
#include "config/camera_config.h"
#include "core/gobject_ptr.h"

#include <optional>
#include <string>

namespace camrelay {

// What the source fragment delivers, decided from its src pad's caps.
enum class SourceKind {
    Raw,      // video/x-raw: converted, scaled, encoded once
    Jpeg,     // image/jpeg: passed through untouched (no decode, no encode)
    Encoded,  // H.264/H.265/VP8/...: decoded, then encoded once as JPEG
    Dynamic,  // caps not known until it runs (rtspsrc, uridecodebin, v4l2src without caps): decodebin
};
const char* toString(SourceKind kind);

// Names of the elements the service looks up in every camera pipeline.
inline constexpr const char* kFanoutTeeName = "camrelay_fanout";
inline constexpr const char* kFrameSinkName = "camrelay_frames";
inline constexpr const char* kH264TeeName = "camrelay_h264";
inline constexpr const char* kH264SinkName = "camrelay_h264_au";
// H.264 sources: the queue before the decoder, gated while nobody needs JPEG.
inline constexpr const char* kJpegGateName = "camrelay_jpeg_gate";
inline constexpr const char* kPushSourceName = "camrelay_push";
// source=push: frames come from a publisher over /api/cameras/{id}/publish.
inline constexpr const char* kPushSource = "push";

struct GraphPlan {
    SourceKind sourceKind = SourceKind::Raw;
    std::string pipelineText;  // effective gst-launch text, shown in the API
    // The source delivers H.264: its access units are also available, untouched,
    // from the appsink kH264SinkName (RTSP passes them through).
    bool h264Tap = false;
    // source=push: the pipeline starts at the appsrc kPushSourceName.
    bool push = false;
    // The raw format camrelay's encoder is given (jpeg-chroma): "I420", "Y42B",
    // "Y444", or "" when it negotiates (auto, JPEG passed through, or an
    // encoder that cannot take the format: then chromaNote says so).
    std::string rawFormat;
    std::string chromaNote;
};

struct GraphPlanResult {
    std::optional<GraphPlan> plan;
    ConfigProblems problems;  // name the camera file and key; GStreamer's own message
};

// Validates the source and encoder fragments against the installed elements
// and plans the pipeline. Does not start anything.
GraphPlanResult planGraph(const CameraConfig& config);

// Decides what a source fragment outputs. On error returns nullopt and GStreamer's message.
std::optional<SourceKind> classifySource(const std::string& fragment, std::string* error);

// A fragment as a bin with its unlinked pads ghosted; nullptr and GStreamer's message on error.
GRef<GstElement> parseFragment(const std::string& fragment, std::string* error);

// gst_parse_launch with fatal errors (missing elements, unlinkable pads) as a message.
GRef<GstElement> parsePipeline(const std::string& text, std::string* error);

}  // namespace camrelay

#pragma once
// Checks a camera's pipeline the way the camera would build it, without
// playing it: the graph plan (graph_builder.h), then GStreamer parsing and
// linking the whole planned text; optionally a short pre-roll ("probe") that
// learns the caps the source really negotiates. Used by
// POST /api/pipelines/validate and by the camera editing API (bad_pipeline).
//
// Every text that leaves here (error, element, pipeline, caps) has been
// through redactCredentials (core/redact.h).
//
// Thread affinity: any thread; no main loop needed. checkCameraPipeline with
// probe=true blocks its caller for up to probeTimeoutMs (plus the time the
// pipeline takes to stop): call it off the loop thread.
#include "config/camera_config.h"

#include <optional>
#include <string>

namespace camrelay {

// What is wrong with a pipeline text, as GStreamer says it.
struct PipelineFault {
    // GStreamer's own message (with advice on the Debian package to install
    // when an element does not exist), redacted.
    std::string error;
    // The element GStreamer blames, "" when it names none:
    //  - no element "X"                       -> X (the factory name typed)
    //  - no property "P" in element "Y"       -> Y (GStreamer 1.22 names the factory: videotestsrc)
    //  - could not set property ... element "Y" -> Y
    //  - could not link A to B[, ...]          -> A (the upstream, source side)
    //  - an error while probing                -> the element that posted it
    // An automatic instance name (videotestsrc12: GStreamer numbers unnamed
    // elements across the whole process) is given as its factory name, the
    // word the user typed; a name from the text (name=cam0) stays as it is.
    std::string element;
};

// Parses and links a complete gst-launch text (fatal errors: missing
// elements, unknown properties, pads that cannot link) and drops it again.
// nullopt when it parses and links.
std::optional<PipelineFault> findLaunchFault(const std::string& launchText);

// Where a camera source fragment ("videotestsrc ! video/x-raw,width=320"),
// as written in a camera file, goes wrong on its own: parse/link errors, and a
// source whose output can only be something other than video (audio).
// nullopt when the fragment is fine as a camera source.
std::optional<PipelineFault> findSourceFault(const std::string& source);

struct PipelineCheckOptions {
    bool probe = false;
    int probeTimeoutMs = 5000;
};

struct PipelineCheck {
    bool valid = false;
    PipelineFault fault;   // empty when valid
    // The plan, when one could be made: "raw" | "jpeg" | "h264" | "encoded" |
    // "unknown" (decided at run time: rtspsrc, uridecodebin ...) | "push"; "" when none.
    std::string kind;
    bool jpegPassthrough = false;  // kind jpeg: passed through untouched (no decode/encode)
    std::string pipeline;          // the effective pipeline text, redacted
    // probe only: the caps the source fragment negotiated, and the caps of the JPEG frames.
    std::string sourceCaps;
    std::string jpegCaps;
};

// The whole check: findSourceFault, planGraph's problems, then the planned
// pipeline parsed and linked; with options.probe, pre-rolled (PAUSED, or
// PLAYING for live sources) until the frame sink has caps or the timeout,
// then stopped. A push camera is valid without parsing (frames come over HTTP).
PipelineCheck checkCameraPipeline(const CameraConfig& config, const PipelineCheckOptions& options = {});

// The element named by GStreamer's parse error text ("" when none), for
// messages already turned into strings (planGraph's problems).
std::string elementOfParseMessage(const std::string& message);

}  // namespace camrelay

#include "pipeline_check.h"

#include "camera/graph_builder.h"
#include "camera/plugin_packages.h"
#include "core/gobject_ptr.h"
#include "core/redact.h"

#include <chrono>
#include <memory>

namespace camrelay {

namespace {

struct ParseContextDeleter {
    void operator()(GstParseContext* c) const noexcept { gst_parse_context_free(c); }
};
using ParseContextPtr = std::unique_ptr<GstParseContext, ParseContextDeleter>;

// Caps text shown in answers: long caps lists (audiotestsrc offers dozens of formats) are cut.
constexpr size_t kMaxCapsText = 2000;
// The element parseFragment-style checks put after a source fragment (a
// fragment may end in caps, which need an element after them). Same name as
// graph_builder's, so messages read the same from both.
constexpr const char* kProbeTail = " ! identity name=camrelay_probe";
// Inserted between the source fragment and the managed tail for a probe: its
// src pad carries the caps the source negotiated.
constexpr const char* kSourceOutName = "camrelay_source_out";

std::string clipped(std::string text, size_t max) {
    if (text.size() > max) text = text.substr(0, max) + "…";
    return text;
}

std::string capsText(const GstCaps* caps) {
    GUniquePtr<gchar> text(gst_caps_to_string(caps));
    return clipped(redactCredentials(text ? text.get() : ""), kMaxCapsText);
}

PipelineFault faultOf(std::string error, std::string element) {
    return PipelineFault{redactCredentials(error), redactCredentials(element)};
}

// GStreamer names unnamed elements factory + a number that counts up for the
// whole process (the tenth check says "videotestsrc9"): the text the user
// typed has the factory name, so that is what an editor can point at. A name
// given in the text (name=cam0) is kept.
std::string typedElement(const std::string& name, const std::string& text) {
    const auto end = name.find_last_not_of("0123456789");
    if (name.empty() || end == std::string::npos || end + 1 == name.size()) return name;
    if (text.find("name=" + name) != std::string::npos || text.find("name=\"" + name) != std::string::npos) return name;
    const std::string factory = name.substr(0, end + 1);
    GRef<GstElementFactory> known = GRef<GstElementFactory>::adopt(gst_element_factory_find(factory.c_str()));
    return known ? factory : name;
}

// gst_parse_launch_full with fatal errors and a context that lists missing elements.
GRef<GstElement> parseLaunch(const std::string& text, PipelineFault* fault) {
    ParseContextPtr context(gst_parse_context_new());
    GError* raw = nullptr;
    GstElement* parsed = gst_parse_launch_full(text.c_str(), context.get(), GST_PARSE_FLAG_FATAL_ERRORS, &raw);
    GUniquePtr<GError> error(raw);
    GRef<GstElement> element = GRef<GstElement>::adopt(parsed);
    if (element && !error) return element;
    std::string blamed;
    if (error && error->domain == GST_PARSE_ERROR && error->code == GST_PARSE_ERROR_NO_SUCH_ELEMENT) {
        GUniquePtr<gchar*> missing(gst_parse_context_get_missing_elements(context.get()));
        if (missing && missing.get()[0]) blamed = missing.get()[0];
    }
    if (blamed.empty() && error) blamed = typedElement(elementOfParseMessage(error->message), text);
    *fault = faultOf(error ? parseErrorMessage(error.get()) : "GStreamer could not parse the pipeline", blamed);
    return {};
}

std::string seconds(int ms) {
    return ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s";
}

bool isVideoName(const char* name) { return g_str_has_prefix(name, "video/") || g_str_has_prefix(name, "image/"); }

const char* kindName(const GraphPlan& plan) {
    if (plan.push) return "push";
    if (plan.h264Tap) return "h264";
    switch (plan.sourceKind) {
    case SourceKind::Raw: return "raw";
    case SourceKind::Jpeg: return "jpeg";
    case SourceKind::Encoded: return "encoded";
    case SourceKind::Dynamic: return "unknown";
    }
    return "unknown";
}

// The planned text with an identity between the source fragment and the
// managed tail. The plan starts with the source as written (an H.264
// source's own parser gets " config-interval=-1" appended), then " ! ".
std::optional<std::string> withSourceOut(const std::string& planText, const std::string& source) {
    if (planText.compare(0, source.size(), source) != 0) return std::nullopt;
    const auto junction = planText.find(" ! ", source.size());
    if (junction == std::string::npos) return std::nullopt;
    return planText.substr(0, junction) + " ! identity name=" + kSourceOutName + " silent=true" +
           planText.substr(junction);
}

std::string currentCaps(GstElement* element, const char* padName) {
    if (!element) return "";
    GRef<GstPad> pad = GRef<GstPad>::adopt(gst_element_get_static_pad(element, padName));
    GRef<GstCaps> caps = pad ? GRef<GstCaps>::adopt(gst_pad_get_current_caps(pad.get())) : GRef<GstCaps>();
    return caps ? capsText(caps.get()) : std::string();
}

GRef<GstElement> byName(GstElement* pipeline, const char* name) {
    return GST_IS_BIN(pipeline) ? GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), name)) : GRef<GstElement>();
}

// The pipeline's first error on the bus, if any (waits up to timeout).
std::optional<PipelineFault> busFault(GstBus* bus, GstClockTime timeout, const std::string& text) {
    GRef<GstMessage> message = GRef<GstMessage>::adopt(
        gst_bus_timed_pop_filtered(bus, timeout, GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
    if (!message) return std::nullopt;
    const std::string source = GST_MESSAGE_SRC(message.get()) ? GST_OBJECT_NAME(GST_MESSAGE_SRC(message.get())) : "";
    if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_EOS)
        return faultOf("probe: the source ended (end of stream) before its first frame", "");
    GError* raw = nullptr;
    gchar* rawDebug = nullptr;
    gst_message_parse_error(message.get(), &raw, &rawDebug);
    GUniquePtr<GError> error(raw);
    GUniquePtr<gchar> debug(rawDebug);
    std::string words = "probe: " + std::string(error ? error->message : "unknown error");
    // The debug text's last line says what exactly (No such file "/x.jpg");
    // the lines before it are GStreamer's source file and object path.
    if (debug) {
        std::string detail = debug.get();
        if (const auto nl = detail.rfind('\n'); nl != std::string::npos) detail = detail.substr(nl + 1);
        if (!detail.empty() && detail.find(".c(") == std::string::npos) words += " (" + clipped(detail, 300) + ")";
    }
    return faultOf(words, typedElement(source, text));
}

// Pre-rolls the parsed pipeline until the frame sink's pad has caps, an
// error, or the timeout; always leaves it in NULL.
void probe(GstElement* pipeline, const std::string& text, int timeoutMs, PipelineCheck& check) {
    GRef<GstElement> frames = byName(pipeline, kFrameSinkName);
    GRef<GstPad> framesPad = frames ? GRef<GstPad>::adopt(gst_element_get_static_pad(frames.get(), "sink")) : GRef<GstPad>();
    if (!framesPad) {
        check.valid = false;
        check.fault = faultOf("probe: the planned pipeline has no frame sink", "");
        return;
    }
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline));
    // Stopping joins the streaming threads; it runs whatever happens below.
    ScopeExit stop([pipeline] { gst_element_set_state(pipeline, GST_STATE_NULL); });
    GstStateChangeReturn ret = gst_element_set_state(pipeline, GST_STATE_PAUSED);
    // Live sources produce nothing in PAUSED: they need PLAYING.
    if (ret == GST_STATE_CHANGE_NO_PREROLL) ret = gst_element_set_state(pipeline, GST_STATE_PLAYING);
    if (ret == GST_STATE_CHANGE_FAILURE) {
        check.valid = false;
        check.fault = busFault(bus.get(), 0, text).value_or(faultOf("probe: the pipeline refused to start", ""));
        return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
        GRef<GstCaps> caps = GRef<GstCaps>::adopt(gst_pad_get_current_caps(framesPad.get()));
        if (caps) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            check.valid = false;
            check.fault = faultOf("probe: no frame within " + seconds(timeoutMs) +
                                      ": the pipeline did not pre-roll (a source waiting for a device, a network peer"
                                      " or data never does); it parses and links",
                                  "");
            break;
        }
        if (auto fault = busFault(bus.get(), std::min<int64_t>(left.count(), 50) * GST_MSECOND, text)) {
            check.valid = false;
            check.fault = *fault;
            break;
        }
    }
    check.sourceCaps = currentCaps(byName(pipeline, kSourceOutName).get(), "src");
    check.jpegCaps = currentCaps(frames.get(), "sink");
}

}  // namespace

std::string elementOfParseMessage(const std::string& message) {
    auto quotedAfter = [&](const char* marker) -> std::string {
        const auto at = message.find(marker);
        if (at == std::string::npos) return "";
        const auto open = at + std::char_traits<char>::length(marker);
        const auto close = message.find('"', open);
        return close == std::string::npos ? "" : message.substr(open, close - open);
    };
    // no property "foo" in element "videotestsrc0"; could not set property "x" in element "y" to "z"
    if (std::string e = quotedAfter("in element \""); !e.empty()) return e;
    if (std::string e = quotedAfter("no element \""); !e.empty()) return e;
    // could not link videotestsrc0 to audioconvert0[, videotestsrc0 can't handle caps ...]
    static const std::string link = "could not link ";
    if (const auto at = message.find(link); at != std::string::npos) {
        const auto start = at + link.size();
        const auto to = message.find(" to ", start);
        if (to != std::string::npos) return message.substr(start, to - start);
    }
    return "";
}

std::optional<PipelineFault> findLaunchFault(const std::string& launchText) {
    PipelineFault fault;
    if (!parseLaunch(launchText, &fault)) return fault;
    return std::nullopt;
}

std::optional<PipelineFault> findSourceFault(const std::string& source) {
    if (source == kPushSource) return std::nullopt;
    PipelineFault fault;
    GRef<GstElement> parsed = parseLaunch(source + kProbeTail, &fault);
    if (!parsed) return fault;
    // What the fragment can output: the caps it offers to the element after it.
    GRef<GstElement> tail = byName(parsed.get(), "camrelay_probe");
    GRef<GstPad> sink = tail ? GRef<GstPad>::adopt(gst_element_get_static_pad(tail.get(), "sink")) : GRef<GstPad>();
    GRef<GstPad> peer = sink ? GRef<GstPad>::adopt(gst_pad_get_peer(sink.get())) : GRef<GstPad>();
    if (!peer) return std::nullopt;  // sometimes-pads (rtspsrc, demuxers): known only at run time
    GRef<GstElement> last = GRef<GstElement>::adopt(gst_pad_get_parent_element(peer.get()));
    const std::string lastName = last ? GST_OBJECT_NAME(last.get()) : "";
    GRef<GstCaps> caps = GRef<GstCaps>::adopt(gst_pad_query_caps(peer.get(), nullptr));
    if (!caps || gst_caps_is_any(caps.get())) return std::nullopt;
    if (gst_caps_is_empty(caps.get()))
        return faultOf("the source can produce no caps at all (check its caps filter)", typedElement(lastName, source));
    std::string names;  // "audio/x-raw": the media types, not every format
    for (guint i = 0; i < gst_caps_get_size(caps.get()); ++i) {
        const char* name = gst_structure_get_name(gst_caps_get_structure(caps.get(), i));
        if (isVideoName(name)) return std::nullopt;
        if (names.find(name) == std::string::npos && names.size() < 200) names += (names.empty() ? "" : " or ") + std::string(name);
    }
    return faultOf("the source outputs " + names +
                       ", not video: a camera source must end in raw video (video/x-raw), image/jpeg or encoded video",
                   typedElement(lastName, source));
}

PipelineCheck checkCameraPipeline(const CameraConfig& config, const PipelineCheckOptions& options) {
    PipelineCheck check;
    if (auto fault = findSourceFault(config.source)) {
        check.fault = *fault;
        return check;
    }
    GraphPlanResult planned = planGraph(config);
    if (!planned.plan) {
        std::string error;
        for (const ConfigProblem& p : planned.problems)
            error += (error.empty() ? "" : "; ") + (p.key == "camera.source" || p.key.empty() ? p.message : p.key + ": " + p.message);
        check.fault = faultOf(error.empty() ? "the pipeline cannot be planned" : error,
                              typedElement(elementOfParseMessage(error), config.source + " " + config.encoder));
        return check;
    }
    const GraphPlan& plan = *planned.plan;
    check.kind = kindName(plan);
    check.jpegPassthrough = plan.sourceKind == SourceKind::Jpeg && config.jpegPassthrough && !plan.push;
    check.pipeline = redactCredentials(plan.pipelineText);
    if (plan.push) {  // the appsrc has nothing to pre-roll: frames come from a publisher
        check.valid = true;
        return check;
    }
    // The probe needs the source's output caps: an identity after the source.
    std::optional<std::string> probeText = options.probe ? withSourceOut(plan.pipelineText, config.source) : std::nullopt;
    PipelineFault fault;
    GRef<GstElement> pipeline = parseLaunch(probeText ? *probeText : plan.pipelineText, &fault);
    if (!pipeline && probeText) pipeline = parseLaunch(plan.pipelineText, &fault);
    if (!pipeline) {
        check.fault = fault;
        return check;
    }
    check.valid = true;
    if (options.probe) probe(pipeline.get(), plan.pipelineText, options.probeTimeoutMs, check);
    return check;
}

}  // namespace camrelay

#include "graph_builder.h"

#include "plugin_packages.h"

#include <sstream>

namespace camrelay {

namespace {

bool isEncodedVideo(const char* name) {
    static const char* const encoded[] = {"video/x-h264", "video/x-h265", "video/x-vp8", "video/x-vp9",
                                          "video/x-av1", "video/mpeg", "video/x-theora"};
    for (const char* e : encoded)
        if (g_str_equal(name, e)) return true;
    return false;
}

// raw wins when offered (the raw tail negotiates it, as for v4l2src without
// caps); JPEG only when it is all the source offers; encoded only when every
// choice is encoded video. Anything else is left to decodebin at run time.
SourceKind kindOfCaps(const GstCaps* caps) {
    bool raw = false, jpeg = true, encoded = true;
    for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
        const char* name = gst_structure_get_name(gst_caps_get_structure(caps, i));
        raw = raw || g_str_equal(name, "video/x-raw");
        jpeg = jpeg && g_str_equal(name, "image/jpeg");
        encoded = encoded && isEncodedVideo(name);
    }
    if (raw) return SourceKind::Raw;
    if (jpeg) return SourceKind::Jpeg;
    if (encoded) return SourceKind::Encoded;
    return SourceKind::Dynamic;
}

// First word of a fragment: "jpegenc quality=90" -> "jpegenc".
std::string firstElementName(const std::string& fragment) {
    std::istringstream in(fragment);
    std::string word;
    in >> word;
    return word;
}

bool factoryHasProperty(const std::string& factory, const char* property) {
    GRef<GstElement> element = GRef<GstElement>::adopt(gst_element_factory_make(factory.c_str(), nullptr));
    return element && g_object_class_find_property(G_OBJECT_GET_CLASS(element.get()), property);
}

std::string encoderText(const CameraConfig& c) {
    std::string text = c.encoder;
    // quality= is applied to encoders that have it, unless the fragment sets it itself.
    if (text.find("quality=") == std::string::npos && factoryHasProperty(firstElementName(text), "quality"))
        text += " quality=" + std::to_string(c.quality);
    return text;
}

// Whether the encoder fragment's first element takes raw video in this format,
// by its factory's sink pad templates (nothing is instantiated). An element
// that is not installed says no: planGraph reports it as camera.encoder.
bool encoderAccepts(const std::string& encoder, const char* format) {
    GRef<GstElementFactory> factory =
        GRef<GstElementFactory>::adopt(gst_element_factory_find(firstElementName(encoder).c_str()));
    if (!factory) return false;
    GRef<GstCaps> wanted = GRef<GstCaps>::adopt(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format, nullptr));
    for (const GList* t = gst_element_factory_get_static_pad_templates(factory.get()); t; t = t->next) {
        auto* pad = static_cast<GstStaticPadTemplate*>(t->data);
        if (pad->direction != GST_PAD_SINK) continue;
        GRef<GstCaps> caps = GRef<GstCaps>::adopt(gst_static_pad_template_get_caps(pad));
        if (caps && gst_caps_can_intersect(caps.get(), wanted.get())) return true;
    }
    return false;
}

// The raw format the encoder is given (jpeg-chroma), "" to let it negotiate;
// *note says why a configured format was not used.
std::string chosenRawFormat(const CameraConfig& c, std::string* note) {
    const std::string format = rawFormatOf(c.jpegChroma);
    if (format.empty()) return format;
    if (encoderAccepts(c.encoder, format.c_str())) return format;
    *note = std::string("jpeg-chroma=") + toString(c.jpegChroma) + " not applied: the encoder " +
            firstElementName(c.encoder) + " does not take video/x-raw,format=" + format +
            " (its sink caps), so the format is left to negotiation (jpeg-chroma=auto)";
    return "";
}

std::string rawCaps(const CameraConfig& c, const std::string& format) {
    std::string caps = "video/x-raw";
    if (!format.empty()) caps += ",format=" + format;
    if (c.width) caps += ",width=" + std::to_string(c.width) + ",height=" + std::to_string(c.height);
    if (c.framerate.isSet())
        caps += ",framerate=" + std::to_string(c.framerate.num) + "/" + std::to_string(c.framerate.den);
    return caps;
}

// convert / scale / rate / caps / encode: one JPEG per frame, shared by every output.
std::string rawTail(const CameraConfig& c, const std::string& format) {
    std::string tail = "videoconvert";
    if (c.width) tail += " ! videoscale";
    if (c.framerate.isSet()) tail += " ! videorate";
    return tail + " ! " + rawCaps(c, format) + " ! " + encoderText(c);
}

std::string fanoutTail() {
    // The frame sink never blocks a live source (it keeps the newest two
    // samples, and its callback only hands the frame to the loop); for a
    // non-live source (a file) it paces playback by the clock. No queue here:
    // a leaky queue would drop a file's frames as fast as they are read.
    // Later branches on the tee (recording, RTSP) bring their own queues.
    return std::string("tee name=") + kFanoutTeeName + " ! appsink name=" + kFrameSinkName +
           " max-buffers=2 drop=true emit-signals=false";
}

}  // namespace

const char* toString(SourceKind kind) {
    switch (kind) {
    case SourceKind::Raw: return "raw";
    case SourceKind::Jpeg: return "jpeg";
    case SourceKind::Encoded: return "encoded";
    case SourceKind::Dynamic: return "dynamic";
    }
    return "unknown";
}

GRef<GstElement> parseFragment(const std::string& fragment, std::string* error) {
    GError* raw = nullptr;
    GstElement* parsed = gst_parse_bin_from_description_full(fragment.c_str(), TRUE, nullptr,
                                                             GST_PARSE_FLAG_FATAL_ERRORS, &raw);
    GUniquePtr<GError> parseError(raw);
    GRef<GstElement> bin = GRef<GstElement>::adopt(parsed);
    if (!bin || parseError) {
        if (error) *error = parseErrorMessage(parseError.get());
        return {};
    }
    return bin;
}

namespace {

// What the fragment's output can carry: its src pad's caps, or, for
// sometimes-pads (rtspsrc, demuxers) that answer ANY until they run, the caps
// written after them ("matroskademux ! image/jpeg"). ANY when unknown.
GRef<GstCaps> sourceCaps(const std::string& fragment, std::string* error) {
    // A fragment may end in caps ("v4l2src ! image/jpeg,width=1280"), which
    // need an element after them to parse: the probe is that element.
    GRef<GstElement> bin = parseFragment(fragment + " ! identity name=camrelay_probe", error);
    if (!bin) return {};
    GRef<GstPad> src = GRef<GstPad>::adopt(gst_element_get_static_pad(bin.get(), "src"));
    GRef<GstCaps> caps;
    if (src) caps = GRef<GstCaps>::adopt(gst_pad_query_caps(src.get(), nullptr));
    if (src && (!caps || gst_caps_is_empty(caps.get()))) {
        if (error) *error = "the source can produce no caps at all (check its caps filter)";
        return {};
    }
    if (!caps || gst_caps_is_any(caps.get())) {
        GRef<GstCaps> trailing;
        const auto bang = fragment.rfind('!');
        if (bang != std::string::npos)
            trailing = GRef<GstCaps>::adopt(gst_caps_from_string(fragment.substr(bang + 1).c_str()));
        if (trailing && !gst_caps_is_empty(trailing.get())) return trailing;
        return GRef<GstCaps>::adopt(gst_caps_new_any());
    }
    return caps;
}

bool onlyH264(const GstCaps* caps) {
    if (gst_caps_is_any(caps) || gst_caps_is_empty(caps)) return false;
    for (guint i = 0; i < gst_caps_get_size(caps); ++i)
        if (!g_str_equal(gst_structure_get_name(gst_caps_get_structure(caps, i)), "video/x-h264")) return false;
    return true;
}

SourceKind kindOf(const GstCaps* caps) { return gst_caps_is_any(caps) ? SourceKind::Dynamic : kindOfCaps(caps); }

// H.264 sources keep their access units for outputs that pass them through:
//   source ! h264parse ! byte-stream/au ! tee ─┬─ queue (JPEG gate) ! decodebin ! ... JPEG
//                                              └─ queue ! appsink (H.264 tap)
// The parser puts SPS/PPS before every key frame (config-interval=-1), so any
// consumer can start at any key frame. The JPEG gate queue carries a pad probe
// (camera.cpp) that lets buffers through only while a JPEG consumer exists.
bool endsWithParser(const std::string& source) { return g_str_has_suffix(source.c_str(), "h264parse"); }
std::string h264TapHead(const std::string& source) {
    const bool parsed = endsWithParser(source);  // no second parser when the source has one
    return std::string(parsed ? "" : "h264parse config-interval=-1 ! ") +
           "video/x-h264,stream-format=byte-stream,alignment=au ! tee name=" + kH264TeeName +
           " ! queue name=" + kJpegGateName + " max-size-buffers=3 max-size-bytes=0 max-size-time=0 ! ";
}
// async=false: while the JPEG branch is gated, the frame sink never prerolls
// and the pipeline never completes its state change; this sink must not
// wait for that (it would hold the first access unit forever).
std::string h264TapBranch() {
    return std::string(" ") + kH264TeeName + ". ! queue max-size-buffers=30 max-size-bytes=0 max-size-time=0 ! appsink name=" +
           kH264SinkName + " max-buffers=30 drop=true sync=false async=false emit-signals=false";
}

}  // namespace

std::optional<SourceKind> classifySource(const std::string& fragment, std::string* error) {
    GRef<GstCaps> caps = sourceCaps(fragment, error);
    if (!caps) return std::nullopt;
    return kindOf(caps.get());
}

GRef<GstElement> parsePipeline(const std::string& text, std::string* error) {
    GError* raw = nullptr;
    GstElement* parsed = gst_parse_launch_full(text.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw);
    GUniquePtr<GError> parseError(raw);
    GRef<GstElement> pipeline = GRef<GstElement>::adopt(parsed);
    if (!pipeline || parseError) {
        if (error) *error = parseErrorMessage(parseError.get());
        return {};
    }
    if (!GST_IS_PIPELINE(pipeline.get())) {
        if (error) *error = "the text does not describe a pipeline";
        return {};
    }
    return pipeline;
}

GraphPlanResult planGraph(const CameraConfig& c) {
    GraphPlanResult result;
    auto problem = [&](const char* key, std::string message) {
        result.problems.push_back({c.file, key, std::move(message)});
    };
    // Pushed JPEG frames enter through an appsrc that never queues more than a few.
    const bool push = c.source == kPushSource;
    const std::string source = push ? std::string("appsrc name=") + kPushSourceName +
                                          " is-live=true format=time do-timestamp=true max-buffers=4"
                                          " leaky-type=downstream block=false ! image/jpeg"
                                    : c.source;
    std::string error;
    GRef<GstCaps> caps = sourceCaps(source, &error);
    if (!caps) {
        problem("camera.source", error);
        return result;
    }
    const std::optional<SourceKind> kind = kindOf(caps.get());
    const bool h264Tap = onlyH264(caps.get());
    std::string encoderError;
    if (!parseFragment(c.encoder, &encoderError)) problem("camera.encoder", encoderError);

    std::string chromaNote;
    const std::string format = chosenRawFormat(c, &chromaNote);
    bool encodes = true;
    std::string middle;
    switch (*kind) {
    case SourceKind::Raw: middle = rawTail(c, format); break;
    case SourceKind::Encoded:
    case SourceKind::Dynamic: middle = (h264Tap ? h264TapHead(source) : std::string()) + "decodebin ! " + rawTail(c, format); break;
    case SourceKind::Jpeg:
        if (c.jpegPassthrough) {
            // Passing JPEG through cannot change its size or rate: say so instead of ignoring the keys.
            if (c.width) problem("camera.width", "cannot be applied to a JPEG source that passes through; set the size in the source caps, or set jpeg-passthrough=false to re-encode");
            if (c.framerate.isSet()) problem("camera.framerate", "cannot be applied to a JPEG source that passes through; set it in the source caps, or set jpeg-passthrough=false to re-encode");
            middle = "jpegparse";
            encodes = false;
        } else {
            middle = "jpegdec ! " + rawTail(c, format);
        }
        break;
    }
    if (!result.problems.empty()) return result;

    GraphPlan plan;
    plan.sourceKind = *kind;
    plan.h264Tap = h264Tap;
    plan.push = push;
    if (encodes) {
        plan.rawFormat = format;
        plan.chromaNote = chromaNote;
    }
    // The source's own parser (reused) repeats SPS/PPS before key frames too.
    const std::string sourceText = h264Tap && endsWithParser(source) ? source + " config-interval=-1" : source;
    plan.pipelineText = sourceText + " ! " + middle + " ! " + fanoutTail() + (h264Tap ? h264TapBranch() : std::string());
    // Parsing the whole text catches what the parts cannot: pads that do not link.
    if (!parsePipeline(plan.pipelineText, &error)) {
        problem("camera.source", "the effective pipeline does not parse: " + error + " (pipeline: " + plan.pipelineText + ")");
        return result;
    }
    result.plan = std::move(plan);
    return result;
}

}  // namespace camrelay

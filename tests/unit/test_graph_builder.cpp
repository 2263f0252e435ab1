#include "camera/graph_builder.h"
#include "camera/jpeg_info.h"
#include "camera/plugin_packages.h"
#include "camera/shared_h264_stream.h"
#include "config/camera_config.h"

#include <catch2/catch.hpp>

using namespace camrelay;

namespace {
CameraConfig camera(const std::string& source) {
    CameraConfig c;
    c.id = "cam";
    c.file = "pipelines/cam.conf";
    c.source = source;
    return c;
}
size_t count(const std::string& text, const std::string& word) {
    size_t n = 0;
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("a raw source gets convert, scale, rate, caps and one encoder", "[graph]") {
    CameraConfig c = camera("videotestsrc is-live=true");
    c.width = 640;
    c.height = 360;
    c.framerate = {15, 1};
    c.quality = 55;
    auto result = planGraph(c);
    REQUIRE(result.problems.empty());
    REQUIRE(result.plan);
    CHECK(result.plan->sourceKind == SourceKind::Raw);
    CHECK(result.plan->pipelineText ==
          "videotestsrc is-live=true ! videoconvert ! videoscale ! videorate ! "
          "video/x-raw,format=I420,width=640,height=360,framerate=15/1 ! jpegenc quality=55 ! tee name=camrelay_fanout ! "
          "appsink name=camrelay_frames max-buffers=2 drop=true emit-signals=false");
}

TEST_CASE("a raw source without size or rate keeps the source's", "[graph]") {
    auto result = planGraph(camera("videotestsrc"));
    REQUIRE(result.plan);
    CHECK_THAT(result.plan->pipelineText, Catch::StartsWith("videotestsrc ! videoconvert ! video/x-raw,format=I420 ! jpegenc quality=80 ! tee"));
}

TEST_CASE("jpeg-chroma: I420 before the encoder by default, Y42B/Y444 on request, nothing for auto", "[graph][chroma]") {
    CameraConfig c = camera("videotestsrc");
    auto planned = [&](JpegChroma chroma) {
        c.jpegChroma = chroma;
        auto result = planGraph(c);
        REQUIRE(result.plan);
        return *result.plan;
    };
    GraphPlan p420 = planned(JpegChroma::Yuv420);
    CHECK(p420.rawFormat == "I420");
    CHECK(p420.chromaNote.empty());
    CHECK_THAT(p420.pipelineText, Catch::Contains("videoconvert ! video/x-raw,format=I420 ! jpegenc"));
    CHECK(planned(JpegChroma::Yuv422).rawFormat == "Y42B");
    CHECK_THAT(planned(JpegChroma::Yuv444).pipelineText, Catch::Contains("video/x-raw,format=Y444 ! jpegenc"));
    GraphPlan autoPlan = planned(JpegChroma::Auto);
    CHECK(autoPlan.rawFormat.empty());
    CHECK_THAT(autoPlan.pipelineText, Catch::Contains("videoconvert ! video/x-raw ! jpegenc"));

    // An encoder that cannot take the format keeps negotiation, and the plan says why.
    c.encoder = "pngenc";
    GraphPlan png = planned(JpegChroma::Yuv420);
    CHECK(png.rawFormat.empty());
    CHECK_THAT(png.pipelineText, Catch::Contains("videoconvert ! video/x-raw ! pngenc"));
    CHECK_THAT(png.chromaNote, Catch::Contains("jpeg-chroma=420 not applied") && Catch::Contains("pngenc"));

    // JPEG passed through is never re-encoded: no format, no note.
    c = camera("videotestsrc ! jpegenc");
    GraphPlan through = planned(JpegChroma::Yuv420);
    CHECK(through.rawFormat.empty());
    CHECK_THAT(through.pipelineText, !Catch::Contains("format="));
    c.jpegPassthrough = false;
    CHECK_THAT(planned(JpegChroma::Yuv420).pipelineText, Catch::Contains("jpegdec ! videoconvert ! video/x-raw,format=I420 ! jpegenc"));
}

TEST_CASE("JPEGs encoded by a camera come out 4:2:0 by default, 4:4:4 with jpeg-chroma=444", "[graph][chroma]") {
    // The planned pipeline, run for real: its first JPEG's frame header says the subsampling.
    auto firstJpeg = [](JpegChroma chroma) {
        CameraConfig c = camera("videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,width=320,height=240,format=Y444");
        c.jpegChroma = chroma;
        auto result = planGraph(c);
        REQUIRE(result.plan);
        std::string error;
        GRef<GstElement> pipeline = parsePipeline(result.plan->pipelineText, &error);
        REQUIRE(pipeline);
        GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), kFrameSinkName));
        REQUIRE(sink);
        gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
        GstSample* raw = nullptr;
        g_signal_emit_by_name(sink.get(), "try-pull-sample", GstClockTime(5 * GST_SECOND), &raw);
        GRef<GstSample> sample = GRef<GstSample>::adopt(raw);
        gst_element_set_state(pipeline.get(), GST_STATE_NULL);
        REQUIRE(sample);
        GstMapInfo map;
        GstBuffer* buffer = gst_sample_get_buffer(sample.get());
        REQUIRE(gst_buffer_map(buffer, &map, GST_MAP_READ));
        std::string bytes(reinterpret_cast<const char*>(map.data), map.size);
        gst_buffer_unmap(buffer, &map);
        std::string why;
        auto info = inspectJpeg(bytes, &why);
        INFO(why);
        REQUIRE(info);
        return info->chroma;
    };
    // The source offers Y444: only the caps camrelay adds make it 4:2:0.
    CHECK(firstJpeg(JpegChroma::Yuv420) == "420");
    CHECK(firstJpeg(JpegChroma::Yuv422) == "422");
    CHECK(firstJpeg(JpegChroma::Yuv444) == "444");
    CHECK(firstJpeg(JpegChroma::Auto) == "444");  // what negotiated before jpeg-chroma
}

TEST_CASE("a JPEG source passes through: no decoder, no encoder", "[graph]") {
    auto result = planGraph(camera("multifilesrc location=/tmp/x.jpg loop=true caps=image/jpeg,framerate=5/1"));
    REQUIRE(result.problems.empty());
    REQUIRE(result.plan);
    CHECK(result.plan->sourceKind == SourceKind::Jpeg);
    CHECK(count(result.plan->pipelineText, "enc") == 0);
    CHECK(count(result.plan->pipelineText, "dec") == 0);
    CHECK_THAT(result.plan->pipelineText, Catch::Contains("! jpegparse ! tee name=camrelay_fanout"));
}

TEST_CASE("a USB webcam in native MJPEG is recognised from its caps", "[graph]") {
    auto kind = classifySource("v4l2src device=/dev/video0 ! image/jpeg,width=1280,height=720,framerate=30/1", nullptr);
    REQUIRE(kind);
    CHECK(*kind == SourceKind::Jpeg);
    auto raw = classifySource("v4l2src device=/dev/video0 ! video/x-raw,width=640,height=480", nullptr);
    REQUIRE(raw);
    CHECK(*raw == SourceKind::Raw);
}

TEST_CASE("a JPEG source cannot be resized while passing through", "[graph]") {
    CameraConfig c = camera("videotestsrc ! jpegenc");
    c.width = 320;
    c.height = 240;
    auto result = planGraph(c);
    CHECK_FALSE(result.plan);
    CHECK_THAT(joinProblems(result.problems), Catch::Contains("pipelines/cam.conf: camera.width: cannot be applied to a JPEG source"));

    c.jpegPassthrough = false;
    auto reencoded = planGraph(c);
    REQUIRE(reencoded.plan);
    CHECK_THAT(reencoded.plan->pipelineText, Catch::Contains("videotestsrc ! jpegenc ! jpegdec ! videoconvert ! videoscale"));
}

TEST_CASE("an H.264 source is decoded, then encoded once as JPEG; its access units stay available", "[graph]") {
    auto result = planGraph(camera("videotestsrc ! x264enc tune=zerolatency ! h264parse"));
    REQUIRE(result.problems.empty());
    REQUIRE(result.plan);
    CHECK(result.plan->sourceKind == SourceKind::Encoded);
    CHECK(result.plan->h264Tap);
    CHECK_THAT(result.plan->pipelineText,
               Catch::Contains("h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! tee name=camrelay_h264 ! "
                               "queue name=camrelay_jpeg_gate max-size-buffers=3 max-size-bytes=0 max-size-time=0 ! decodebin ! videoconvert"));
    CHECK_THAT(result.plan->pipelineText, Catch::EndsWith("appsink name=camrelay_h264_au max-buffers=30 drop=true sync=false async=false emit-signals=false"));
    CHECK(count(result.plan->pipelineText, "h264parse") == 1);  // the source's parser is reused
    CHECK(count(result.plan->pipelineText, "jpegenc") == 1);

    // Other codecs are decoded with no tap.
    auto h265 = planGraph(camera("videotestsrc ! x265enc ! h265parse"));
    REQUIRE(h265.plan);
    CHECK(h265.plan->sourceKind == SourceKind::Encoded);
    CHECK_FALSE(h265.plan->h264Tap);
    CHECK_THAT(h265.plan->pipelineText, Catch::Contains("h265parse ! decodebin"));
}

TEST_CASE("an RTSP camera's caps are known only at run time: decodebin", "[graph]") {
    auto result = planGraph(camera("rtspsrc location=rtsp://127.0.0.1:1/cam latency=100"));
    REQUIRE(result.plan);
    CHECK(result.plan->sourceKind == SourceKind::Dynamic);
    CHECK_THAT(result.plan->pipelineText, Catch::Contains("latency=100 ! decodebin ! videoconvert"));
}

TEST_CASE("pipeline errors carry the file, the key and GStreamer's message", "[graph]") {
    auto missing = planGraph(camera("nosuchsrc ! videoconvert"));
    CHECK_FALSE(missing.plan);
    CHECK_THAT(joinProblems(missing.problems), Catch::Contains("pipelines/cam.conf: camera.source: no element \"nosuchsrc\""));
    CHECK_THAT(joinProblems(missing.problems), Catch::Contains("no installed GStreamer plugin provides \"nosuchsrc\" and no Debian package lists it"));

    auto garbage = planGraph(camera("videotestsrc ! ! !"));
    CHECK_FALSE(garbage.plan);
    CHECK_THAT(joinProblems(garbage.problems), Catch::Contains("pipelines/cam.conf: camera.source:"));

    auto badProperty = planGraph(camera("videotestsrc pattern=nosuchpattern"));
    CHECK_FALSE(badProperty.plan);
    CHECK_THAT(joinProblems(badProperty.problems), Catch::Contains("camera.source"));

    CameraConfig c = camera("videotestsrc");
    c.encoder = "nosuchenc";
    auto encoder = planGraph(c);
    CHECK_FALSE(encoder.plan);
    CHECK_THAT(joinProblems(encoder.problems), Catch::Contains("pipelines/cam.conf: camera.encoder: no element \"nosuchenc\""));

    auto empty = planGraph(camera("videotestsrc ! video/x-raw,format=NOPE"));
    CHECK_FALSE(empty.plan);
    CHECK_THAT(joinProblems(empty.problems), Catch::Contains("camera.source"));
}

TEST_CASE("an element Debian ships but this machine lacks is named with the package to install", "[graph]") {
    // Any element Debian's metadata lists whose plugin is not installed here (there are always some: pipewiresrc, ...).
    std::string element, package;
    for (const auto& [e, p] : debianElementPackages()) {
        GstElementFactory* factory = gst_element_factory_find(e.c_str());
        if (factory) gst_object_unref(factory);
        else if (e.find("src") != std::string::npos) { element = e, package = p; break; }
    }
    REQUIRE_FALSE(debianElementPackages().empty());  // apt-cache and its lists are there (tools/deps.sh ran apt-get update)
    REQUIRE_FALSE(element.empty());
    auto result = planGraph(camera(element + " ! videoconvert"));
    CHECK_FALSE(result.plan);
    CHECK_THAT(joinProblems(result.problems),
               Catch::Contains("no element \"" + element + "\": a GStreamer plugin package is missing: Debian's " + package +
                               " provides \"" + element + "\" (apt-get install " + package + ")"));
    CHECK(debianPackageOfElement("clockoverlay") == std::optional<std::string>("gstreamer1.0-x"));
}

TEST_CASE("the shared H.264 encoder follows the h264-* keys and parses", "[graph][h264]") {
    H264Settings h;
    std::string text = h264EncoderLaunch(h);  // defaults: constant quality, ultrafast, zerolatency
    CHECK_THAT(text, Catch::Contains("x264enc name=camrelay_h264enc speed-preset=ultrafast tune=zerolatency pass=qual quantizer=23 key-int-max=120"));
    CHECK_THAT(text, Catch::Contains("h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"));
    CHECK_THAT(text, !Catch::Contains("bitrate="));
    std::string error;
    CHECK(parsePipeline(text, &error));

    h.bitrateKbps = 1500;
    h.tune = "none";
    h.preset = "veryfast";
    h.keyframeIntervalSec = 1;
    text = h264EncoderLaunch(h);
    CHECK_THAT(text, Catch::Contains("x264enc name=camrelay_h264enc speed-preset=veryfast bitrate=1500 key-int-max=60"));
    CHECK_THAT(text, !Catch::Contains("tune="));
    CHECK_THAT(text, !Catch::Contains("quantizer="));
    CHECK(parsePipeline(text, &error));
}

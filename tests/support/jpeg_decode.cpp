#include "jpeg_decode.h"

#include "core/gobject_ptr.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

namespace camrelay::testing {

namespace {
GRef<GstSample> pullOne(GstElement* pipeline) {
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "sink"));
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GRef<GstSample> sample = GRef<GstSample>::adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 5 * GST_SECOND));
    gst_element_set_state(pipeline, GST_STATE_NULL);
    return sample;
}
}  // namespace

std::pair<int, int> decodeJpegSize(const std::string& jpeg) {
    GRef<GstElement> pipeline = GRef<GstElement>::adopt(
        gst_parse_launch("appsrc name=src caps=image/jpeg ! jpegdec ! appsink name=sink", nullptr));
    GRef<GstElement> src = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
    GstBuffer* buffer = gst_buffer_new_memdup(jpeg.data(), jpeg.size());
    gst_app_src_push_buffer(GST_APP_SRC(src.get()), buffer);
    gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
    GRef<GstSample> sample = pullOne(pipeline.get());
    if (!sample) return {0, 0};
    int width = 0, height = 0;
    const GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample.get()), 0);
    gst_structure_get_int(s, "width", &width);
    gst_structure_get_int(s, "height", &height);
    return {width, height};
}

DecodingPlayer::DecodingPlayer(const std::string& decodingSource) {
    const std::string text = decodingSource + " ! videoconvert ! appsink name=sink sync=false";
    pipeline_ = GRef<GstElement>::adopt(gst_parse_launch(text.c_str(), nullptr));
    if (!pipeline_) return;
    sink_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "sink"));
    gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

DecodingPlayer::~DecodingPlayer() {
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

int DecodingPlayer::pull(int frames, int timeoutMs) {
    int got = 0;
    for (; sink_ && got < frames; ++got) {
        GRef<GstSample> sample =
            GRef<GstSample>::adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink_.get()), timeoutMs * GST_MSECOND));
        if (!sample) break;
        const GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample.get()), 0);
        gst_structure_get_int(s, "width", &size_.first);
        gst_structure_get_int(s, "height", &size_.second);
    }
    return got;
}

std::pair<int, int> decodeStreamFrames(const std::string& url, int frames) {
    DecodingPlayer player("souphttpsrc location=" + url + " ! multipartdemux ! jpegdec");
    return player.pull(frames, 5000) == frames ? player.size() : std::make_pair(0, 0);
}

std::string makeTestJpeg(int width, int height) {
    std::string text = "videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,width=" + std::to_string(width) +
                       ",height=" + std::to_string(height) + " ! jpegenc ! appsink name=sink";
    GRef<GstElement> pipeline = GRef<GstElement>::adopt(gst_parse_launch(text.c_str(), nullptr));
    GRef<GstSample> sample = pullOne(pipeline.get());
    GstMapInfo map;
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    gst_buffer_map(buffer, &map, GST_MAP_READ);
    std::string bytes(reinterpret_cast<const char*>(map.data), map.size);
    gst_buffer_unmap(buffer, &map);
    return bytes;
}

std::vector<std::string> makeMjpegClip(const std::string& path, int width, int height, int fps, int frames) {
    std::string text = "videotestsrc num-buffers=" + std::to_string(frames) + " pattern=smpte ! video/x-raw,width=" +
                       std::to_string(width) + ",height=" + std::to_string(height) + ",framerate=" +
                       std::to_string(fps) + "/1 ! jpegenc ! matroskamux ! filesink location=" + path;
    GRef<GstElement> pipeline = GRef<GstElement>::adopt(gst_parse_launch(text.c_str(), nullptr));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline.get()));
    GRef<GstMessage> done = GRef<GstMessage>::adopt(gst_bus_timed_pop_filtered(
        bus.get(), 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);

    // Read the stored frames back, as demuxed.
    std::vector<std::string> stored;
    GRef<GstElement> reader = GRef<GstElement>::adopt(gst_parse_launch(
        ("filesrc location=" + path + " ! matroskademux ! appsink name=sink sync=false").c_str(), nullptr));
    GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(reader.get()), "sink"));
    gst_element_set_state(reader.get(), GST_STATE_PLAYING);
    while (GstSample* raw = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 5 * GST_SECOND)) {
        GRef<GstSample> sample = GRef<GstSample>::adopt(raw);
        GstMapInfo map;
        GstBuffer* buffer = gst_sample_get_buffer(sample.get());
        gst_buffer_map(buffer, &map, GST_MAP_READ);
        stored.emplace_back(reinterpret_cast<const char*>(map.data), map.size);
        gst_buffer_unmap(buffer, &map);
    }
    gst_element_set_state(reader.get(), GST_STATE_NULL);
    return stored;
}

}  // namespace camrelay::testing

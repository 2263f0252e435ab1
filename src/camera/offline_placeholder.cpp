#include "offline_placeholder.h"

#include "camera/graph_builder.h"
#include "core/log.h"

namespace camrelay {

namespace {
constexpr int kDefaultWidth = 640, kDefaultHeight = 360;
}

void OfflinePlaceholder::show(const std::string& text, int width, int height) {
    if (width < 16 || height < 16) width = kDefaultWidth, height = kDefaultHeight;
    width &= ~1, height &= ~1;  // I420 wants even sizes
    if (pipeline_ && (width != width_ || height != height_)) hide();
    if (!pipeline_) {
        // The text is set as a property, never spliced into the launch line.
        const std::string launch =
            "videotestsrc is-live=true pattern=solid-color foreground-color=0xff262626"
            " ! video/x-raw,format=I420,width=" + std::to_string(width) + ",height=" + std::to_string(height) +
            ",framerate=1/1"
            " ! textoverlay name=text valignment=center halignment=center line-alignment=center"
            " font-desc=\"Sans Bold 18\" shaded-background=false"
            " ! clockoverlay valignment=bottom halignment=right font-desc=\"Sans 12\""
            " time-format=\"%Y-%m-%d %H:%M:%S\""
            " ! jpegenc quality=70 ! appsink name=placeholder max-buffers=1 drop=true sync=false";
        std::string error;
        GRef<GstElement> pipeline = parsePipeline(launch, &error);
        if (!pipeline) {
            logError("", "cannot render the offline placeholder: " + error);
            return;
        }
        GRef<GstElement> sink = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "placeholder"));
        overlay_ = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "text"));
        receiver_ = std::make_unique<FrameReceiver>(sink.get(), handler_);
        pipeline_ = pipeline;
        width_ = width, height_ = height;
        g_object_set(overlay_.get(), "text", text.c_str(), nullptr);
        if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
            logError("", "cannot render the offline placeholder: the pipeline refused to start");
            hide();
        }
        return;
    }
    g_object_set(overlay_.get(), "text", text.c_str(), nullptr);
}

void OfflinePlaceholder::hide() {
    receiver_.reset();
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
    overlay_.reset();
}

}  // namespace camrelay

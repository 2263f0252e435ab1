// A stand-in IP camera for tests and benchmarks: gst-rtsp-server serving a
// moving test picture as H.264, H.265 or MJPEG over RTP. Stop it (SIGTERM, SIGKILL)
// and start it again on the same port to simulate a camera that drops off
// and comes back; SIGSTOP it to simulate one that hangs without an error.
//
//   camrelay-test-rtsp-camera --port 8554 [--codec h264|h265|mjpeg] [--width 640 --height 360 --fps 30]
//
// stdout, one line each, flushed: "ready rtsp://127.0.0.1:<port>/cam",
// "client-connected <open clients>", "client-closed <open clients>",
// "media-created <count>" (one per connection to the camera's encoder).
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <glib-unix.h>

#include <cstdio>
#include <string>

namespace {

int openClients = 0;
int mediaCreated = 0;

void say(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

void onClientClosed(GstRTSPClient*, gpointer) {
    say("client-closed " + std::to_string(--openClients));
}

void onClientConnected(GstRTSPServer*, GstRTSPClient* client, gpointer) {
    say("client-connected " + std::to_string(++openClients));
    g_signal_connect(client, "closed", G_CALLBACK(onClientClosed), nullptr);
}

void onMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia*, gpointer) {
    say("media-created " + std::to_string(++mediaCreated));
}

gboolean quit(gpointer loop) {
    g_main_loop_quit(static_cast<GMainLoop*>(loop));
    return G_SOURCE_REMOVE;
}

}  // namespace

int main(int argc, char** argv) {
    gint port = 8554, width = 640, height = 360, fps = 30;
    gchar* codec = nullptr;
    const GOptionEntry entries[] = {
        {"port", 0, 0, G_OPTION_ARG_INT, &port, "RTSP port", "N"},
        {"codec", 0, 0, G_OPTION_ARG_STRING, &codec, "h264 (default), h265 or mjpeg", "NAME"},
        {"width", 0, 0, G_OPTION_ARG_INT, &width, "Width", "N"},
        {"height", 0, 0, G_OPTION_ARG_INT, &height, "Height", "N"},
        {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "Frames per second", "N"},
        {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
    GOptionContext* context = g_option_context_new("- RTSP test camera");
    g_option_context_add_main_entries(context, entries, nullptr);
    if (!g_option_context_parse(context, &argc, &argv, nullptr)) return 2;
    g_option_context_free(context);
    gst_init(nullptr, nullptr);

    const std::string name = codec ? codec : "h264";
    const std::string raw = "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=" + std::to_string(width) +
                            ",height=" + std::to_string(height) + ",framerate=" + std::to_string(fps) +
                            "/1 ! timeoverlay ! ";
    std::string launch;
    if (name == "h264")
        launch = raw + "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=" + std::to_string(fps) +
                 " ! rtph264pay name=pay0 pt=96 config-interval=1";
    else if (name == "h265")
        launch = raw + "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=" + std::to_string(fps) +
                 " ! rtph265pay name=pay0 pt=96 config-interval=1";
    else if (name == "mjpeg")
        launch = raw + "jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26";
    else {
        std::fprintf(stderr, "unknown codec %s\n", name.c_str());
        return 2;
    }

    GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
    GstRTSPServer* server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server, "127.0.0.1");
    gst_rtsp_server_set_service(server, std::to_string(port).c_str());
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(factory, ("( " + launch + " )").c_str());
    gst_rtsp_media_factory_set_shared(factory, TRUE);  // one encoder, like a real camera
    g_signal_connect(factory, "media-configure", G_CALLBACK(onMediaConfigure), nullptr);
    GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
    gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
    g_object_unref(mounts);
    g_signal_connect(server, "client-connected", G_CALLBACK(onClientConnected), nullptr);
    GError* error = nullptr;
    GSource* source = gst_rtsp_server_create_source(server, nullptr, &error);
    if (!source) {
        std::fprintf(stderr, "cannot listen on port %d: %s\n", port, error ? error->message : "?");
        return 3;
    }
    g_source_attach(source, nullptr);
    say("ready rtsp://127.0.0.1:" + std::to_string(gst_rtsp_server_get_bound_port(server)) + "/cam");
    g_unix_signal_add(SIGTERM, quit, loop);
    g_unix_signal_add(SIGINT, quit, loop);
    g_main_loop_run(loop);
    g_source_destroy(source);
    g_source_unref(source);
    g_object_unref(server);
    g_main_loop_unref(loop);
    return 0;
}

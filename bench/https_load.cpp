// camrelay-https-load: N MJPEG viewers over HTTPS (or plain HTTP with
// --tls 0, same client code, for a like-for-like comparison) against a
// running camrelay.
//   camrelay-https-load --port 8443 --camera demo --viewers 100 --warmup 3 --duration 10 [--pid PID] [--tls 1]
// Each viewer is a GIO connection (GnuTLS through glib-networking when TLS)
// read asynchronously on one main loop; every part is parsed (MultipartReader).
// Reports per-viewer fps (min, median) and, with --pid, the service's CPU%.
// The certificate is not checked: the bench talks to its own service.
#include "multipart_reader.h"
#include "load_options.h"
#include "service_process.h"

#include <gio/gio.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace camrelay::testing;

namespace {

struct Args : LoadOptions {
    Args() { port = 8443; }
    int viewers = 100;
    bool tls = true;
};

Args parse(int argc, char** argv) {
    Args a;
    parseLoadOptions(argc, argv, a, [&a](const std::string& k, const std::string& v) {
        if (k == "--viewers") a.viewers = std::stoi(v);
        else if (k == "--tls") a.tls = v != "0";
        else return false;
        return true;
    });
    return a;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

struct Viewer {
    GSocketConnection* plain = nullptr;
    GIOStream* stream = nullptr;  // the TLS connection, or plain
    std::unique_ptr<MultipartReader> reader;
    std::vector<char> buffer = std::vector<char>(256 * 1024);
    uint64_t frames = 0;
    std::string error;
    bool closed = false;
    std::string request;
};

void readMore(Viewer* v);

void onRead(GObject* source, GAsyncResult* result, gpointer data) {
    auto* v = static_cast<Viewer*>(data);
    GError* error = nullptr;
    const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
    if (n <= 0) {
        v->closed = true;
        if (error) v->error = error->message, g_error_free(error);
        return;
    }
    if (!v->reader->feed(v->buffer.data(), size_t(n))) {
        v->error = v->reader->error();
        return;
    }
    readMore(v);
}

void readMore(Viewer* v) {
    g_input_stream_read_async(g_io_stream_get_input_stream(v->stream), v->buffer.data(), v->buffer.size(),
                              G_PRIORITY_DEFAULT, nullptr, &onRead, v);
}

void onWritten(GObject* source, GAsyncResult* result, gpointer data) {
    auto* v = static_cast<Viewer*>(data);
    GError* error = nullptr;
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, &error)) {
        v->error = error ? error->message : "write failed";
        if (error) g_error_free(error);
        return;
    }
    readMore(v);
}

void onConnected(GObject* source, GAsyncResult* result, gpointer data) {
    auto* v = static_cast<Viewer*>(data);
    GError* error = nullptr;
    v->plain = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
    if (!v->plain) {
        v->error = error ? error->message : "connect failed";
        if (error) g_error_free(error);
        return;
    }
    // GSocketClient with tls=TRUE returns a GTcpWrapperConnection around the TLS connection.
    v->stream = G_IO_STREAM(v->plain);
    g_output_stream_write_all_async(g_io_stream_get_output_stream(v->stream), v->request.data(), v->request.size(),
                                    G_PRIORITY_DEFAULT, nullptr, &onWritten, v);
}

void runLoop(GMainContext* context, int ms) {
    const int64_t end = g_get_monotonic_time() + int64_t(ms) * 1000;
    while (g_get_monotonic_time() < end) {
        GSource* tick = g_timeout_source_new(20);
        g_source_set_callback(tick, [](gpointer) -> gboolean { return G_SOURCE_REMOVE; }, nullptr, nullptr);
        g_source_attach(tick, context);
        g_main_context_iteration(context, TRUE);
        g_source_destroy(tick);
        g_source_unref(tick);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    raiseOpenFilesLimit();  // every viewer is a socket

    GMainContext* context = g_main_context_default();
    GSocketClient* client = g_socket_client_new();
    if (a.tls) {
        g_socket_client_set_tls(client, TRUE);
        // Deprecated in GLib 2.72 but the only client-wide switch: the bench's own self-signed service.
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        g_socket_client_set_tls_validation_flags(client, GTlsCertificateFlags(0));
        G_GNUC_END_IGNORE_DEPRECATIONS
    }
    std::vector<std::unique_ptr<Viewer>> viewers;
    for (int i = 0; i < a.viewers; ++i) {
        auto v = std::make_unique<Viewer>();
        Viewer* raw = v.get();
        v->reader = std::make_unique<MultipartReader>([raw](const Part&) { ++raw->frames; }, false);
        v->request = "GET /api/cameras/" + a.camera + "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        g_socket_client_connect_to_host_async(client, "127.0.0.1", guint16(a.port), nullptr, &onConnected, raw);
        viewers.push_back(std::move(v));
    }
    runLoop(context, int(a.warmup * 1000));
    std::vector<uint64_t> atStart;
    for (auto& v : viewers) atStart.push_back(v->frames);
    const double cpu0 = a.pid ? processCpuSeconds(a.pid) : 0;
    const int64_t t0 = g_get_monotonic_time();
    runLoop(context, int(a.duration * 1000));
    const double wall = double(g_get_monotonic_time() - t0) / 1e6;
    const double cpu1 = a.pid ? processCpuSeconds(a.pid) : 0;
    std::vector<double> fps;
    size_t failed = 0;
    for (size_t i = 0; i < viewers.size(); ++i) {
        if (!viewers[i]->error.empty() || viewers[i]->closed) {
            if (!failed) std::fprintf(stderr, "viewer %zu: %s\n", i, viewers[i]->error.empty() ? "closed" : viewers[i]->error.c_str());
            ++failed;
        }
        fps.push_back(double(viewers[i]->frames - atStart[i]) / wall);
    }
    std::printf("viewers=%d tls=%d window=%.1fs failed=%zu\n", a.viewers, a.tls ? 1 : 0, wall, failed);
    std::printf("fps_min=%.2f fps_median=%.2f\n", percentile(fps, 0), percentile(fps, 0.5));
    if (a.pid) std::printf("service_cpu_percent=%.1f\n", 100.0 * (cpu1 - cpu0) / wall);
    std::fflush(stdout);
    std::_Exit(failed ? 1 : 0);  // the connections close with the process
}

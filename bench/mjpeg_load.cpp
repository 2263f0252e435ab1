// camrelay-mjpeg-load: N real viewers against a running camrelay, MJPEG by
// default or WebSocket (--ws json|binary: /api/cameras/{camera}/ws?format=...).
//   camrelay-mjpeg-load --port 8080 --camera demo --viewers 100 --warmup 3 --duration 10 [--pid PID] [--ws binary]
// Reports per-viewer fps (min, median), time to first frame p50/p99, delivery
// latency (arrival minus X-Timestamp, i.e. capture to viewer) p50/p99, and,
// with --pid, the service's CPU% over the measured window and its peak RSS.
#include "load_options.h"
#include "service_process.h"
#include "http_client.h"
#include "json_query.h"
#include "viewer_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

using namespace camrelay::testing;

namespace {

struct Args : LoadOptions {
    int viewers = 1;
    std::string query;
    std::string ws;  // empty: MJPEG; json or binary: WebSocket
    int stalled = 0;  // extra viewers that never read (4 KiB receive window)
};

long statusKiB(int pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key) + 1);
    return 0;
}

Args parse(int argc, char** argv) {
    Args a;
    parseLoadOptions(argc, argv, a, [&a](const std::string& k, const std::string& v) {
        if (k == "--viewers") a.viewers = std::stoi(v);
        else if (k == "--query") a.query = v;
        else if (k == "--ws") a.ws = v;
        else if (k == "--stalled") a.stalled = std::stoi(v);
        else return false;
        return true;
    });
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    raiseOpenFilesLimit();  // every viewer is a socket

    const std::string base = "/api/cameras/" + a.camera;
    ViewerPool pool = a.ws.empty() ? ViewerPool(a.port, base + "/stream" + a.query)
                                   : ViewerPool(a.port, base + "/ws?format=" + a.ws + a.query, false, 0, StreamKind::WebSocket);
    pool.open(size_t(a.viewers));
    pool.run(int(a.warmup * 1000));

    // Stalled viewers join after the warm-up and never read: what they cost
    // the service is the RSS growth over the window (--pid).
    const long rssBeforeStalled = a.pid ? statusKiB(a.pid, "VmRSS:") : 0;
    const StreamKind kind = a.ws.empty() ? StreamKind::Mjpeg : StreamKind::WebSocket;
    ViewerPool stalled(a.port, a.ws.empty() ? base + "/stream" : base + "/ws?format=" + a.ws, false, 4096, kind);
    if (a.stalled) {
        stalled.open(size_t(a.stalled));
        for (size_t i = 0; i < stalled.size(); ++i) stalled.pause(i, true);
    }

    std::vector<uint64_t> framesAtStart;
    std::vector<size_t> latencyAtStart;
    for (size_t i = 0; i < pool.size(); ++i) {
        framesAtStart.push_back(pool.stats(i).frames);
        latencyAtStart.push_back(pool.stats(i).latencyUs.size());
    }
    const double cpu0 = a.pid ? processCpuSeconds(a.pid) : 0;
    const int64_t t0 = monotonicUs();
    pool.run(int(a.duration * 500));
    // Mid-window (before limits.client-timeout closes stalled viewers): what
    // the service holds for its slowest WebSocket viewer.
    double heldBytes = -1;
    if (a.stalled && !a.ws.empty()) heldBytes = jsonNumber(httpRequest(a.port, "GET", "/health").body, "$.websocket.max_viewer_pending_bytes");
    pool.run(int(a.duration * 500));
    const double wall = double(monotonicUs() - t0) / 1e6;
    const double cpu1 = a.pid ? processCpuSeconds(a.pid) : 0;

    std::vector<double> fps, firstFrameMs, latencyMs;
    size_t failed = 0;
    for (size_t i = 0; i < pool.size(); ++i) {
        const ViewerStats& s = pool.stats(i);
        if (!s.error.empty() || s.closed) ++failed;
        fps.push_back(double(s.frames - framesAtStart[i]) / wall);
        if (s.firstFrameUs >= 0) firstFrameMs.push_back(double(s.firstFrameUs - s.startUs) / 1000);
        for (size_t k = latencyAtStart[i]; k < s.latencyUs.size(); ++k) latencyMs.push_back(double(s.latencyUs[k]) / 1000);
    }
    uint64_t bytes = 0, frames = 0;
    for (size_t i = 0; i < pool.size(); ++i) bytes += pool.stats(i).bytes, frames += pool.stats(i).frames;
    std::printf("viewers=%d window=%.1fs failed=%zu mean_message_kib=%.1f\n", a.viewers, wall, failed,
                frames ? double(bytes) / double(frames) / 1024 : 0.0);
    std::printf("fps_min=%.2f fps_median=%.2f\n", percentile(fps, 0), percentile(fps, 0.5));
    std::printf("first_frame_ms_p50=%.1f first_frame_ms_p99=%.1f (of %zu)\n", percentile(firstFrameMs, 0.5),
                percentile(firstFrameMs, 0.99), firstFrameMs.size());
    std::printf("latency_ms_p50=%.1f latency_ms_p99=%.1f\n", percentile(latencyMs, 0.5), percentile(latencyMs, 0.99));
    if (a.pid) {
        std::printf("service_cpu_percent=%.1f service_peak_rss_mib=%.1f service_rss_mib=%.1f\n",
                    100.0 * (cpu1 - cpu0) / wall, statusKiB(a.pid, "VmHWM:") / 1024.0, statusKiB(a.pid, "VmRSS:") / 1024.0);
        if (a.stalled)
            std::printf("stalled_viewers=%d service_rss_growth_kib=%ld\n", a.stalled, statusKiB(a.pid, "VmRSS:") - rssBeforeStalled);
    }
    if (heldBytes >= 0 && frames) {
        const double meanMessage = double(bytes) / double(frames);
        std::printf("stalled_viewer_held_kib=%.1f stalled_viewer_held_frames=%.2f\n", heldBytes / 1024, heldBytes / meanMessage);
    }
    return failed ? 1 : 0;
}

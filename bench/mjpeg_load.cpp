// camrelay-mjpeg-load: N real MJPEG viewers against a running camrelay.
//   camrelay-mjpeg-load --port 8080 --camera demo --viewers 100 --warmup 3 --duration 10 [--pid PID]
// Reports per-viewer fps (min, median), time to first frame p50/p99, delivery
// latency (arrival minus X-Timestamp, i.e. capture to viewer) p50/p99, and,
// with --pid, the service's CPU% over the measured window and its peak RSS.
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

struct Args {
    int port = 8080;
    std::string camera = "demo";
    int viewers = 1;
    double warmup = 3;
    double duration = 10;
    int pid = 0;
    std::string query;
};

double cpuSeconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

long statusKiB(int pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key) + 1);
    return 0;
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--port") a.port = std::stoi(v);
        else if (k == "--camera") a.camera = v;
        else if (k == "--viewers") a.viewers = std::stoi(v);
        else if (k == "--warmup") a.warmup = std::stod(v);
        else if (k == "--duration") a.duration = std::stod(v);
        else if (k == "--pid") a.pid = std::stoi(v);
        else if (k == "--query") a.query = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            std::exit(2);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);

    ViewerPool pool(a.port, "/api/cameras/" + a.camera + "/stream" + a.query);
    pool.open(size_t(a.viewers));
    pool.run(int(a.warmup * 1000));

    std::vector<uint64_t> framesAtStart;
    std::vector<size_t> latencyAtStart;
    for (size_t i = 0; i < pool.size(); ++i) {
        framesAtStart.push_back(pool.stats(i).frames);
        latencyAtStart.push_back(pool.stats(i).latencyUs.size());
    }
    const double cpu0 = a.pid ? cpuSeconds(a.pid) : 0;
    const int64_t t0 = monotonicUs();
    pool.run(int(a.duration * 1000));
    const double wall = double(monotonicUs() - t0) / 1e6;
    const double cpu1 = a.pid ? cpuSeconds(a.pid) : 0;

    std::vector<double> fps, firstFrameMs, latencyMs;
    size_t failed = 0;
    for (size_t i = 0; i < pool.size(); ++i) {
        const ViewerStats& s = pool.stats(i);
        if (!s.error.empty() || s.closed) ++failed;
        fps.push_back(double(s.frames - framesAtStart[i]) / wall);
        if (s.firstFrameUs >= 0) firstFrameMs.push_back(double(s.firstFrameUs - s.startUs) / 1000);
        for (size_t k = latencyAtStart[i]; k < s.latencyUs.size(); ++k) latencyMs.push_back(double(s.latencyUs[k]) / 1000);
    }
    std::printf("viewers=%d window=%.1fs failed=%zu\n", a.viewers, wall, failed);
    std::printf("fps_min=%.2f fps_median=%.2f\n", percentile(fps, 0), percentile(fps, 0.5));
    std::printf("first_frame_ms_p50=%.1f first_frame_ms_p99=%.1f (of %zu)\n", percentile(firstFrameMs, 0.5),
                percentile(firstFrameMs, 0.99), firstFrameMs.size());
    std::printf("latency_ms_p50=%.1f latency_ms_p99=%.1f\n", percentile(latencyMs, 0.5), percentile(latencyMs, 0.99));
    if (a.pid) {
        std::printf("service_cpu_percent=%.1f service_peak_rss_mib=%.1f service_rss_mib=%.1f\n",
                    100.0 * (cpu1 - cpu0) / wall, statusKiB(a.pid, "VmHWM:") / 1024.0, statusKiB(a.pid, "VmRSS:") / 1024.0);
    }
    return failed ? 1 : 0;
}

// camrelay-whep-load: N real WebRTC peers (GStreamer webrtcbin through WHEP,
// tests/support/whep_client) against a running camrelay.
//   camrelay-whep-load --port 8080 --camera demo --peers 20 --warmup 3 --duration 10 [--pid PID]
// Reports per-peer decoded fps (min, median), time from POST to the first
// decoded frame (p50, max), capture-to-decoder latency p50/p99 over every
// decoded frame (the ntp-64 RTP header extension carries when the service got
// each access unit from the source; this machine's clock decodes it), and,
// with --pid, the service's CPU% over the measured window.
#include "load_options.h"
#include "service_process.h"
#include "whep_client.h"

#include <gst/gst.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace camrelay::testing;

namespace {

struct Args : LoadOptions {
    int peers = 1;
};

Args parse(int argc, char** argv) {
    Args a;
    parseLoadOptions(argc, argv, a, [&a](const std::string& k, const std::string& v) {
        if (k != "--peers") return false;
        a.peers = std::stoi(v);
        return true;
    });
    return a;
}

double at(std::vector<double> v, double p) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    gst_init(&argc, &argv);
    const Args a = parse(argc, argv);
    raiseOpenFilesLimit();
    std::vector<std::unique_ptr<WhepClient>> peers;
    size_t refused = 0;
    for (int i = 0; i < a.peers; ++i) {
        auto peer = std::make_unique<WhepClient>(a.port, a.camera);
        const int status = peer->connect().status;
        if (status == 201) peers.push_back(std::move(peer));
        else ++refused, std::fprintf(stderr, "peer %d: POST answered %d\n", i, status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(int(a.warmup * 1000)));
    std::vector<uint64_t> framesAtStart;
    std::vector<size_t> latencyAtStart;
    for (auto& p : peers) {
        framesAtStart.push_back(p->frames());
        latencyAtStart.push_back(p->latenciesMs().size());
    }
    const double cpu0 = a.pid ? processCpuSeconds(a.pid) : 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(int(a.duration * 1000)));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu1 = a.pid ? processCpuSeconds(a.pid) : 0;

    std::vector<double> fps, firstFrame, latency;
    for (size_t i = 0; i < peers.size(); ++i) {
        fps.push_back(double(peers[i]->frames() - framesAtStart[i]) / wall);
        if (peers[i]->firstFrameSeconds() >= 0) firstFrame.push_back(peers[i]->firstFrameSeconds() * 1000);
        const std::vector<double> l = peers[i]->latenciesMs();
        latency.insert(latency.end(), l.begin() + long(std::min(latencyAtStart[i], l.size())), l.end());
    }
    std::printf("peers=%zu refused=%zu fps_min=%.1f fps_median=%.1f first_frame_ms_p50=%.0f first_frame_ms_max=%.0f "
                "latency_ms_p50=%.1f latency_ms_p99=%.1f latency_samples=%zu",
                peers.size(), refused, at(fps, 0), at(fps, 0.5), at(firstFrame, 0.5), at(firstFrame, 1.0),
                at(latency, 0.5), at(latency, 0.99), latency.size());
    if (a.pid) std::printf(" service_cpu=%.1f%%", 100 * (cpu1 - cpu0) / wall);
    std::printf("\n");
    for (auto& p : peers) p->close();
    return peers.empty() ? 1 : 0;
}

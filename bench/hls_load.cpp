// camrelay-hls-load: N live HLS viewers (tests/support/hls_clients.h) against
// camrelay directly or through a cache (nginx) in front of it.
//   camrelay-hls-load --port 8080 --camera demo --clients 200 --warmup 4 --duration 20
//                     [--origin-port 8080] [--pid CAMRELAY_PID] [--nginx-pids PID,PID...]
// --port is where the clients go (camrelay, or nginx); --origin-port is
// camrelay's own port for /metrics (default: --port). Prints ONE JSON line:
// what the clients got over the whole run, and over the measured window
// (after the warm-up) camrelay's CPU %, nginx's CPU % (sum of the given pids:
// its workers), and how many playlist/segment requests reached camrelay per
// segment it produced.
#include "hls_clients.h"
#include "load_options.h"
#include "service_process.h"
#include "viewer_pool.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

using namespace camrelay::testing;

namespace {

struct Args : LoadOptions {
    Args() {
        warmup = 4;
        duration = 20;
    }
    int originPort = 0;  // camrelay's own port when --port is nginx's; 0: --port
    int clients = 1;
    std::vector<int> nginxPids;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "camrelay-hls-load: %s\nusage: camrelay-hls-load --port P --camera ID --clients N --warmup S "
                 "--duration S [--origin-port P] [--pid PID] [--nginx-pids PID,PID]\n",
                 why.c_str());
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    parseLoadOptions(argc, argv, a, [&a](const std::string& k, const std::string& v) {
        if (k == "--origin-port") a.originPort = std::stoi(v);
        else if (k == "--clients") a.clients = std::stoi(v);
        else if (k == "--nginx-pids") {
            std::istringstream in(v);
            std::string one;
            while (std::getline(in, one, ','))
                if (!one.empty()) a.nginxPids.push_back(std::stoi(one));
        } else return false;
        return true;
    });
    if (a.clients < 1 || a.duration <= 0) usage("--clients and --duration must be positive");
    if (!a.originPort) a.originPort = a.port;
    return a;
}

double cpuOf(const std::vector<int>& pids) {
    double total = 0;
    for (int pid : pids) total += processCpuSeconds(pid);
    return total;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    raiseOpenFilesLimit();  // every client is a socket

    HlsClients clients(a.port, "/api/cameras/" + a.camera + "/hls/index.m3u8", size_t(a.clients));
    clients.run(int(a.warmup * 1000));

    HlsOriginCounts before, after;
    try {
        before = readHlsCounts(a.originPort, a.camera);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "camrelay-hls-load: /metrics on port %d: %s\n", a.originPort, e.what());
    }
    const double cpu0 = a.pid ? processCpuSeconds(a.pid) : 0, nginx0 = cpuOf(a.nginxPids);
    const int64_t t0 = monotonicUs();
    clients.run(int(a.duration * 1000));
    const double wall = double(monotonicUs() - t0) / 1e6;
    const double cpu1 = a.pid ? processCpuSeconds(a.pid) : 0, nginx1 = cpuOf(a.nginxPids);
    try {
        after = readHlsCounts(a.originPort, a.camera);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "camrelay-hls-load: /metrics on port %d: %s\n", a.originPort, e.what());
    }

    uint64_t segments = 0, gaps = 0, errors = 0, bytes = 0, polls = 0, hits = 0, withGaps = 0, following = 0;
    std::vector<double> listedMs;
    std::string firstError;
    for (size_t i = 0; i < clients.size(); ++i) {
        const HlsClientStats& s = clients.stats(i);
        segments += s.sequences.size();
        gaps += s.gaps;
        errors += s.errors;
        bytes += s.bytes;
        polls += s.playlistPolls;
        withGaps += s.gaps ? 1 : 0;
        following += s.following ? 1 : 0;
        const auto hit = s.cacheStatus.find("HIT");
        if (hit != s.cacheStatus.end()) hits += hit->second;
        for (int64_t us : s.listedToReceivedUs) listedMs.push_back(double(us) / 1000);
        if (firstError.empty()) firstError = s.firstError;
    }
    const double produced = after.segmentsProduced - before.segmentsProduced;
    const double segmentRequests = after.segmentRequests - before.segmentRequests;
    const double playlistRequests = after.playlistRequests - before.playlistRequests;
    std::string quotedError;
    for (char ch : firstError) {
        if (ch == '"' || ch == '\\') quotedError += '\\';
        quotedError += (ch >= 0x20) ? ch : ' ';
    }
    std::printf("{\"clients\":%d,\"following\":%llu,\"window_s\":%.2f,\"segments_received\":%llu,\"segment_cache_hits\":%llu,"
                "\"clients_with_gaps\":%llu,\"gaps\":%llu,\"errors\":%llu,\"bytes\":%llu,\"playlist_polls\":%llu,"
                "\"listed_to_received_ms_p50\":%.1f,\"listed_to_received_ms_p99\":%.1f,"
                "\"camrelay_cpu_pct\":%.1f,\"nginx_cpu_pct\":%.1f,\"origin_segments_produced\":%.0f,"
                "\"origin_segment_requests\":%.0f,\"origin_playlist_requests\":%.0f,"
                "\"origin_segment_requests_per_segment\":%.2f,\"first_error\":\"%s\"}\n",
                a.clients, (unsigned long long)following, wall, (unsigned long long)segments, (unsigned long long)hits,
                (unsigned long long)withGaps, (unsigned long long)gaps, (unsigned long long)errors,
                (unsigned long long)bytes, (unsigned long long)polls, percentile(listedMs, 0.5),
                percentile(listedMs, 0.99), a.pid ? 100 * (cpu1 - cpu0) / wall : -1.0,
                a.nginxPids.empty() ? -1.0 : 100 * (nginx1 - nginx0) / wall, produced, segmentRequests,
                playlistRequests, produced > 0 ? segmentRequests / produced : 0.0, quotedError.c_str());
    return 0;
}

#include "metrics.h"

#include "core/files.h"
#include "core/gobject_ptr.h"
#include "core/log.h"
#include "http/access_rules.h"
#include "http/json.h"
#include "http/request.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>

namespace camrelay {

namespace {

constexpr const char* kCounterKey = "camrelay-http-request-counter";
constexpr CameraState kStates[] = {CameraState::Stopped, CameraState::Idle,    CameraState::Starting, CameraState::Live,
                                   CameraState::Stalled, CameraState::Reconnecting, CameraState::Failed};

// Requests by route group and status. Bounded: the groups are the access
// rules' shapes, the statuses those the service answers.
class HttpRequestCounter {
public:
    // Lives as long as the server (the /metrics handler's data), so the
    // handlers are never disconnected: the server drops its signal handlers
    // (dispose) before it frees its route handlers' data (finalize).
    explicit HttpRequestCounter(SoupServer* server) {
        g_signal_connect(server, "request-started", G_CALLBACK(&HttpRequestCounter::onStarted), this);
        g_signal_connect(server, "request-finished", G_CALLBACK(&HttpRequestCounter::onFinished), this);
        g_signal_connect(server, "request-aborted", G_CALLBACK(&HttpRequestCounter::onAborted), this);
    }
    HttpRequestCounter(const HttpRequestCounter&) = delete;
    HttpRequestCounter& operator=(const HttpRequestCounter&) = delete;

    void count(SoupServerMessage* msg, unsigned status) {
        GUri* uri = soup_server_message_get_uri(msg);
        const char* path = uri ? g_uri_get_path(uri) : nullptr;
        // "/?action=stream" is mjpg-streamer's URL, not the page: its group needs the action.
        std::string action;
        const char* query = uri ? g_uri_get_query(uri) : nullptr;
        if (path && g_str_equal(path, "/") && query) {
            GUniquePtr<GHashTable> form(soup_form_decode(query));
            if (const char* value = static_cast<const char*>(g_hash_table_lookup(form.get(), "action"))) action = value;
        }
        const char* route = classifyRoute(path ? path : "", action).rule.route;
        if (status < 100 || status > 599) status = 0;  // never a label from elsewhere
        ++counts_[{route, status}];
    }
    const std::map<std::pair<std::string, unsigned>, uint64_t>& counts() const { return counts_; }

private:
    static void onStarted(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept {
        // How countStolenRequest() finds the counter (the message outlives no server).
        g_object_set_data(G_OBJECT(msg), kCounterKey, self);
    }
    static void onFinished(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept {
        countNoThrow(self, msg, soup_server_message_get_status(msg));
    }
    // The client went away, or the answer was a 500. No status: no answer was made.
    static void onAborted(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept {
        if (const unsigned status = soup_server_message_get_status(msg)) countNoThrow(self, msg, status);
    }
public:
    static void countNoThrow(gpointer self, SoupServerMessage* msg, unsigned status) noexcept {
        try {
            static_cast<HttpRequestCounter*>(self)->count(msg, status);
        } catch (...) {
            logWarning("", "metrics: a request was not counted: " + currentExceptionText());
        }
    }

private:
    std::map<std::pair<std::string, unsigned>, uint64_t> counts_;
};

// A small /proc file (at most 4 KiB of it: bounded whatever the kernel says).
std::optional<std::string> readProcFile(const char* path) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::array<char, 4096> buffer;
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    close(fd);
    if (n <= 0) return std::nullopt;
    return std::string(buffer.data(), size_t(n));
}

// The machine's boot time (btime in /proc/stat, after the per-CPU and
// interrupt lines: too long for readProcFile), read once.
std::optional<double> bootTimeSeconds() {
    static const std::optional<double> boot = []() -> std::optional<double> {
        std::string error;
        const std::optional<std::string> stat = readFile("/proc/stat", &error);
        const size_t at = stat ? stat->find("\nbtime ") : std::string::npos;
        if (at == std::string::npos) {
            logWarning("", "metrics: no boot time in /proc/stat " + error);
            return std::nullopt;
        }
        return g_ascii_strtod(stat->c_str() + at + 7, nullptr);
    }();
    return boot;
}

struct ProcessFigures {
    std::optional<double> cpuSeconds, startTimeSeconds;
    std::optional<uint64_t> residentBytes, openFds, maxFds;
};

ProcessFigures readProcess() {
    ProcessFigures p;
    const long ticks = sysconf(_SC_CLK_TCK);
    // /proc/self/stat: fields after the command name, which may hold spaces and ')'.
    if (auto stat = readProcFile("/proc/self/stat"); stat && ticks > 0) {
        const size_t close = stat->rfind(')');
        if (close != std::string::npos) {
            std::vector<std::string> fields;  // fields[0] is field 3 (state)
            gchar** parts = g_strsplit(stat->c_str() + close + 1, " ", 64);
            for (gchar** f = parts; *f; ++f)
                if (**f) fields.emplace_back(*f);
            g_strfreev(parts);
            if (fields.size() > 19) {
                const double utime = g_ascii_strtod(fields[11].c_str(), nullptr);  // field 14
                const double stime = g_ascii_strtod(fields[12].c_str(), nullptr);  // field 15
                p.cpuSeconds = (utime + stime) / double(ticks);
                const double startTicks = g_ascii_strtod(fields[19].c_str(), nullptr);  // field 22, since boot
                if (const std::optional<double> boot = bootTimeSeconds()) p.startTimeSeconds = *boot + startTicks / double(ticks);
            }
        }
    }
    if (auto statm = readProcFile("/proc/self/statm")) {
        unsigned long long size = 0, resident = 0;
        if (sscanf(statm->c_str(), "%llu %llu", &size, &resident) == 2)
            p.residentBytes = uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE));
    }
    if (DIR* dir = opendir("/proc/self/fd")) {
        uint64_t n = 0;
        while (const dirent* e = readdir(dir))
            if (e->d_name[0] != '.') ++n;
        closedir(dir);
        p.openFds = n - 1;  // not the one opendir() holds
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) p.maxFds = uint64_t(limit.rlim_cur);
    return p;
}

struct OutputFigures {
    const char* output;
    uint64_t framesSent, bytesSent, framesDropped, viewers;
};

// HLS (issue 14): segments made, playlists and segments served.
struct HlsFigures {
    bool on = false;
    uint64_t segments = 0, playlistRequests = 0, segmentRequests = 0;
};

struct CameraFigures {
    std::string id, name;
    CameraState state;
    CameraStats stats;
    std::vector<OutputFigures> outputs;
    uint64_t webrtcPeers = 0, webrtcPeersTotal = 0;
    HlsFigures hls;
};

std::vector<CameraFigures> collectCameras(const Registry& registry, Outputs& outputs) {
    std::vector<CameraFigures> all;
    for (const CameraPtr& camera : registry.cameras()) {
        CameraFigures c{camera->id(), camera->config().name, camera->state(), camera->stats(), {}};
        const MjpegStats mjpeg = outputs.mjpegStats(c.id);
        c.outputs.push_back({"mjpeg", mjpeg.framesSent, mjpeg.bytesSent, mjpeg.framesDropped, uint64_t(mjpeg.viewers)});
        const StreamTally ws = outputs.websockets().cameraTally(c.id);
        c.outputs.push_back({"websocket", ws.framesSent, ws.bytesSent, ws.framesDropped,
                             uint64_t(outputs.websockets().viewers(c.id))});
        if (RtspRestream* rtsp = outputs.rtsp(); rtsp && camera->configValid()) {
            const RtspStats r = rtsp->stats(c.id);
            c.outputs.push_back({"rtsp", r.framesSent, r.bytesSent, r.framesDropped, r.viewers});
        }
        WhepCameraFigures webrtc;  // issue 14
        if (WhepPeers* whep = outputs.whep()) {
            webrtc = whep->figures(c.id);
            c.outputs.push_back({"webrtc", webrtc.framesSent, webrtc.bytesSent, webrtc.framesDropped, webrtc.peers});
        }
        c.webrtcPeers = webrtc.peers;
        c.webrtcPeersTotal = webrtc.peersTotal;
        // Recording: only for a camera that records or has recorded (every camera has a recorder).
        if (const Recorder* recorder = outputs.recorders().find(c.id)) {
            const RecorderTotals t = recorder->totals();
            const RecordingStatus s = recorder->status();
            if (s.active || s.wanted || t.frames || camera->config().record.mode == RecordMode::Always)
                c.outputs.push_back({"recording", t.frames, t.bytes, t.dropped, uint64_t(s.active ? 1 : 0)});
        }
        if (const HlsOutput* hls = outputs.hls(c.id))
            c.hls = {true, hls->segmentsTotal(), hls->playlistRequests(), hls->segmentRequests()};
        all.push_back(std::move(c));
    }
    return all;
}

std::string formatValue(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[G_ASCII_DTOSTR_BUF_SIZE];
    return g_ascii_dtostr(buffer, sizeof buffer, value);  // locale-independent, round-trips
}

std::string render(const Registry& registry, Outputs& outputs, const FrontDoor& door, const HttpRequestCounter& requests) {
    const std::vector<CameraFigures> cameras = collectCameras(registry, outputs);
    MetricsText m;
    m.family("camrelay_camera_info", "gauge", "A camera (always 1), with its display name.");
    for (const auto& c : cameras) m.sample({{"camera", c.id}, {"name", c.name}}, uint64_t(1));
    m.family("camrelay_camera_state", "gauge", "1 for the camera's current state, 0 for the others.");
    for (const auto& c : cameras)
        for (CameraState s : kStates) m.sample({{"camera", c.id}, {"state", toString(s)}}, uint64_t(c.state == s));
    m.family("camrelay_camera_fps", "gauge", "Source frames per second, measured over the last two seconds.");
    for (const auto& c : cameras) m.sample({{"camera", c.id}}, c.stats.fps);
    m.family("camrelay_camera_source_frames_total", "counter",
             "Frames from the camera's source in this run (restarts at 0 when the camera starts; placeholders not counted).");
    for (const auto& c : cameras) m.sample({{"camera", c.id}}, c.stats.frames);
    m.family("camrelay_camera_reconnects_total", "counter", "Reconnect attempts since the camera was started.");
    for (const auto& c : cameras) m.sample({{"camera", c.id}}, c.stats.reconnects);
    m.family("camrelay_camera_last_frame_age_seconds", "gauge",
             "Time since the last source frame (no sample before the first frame).");
    for (const auto& c : cameras)
        if (c.stats.lastFrameAgeSec >= 0) m.sample({{"camera", c.id}}, c.stats.lastFrameAgeSec);

    struct OutputFamily {
        const char* name;
        const char* type;
        const char* help;
        uint64_t OutputFigures::*field;
    };
    static const OutputFamily kOutputFamilies[] = {
        {"camrelay_output_frames_sent_total", "counter", "Frames written whole to viewers (rtsp: into the shared media; recording: to the muxer).", &OutputFigures::framesSent},
        {"camrelay_output_bytes_sent_total", "counter", "Frame bytes written to viewers (mjpeg: with multipart headers; rtsp: H.264 into the shared media; recording: file bytes).", &OutputFigures::bytesSent},
        {"camrelay_output_frames_dropped_total", "counter", "Frames dropped because a viewer, the RTSP media or the disk was behind (newest frame wins).", &OutputFigures::framesDropped},
        {"camrelay_output_viewers", "gauge", "Viewers now (rtsp: sessions; recording: 1 while writing a file).", &OutputFigures::viewers},
    };
    for (const OutputFamily& f : kOutputFamilies) {
        m.family(f.name, f.type, f.help);
        for (const auto& c : cameras)
            for (const OutputFigures& o : c.outputs) m.sample({{"camera", c.id}, {"output", o.output}}, o.*f.field);
    }

    if (outputs.whep()) {
        m.family("camrelay_webrtc_peers", "gauge", "WebRTC (WHEP) peers now, answered or being answered.");
        for (const auto& c : cameras) m.sample({{"camera", c.id}}, c.webrtcPeers);
        m.family("camrelay_webrtc_peers_total", "counter", "WebRTC (WHEP) peers opened since the camera came.");
        for (const auto& c : cameras) m.sample({{"camera", c.id}}, c.webrtcPeersTotal);
    }
    m.family("camrelay_hls_segments_total", "counter", "HLS segments made (every pipeline run of the camera).");
    for (const auto& c : cameras)
        if (c.hls.on) m.sample({{"camera", c.id}}, c.hls.segments);
    m.family("camrelay_hls_requests_total", "counter",
             "HLS requests answered with a playlist (kind=playlist) or a segment (kind=segment) by camrelay itself.");
    for (const auto& c : cameras)
        if (c.hls.on) {
            m.sample({{"camera", c.id}, {"kind", "playlist"}}, c.hls.playlistRequests);
            m.sample({{"camera", c.id}, {"kind", "segment"}}, c.hls.segmentRequests);
        }

    const FrontDoorStats d = door.stats();
    m.family("camrelay_http_requests_total", "counter",
             "HTTP requests answered, by route group (the access rule's route shape) and status code.");
    for (const auto& [key, n] : requests.counts()) m.sample({{"route", key.first}, {"code", std::to_string(key.second)}}, n);
    m.family("camrelay_http_connections_open", "gauge", "Client connections open now (stolen viewers included).");
    m.sample({}, d.open);
    m.family("camrelay_http_connections_accepted_total", "counter", "Client connections accepted.");
    m.sample({}, d.accepted);
    m.family("camrelay_http_connections_refused_total", "counter", "Connections refused over a connection cap (503).");
    m.sample({}, d.refused);
    m.family("camrelay_http_connections_rejected_total", "counter", "Request heads rejected before routing (400, 413, 414, 431).");
    m.sample({}, d.rejected);
    m.family("camrelay_http_connections_timed_out_total", "counter", "Requests whose head or body did not arrive in time (408).");
    m.sample({}, d.timedOut);

    // A figure /proc did not give is left out rather than reported as 0.
    const auto optional = [&m](const char* name, const char* type, const char* help, const auto& value) {
        if (!value) return;
        m.family(name, type, help);
        m.sample({}, *value);
    };
    const ProcessFigures p = readProcess();
    optional("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", p.cpuSeconds);
    optional("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", p.residentBytes);
    optional("process_open_fds", "gauge", "Number of open file descriptors.", p.openFds);
    optional("process_max_fds", "gauge", "Maximum number of open file descriptors.", p.maxFds);
    optional("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
             p.startTimeSeconds);
    return m.text();
}

struct MetricsRoute {
    Registry& registry;
    Outputs& outputs;
    const FrontDoor& door;
    HttpRequestCounter requests;
};

}  // namespace

std::string escapeLabelValue(std::string_view value) {
    GUniquePtr<char> valid(g_utf8_make_valid(value.data(), gssize(value.size())));
    std::string out;
    for (const char* c = valid.get(); *c; ++c) {
        if (*c == '\\') out += "\\\\";
        else if (*c == '"') out += "\\\"";
        else if (*c == '\n') out += "\\n";
        else out += *c;
    }
    return out;
}

void MetricsText::family(const char* name, const char* type, const char* help) {
    family_ = name;
    // HELP escapes backslash and newline; these texts are ours and hold neither.
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void MetricsText::name(const Labels& labels) {
    text_ += family_;
    if (labels.empty()) return;
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
        if (i) text_ += ',';
        text_ += labels[i].first;
        text_ += "=\"";
        text_ += escapeLabelValue(labels[i].second);
        text_ += '"';
    }
    text_ += '}';
}

void MetricsText::sample(const Labels& labels, double value) {
    name(labels);
    text_ += ' ' + formatValue(value) + '\n';
}

void MetricsText::sample(const Labels& labels, uint64_t value) {
    name(labels);
    text_ += ' ' + std::to_string(value) + '\n';
}

void addMetricsRoutes(SoupServer* server, Registry& registry, Outputs& outputs, const FrontDoor& door) {
    soup_server_add_handler(
        server, "/metrics",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) noexcept {
            try {
                if (!g_str_equal(path, "/metrics"))
                    return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no route ") + path);
                if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
                auto* route = static_cast<MetricsRoute*>(data);
                std::string text = render(route->registry, route->outputs, route->door, route->requests);
                SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
                soup_message_headers_replace(headers, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                soup_message_headers_replace(headers, "Cache-Control", "no-store");
                soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
                const size_t size = text.size();
                auto* owned = new std::string(std::move(text));
                GBytes* bytes = g_bytes_new_with_free_func(owned->data(), size,
                                                           [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
                soup_message_body_append_bytes(soup_server_message_get_response_body(msg), bytes);
                g_bytes_unref(bytes);
            } catch (...) {
                const std::string what = currentExceptionText();
                logWarning("", "metrics: " + what);
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "the metrics could not be collected");
            }
        },
        new MetricsRoute{registry, outputs, door, HttpRequestCounter(server)},
        [](gpointer data) { delete static_cast<MetricsRoute*>(data); });
}

void countStolenRequest(SoupServerMessage* msg, unsigned status) {
    if (auto* counter = g_object_get_data(G_OBJECT(msg), kCounterKey)) HttpRequestCounter::countNoThrow(counter, msg, status);
}

}  // namespace camrelay

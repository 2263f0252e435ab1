// camrelay-soak: many short connections of every kind a client (or an attacker)
// makes, against a running camrelay, with one witness MJPEG viewer reading the
// whole time; the service's fds and RSS before, during and after.
//   camrelay-soak --port 8080 --pid PID [--connections 100000] [--kinds keepalive,mjpeg,...]
//                 [--concurrency 100] [--held 100] [--max-seconds 900] ...   (--help for all)
// Kinds (round-robin, so every kind runs throughout):
//   keepalive  GET /health or /api/cameras with Connection: keep-alive, read the response, client closes
//   mjpeg      GET /api/cameras/{camera}/stream, read one or two parts, close (unread bytes: RST)
//   snapshot   GET /api/cameras/{camera}/snapshot (HTTP/1.1 default keep-alive), read it, close
//   ws         /api/cameras/{camera}/ws?format=binary: handshake, one frame, then a close frame
//              (waiting up to 1 s for the answer) or a plain close, alternately
//   rst        connect, part of a request line, close with SO_LINGER 0 (RST)
//   halfopen   connect, half a request line, nothing more, close after --half-open-ms;
//              plus --held such connections left open until the load ends
//   slow       request line, then one header byte every --slow-interval-ms for --slow-ms, close
// A measurement, not a test: exits 0 whatever it finds (2 on bad options), and
// prints one summary line ending in TARGET MET or TARGET MISSED against issue 9's
// targets (no fd growth, RSS growth < 2 MiB, witness >= 29 fps in every 10 s window).
// Traffic goes to 127.0.0.1 only; every connection has a deadline and the run a maximum duration.
#include "service_process.h"
#include "multipart_reader.h"
#include "viewer_pool.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace camrelay::testing;

namespace {

enum Kind { KeepAlive, Mjpeg, Snapshot, WebSocket, Rst, HalfOpen, Slow, Held, KindCount };
const char* const kKindNames[KindCount] = {"keepalive", "mjpeg", "snapshot", "ws", "rst", "halfopen", "slow", "held"};

// Refused: connect() failed; Timeout: no complete answer by the deadline; Status: a
// status other than the one a healthy service gives; Reset/Eof: the service cut a
// connection that should have been answered; Malformed: an answer that does not parse.
enum ErrorKind { Refused, Timeout, Status, Reset, Eof, Malformed, ErrorCount };
const char* const kErrorNames[ErrorCount] = {"refused", "timeout", "status", "reset", "eof", "malformed"};

struct Args {
    int port = 8080;
    std::string camera = "demo";
    int pid = 0;
    long connections = 100000;
    std::vector<Kind> kinds = {KeepAlive, Mjpeg, Snapshot, WebSocket, Rst, HalfOpen, Slow};
    int concurrency = 100;
    int held = 100;
    double maxRate = 0;  // connections started per second, 0: as fast as the slots free up
    int timeoutMs = 5000;
    int halfOpenMs = 200;
    int slowIntervalMs = 100;
    int slowMs = 1000;
    double warmup = 3;
    double settle = 5;
    double sampleEvery = 2;
    double maxSeconds = 900;
    long abortErrors = 2000;  // refused+timeouts after which the load stops (service unusable)
    int sourceAddresses = 1;  // >1: bind clients to 127.0.0.2.. (per-address caps; still loopback)
};

[[noreturn]] void usage(const char* why, int status = 2) {
    std::fprintf(status ? stderr : stdout,
                 "camrelay-soak: %s\n"
                 "options: --port P --camera ID --pid PID --connections N --kinds k1,k2,...\n"
                 "  --concurrency N --held N --max-rate PER_S --timeout-ms MS --half-open-ms MS\n"
                 "  --slow-interval-ms MS --slow-ms MS --warmup S --settle S --sample-every S\n"
                 "  --max-seconds S --abort-errors N --source-addresses N\n"
                 "kinds: keepalive mjpeg snapshot ws rst halfopen slow (default: all)\n"
                 "defaults: --port 8080 --camera demo --connections 100000 --concurrency 100 --held 100\n"
                 "  --timeout-ms 5000 --half-open-ms 200 --slow-interval-ms 100 --slow-ms 1000 --warmup 3\n"
                 "  --settle 5 --sample-every 2 --max-seconds 900 --abort-errors 2000 (0: never)\n",
                 why);
    std::exit(status);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; i += 2) {
        std::string k = argv[i];
        if (k == "--help" || k == "-h") usage("a soak of short connections with a witness viewer", 0);
        if (i + 1 >= argc) usage(("missing value for " + k).c_str());
        std::string v = argv[i + 1];
        if (k == "--port") a.port = std::stoi(v);
        else if (k == "--camera") a.camera = v;
        else if (k == "--pid") a.pid = std::stoi(v);
        else if (k == "--connections") a.connections = std::stol(v);
        else if (k == "--concurrency") a.concurrency = std::max(1, std::stoi(v));
        else if (k == "--held") a.held = std::max(0, std::stoi(v));
        else if (k == "--max-rate") a.maxRate = std::stod(v);
        else if (k == "--timeout-ms") a.timeoutMs = std::max(100, std::stoi(v));
        else if (k == "--half-open-ms") a.halfOpenMs = std::max(0, std::stoi(v));
        else if (k == "--slow-interval-ms") a.slowIntervalMs = std::max(1, std::stoi(v));
        else if (k == "--slow-ms") a.slowMs = std::max(0, std::stoi(v));
        else if (k == "--warmup") a.warmup = std::stod(v);
        else if (k == "--settle") a.settle = std::stod(v);
        else if (k == "--sample-every") a.sampleEvery = std::max(0.2, std::stod(v));
        else if (k == "--max-seconds") a.maxSeconds = std::stod(v);
        else if (k == "--abort-errors") a.abortErrors = std::stol(v);
        else if (k == "--source-addresses") a.sourceAddresses = std::clamp(std::stoi(v), 1, 250);
        else if (k == "--kinds") {
            a.kinds.clear();
            std::stringstream list(v);
            std::string name;
            while (std::getline(list, name, ',')) {
                auto found = std::find_if(kKindNames, kKindNames + Slow + 1, [&](const char* n) { return name == n; });
                if (found == kKindNames + Slow + 1) usage(("unknown kind " + name).c_str());
                a.kinds.push_back(Kind(found - kKindNames));
            }
            if (a.kinds.empty()) usage("--kinds is empty");
        } else usage(("unknown option " + k).c_str());
    }
    if (std::find(a.kinds.begin(), a.kinds.end(), HalfOpen) == a.kinds.end()) a.held = 0;
    return a;
}

// --- the service, seen from /proc ---------------------------------------------------

long countFds(int pid) {
    DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!dir) return -1;
    long n = 0;
    while (dirent* e = readdir(dir))
        if (e->d_name[0] != '.') ++n;
    closedir(dir);
    return n;
}

long statusKiB(int pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key) + 1);
    return -1;
}

long openFilesLimit(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("Max open files", 0) == 0) return std::atol(line.c_str() + 14);
    return -1;
}

// Sockets on the service's port in CLOSE-WAIT (the peer closed, the service never did).
long closeWaitCount(int port) {
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);  // header
    long n = 0;
    char portHex[8];
    std::snprintf(portHex, sizeof portHex, ":%04X", port);
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        if (state == "08" && local.size() > 5 && local.compare(local.size() - 5, 5, portHex) == 0) ++n;
    }
    return n;
}

struct Sample {
    double t;
    long fds, rssKiB;
};

// --- the witness: one MJPEG viewer on its own thread ----------------------------------

class Witness {
public:
    Witness(int port, const std::string& camera)
        : pool_(port, "/api/cameras/" + camera + "/stream"), thread_([this] { loop(); }) {}
    ~Witness() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    void startMeasuring() { measuring_ = true; }
    // Frames per 10 s window counted by capture time (X-Timestamp) rather than arrival:
    // what the service delivered, whatever the load tool's own scheduling on a busy
    // machine did to the witness's reading (a starved reader catches up later from
    // its socket buffer, which arrival windows show as 15 fps then 50 fps). Call after finish().
    std::vector<double> captureWindows(double& lagP99Ms) const {
        std::vector<double> windows, lag;
        if (captured_.empty()) return windows;
        const int64_t start = measureWallUs_, end = captured_.back().first;
        // Like the arrival windows: a last window under 5 s is left out.
        for (int64_t w = start; end - w >= 5'000'000; w += 10'000'000) {
            const int64_t length = std::min<int64_t>(10'000'000, end - w);
            long n = 0;
            for (const auto& frame : captured_) n += frame.first >= w && frame.first < w + length;
            windows.push_back(double(n) * 1e6 / double(length));
        }
        for (const auto& frame : captured_) lag.push_back(double(frame.second) / 1000);
        lagP99Ms = percentile(lag, 0.99);
        return windows;
    }
    uint64_t frames() const { return frames_; }
    // Stops the witness; returns fps per 10 s window (a last window under 5 s is left out) and overall.
    std::vector<double> finish(double& overall, std::string& error) {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        std::lock_guard<std::mutex> lock(mutex_);
        overall = overall_;
        error = error_;
        return windows_;
    }

private:
    void loop() {
        pool_.onPart = [this](size_t, const Part& part) {
            if (measureWallUs_ && part.timestampUs >= measureWallUs_)
                captured_.emplace_back(part.timestampUs, wallUs() - part.timestampUs);
        };
        pool_.open(1);
        int64_t windowStart = 0, measureStart = 0;
        uint64_t windowFrames = 0, measureFrames = 0;
        auto closeWindow = [&](int64_t now, bool last) {
            const double seconds = double(now - windowStart) / 1e6;
            const uint64_t frames = pool_.stats(0).frames;
            std::lock_guard<std::mutex> lock(mutex_);
            if (!last || seconds >= 5) windows_.push_back(double(frames - windowFrames) / seconds);
            windowStart = now;
            windowFrames = frames;
            overall_ = double(frames - measureFrames) / (double(now - measureStart) / 1e6);
        };
        while (!stop_) {
            pool_.run(100);
            frames_ = pool_.stats(0).frames;
            const int64_t now = monotonicUs();
            if (measuring_ && !measureStart) {
                measureWallUs_ = wallUs();
                measureStart = windowStart = now;
                measureFrames = windowFrames = pool_.stats(0).frames;
            } else if (measureStart && now - windowStart >= 10'000'000) {
                closeWindow(now, false);
            }
        }
        if (measureStart) closeWindow(monotonicUs(), true);
        const ViewerStats& s = pool_.stats(0);
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = !s.error.empty() ? s.error : s.closed ? "closed by the service" : "";
    }

    ViewerPool pool_;
    std::atomic<bool> stop_{false}, measuring_{false};
    std::atomic<uint64_t> frames_{0};
    int64_t measureWallUs_ = 0;                            // witness thread; read after finish()
    std::vector<std::pair<int64_t, int64_t>> captured_;   // (X-Timestamp, arrival lag) per measured frame
    std::mutex mutex_;
    std::vector<double> windows_;
    double overall_ = 0;
    std::string error_;
    std::thread thread_;  // last: starts once the members above exist
};

// --- the load: one epoll loop, one small state machine per connection ----------------

enum class Phase { Connecting, Reading, Waiting, Dripping, Closing };

struct Conn {
    Kind kind;
    long index;  // which connection of its kind: picks the variant (path, parts, close style)
    int fd = -1;
    Phase phase = Phase::Connecting;
    int64_t deadlineUs = 0;  // an error (timeout) when reached in Connecting/Reading
    int64_t nextUs = 0;      // Waiting: close then; Dripping: next byte then
    int64_t dripEndUs = 0;
    size_t dripped = 0;
    std::string in;        // response bytes until the head (and for WebSocket, the frame) is parsed
    bool headDone = false;
    int status = 0;
    long bodyRemaining = -1;  // -1: until EOF (or chunked)
    bool chunked = false;
    std::unique_ptr<MultipartReader> multipart;
    int parts = 0;
};

struct Totals {
    long done[KindCount] = {};
    long errors[KindCount][ErrorCount] = {};
    long serverClosed[KindCount] = {};  // waiting/slow/held connections the service closed first
    long errorsTotal = 0;
    long unusable = 0;       // refusals and timeouts: the service not answering at all
    long firstErrorAt = -1;  // connections started when the first refusal or timeout happened
    std::string firstError;
};

class Load {
public:
    Load(const Args& args) : a_(args), epoll_(epoll_create1(EPOLL_CLOEXEC)) {}
    ~Load() {
        for (auto& c : conns_) ::close(c.first);
        ::close(epoll_);
    }

    // Starts one connection; false when connect() failed at once (counted as refused).
    bool start(Kind kind, long index, int64_t now) {
        auto c = std::make_unique<Conn>();
        c->kind = kind;
        c->index = index;
        c->deadlineUs = now + int64_t(a_.timeoutMs) * 1000;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return fail(*c, Refused, std::string("socket: ") + std::strerror(errno)), false;
        if (a_.sourceAddresses > 1) {
            sockaddr_in source{};
            source.sin_family = AF_INET;
            source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + uint32_t(started_ % a_.sourceAddresses));
            bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source);
        }
        ++started_;
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(uint16_t(a_.port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 && errno != EINPROGRESS) {
            const int e = errno;
            ::close(fd);
            return fail(*c, Refused, std::string("connect: ") + std::strerror(e)), false;
        }
        c->fd = fd;
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.fd = fd;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        conns_[fd] = std::move(c);
        return true;
    }

    // One turn of the loop: events for up to waitMs, then timers.
    void poll(int waitMs) {
        epoll_event events[256];
        const int n = epoll_wait(epoll_, events, 256, waitMs);
        for (int i = 0; i < n; ++i) {
            auto it = conns_.find(events[i].data.fd);
            if (it == conns_.end()) continue;
            Conn& c = *it->second;
            if (c.fd < 0) continue;  // closed earlier in this batch
            if (c.phase == Phase::Connecting) onConnected(c, events[i].events);
            else onReadable(c);
        }
        const int64_t now = monotonicUs();
        for (auto& entry : conns_) {
            Conn& c = *entry.second;
            if (c.fd < 0) continue;
            if ((c.phase == Phase::Connecting || c.phase == Phase::Reading) && now >= c.deadlineUs)
                fail(c, Timeout, "no answer within the timeout");
            else if (c.phase == Phase::Closing && now >= c.deadlineUs) finish(c);
            else if (c.phase == Phase::Waiting && c.kind != Held && now >= c.nextUs) finish(c);
            else if (c.phase == Phase::Dripping && now >= c.nextUs) drip(c, now);
        }
        reap();
    }

    // Closes the held connections (the end of the load).
    void closeHeld() {
        for (auto& entry : conns_)
            if (entry.second->fd >= 0 && entry.second->kind == Held) finish(*entry.second);
        reap();
    }
    void abortAll() {
        for (auto& entry : conns_)
            if (entry.second->fd >= 0 && entry.second->kind != Held)
                fail(*entry.second, Timeout, "run stopped (max duration or too many errors)");
        reap();
    }

    long activeNotHeld() const { return long(conns_.size()) - held_; }
    long started() const { return started_; }
    void countHeld() { ++held_; }
    const Totals& totals() const { return totals_; }

private:
    void send(Conn& c, const std::string& bytes) {
        // Requests are small: one send, or the service is not reading (counted when its answer times out).
        ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    void watchInput(Conn& c) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = c.fd;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void onConnected(Conn& c, uint32_t events) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error || (events & (EPOLLERR | EPOLLHUP)))
            return fail(c, Refused, std::string("connect: ") + std::strerror(error ? error : ECONNREFUSED));
        const std::string host = "Host: 127.0.0.1:" + std::to_string(a_.port) + "\r\n";
        const std::string camera = "/api/cameras/" + a_.camera;
        const int64_t now = monotonicUs();
        c.phase = Phase::Reading;
        watchInput(c);
        switch (c.kind) {
        case KeepAlive:
            send(c, std::string("GET ") + (c.index % 2 ? "/api/cameras" : "/health") + " HTTP/1.1\r\n" + host +
                        "Connection: keep-alive\r\nAccept: */*\r\n\r\n");
            break;
        case Mjpeg:
            c.multipart = std::make_unique<MultipartReader>([&c](const Part&) { ++c.parts; }, false);
            send(c, "GET " + camera + "/stream HTTP/1.1\r\n" + host + "Connection: keep-alive\r\n\r\n");
            break;
        case Snapshot:
            send(c, "GET " + camera + "/snapshot HTTP/1.1\r\n" + host + "\r\n");
            break;
        case WebSocket:
            send(c, "GET " + camera + "/ws?format=binary HTTP/1.1\r\n" + host +
                        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n\r\n");
            break;
        case Rst: {
            send(c, "GET /health HTTP/1.1\r\nHost: 127.");
            linger hard{1, 0};
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            finish(c);
            break;
        }
        case HalfOpen:
        case Held:
            send(c, "GET /hea");
            c.phase = Phase::Waiting;
            c.nextUs = now + int64_t(a_.halfOpenMs) * 1000;
            break;
        case Slow:
            send(c, "GET /health HTTP/1.1\r\n" + host);
            c.phase = Phase::Dripping;
            c.nextUs = now + int64_t(a_.slowIntervalMs) * 1000;
            c.dripEndUs = now + int64_t(a_.slowMs) * 1000;
            break;
        case KindCount:
            break;
        }
    }

    void drip(Conn& c, int64_t now) {
        if (now >= c.dripEndUs) return finish(c);
        static const std::string header = "X-Slow-Header: " + std::string(4096, 'a');
        send(c, std::string(1, header[c.dripped++ % header.size()]));
        c.nextUs = now + int64_t(a_.slowIntervalMs) * 1000;
    }

    void onReadable(Conn& c) {
        char buffer[65536];
        for (int round = 0; round < 16 && c.fd >= 0; ++round) {
            const ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            if (n <= 0) return onEnd(c, n < 0 ? errno : 0);
            onBytes(c, buffer, size_t(n));
        }
    }

    // The service closed (error 0) or reset the connection.
    void onEnd(Conn& c, int error) {
        switch (c.phase) {
        case Phase::Waiting:
        case Phase::Dripping:
            ++totals_.serverClosed[c.kind];
            return finish(c);
        case Phase::Closing:
            return finish(c);
        default:
            break;
        }
        if (!error && c.headDone && c.bodyRemaining < 0 && !c.chunked && c.kind != Mjpeg && c.kind != WebSocket)
            return complete(c);  // a body delimited by the close
        fail(c, error ? Reset : Eof, error ? std::strerror(error) : "closed before a whole answer");
    }

    void onBytes(Conn& c, const char* data, size_t size) {
        if (c.phase == Phase::Closing) return;  // draining until the service's close
        if (c.phase != Phase::Reading) return;  // an answer to a half request (a 400/408): ignored
        if (c.kind == Mjpeg) {
            if (!c.multipart->feed(data, size)) return fail(c, Malformed, c.multipart->error());
            if (c.multipart->headDone() && c.multipart->status() != 200) return fail(c, Status, "status " + std::to_string(c.multipart->status()));
            if (c.parts >= 1 + int(c.index % 2)) complete(c);
            return;
        }
        if (!c.headDone) {
            c.in.append(data, size);
            const size_t end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) {
                if (c.in.size() > 65536) fail(c, Malformed, "response head over 64 KiB");
                return;
            }
            if (c.in.compare(0, 5, "HTTP/") != 0) return fail(c, Malformed, "not an HTTP response");
            c.headDone = true;
            c.status = std::atoi(c.in.c_str() + 9);
            const auto headers = parseHeaderLines(c.in.substr(c.in.find("\r\n") + 2, end));
            const int expected = c.kind == WebSocket ? 101 : 200;
            if (c.status != expected) return fail(c, Status, "status " + std::to_string(c.status));
            auto length = headers.find("content-length");
            if (length != headers.end()) c.bodyRemaining = std::atol(length->second.c_str());
            auto encoding = headers.find("transfer-encoding");
            c.chunked = encoding != headers.end() && encoding->second.find("chunked") != std::string::npos;
            c.in.erase(0, end + 4);
            data = nullptr;
            size = 0;
        } else if (c.kind == WebSocket || c.chunked) {
            c.in.append(data, size);
        }
        if (c.kind == WebSocket) return readWebSocket(c);
        if (c.chunked) {
            if (c.in.size() >= 5 && c.in.compare(c.in.size() - 5, 5, "0\r\n\r\n") == 0) complete(c);
            else if (c.in.size() > 8) c.in.erase(0, c.in.size() - 8);
            return;
        }
        if (c.bodyRemaining >= 0) {
            const long got = long(data ? size : c.in.size());
            c.in.clear();
            c.bodyRemaining -= got;
            if (c.bodyRemaining <= 0) complete(c);
        }
    }

    void readWebSocket(Conn& c) {
        while (c.fd >= 0 && c.phase == Phase::Reading) {
            if (c.in.size() < 2) return;
            const auto* p = reinterpret_cast<const unsigned char*>(c.in.data());
            const int opcode = p[0] & 0x0f;
            uint64_t length = p[1] & 0x7f;
            size_t header = 2;
            if (length == 126) {
                if (c.in.size() < 4) return;
                length = (uint64_t(p[2]) << 8) | p[3];
                header = 4;
            } else if (length == 127) {
                if (c.in.size() < 10) return;
                length = 0;
                for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
                header = 10;
            }
            if (p[1] & 0x80) return fail(c, Malformed, "masked frame from the service");
            if (length > (64u << 20)) return fail(c, Malformed, "frame over 64 MiB");
            if (c.in.size() < header + length) return;
            if (opcode == 8) return fail(c, Eof, "closed by the service before a frame");
            c.in.erase(0, header + size_t(length));
            if (opcode == 1 || opcode == 2) {
                if (c.index % 2) return complete(c);
                // A client's close frame, masked (RFC 6455 5.3), code 1000; then wait for the answer.
                const unsigned char close[] = {0x88, 0x82, 0x12, 0x34, 0x56, 0x78, 0x03 ^ 0x12, 0xe8 ^ 0x34};
                send(c, std::string(reinterpret_cast<const char*>(close), sizeof close));
                c.phase = Phase::Closing;
                c.deadlineUs = monotonicUs() + 1'000'000;
                c.in.clear();
                return;
            }
        }
    }

    void complete(Conn& c) { finish(c); }

    void fail(Conn& c, ErrorKind error, const std::string& why) {
        ++totals_.errors[c.kind][error];
        ++totals_.errorsTotal;
        if (error == Refused || error == Timeout) ++totals_.unusable;
        if ((error == Refused || error == Timeout) && totals_.firstErrorAt < 0) {
            totals_.firstErrorAt = started_;
            totals_.firstError = std::string(kKindNames[c.kind]) + " " + kErrorNames[error] + ": " + why;
        }
        if (c.fd >= 0) {
            ::close(c.fd);
            c.fd = -1;
        }
    }

    void finish(Conn& c) {
        if (c.fd < 0) return;
        ++totals_.done[c.kind];
        ::close(c.fd);  // closing removes it from the epoll set
        c.fd = -1;
    }

    void reap() {
        for (auto it = conns_.begin(); it != conns_.end();) {
            if (it->second->fd >= 0) {
                ++it;
                continue;
            }
            if (it->second->kind == Held) --held_;
            it = conns_.erase(it);
        }
    }

    const Args& a_;
    int epoll_;
    std::unordered_map<int, std::unique_ptr<Conn>> conns_;  // by fd (the key stays valid until reaped)
    long started_ = 0;
    long held_ = 0;
    Totals totals_;
};

bool alive(int pid) { return pid == 0 || access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0; }

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    raiseOpenFilesLimit();  // every viewer is a socket
    if (!a.pid) std::fprintf(stderr, "camrelay-soak: no --pid: fds and RSS are not sampled\n");

    Witness witness(a.port, a.camera);
    usleep(useconds_t(a.warmup * 1e6));
    witness.startMeasuring();

    const int64_t t0 = monotonicUs();
    auto elapsed = [&] { return double(monotonicUs() - t0) / 1e6; };
    std::vector<Sample> samples;
    auto sample = [&](const char* phase, long completed, const Totals* t) {
        if (!a.pid) return;
        samples.push_back({elapsed(), countFds(a.pid), statusKiB(a.pid, "VmRSS:")});
        std::fprintf(stderr, "  %-6s t=%6.1fs connections=%ld fds=%ld rss_kib=%ld close_wait=%ld errors=%ld\n", phase,
                     samples.back().t, completed, samples.back().fds, samples.back().rssKiB, closeWaitCount(a.port),
                     t ? t->errorsTotal : 0L);
    };
    sample("before", 0, nullptr);
    const Sample before = samples.front();
    const long fdLimit = a.pid ? openFilesLimit(a.pid) : -1;

    const double cpuStart = a.pid ? processCpuSeconds(a.pid) : 0;
    Load load(a);
    bool aborted = false, serviceDied = false;
    for (int i = 0; i < a.held; ++i)
        if (load.start(Held, i, monotonicUs())) load.countHeld();
    long next = 0;
    double nextSample = a.sampleEvery;
    while (true) {
        const double now = elapsed();
        if (now > a.maxSeconds || (a.abortErrors > 0 && load.totals().unusable >= a.abortErrors)) {
            aborted = true;
            break;
        }
        while (next < a.connections && load.activeNotHeld() < a.concurrency &&
               (a.maxRate <= 0 || double(next) < a.maxRate * now)) {
            load.start(a.kinds[size_t(next) % a.kinds.size()], next / long(a.kinds.size()), monotonicUs());
            ++next;
        }
        if (next >= a.connections && load.activeNotHeld() <= 0) break;
        load.poll(5);
        if (elapsed() >= nextSample) {
            nextSample += a.sampleEvery;
            if (!alive(a.pid)) {
                serviceDied = true;
                break;
            }
            sample("load", next, &load.totals());
        }
    }
    if (aborted || serviceDied) load.abortAll();
    load.closeHeld();
    const double loadSeconds = elapsed();
    const double cpuLoad = a.pid ? processCpuSeconds(a.pid) - cpuStart : 0;
    // The witness and the service's CPU once the clients are gone: what the leftovers cost.
    const uint64_t settleFrames0 = witness.frames();
    const int64_t settleStart = monotonicUs();

    // Settle: every client connection is closed; the witness keeps reading.
    const int64_t settleEnd = monotonicUs() + int64_t(a.settle * 1e6);
    while (monotonicUs() < settleEnd && alive(a.pid)) {
        usleep(useconds_t(std::min(a.sampleEvery, a.settle) * 1e6 / 2));
        if (elapsed() >= nextSample) {
            nextSample += a.sampleEvery;
            sample("settle", next, &load.totals());
        }
    }
    serviceDied = serviceDied || !alive(a.pid);
    const double settleSeconds = double(monotonicUs() - settleStart) / 1e6;
    const double settleFps = double(witness.frames() - settleFrames0) / settleSeconds;
    const double cpuSettle = a.pid && !serviceDied ? processCpuSeconds(a.pid) - cpuStart - cpuLoad : 0;
    if (!serviceDied) sample("after", next, &load.totals());
    double witnessOverall = 0;
    std::string witnessError;
    const std::vector<double> windows = witness.finish(witnessOverall, witnessError);

    // --- the summary line -----------------------------------------------------------
    const Totals& t = load.totals();
    const Sample after = serviceDied ? Sample{elapsed(), -1, -1} : samples.back();
    long fdPeak = 0, rssPeak = 0;
    for (const Sample& s : samples) fdPeak = std::max(fdPeak, s.fds), rssPeak = std::max(rssPeak, s.rssKiB);
    std::ostringstream line, kinds, errors;
    long total = 0;
    for (int k = 0; k < KindCount; ++k) {
        long made = t.done[k];
        for (int e = 0; e < ErrorCount; ++e) made += t.errors[k][e];
        if (!made) continue;
        total += made;
        kinds << (kinds.tellp() ? "," : "") << kKindNames[k] << "=" << made;
        if (t.serverClosed[k]) kinds << "(service-closed=" << t.serverClosed[k] << ")";
        for (int e = 0; e < ErrorCount; ++e)
            if (t.errors[k][e]) errors << (errors.tellp() ? "," : "") << kKindNames[k] << ":" << kErrorNames[e] << "=" << t.errors[k][e];
    }
    double lagP99 = 0;
    const std::vector<double> capture = witness.captureWindows(lagP99);
    const double captureMin = capture.empty() ? 0 : *std::min_element(capture.begin(), capture.end());
    const double fpsMin = windows.empty() ? 0 : *std::min_element(windows.begin(), windows.end());
    const double fpsMedian = percentile(windows, 0.5);
    char buffer[1024];
    line << "soak: connections=" << total << " [" << kinds.str() << "] errors=" << t.errorsTotal << " ["
         << (errors.tellp() ? errors.str() : "none") << "]";
    std::snprintf(buffer, sizeof buffer,
                  " fds before=%ld after=%ld peak=%ld limit=%ld close_wait_after=%ld rss_kib before=%ld after=%ld peak=%ld"
                  " witness_fps min=%.2f median=%.2f overall=%.2f windows=%zu settle=%.2f"
                  " witness_capture_fps min=%.1f median=%.1f lag_p99_ms=%.0f%s%s"
                  " service_cpu load=%.0f%% settle=%.0f%% load=%.1fs duration=%.1fs",
                  before.fds, after.fds, fdPeak, fdLimit, serviceDied ? -1L : closeWaitCount(a.port), before.rssKiB,
                  after.rssKiB, rssPeak, fpsMin, fpsMedian, witnessOverall, windows.size(), settleFps,
                  captureMin, percentile(capture, 0.5), lagP99,
                  witnessError.empty() ? "" : " witness_error=", witnessError.c_str(), 100 * cpuLoad / loadSeconds,
                  100 * cpuSettle / settleSeconds, loadSeconds, elapsed());
    line << buffer;
    if (t.firstErrorAt >= 0) line << " first_failure_at_connection=" << t.firstErrorAt << " (" << t.firstError << ")";
    if (aborted) line << " ABORTED(" << (elapsed() > a.maxSeconds ? "max-seconds" : "abort-errors") << ")";
    if (serviceDied) line << " SERVICE_DIED";

    std::vector<std::string> missed;
    if (serviceDied) missed.push_back("service died");
    if (after.fds > before.fds) missed.push_back("fds +" + std::to_string(after.fds - before.fds));
    if (after.rssKiB - before.rssKiB >= 2048) missed.push_back("rss +" + std::to_string(after.rssKiB - before.rssKiB) + " KiB");
    if (windows.empty() || fpsMin < 29) {
        std::snprintf(buffer, sizeof buffer, "witness min %.2f fps", fpsMin);
        missed.push_back(buffer);
    }
    if (capture.empty() || captureMin < 29) {
        std::snprintf(buffer, sizeof buffer, "witness capture-time min %.1f fps", captureMin);
        missed.push_back(buffer);
    }
    if (!a.pid) missed.push_back("no --pid");
    if (missed.empty()) line << " TARGET MET";
    else {
        line << " TARGET MISSED (";
        for (size_t i = 0; i < missed.size(); ++i) line << (i ? ", " : "") << missed[i];
        line << ")";
    }
    std::fprintf(stderr, "  witness fps per 10 s window:");
    for (double w : windows) std::fprintf(stderr, " %.1f", w);
    std::fprintf(stderr, "\n  witness fps per 10 s window by capture time:");
    for (double w : capture) std::fprintf(stderr, " %.1f", w);
    std::fprintf(stderr, "\n");
    std::printf("%s\n", line.str().c_str());
    return 0;
}

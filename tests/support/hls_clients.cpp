#include "hls_clients.h"

#include "http_client.h"
#include "multipart_reader.h"  // parseHeaderLines
#include "viewer_pool.h"  // monotonicUs

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <sstream>
#include <stdexcept>

namespace camrelay::testing {

namespace {

// Bounds on what a server may send us: a hostile or broken one gets an error, not our memory.
constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxPlaylistBytes = 256 * 1024;
constexpr size_t kMaxSegmentBytes = 64 * 1024 * 1024;
constexpr int kMaxAttempts = 3;  // per request, across lost connections

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// A whole chunked body from text (which starts at the body); false while incomplete or malformed.
bool decodeChunked(const std::string& text, size_t from, std::string& out, bool& malformed) {
    out.clear();
    size_t at = from;
    for (;;) {
        const size_t eol = text.find("\r\n", at);
        if (eol == std::string::npos) return false;
        char* end = nullptr;
        const std::string sizeText = text.substr(at, eol - at);
        const unsigned long long size = std::strtoull(sizeText.c_str(), &end, 16);
        if (end == sizeText.c_str() || size > kMaxSegmentBytes || out.size() + size > kMaxSegmentBytes) {
            malformed = true;
            return false;
        }
        at = eol + 2;
        if (size == 0) return text.find("\r\n", at) != std::string::npos;  // (no trailers expected)
        if (text.size() < at + size + 2) return false;
        out.append(text, at, size);
        at += size + 2;
    }
}

}  // namespace

MediaPlaylist parseMediaPlaylist(const std::string& text) {
    MediaPlaylist p;
    std::istringstream in(text);
    std::string line;
    bool first = true, haveTarget = false, pendingInf = false;
    while (std::getline(in, line)) {
        line = trim(line);
        if (first) {
            if (line != "#EXTM3U") {
                p.error = "the playlist does not start with #EXTM3U";
                return p;
            }
            first = false;
            continue;
        }
        if (line.empty()) continue;
        if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) {
            char* end = nullptr;
            p.mediaSequence = std::strtoull(line.c_str() + 22, &end, 10);
            if (*end) p.error = "bad " + line;
        } else if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) {
            p.targetDuration = std::atof(line.c_str() + 22);
            haveTarget = p.targetDuration > 0;
        } else if (line.rfind("#EXTINF:", 0) == 0) {
            pendingInf = true;
        } else if (line == "#EXT-X-ENDLIST") {
            p.ended = true;
        } else if (line.rfind("#EXT-X-STREAM-INF", 0) == 0) {
            p.error = "a master playlist, not a media playlist";
        } else if (line[0] != '#') {
            if (!pendingInf) p.error = "segment URI without #EXTINF: " + line;
            p.uris.push_back(line);
            pendingInf = false;
        }
    }
    if (first) p.error = "empty playlist";
    else if (!haveTarget && p.error.empty()) p.error = "no #EXT-X-TARGETDURATION";
    return p;
}

struct HlsClients::Client {
    enum class Kind { None, Playlist, Segment };
    int fd = -1;
    // The request in flight (one at a time per connection, as players do).
    Kind kind = Kind::None;
    uint64_t sequence = 0;
    std::string target;
    int attempts = 0;
    int64_t deadlineUs = 0;
    std::string outbox;
    size_t outOffset = 0;
    std::string inbox;
    // Following the playlist.
    std::deque<std::pair<uint64_t, std::string>> toFetch;  // (sequence, target), oldest first
    std::map<uint64_t, int64_t> listedUs;                  // sequence -> arrival of the playlist that listed it
    uint64_t nextToQueue = 0;                              // sequences below are queued, fetched or missed
    int64_t nextPollUs = 0;
    int pollIntervalMs = 500;
    HlsClientStats stats;
};

HlsClients::HlsClients(int port, std::string playlistTarget, size_t count, HlsClientOptions options)
    : port_(port), playlistTarget_(std::move(playlistTarget)), options_(std::move(options)),
      epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw std::runtime_error("HlsClients: epoll_create1 failed");
    const size_t slash = playlistTarget_.find_last_of('/', playlistTarget_.find('?'));
    playlistDir_ = playlistTarget_.substr(0, slash == std::string::npos ? 0 : slash + 1);
    for (size_t i = 0; i < count; ++i) clients_.push_back(std::make_unique<Client>());
}

HlsClients::~HlsClients() {
    closeAll();
    ::close(epoll_);
}

const HlsClientStats& HlsClients::stats(size_t index) const { return clients_.at(index)->stats; }

void HlsClients::closeAll() {
    for (size_t i = 0; i < clients_.size(); ++i) drop(i);
}

void HlsClients::drop(size_t index) {
    Client& c = *clients_[index];
    if (c.fd < 0) return;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.inbox.clear();
}

void HlsClients::connectClient(size_t index) {
    Client& c = *clients_[index];
    c.fd = connectLoopback(port_);
    if (c.fd < 0) return;
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event e{};
    e.events = EPOLLIN | EPOLLRDHUP;
    e.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &e);
}

void HlsClients::fail(size_t index, const std::string& what) {
    Client& c = *clients_[index];
    ++c.stats.errors;
    if (c.stats.firstError.empty()) c.stats.firstError = what;
}

// Starts the next request if the connection is free: a due segment first (it
// is what the viewer is waiting for), else the playlist when its poll is due.
void HlsClients::sendNext(size_t index, int64_t now) {
    Client& c = *clients_[index];
    if (c.kind != Client::Kind::None || c.stats.ended) return;
    if (!c.toFetch.empty()) {
        c.kind = Client::Kind::Segment;
        c.sequence = c.toFetch.front().first;
        c.target = c.toFetch.front().second;
        c.toFetch.pop_front();
    } else if (polling_ && now >= c.nextPollUs) {
        c.kind = Client::Kind::Playlist;
        c.target = playlistTarget_;
        c.nextPollUs = now + int64_t(c.pollIntervalMs) * 1000;
    } else {
        return;
    }
    c.attempts = 0;
    c.deadlineUs = now + int64_t(options_.requestTimeoutMs) * 1000;
    c.outbox = "GET " + c.target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
               "\r\nUser-Agent: camrelay-hls-client\r\n" + options_.extraHeaders + "\r\n";
    transmit(index);
}

void HlsClients::transmit(size_t index) {
    Client& c = *clients_[index];
    c.outOffset = 0;
    if (c.fd < 0) connectClient(index);
    if (c.fd < 0) return abandon(index, "cannot connect to 127.0.0.1:" + std::to_string(port_));
    const ssize_t sent = send(c.fd, c.outbox.data(), c.outbox.size(), MSG_NOSIGNAL);
    c.outOffset = sent > 0 ? size_t(sent) : 0;
    if (c.outOffset < c.outbox.size()) watch(index, true);
}

void HlsClients::watch(size_t index, bool writable) {
    epoll_event e{};
    e.events = uint32_t(EPOLLIN | EPOLLRDHUP) | (writable ? uint32_t(EPOLLOUT) : 0u);
    e.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, clients_[index]->fd, &e);
}

void HlsClients::abandon(size_t index, const std::string& what) {
    Client& c = *clients_[index];
    fail(index, what);
    if (c.kind == Client::Kind::Segment) ++c.stats.gaps;  // a player skips it
    c.kind = Client::Kind::None;
}

void HlsClients::onPlaylist(size_t index, const std::string& body, int64_t now) {
    Client& c = *clients_[index];
    const MediaPlaylist p = parseMediaPlaylist(body);
    if (!p.error.empty()) {
        fail(index, "playlist: " + p.error);
        return;
    }
    ++c.stats.playlistPolls;
    if (options_.pollIntervalMs > 0) c.pollIntervalMs = options_.pollIntervalMs;
    else c.pollIntervalMs = std::max(100, int(p.targetDuration * 500));
    c.stats.ended = p.ended;
    if (p.uris.empty()) return;
    const uint64_t newest = p.mediaSequence + p.uris.size() - 1;
    if (!c.stats.following) {
        c.stats.following = true;
        const uint64_t back = std::min<uint64_t>(std::max<size_t>(options_.startSegments, 1), p.uris.size());
        c.nextToQueue = newest + 1 - back;
        c.stats.firstListed = c.nextToQueue;
    } else if (newest < c.stats.lastListed) {
        fail(index, "the media sequence went back from " + std::to_string(c.stats.lastListed) + " to " +
                        std::to_string(newest));
        return;
    }
    if (p.mediaSequence > c.nextToQueue) {
        // Segments left the window before any playlist we got listed them.
        c.stats.gaps += p.mediaSequence - c.nextToQueue;
        c.nextToQueue = p.mediaSequence;
    }
    for (uint64_t seq = c.nextToQueue; seq <= newest; ++seq) {
        const std::string& uri = p.uris[seq - p.mediaSequence];
        std::string target;
        if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
            const size_t path = uri.find('/', uri.find("//") + 2);
            target = path == std::string::npos ? "/" : uri.substr(path);
        } else if (!uri.empty() && uri[0] == '/') {
            target = uri;
        } else {
            target = playlistDir_ + uri;
        }
        c.toFetch.emplace_back(seq, target);
        c.listedUs[seq] = now;
    }
    c.nextToQueue = std::max(c.nextToQueue, newest + 1);
    c.stats.lastListed = std::max(c.stats.lastListed, newest);
}

// A whole response is in the inbox (checked by onReadable): hand it on.
void HlsClients::onResponse(size_t index, int64_t now) {
    Client& c = *clients_[index];
    const size_t headerEnd = c.inbox.find("\r\n\r\n");
    const size_t statusEnd = c.inbox.find("\r\n");
    const std::string statusLine = c.inbox.substr(0, statusEnd);
    int status = 0;
    if (statusLine.rfind("HTTP/1.", 0) == 0 && statusLine.size() >= 12) status = std::atoi(statusLine.c_str() + 9);
    std::map<std::string, std::string> headers =
        statusEnd < headerEnd ? parseHeaderLines(c.inbox.substr(statusEnd + 2, headerEnd - statusEnd - 2))
                              : std::map<std::string, std::string>{};
    for (auto& [name, value] : headers) value = trim(value);
    const size_t bodyStart = headerEnd + 4;
    std::string body;
    size_t consumed = c.inbox.size();
    if (headers.count("content-length")) {
        const size_t length = std::strtoull(headers["content-length"].c_str(), nullptr, 10);
        body = c.inbox.substr(bodyStart, length);
        consumed = bodyStart + length;
    } else if (lower(headers["transfer-encoding"]) == "chunked") {
        bool malformed = false;
        decodeChunked(c.inbox, bodyStart, body, malformed);
    } else {
        body = c.inbox.substr(bodyStart);  // the body ran until the server closed
    }
    c.inbox.erase(0, consumed);
    c.stats.bytes += body.size();
    const bool close = lower(headers["connection"]) == "close";
    const Client::Kind kind = c.kind;
    const uint64_t sequence = c.sequence;
    const std::string target = c.target;
    c.kind = Client::Kind::None;
    if (close) drop(index);

    if (status != 200) {
        fail(index, "GET " + target + " answered " + (status ? std::to_string(status) : "garbage: " + statusLine));
        if (kind == Client::Kind::Segment) {
            ++c.stats.gaps;
            c.listedUs.erase(sequence);
        }
        return;
    }
    if (kind == Client::Kind::Playlist) {
        onPlaylist(index, body, now);
        return;
    }
    c.stats.sequences.push_back(sequence);
    const auto listed = c.listedUs.find(sequence);
    if (listed != c.listedUs.end()) {
        c.stats.listedToReceivedUs.push_back(now - listed->second);
        c.listedUs.erase(listed);
    }
    ++c.stats.cacheStatus[headers.count("x-cache-status") ? headers["x-cache-status"] : ""];
    if (options_.keepSegments && onSegment) onSegment(index, sequence, body);
}

void HlsClients::onReadable(size_t index, int64_t now) {
    Client& c = *clients_[index];
    static thread_local std::string buffer(1 << 17, '\0');
    bool lost = false;
    for (;;) {
        const ssize_t got = recv(c.fd, buffer.data(), buffer.size(), 0);
        if (got > 0) {
            c.inbox.append(buffer.data(), size_t(got));
            if (size_t(got) < buffer.size()) break;
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        lost = true;
        break;
    }
    // Whole responses first (a server may answer and then close).
    while (c.kind != Client::Kind::None && c.fd >= 0) {
        const size_t headerEnd = c.inbox.find("\r\n\r\n");
        if (headerEnd == std::string::npos) {
            if (c.inbox.size() > kMaxHeaderBytes) {
                fail(index, "response headers over " + std::to_string(kMaxHeaderBytes) + " bytes");
                lost = true;
            }
            break;
        }
        const std::string head = lower(c.inbox.substr(0, headerEnd));
        const size_t limit = c.kind == Client::Kind::Playlist ? kMaxPlaylistBytes : kMaxSegmentBytes;
        const size_t lengthAt = head.find("\r\ncontent-length:");
        bool complete = false;
        if (lengthAt != std::string::npos) {
            const size_t length = std::strtoull(head.c_str() + lengthAt + 17, nullptr, 10);
            if (length > limit) {
                fail(index, "a body of " + std::to_string(length) + " bytes for " + c.target);
                lost = true;
                break;
            }
            complete = c.inbox.size() >= headerEnd + 4 + length;
        } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
            std::string body;
            bool malformed = false;
            complete = decodeChunked(c.inbox, headerEnd + 4, body, malformed);
            if (malformed || c.inbox.size() > limit + kMaxHeaderBytes) {
                fail(index, "a malformed or oversized chunked body for " + c.target);
                lost = true;
                break;
            }
        } else {
            complete = head.rfind("http/1.1 204", 0) == 0 || head.rfind("http/1.1 304", 0) == 0;
            if (!complete && !lost) break;  // a body until close
            complete = true;
        }
        if (!complete) break;
        onResponse(index, now);
    }
    if (!lost || c.fd < 0) return;
    // The connection is gone: a keep-alive timeout between requests is normal;
    // losing it mid-response is an error. Either way the request is retried.
    if (c.kind != Client::Kind::None) {
        if (!c.inbox.empty()) fail(index, "connection lost in the middle of " + c.target);
        else ++c.stats.reconnects;
    }
    drop(index);
    if (c.kind == Client::Kind::None) return;
    if (++c.attempts >= kMaxAttempts)
        return abandon(index, "gave up on " + c.target + " after " + std::to_string(kMaxAttempts) + " connections");
    transmit(index);
}

void HlsClients::run(int durationMs) {
    int64_t now = monotonicUs();
    const int64_t deadline = now + int64_t(durationMs) * 1000;
    if (!started_) {
        started_ = true;
        // Staggered over the first half second, so polls do not come in lockstep.
        for (size_t i = 0; i < clients_.size(); ++i) {
            connectClient(i);
            clients_[i]->nextPollUs = now + int64_t(i) * 500000 / int64_t(std::max<size_t>(1, clients_.size()));
        }
    }
    epoll_event events[256];
    while ((now = monotonicUs()) < deadline) {
        if (!polling_ && idle()) return;
        int64_t nextDue = deadline;
        for (size_t i = 0; i < clients_.size(); ++i) {
            Client& c = *clients_[i];
            if (c.kind != Client::Kind::None && now > c.deadlineUs) {
                abandon(i, "no whole response to " + c.target + " in " + std::to_string(options_.requestTimeoutMs) + " ms");
                drop(i);
            }
            sendNext(i, now);
            if (c.kind == Client::Kind::None && !c.stats.ended) nextDue = std::min(nextDue, c.nextPollUs);
        }
        const int wait = int(std::clamp<int64_t>((nextDue - now) / 1000, 0, 50));
        const int n = epoll_wait(epoll_, events, 256, wait);
        now = monotonicUs();
        for (int k = 0; k < n; ++k) {
            const size_t index = size_t(events[k].data.u64);
            Client& c = *clients_[index];
            if (c.fd < 0) continue;
            if ((events[k].events & EPOLLOUT) && c.outOffset < c.outbox.size()) {
                const ssize_t sent = send(c.fd, c.outbox.data() + c.outOffset, c.outbox.size() - c.outOffset, MSG_NOSIGNAL);
                if (sent > 0) c.outOffset += size_t(sent);
                if (c.outOffset >= c.outbox.size()) watch(index, false);
            }
            if (events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) onReadable(index, now);
        }
    }
}

bool HlsClients::idle() const {
    for (const auto& c : clients_)
        if (c->kind != Client::Kind::None || !c->toFetch.empty()) return false;
    return true;
}

void HlsClients::finish(int timeoutMs) {
    polling_ = false;
    run(timeoutMs);
    // Whatever is still listed and not received by now is missing.
    for (size_t i = 0; i < clients_.size(); ++i) {
        Client& c = *clients_[i];
        const uint64_t missing = c.toFetch.size() + (c.kind == Client::Kind::Segment ? 1 : 0);
        if (missing) {
            c.stats.gaps += missing;
            fail(i, std::to_string(missing) + " listed segments not received before the end");
        }
        c.toFetch.clear();
        c.kind = Client::Kind::None;
        drop(i);
    }
}

HlsOriginCounts readHlsCounts(int port, const std::string& camera, const std::string& extraHeaders) {
    const HttpResponse r = httpRequest(port, "GET", "/metrics", {}, extraHeaders);
    if (r.status != 200) throw std::runtime_error("GET /metrics answered " + std::to_string(r.status));
    HlsOriginCounts counts;
    std::istringstream in(r.body);
    std::string line;
    const std::string cameraLabel = "camera=\"" + camera + "\"";
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const size_t brace = line.find('{'), close = line.rfind('}');
        if (brace == std::string::npos || close == std::string::npos || close < brace) continue;
        const std::string name = line.substr(0, brace);
        const std::string labels = "," + line.substr(brace + 1, close - brace - 1) + ",";
        if (labels.find("," + cameraLabel + ",") == std::string::npos) continue;
        const double value = std::atof(line.c_str() + close + 1);
        if (name == "camrelay_hls_segments_total") counts.segmentsProduced = value;
        else if (name == "camrelay_hls_requests_total" && labels.find(",kind=\"playlist\",") != std::string::npos)
            counts.playlistRequests = value;
        else if (name == "camrelay_hls_requests_total" && labels.find(",kind=\"segment\",") != std::string::npos)
            counts.segmentRequests = value;
    }
    return counts;
}

}  // namespace camrelay::testing

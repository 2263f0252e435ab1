#include "front_door.h"

#include "core/clock.h"
#include "core/log.h"
#include "http/json.h"

#include <gio/gio.h>

#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#define GST_CAT_DEFAULT camrelay_http_debug

namespace camrelay {

namespace {

// Descriptors kept for everything that is not an HTTP client: cameras'
// pipelines and their threads' wake-up pipes, RTSP clients, files, the log.
constexpr uint64_t kFdReserve = 256;
// A closing connection is drained this long at most (so the client reads our
// answer instead of a reset), then closed.
constexpr int64_t kLingerUs = 2 * G_USEC_PER_SEC;
// TLS handshakes in progress per client address. Each holds one of GLib's
// pool threads (glib-networking's handshakes block in a thread) until done or
// timed out: a client that sends its hello and stalls must not take them all.
// A browser opens about six connections at once; more wait their turn.
constexpr size_t kMaxHandshakesPerAddress = 8;
constexpr const char* kTicketKey = "camrelay-front-door-ticket";

const char* reasonPhrase(unsigned status) {
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// An IPv4 client of a dual-stack ("::") socket is ::ffff:a.b.c.d: it is seen
// as a.b.c.d everywhere (logs, per-address caps, the login limiter, libsoup's
// remote host), exactly as on an IPv4 socket.
GRef<GSocketAddress> peerOf(GSocket* socket) {
    GRef<GSocketAddress> remote = GRef<GSocketAddress>::adopt(g_socket_get_remote_address(socket, nullptr));
    if (!remote || !G_IS_INET_SOCKET_ADDRESS(remote.get())) return remote;
    auto* inet = G_INET_SOCKET_ADDRESS(remote.get());
    GInetAddress* address = g_inet_socket_address_get_address(inet);
    if (g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV6) return remote;
    const guint8* b = g_inet_address_to_bytes(address);
    static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, mapped, sizeof mapped) != 0) return remote;
    GRef<GInetAddress> v4 = GRef<GInetAddress>::adopt(g_inet_address_new_from_bytes(b + 12, G_SOCKET_FAMILY_IPV4));
    return GRef<GSocketAddress>::adopt(g_inet_socket_address_new(v4.get(), g_inet_socket_address_get_port(inet)));
}

std::string addressOf(GSocket* socket) {
    GRef<GSocketAddress> remote = peerOf(socket);
    if (!remote || !G_IS_INET_SOCKET_ADDRESS(remote.get())) return "unknown";
    GUniquePtr<gchar> text(g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote.get()))));
    return text ? text.get() : "unknown";
}

// "address:port" of a peer: names one live connection (libsoup gives no
// GSocket for connections handed over as streams, but keeps the address).
std::string endpointKey(GSocketAddress* address) {
    if (!address || !G_IS_INET_SOCKET_ADDRESS(address)) return {};
    GUniquePtr<gchar> text(g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address))));
    return std::string(text ? text.get() : "") + ":" + std::to_string(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address)));
}

// Runs a GLib callback's body: nothing unwinds into GLib, and what fails is logged.
template <typename Fn>
void guarded(const char* what, Fn&& fn) noexcept {
    try {
        fn();
    } catch (...) {
        logError("", std::string("HTTP front door: ") + what + " failed: " + currentExceptionText());
    }
}

void setReceiveLowWater(GSocket* socket, int bytes) {
    setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
}

}  // namespace

HeadVerdict inspectRequestHead(std::string_view bytes, const HttpLimits& limits) {
    HeadVerdict v;
    auto reject = [&](unsigned status, const char* code, std::string message) {
        v.kind = HeadVerdict::Reject, v.status = status, v.code = code, v.message = std::move(message);
        return v;
    };
    const size_t lineEnd = bytes.find('\n');
    const std::string_view line = bytes.substr(0, lineEnd);
    // "GET <target> HTTP/1.1": the target is what may be long.
    const size_t targetStart = line.find(' ');
    const size_t targetEnd = targetStart == std::string_view::npos ? targetStart : line.find(' ', targetStart + 1);
    const size_t target = targetStart == std::string_view::npos ? line.size()
                          : targetEnd == std::string_view::npos ? line.size() - targetStart - 1
                                                                : targetEnd - targetStart - 1;
    if (target > size_t(limits.maxUrlBytes))
        return reject(414, "uri_too_long", "request targets are limited to " + std::to_string(limits.maxUrlBytes) + " bytes");
    size_t end = bytes.find("\r\n\r\n");
    end = end == std::string_view::npos ? end : end + 4;
    const size_t bare = bytes.find("\n\n");
    if (bare != std::string_view::npos && (end == std::string_view::npos || bare + 2 < end)) end = bare + 2;
    const std::string headTooLarge = "request heads are limited to " + std::to_string(limits.maxHeaderBytes) +
                                     " bytes and " + std::to_string(limits.maxHeaders) + " fields";
    if (end == std::string_view::npos) {
        if (bytes.size() > size_t(limits.maxHeaderBytes)) return reject(431, "header_too_large", headTooLarge);
        return v;
    }
    if (end > size_t(limits.maxHeaderBytes)) return reject(431, "header_too_large", headTooLarge);
    int fields = 0;
    for (size_t at = lineEnd + 1; at < end;) {
        size_t next = bytes.find('\n', at);
        const std::string_view field = trim(bytes.substr(at, next - at));
        at = next + 1;
        if (field.empty()) break;
        if (++fields > limits.maxHeaders) return reject(431, "too_many_headers", headTooLarge);
        const size_t colon = field.find(':');
        if (colon == std::string_view::npos) continue;
        // A streamed body has no size to check: the API never takes one.
        if (equalsIgnoreCase(field.substr(0, colon), "transfer-encoding"))
            return reject(411, "length_required", "request bodies must declare their Content-Length");
        if (!equalsIgnoreCase(field.substr(0, colon), "content-length")) continue;
        const std::string value(trim(field.substr(colon + 1)));
        guint64 length = 0;
        if (value.empty() || !g_ascii_isdigit(value[0]) ||
            !g_ascii_string_to_unsigned(value.c_str(), 10, 0, G_MAXINT64, &length, nullptr))
            return reject(400, "bad_content_length", "Content-Length is not a number");
        if (length > uint64_t(limits.maxBodyBytes))
            return reject(413, "body_too_large",
                          "request bodies are limited to " + std::to_string(limits.maxBodyBytes) + " bytes");
    }
    v.kind = HeadVerdict::Complete;
    v.length = end;
    return v;
}

std::string cannedResponse(unsigned status, const std::string& code, const std::string& message,
                           const std::string& extraHeaders) {
    // code and message are ours (no quotes or control characters): plain JSON.
    const std::string body = "{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}";
    return "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\nServer: camrelay\r\n" + extraHeaders + "\r\n" + body;
}

// Open client sockets, in total and per address. Shared with the tickets,
// which may outlive the front door (a viewer socket an output still holds).
struct FrontDoor::Ledger {
    uint64_t open = 0;
    std::unordered_map<std::string, uint64_t> perAddress;
};

namespace {
struct Ticket {
    std::shared_ptr<FrontDoor::Ledger> ledger;
    std::string address;
    ~Ticket() {
        --ledger->open;
        auto it = ledger->perAddress.find(address);
        if (it != ledger->perAddress.end() && --it->second == 0) ledger->perAddress.erase(it);
    }
};
}  // namespace

FrontDoor::FrontDoor(const HttpLimits& limits, SoupServer* server)
    : limits_(limits), server_(server), ledger_(std::make_shared<Ledger>()), watch_([this] { onReadable(); }),
      alive_(std::make_shared<FrontDoor*>(this)) {
    peekBuffer_.resize(size_t(std::max(limits_.maxHeaderBytes, limits_.maxUrlBytes + 64)) + 1);
    refreshCap();
    startedHandler_ = g_signal_connect(server_, "request-started", G_CALLBACK(&FrontDoor::onRequestStarted), this);
    readHandler_ = g_signal_connect(server_, "request-read", G_CALLBACK(&FrontDoor::onRequestDone), this);
    finishedHandler_ = g_signal_connect(server_, "request-finished", G_CALLBACK(&FrontDoor::onRequestDone), this);
    abortedHandler_ = g_signal_connect(server_, "request-aborted", G_CALLBACK(&FrontDoor::onRequestDone), this);
    sweepId_ = g_timeout_add(250, &FrontDoor::onSweep, this);
}

FrontDoor::~FrontDoor() {
    *alive_ = nullptr;
    for (auto& [id, h] : handshakes_) {
        g_cancellable_cancel(h.cancel.get());
        g_socket_shutdown(h.socket.get(), TRUE, TRUE, nullptr);
    }
    for (gulong id : {startedHandler_, readHandler_, finishedHandler_, abortedHandler_}) g_signal_handler_disconnect(server_, id);
    if (sweepId_) g_source_remove(sweepId_);
    if (pauseId_) g_source_remove(pauseId_);
    stopWatchingListeners();
    for (auto& [tag, p] : pending_) watch_.remove(tag);
}

bool FrontDoor::listen(const std::vector<std::string>& addresses, int port, int backlog, std::string* error) {
    if (addresses.empty()) {
        *error = "cannot listen: no address ([server] listen is empty)";
        return false;
    }
    // "::" takes IPv4 too (dual-stack) unless an IPv4 address is listed: that
    // one's bind would then fail with "address in use".
    bool anyV4 = false;
    for (const std::string& a : addresses) anyV4 = anyV4 || a.find(':') == std::string::npos;
    for (const std::string& address : addresses) {
        if (!listenOn(address, anyV4, port, backlog, error)) {
            stopWatchingListeners();
            listeners_.clear();
            return false;
        }
        port = port_;  // port 0: every address on the port the first one got
    }
    watchListeners();
    return true;
}

bool FrontDoor::listenOn(const std::string& address, bool v6Only, int port, int backlog, std::string* error) {
    const std::string where = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
    GRef<GInetAddress> inet = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(address.c_str()));
    if (!inet) {
        *error = "cannot listen on " + where + ": not an IP address";
        return false;
    }
    GError* raw = nullptr;
    GRef<GSocket> socket = GRef<GSocket>::adopt(
        g_socket_new(g_inet_address_get_family(inet.get()), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &raw));
    if (socket && g_inet_address_get_family(inet.get()) == G_SOCKET_FAMILY_IPV6) {
        const int only = v6Only ? 1 : 0;  // explicit: the system default (net.ipv6.bindv6only) varies
        if (setsockopt(g_socket_get_fd(socket.get()), IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) != 0)
            GST_WARNING("IPV6_V6ONLY=%d on %s: %s", only, where.c_str(), g_strerror(errno));
    }
    GRef<GSocketAddress> socketAddress = GRef<GSocketAddress>::adopt(g_inet_socket_address_new(inet.get(), guint16(port)));
    // GLib's default backlog of 10 makes a burst of viewers wait seconds for SYN retries.
    bool ok = socket && g_socket_bind(socket.get(), socketAddress.get(), TRUE, &raw);
    if (ok) {
        g_socket_set_listen_backlog(socket.get(), backlog);
        ok = g_socket_listen(socket.get(), &raw);
    }
    GUniquePtr<GError> failure(raw);
    if (!ok) {
        *error = "cannot listen on " + where + " ([server] listen / --listen): " + errorMessage(failure);
        return false;
    }
    GRef<GSocketAddress> bound = GRef<GSocketAddress>::adopt(g_socket_get_local_address(socket.get(), nullptr));
    port_ = bound ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get())) : port;
    g_socket_set_blocking(socket.get(), FALSE);
    auto listener = std::make_unique<Listener>();
    listener->door = this;
    listener->socket = socket;
    listeners_.push_back(std::move(listener));
    return true;
}

void FrontDoor::watchListeners() {
    for (auto& l : listeners_) {
        if (l->acceptSource) continue;
        l->acceptSource = GRef<GSource>::adopt(g_socket_create_source(l->socket.get(), G_IO_IN, nullptr));
        g_source_set_callback(l->acceptSource.get(), G_SOURCE_FUNC(&FrontDoor::onAcceptReady), l.get(), nullptr);
        g_source_attach(l->acceptSource.get(), g_main_context_get_thread_default());
    }
}

void FrontDoor::stopWatchingListeners() {
    for (auto& l : listeners_) {
        if (!l->acceptSource) continue;
        g_source_destroy(l->acceptSource.get());
        l->acceptSource = {};
    }
}

void FrontDoor::refreshCap() {
    // Re-read every sweep: the limit of a running service can be changed (prlimit).
    rlimit files{};
    const uint64_t fdLimit = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY ? files.rlim_cur : 1024;
    const uint64_t ceiling = fdLimit > 2 * kFdReserve ? fdLimit - kFdReserve : fdLimit / 2;
    maxConnections_ = limits_.maxConnections > 0 ? std::min<uint64_t>(uint64_t(limits_.maxConnections), ceiling) : ceiling;
}

FrontDoorStats FrontDoor::stats() const {
    FrontDoorStats s;
    s.open = ledger_->open;
    s.readingHead = pending_.size() + handshakes_.size();
    s.inLibsoup = handedOver_.size();
    s.accepted = accepted_, s.refused = refused_, s.rejected = rejected_, s.timedOut = timedOut_;
    return s;
}

gboolean FrontDoor::onAcceptReady(GSocket*, GIOCondition, gpointer listener) noexcept {
    guarded("accepting connections", [listener] {
        auto* l = static_cast<Listener*>(listener);
        l->door->acceptAll(*l);
    });
    return G_SOURCE_CONTINUE;
}

void FrontDoor::acceptAll(Listener& listener) {
    // Bounded per wake-up so a connection storm cannot starve the frame path.
    for (int i = 0; i < 256; ++i) {
        GError* raw = nullptr;
        GSocket* client = g_socket_accept(listener.socket.get(), nullptr, &raw);
        GUniquePtr<GError> error(raw);
        if (client) {
            admit(GRef<GSocket>::adopt(client));
            continue;
        }
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) return;
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
            (error && error->domain == G_IO_ERROR && (errno == EMFILE || errno == ENFILE))) {
            // The listening sockets stay readable: pause them all instead of spinning.
            logWarning("", "HTTP: out of file descriptors, not accepting for 250 ms: " + errorMessage(error));
            stopWatchingListeners();  // destroys the source running this callback: it returns at once
            if (!pauseId_)
                pauseId_ = g_timeout_add(250, [](gpointer data) noexcept -> gboolean {
                    auto* self = static_cast<FrontDoor*>(data);
                    self->pauseId_ = 0;
                    self->watchListeners();
                    return G_SOURCE_REMOVE;
                }, this);
            return;
        }
        GST_INFO("accept failed: %s", errorMessage(error).c_str());
        return;
    }
}

void FrontDoor::admit(GRef<GSocket> socket) {
    ++accepted_;
    Pending p;
    p.address = addressOf(socket.get());
    p.socket = socket;
    // The ticket counts this socket until it is finalized, wherever it ends up.
    const uint64_t fromAddress = ledger_->perAddress.count(p.address) ? ledger_->perAddress[p.address] : 0;
    const bool full = ledger_->open >= maxConnections_;
    const bool greedy = fromAddress >= uint64_t(limits_.maxConnectionsPerAddress);
    ++ledger_->open;
    ++ledger_->perAddress[p.address];
    g_object_set_data_full(G_OBJECT(socket.get()), kTicketKey, new Ticket{ledger_, p.address},
                           [](gpointer t) { delete static_cast<Ticket*>(t); });
    g_socket_set_blocking(socket.get(), FALSE);
    if (certificate_ && (full || greedy)) {
        ++refused_;
        GST_INFO("refused %s: %s", p.address.c_str(), full ? "at the connection limit" : "too many connections from it");
        g_socket_close(socket.get(), nullptr);
        return;
    }
    p.tlsHello = bool(certificate_);
    p.tag = watch_.add(g_socket_get_fd(socket.get()), GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR));
    p.deadlineUs = monotonicNowUs() + int64_t(limits_.headerTimeoutMs) * 1000;
    Pending& stored = pending_.emplace(p.tag, std::move(p)).first->second;
    if (full || greedy) {
        ++refused_;
        const std::string why = full ? "the service is at its connection limit (" + std::to_string(maxConnections_) + ")"
                                     : "too many connections from " + stored.address + " (limit " +
                                           std::to_string(limits_.maxConnectionsPerAddress) + ")";
        GST_INFO("refused %s: %s", stored.address.c_str(), why.c_str());
        answer(stored, 503, "too_many_connections", why,
               "Retry-After: " + std::to_string(limits_.retryAfterSec) + "\r\n");
        // No lingering here: a flood of refused clients must not hold descriptors.
        // Nothing has been read yet, so closing sends FIN (not a reset) and the answer arrives.
        watch_.remove(stored.tag);
        pending_.erase(stored.tag);
    }
}

void FrontDoor::onReadable() {
    std::vector<FdWatchSet::Tag> done;
    for (auto& [tag, p] : pending_) {
        if (!watch_.ready(tag)) continue;
        if (p.closing) {
            // Drain and discard until the client closes (or the linger deadline).
            char sink[4096];
            const ssize_t n = recv(g_socket_get_fd(p.socket.get()), sink, sizeof sink, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) done.push_back(tag);
            continue;
        }
        if (p.tlsHello ? readClientHello(p, watch_.ready(tag)) : readHead(p, watch_.ready(tag))) done.push_back(tag);
    }
    for (auto tag : done) {
        watch_.remove(tag);
        pending_.erase(tag);
    }
}

bool FrontDoor::readClientHello(Pending& p, GIOCondition ready) {
    // glib-networking runs every handshake on a pool thread with blocking I/O:
    // starting it at the accept let 50 silent connections delay a real client
    // by 7 s (the pool grows slowly). So the handshake starts only once the
    // client's first TLS record is all here; until then it costs a descriptor
    // and a watch entry, like a slow request head.
    if (ready & (G_IO_ERR | G_IO_HUP)) return true;
    const int fd = g_socket_get_fd(p.socket.get());
    unsigned char header[5];
    const ssize_t n = recv(fd, header, sizeof header, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    if (n < 0) return false;
    int available = 0;
    if (ioctl(fd, FIONREAD, &available) != 0) return true;
    // Readable with nothing new: the client half-closed before its hello was complete.
    if (size_t(available) == p.seen) return true;
    p.seen = size_t(available);
    if (header[0] != 0x16) {
        // Not a TLS handshake record: plain HTTP on the HTTPS port, or noise.
        ++rejected_;
        GST_INFO("%s did not start a TLS handshake (first byte 0x%02x): closing", p.address.c_str(), header[0]);
        return true;
    }
    if (n < 5) {
        setReceiveLowWater(p.socket.get(), 5);
        return false;
    }
    const size_t record = 5 + ((size_t(header[3]) << 8) | header[4]);
    if (size_t(available) < record) {
        setReceiveLowWater(p.socket.get(), int(record));  // a record is at most 16 KiB + 5
        return false;
    }
    setReceiveLowWater(p.socket.get(), 1);
    if (handshakesFrom(p.address) >= kMaxHandshakesPerAddress) {
        p.helloReady = true;
        watch_.modify(p.tag, GIOCondition(0));  // its bytes stay readable: stop watching until its turn
        return false;
    }
    startHandshake(p.socket, p.address, p.deadlineUs);
    return true;
}

size_t FrontDoor::handshakesFrom(const std::string& address) const {
    size_t n = 0;
    for (const auto& [id, h] : handshakes_) n += h.address == address;
    return n;
}

void FrontDoor::startWaitingHandshake(const std::string& address) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        Pending& p = it->second;
        if (!p.helloReady || p.address != address) continue;
        startHandshake(p.socket, p.address, p.deadlineUs);
        watch_.remove(it->first);
        pending_.erase(it);
        return;
    }
}

bool FrontDoor::readHead(Pending& p, GIOCondition ready) {
    // Reset, or hung up: the head can never be completed.
    if (ready & (G_IO_ERR | G_IO_HUP)) return true;
    const int fd = g_socket_get_fd(p.socket.get());
    const ssize_t n = recv(fd, peekBuffer_.data(), peekBuffer_.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;  // closed or reset before a request
    if (n < 0) return false;
    // Readable with nothing new: the client half-closed (a peek shows the
    // buffered bytes before the end of stream). Its head will never be complete.
    if (size_t(n) == p.seen) return true;
    p.seen = size_t(n);
    const HeadVerdict v = inspectRequestHead(std::string_view(peekBuffer_.data(), size_t(n)), limits_);
    switch (v.kind) {
    case HeadVerdict::Incomplete:
        // Wake up only when more than what is there has arrived (no busy loop).
        setReceiveLowWater(p.socket.get(), n + 1);
        return false;
    case HeadVerdict::Reject:
        ++rejected_;
        GST_INFO("rejected %s: %u %s", p.address.c_str(), v.status, v.message.c_str());
        answer(p, v.status, v.code, v.message);
        return false;
    case HeadVerdict::Complete:
        handOver(p);
        return true;
    }
    return true;
}

void FrontDoor::answer(Pending& p, unsigned status, const std::string& code, const std::string& message,
                       const std::string& extraHeaders) {
    const int fd = g_socket_get_fd(p.socket.get());
    // Consume what was peeked so the close is not a reset that loses the answer.
    if (p.seen) {
        std::vector<char> sink(p.seen);
        (void)!recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
    }
    const std::string text = cannedResponse(status, code, message, extraHeaders);
    (void)!send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    setReceiveLowWater(p.socket.get(), 1);
    p.closing = true;
    p.deadlineUs = monotonicNowUs() + kLingerUs;
}

void FrontDoor::handOver(Pending& p) {
    setReceiveLowWater(p.socket.get(), 1);
    GRef<GSocketConnection> connection =
        GRef<GSocketConnection>::adopt(g_socket_connection_factory_create_connection(p.socket.get()));
    GRef<GSocketAddress> local = GRef<GSocketAddress>::adopt(g_socket_get_local_address(p.socket.get(), nullptr));
    GRef<GSocketAddress> remote = peerOf(p.socket.get());
    // Watched until libsoup has read the whole request (request-read).
    const std::string key = endpointKey(remote.get());
    handedOver_[key] = {p.socket, monotonicNowUs() + int64_t(limits_.requestTimeoutMs) * 1000};
    GError* raw = nullptr;
    if (!soup_server_accept_iostream(server_, G_IO_STREAM(connection.get()), local.get(), remote.get(), &raw)) {
        GUniquePtr<GError> error(raw);
        logWarning("", "HTTP: libsoup refused a connection from " + p.address + ": " + errorMessage(error));
        handedOver_.erase(key);
    }
}

void FrontDoor::onRequestStarted(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept {
    // One request per connection: libsoup 3.2.3 leaks keep-alive connections
    // that the client closes; closing after each response leaves none idle.
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
    // Over TLS the head was not read ahead: its limits are checked once parsed.
    if (static_cast<FrontDoor*>(self)->certificate_)
        g_signal_connect(msg, "got-headers", G_CALLBACK(&FrontDoor::onGotHeaders), self);
}

void FrontDoor::onGotHeaders(SoupServerMessage* msg, gpointer data) noexcept {
    guarded("checking a request head", [&] {
        auto* self = static_cast<FrontDoor*>(data);
        const HttpLimits& limits = self->limits_;
        GUri* uri = soup_server_message_get_uri(msg);
        const char* query = uri ? g_uri_get_query(uri) : nullptr;
        const size_t target = (uri ? std::strlen(g_uri_get_path(uri)) : 0) + (query ? std::strlen(query) + 1 : 0);
        struct Counts {
            int fields = 0;
            size_t bytes = 0;  // "Name: value\r\n" each
        } counts;
        soup_message_headers_foreach(soup_server_message_get_request_headers(msg),
                                     [](const char* name, const char* value, gpointer data) {
                                         auto* c = static_cast<Counts*>(data);
                                         ++c->fields;
                                         c->bytes += std::strlen(name) + std::strlen(value) + 4;
                                     }, &counts);
        const int fields = counts.fields;
        const size_t headBytes = counts.bytes;
        unsigned status = 0;
        std::string code, message;
        const std::string headTooLarge = "request heads are limited to " + std::to_string(limits.maxHeaderBytes) +
                                         " bytes and " + std::to_string(limits.maxHeaders) + " fields";
        if (target > size_t(limits.maxUrlBytes))
            status = 414, code = "uri_too_long",
            message = "request targets are limited to " + std::to_string(limits.maxUrlBytes) + " bytes";
        else if (fields > limits.maxHeaders)
            status = 431, code = "too_many_headers", message = headTooLarge;
        else if (target + headBytes > size_t(limits.maxHeaderBytes))
            status = 431, code = "header_too_large", message = headTooLarge;
        if (!status) return;
        ++self->rejected_;
        GST_INFO("rejected a TLS request: %u %s", status, message.c_str());
        respondError(msg, status, code, message);
    });
}

void FrontDoor::onRequestDone(SoupServer*, SoupServerMessage* msg, gpointer data) noexcept {
    auto* self = static_cast<FrontDoor*>(data);
    self->handedOver_.erase(endpointKey(soup_server_message_get_remote_address(msg)));
}

gboolean FrontDoor::onSweep(gpointer self) noexcept {
    guarded("sweeping connections", [self] { static_cast<FrontDoor*>(self)->sweep(); });
    return G_SOURCE_CONTINUE;
}

void FrontDoor::startHandshake(GRef<GSocket> socket, const std::string& address, int64_t deadlineUs) {
    GRef<GSocketConnection> plain =
        GRef<GSocketConnection>::adopt(g_socket_connection_factory_create_connection(socket.get()));
    GError* raw = nullptr;
    GRef<GIOStream> tls = GRef<GIOStream>::adopt(g_tls_server_connection_new(G_IO_STREAM(plain.get()), certificate_.get(), &raw));
    if (!tls) {
        GUniquePtr<GError> error(raw);
        logWarning("", "HTTPS: cannot start TLS with " + address + ": " + errorMessage(error));
        g_socket_close(socket.get(), nullptr);
        return;
    }
    // As libsoup's own TLS listener: a client that closes TCP without
    // close_notify has simply ended (HTTP delimits its own messages), and
    // ALPN says HTTP/1.1, the only protocol served.
    g_tls_connection_set_require_close_notify(G_TLS_CONNECTION(tls.get()), FALSE);
    static const gchar* const kProtocols[] = {"http/1.1", nullptr};
    g_tls_connection_set_advertised_protocols(G_TLS_CONNECTION(tls.get()), kProtocols);
    const uint64_t id = ++nextHandshake_;
    Handshake& h = handshakes_[id];
    h.socket = std::move(socket);
    h.tls = tls;
    h.cancel = GRef<GCancellable>::adopt(g_cancellable_new());
    h.deadlineUs = deadlineUs;
    h.acceptedUs = deadlineUs - int64_t(limits_.headerTimeoutMs) * 1000;
    h.address = address;
    // The handshake thread's blocking reads give up on their own too (whole
    // seconds; the sweep cancels at the deadline to the 250 ms).
    const int64_t leftMs = (deadlineUs - monotonicNowUs()) / 1000;
    g_socket_set_timeout(h.socket.get(), guint(std::max<int64_t>(1, (leftMs + 999) / 1000)));
    g_tls_connection_handshake_async(G_TLS_CONNECTION(tls.get()), G_PRIORITY_DEFAULT, h.cancel.get(),
                                     &FrontDoor::onHandshakeDone,
                                     new std::pair<std::shared_ptr<FrontDoor*>, uint64_t>(alive_, id));
}

void FrontDoor::onHandshakeDone(GObject*, GAsyncResult* result, gpointer data) noexcept {
    std::unique_ptr<std::pair<std::shared_ptr<FrontDoor*>, uint64_t>> call(
        static_cast<std::pair<std::shared_ptr<FrontDoor*>, uint64_t>*>(data));
    if (FrontDoor* self = *call->first)
        guarded("finishing a TLS handshake", [&] { self->finishHandshake(call->second, result); });
}

void FrontDoor::finishHandshake(uint64_t id, GAsyncResult* result) {
    auto it = handshakes_.find(id);
    if (it == handshakes_.end()) return;  // timed out: already closed
    Handshake h = std::move(it->second);
    handshakes_.erase(it);
    startWaitingHandshake(h.address);
    GError* raw = nullptr;
    if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(h.tls.get()), result, &raw)) {
        GUniquePtr<GError> error(raw);
        // Plain HTTP on the HTTPS port, a scanner, a client that gave up.
        GST_INFO("TLS handshake with %s failed: %s", h.address.c_str(), errorMessage(error).c_str());
        g_socket_close(h.socket.get(), nullptr);
        return;
    }
    // A GSocket timeout would also fail libsoup's idle waits: off from here.
    g_socket_set_timeout(h.socket.get(), 0);
    GRef<GSocketAddress> local = GRef<GSocketAddress>::adopt(g_socket_get_local_address(h.socket.get(), nullptr));
    GRef<GSocketAddress> remote = peerOf(h.socket.get());
    // The head (not read ahead) must arrive within the header timeout counted
    // from the accept, and a declared body within the request timeout after.
    const std::string key = endpointKey(remote.get());
    handedOver_[key] = {h.socket, h.acceptedUs + int64_t(limits_.headerTimeoutMs + limits_.requestTimeoutMs) * 1000};
    if (!soup_server_accept_iostream(server_, h.tls.get(), local.get(), remote.get(), &raw)) {
        GUniquePtr<GError> error(raw);
        logWarning("", "HTTPS: libsoup refused a connection from " + h.address + ": " + errorMessage(error));
        handedOver_.erase(key);
        g_socket_close(h.socket.get(), nullptr);
    }
}

bool FrontDoor::useTls(const std::string& certificateFile, const std::string& keyFile, std::string* error) {
    if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
        *error = "[server] tls-certificate: GLib has no TLS backend (install glib-networking)";
        return false;
    }
    GError* raw = nullptr;
    GRef<GTlsCertificate> certificate =
        GRef<GTlsCertificate>::adopt(g_tls_certificate_new_from_files(certificateFile.c_str(), keyFile.c_str(), &raw));
    if (!certificate) {
        GUniquePtr<GError> e(raw);
        *error = "[server] tls-certificate=" + certificateFile + " / tls-key=" + keyFile +
                 ": cannot load the certificate and key: " + errorMessage(e);
        return false;
    }
    certificate_ = std::move(certificate);
    return true;
}

void FrontDoor::sweep() {
    refreshCap();
    const int64_t now = monotonicNowUs();
    std::vector<std::string> freed;  // addresses whose handshake slot was freed
    for (auto it = handshakes_.begin(); it != handshakes_.end();) {
        if (now < it->second.deadlineUs) {
            ++it;
            continue;
        }
        freed.push_back(it->second.address);
        // The handshake thread may be inside a read on this socket: shut it
        // down (its I/O fails at once) rather than close a descriptor number
        // that a new accept could reuse; the last reference closes it.
        ++timedOut_;
        GST_INFO("%s did not complete a TLS handshake in %d ms", it->second.address.c_str(), limits_.headerTimeoutMs);
        g_cancellable_cancel(it->second.cancel.get());
        g_socket_shutdown(it->second.socket.get(), TRUE, TRUE, nullptr);
        it = handshakes_.erase(it);
    }
    std::vector<FdWatchSet::Tag> done;
    for (auto& [tag, p] : pending_) {
        if (now < p.deadlineUs) continue;
        if (p.closing) {
            done.push_back(tag);
            continue;
        }
        ++timedOut_;
        if (p.tlsHello) {
            GST_INFO("%s sent no TLS ClientHello in %d ms", p.address.c_str(), limits_.headerTimeoutMs);
            done.push_back(tag);  // nothing plaintext to say to a TLS client
            continue;
        }
        GST_INFO("%s sent no complete request head in %d ms", p.address.c_str(), limits_.headerTimeoutMs);
        answer(p, 408, "request_timeout",
               "the request head did not arrive within " + std::to_string(limits_.headerTimeoutMs) + " ms");
    }
    for (auto tag : done) {
        watch_.remove(tag);
        pending_.erase(tag);
    }
    for (const auto& address : freed) startWaitingHandshake(address);
    for (auto it = handedOver_.begin(); it != handedOver_.end();) {
        // libsoup answered and closed it without a request-read (its own 400
        // for a malformed head): stop holding the socket, so its ticket goes now.
        if (g_socket_is_closed(it->second.socket.get())) {
            it = handedOver_.erase(it);
            continue;
        }
        if (now < it->second.deadlineUs) {
            ++it;
            continue;
        }
        // The declared body did not arrive: libsoup sees the shutdown, aborts and closes.
        ++timedOut_;
        GST_INFO("request body did not arrive within %d ms: closing", limits_.requestTimeoutMs);
        g_socket_shutdown(it->second.socket.get(), TRUE, TRUE, nullptr);
        it = handedOver_.erase(it);
    }
}

}  // namespace camrelay

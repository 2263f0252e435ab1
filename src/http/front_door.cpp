#include "front_door.h"

#include "core/clock.h"
#include "core/log.h"

#include <gio/gio.h>

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

std::string addressOf(GSocket* socket) {
    GRef<GSocketAddress> remote = GRef<GSocketAddress>::adopt(g_socket_get_remote_address(socket, nullptr));
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
    : limits_(limits), server_(server), ledger_(std::make_shared<Ledger>()), watch_([this] { onReadable(); }) {
    peekBuffer_.resize(size_t(std::max(limits_.maxHeaderBytes, limits_.maxUrlBytes + 64)) + 1);
    refreshCap();
    startedHandler_ = g_signal_connect(server_, "request-started", G_CALLBACK(&FrontDoor::onRequestStarted), this);
    readHandler_ = g_signal_connect(server_, "request-read", G_CALLBACK(&FrontDoor::onRequestDone), this);
    finishedHandler_ = g_signal_connect(server_, "request-finished", G_CALLBACK(&FrontDoor::onRequestDone), this);
    abortedHandler_ = g_signal_connect(server_, "request-aborted", G_CALLBACK(&FrontDoor::onRequestDone), this);
    sweepId_ = g_timeout_add(250, &FrontDoor::onSweep, this);
}

FrontDoor::~FrontDoor() {
    for (gulong id : {startedHandler_, readHandler_, finishedHandler_, abortedHandler_}) g_signal_handler_disconnect(server_, id);
    if (sweepId_) g_source_remove(sweepId_);
    if (pauseId_) g_source_remove(pauseId_);
    if (acceptSource_) {
        g_source_destroy(acceptSource_);
        g_source_unref(acceptSource_);
    }
    for (auto& [tag, p] : pending_) watch_.remove(tag);
}

bool FrontDoor::listen(const std::string& address, int port, int backlog, std::string* error) {
    const std::string where = address + ":" + std::to_string(port);
    GRef<GInetAddress> inet = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(address.c_str()));
    if (!inet) {
        *error = "cannot listen on " + where + ": not an IP address";
        return false;
    }
    GError* raw = nullptr;
    GRef<GSocket> socket = GRef<GSocket>::adopt(
        g_socket_new(g_inet_address_get_family(inet.get()), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &raw));
    GRef<GSocketAddress> socketAddress = GRef<GSocketAddress>::adopt(g_inet_socket_address_new(inet.get(), guint16(port)));
    // GLib's default backlog of 10 makes a burst of viewers wait seconds for SYN retries.
    bool ok = socket && g_socket_bind(socket.get(), socketAddress.get(), TRUE, &raw);
    if (ok) {
        g_socket_set_listen_backlog(socket.get(), backlog);
        ok = g_socket_listen(socket.get(), &raw);
    }
    GUniquePtr<GError> failure(raw);
    if (!ok) {
        *error = "cannot listen on " + where + ": " + errorMessage(failure);
        return false;
    }
    GRef<GSocketAddress> bound = GRef<GSocketAddress>::adopt(g_socket_get_local_address(socket.get(), nullptr));
    port_ = bound ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get())) : port;
    g_socket_set_blocking(socket.get(), FALSE);
    listener_ = socket;
    acceptSource_ = g_socket_create_source(listener_.get(), G_IO_IN, nullptr);
    g_source_set_callback(acceptSource_, G_SOURCE_FUNC(&FrontDoor::onAcceptReady), this, nullptr);
    g_source_attach(acceptSource_, g_main_context_get_thread_default());
    return true;
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
    s.readingHead = pending_.size();
    s.inLibsoup = handedOver_.size();
    s.accepted = accepted_, s.refused = refused_, s.rejected = rejected_, s.timedOut = timedOut_;
    return s;
}

gboolean FrontDoor::onAcceptReady(GSocket*, GIOCondition, gpointer self) noexcept {
    guarded("accepting connections", [self] { static_cast<FrontDoor*>(self)->acceptAll(); });
    return G_SOURCE_CONTINUE;
}

void FrontDoor::acceptAll() {
    // Bounded per wake-up so a connection storm cannot starve the frame path.
    for (int i = 0; i < 256; ++i) {
        GError* raw = nullptr;
        GSocket* client = g_socket_accept(listener_.get(), nullptr, &raw);
        GUniquePtr<GError> error(raw);
        if (client) {
            admit(GRef<GSocket>::adopt(client));
            continue;
        }
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) return;
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
            (error && error->domain == G_IO_ERROR && (errno == EMFILE || errno == ENFILE))) {
            // The listening socket stays readable: pause instead of spinning.
            logWarning("", "HTTP: out of file descriptors, not accepting for 250 ms: " + errorMessage(error));
            g_source_destroy(acceptSource_);
            g_source_unref(acceptSource_);
            acceptSource_ = nullptr;
            pauseId_ = g_timeout_add(250, [](gpointer data) noexcept -> gboolean {
                auto* self = static_cast<FrontDoor*>(data);
                self->pauseId_ = 0;
                self->acceptSource_ = g_socket_create_source(self->listener_.get(), G_IO_IN, nullptr);
                g_source_set_callback(self->acceptSource_, G_SOURCE_FUNC(&FrontDoor::onAcceptReady), self, nullptr);
                g_source_attach(self->acceptSource_, g_main_context_get_thread_default());
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
        if (readHead(p, watch_.ready(tag))) done.push_back(tag);
    }
    for (auto tag : done) {
        watch_.remove(tag);
        pending_.erase(tag);
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
    GRef<GSocketAddress> remote = GRef<GSocketAddress>::adopt(g_socket_get_remote_address(p.socket.get(), nullptr));
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

void FrontDoor::onRequestStarted(SoupServer*, SoupServerMessage* msg, gpointer) noexcept {
    // One request per connection: libsoup 3.2.3 leaks keep-alive connections
    // that the client closes; closing after each response leaves none idle.
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
}

void FrontDoor::onRequestDone(SoupServer*, SoupServerMessage* msg, gpointer data) noexcept {
    auto* self = static_cast<FrontDoor*>(data);
    self->handedOver_.erase(endpointKey(soup_server_message_get_remote_address(msg)));
}

gboolean FrontDoor::onSweep(gpointer self) noexcept {
    guarded("sweeping connections", [self] { static_cast<FrontDoor*>(self)->sweep(); });
    return G_SOURCE_CONTINUE;
}

void FrontDoor::sweep() {
    refreshCap();
    const int64_t now = monotonicNowUs();
    std::vector<FdWatchSet::Tag> done;
    for (auto& [tag, p] : pending_) {
        if (now < p.deadlineUs) continue;
        if (p.closing) {
            done.push_back(tag);
            continue;
        }
        ++timedOut_;
        GST_INFO("%s sent no complete request head in %d ms", p.address.c_str(), limits_.headerTimeoutMs);
        answer(p, 408, "request_timeout",
               "the request head did not arrive within " + std::to_string(limits_.headerTimeoutMs) + " ms");
    }
    for (auto tag : done) {
        watch_.remove(tag);
        pending_.erase(tag);
    }
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

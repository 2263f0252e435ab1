#include "viewer_sockets.h"

#include "core/clock.h"
#include "core/log.h"

#include <gio/gio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

// Kernel memory per viewer is bounded too: without this, Linux grows a
// stalled viewer's send buffer to megabytes (tcp_wmem), times every viewer.
// 512 KiB (the kernel doubles it) still carries 20 MB/s at 50 ms RTT.
constexpr int kSocketSendBuffer = 512 * 1024;

// Small tolerance so a 30 fps camera thinned to 10 fps sends every third
// frame despite capture jitter.
constexpr int64_t kFpsToleranceUs = 5000;

// A TLS client's input is read this many times per dispatch at most (one
// TLS record each), so one fast sender cannot hold the loop; what is left
// makes the watch set dispatch again at once.
constexpr int kMaxTlsReadsPerDispatch = 16;

constexpr GIOCondition kAlwaysWatched = GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR);

std::string peerAddress(GSocket* socket) {
    GRef<GSocketAddress> address = GRef<GSocketAddress>::adopt(g_socket_get_remote_address(socket, nullptr));
    if (!address || !G_IS_INET_SOCKET_ADDRESS(address.get())) return "unknown peer";
    auto* inet = G_INET_SOCKET_ADDRESS(address.get());
    GUniquePtr<gchar> host(g_inet_address_to_string(g_inet_socket_address_get_address(inet)));
    return std::string(host ? host.get() : "?") + ":" + std::to_string(g_inet_socket_address_get_port(inet));
}

}  // namespace

bool FpsThinner::due(int64_t captureUs) {
    if (!intervalUs_) return true;
    if (captureUs + kFpsToleranceUs < nextDueUs_) return false;
    const bool behind = nextDueUs_ == 0 || captureUs - nextDueUs_ > intervalUs_;
    nextDueUs_ = (behind ? captureUs : nextDueUs_) + intervalUs_;
    return true;
}

ViewerSockets::ViewerSockets(int clientTimeoutSec, InputHandler onInput, DropHandler onDrop, std::string name)
    : name_(std::move(name)),
      clientTimeoutUs_(int64_t(clientTimeoutSec) * 1000000),
      onInput_(std::move(onInput)),
      onDrop_(std::move(onDrop)),
      sockets_([this] { onReady(); }, name_),
      sendBuffer_(kSocketSendBuffer) {}

ViewerSockets::~ViewerSockets() {
    for (auto& c : clients_) {
        if (!c->dropped) sockets_.remove(c->tag);
        c->stream.reset();  // closes
    }
}

ViewerSockets::Client& ViewerSockets::add(GRef<GIOStream> connection, GRef<GSocket> socket) {
    auto client = std::make_unique<Client>();
    client->peer = peerAddress(socket.get());
    client->stream = std::make_unique<ClientStream>(std::move(connection), std::move(socket));  // non-blocking
    client->fd = client->stream->fd();
    // Each message is written whole; Nagle would hold its tail back for an ACK.
    int one = 1;
    setsockopt(client->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(client->fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer_, sizeof sendBuffer_);
    client->lastProgressUs = monotonicNowUs();
    client->tag = sockets_.add(client->fd, kAlwaysWatched);
    clients_.push_back(std::move(client));
    if (!timeoutTimer_)
        timeoutTimer_ = SourceHandle(g_timeout_add_seconds(1, [](gpointer self) noexcept -> gboolean {
            return static_cast<ViewerSockets*>(self)->checkTimeouts();
        }, this));
    return *clients_.back();
}

void ViewerSockets::sendControl(Client& c, Bytes bytes) {
    if (c.dropped || c.closeWhenSent) return;
    if (c.control.size() >= kMaxControl) {
        drop(c, "too many unsent control messages");
        return;
    }
    c.control.push_back(std::move(bytes));
    flush(c);
}

void ViewerSockets::offerFrame(Client& c, int streamKey, const Bytes& frame, const StreamTallyPtr& tally) {
    if (c.dropped || c.closeWhenSent) return;
    auto slot = std::find_if(c.waiting.begin(), c.waiting.end(), [&](const auto& w) { return w.key == streamKey; });
    if (slot != c.waiting.end()) {
        ++totals_.framesDropped;  // newest wins
        if (slot->tally) ++slot->tally->framesDropped;
        slot->frame = frame;
        slot->tally = tally;
    } else {
        c.waiting.push_back(Client::Waiting{streamKey, frame, tally});
    }
    flush(c);
}

void ViewerSockets::closeAfterSending(Client& c) {
    c.closeWhenSent = true;
    c.waiting.clear();
    flush(c);
}

bool ViewerSockets::nextToWrite(Client& c) {
    if (!c.control.empty()) {
        c.inflight = std::move(c.control.front());
        c.control.pop_front();
        c.inflightIsFrame = false;
        c.inflightTally.reset();
    } else if (!c.waiting.empty()) {
        c.inflight = std::move(c.waiting.front().frame);
        c.inflightTally = std::move(c.waiting.front().tally);
        c.waiting.erase(c.waiting.begin());
        c.inflightIsFrame = true;
    } else {
        return false;
    }
    c.offset = 0;
    return true;
}

void ViewerSockets::flush(Client& c) {
    if (!c.inflight) {
        if (!nextToWrite(c)) {
            if (c.closeWhenSent) drop(c, "closed");
            return;
        }
        c.lastProgressUs = monotonicNowUs();  // the stall clock starts with the work
    }
    while (c.inflight) {
        const std::string& bytes = *c.inflight;
        // After WouldBlock the same bytes are offered again (offset moves only
        // on progress, inflight stays): what a half-sent TLS record needs.
        size_t n = 0;
        std::string error;
        const ClientStream::Status status = c.stream->write(bytes.data() + c.offset, bytes.size() - c.offset, &n, &error);
        if (status == ClientStream::Status::WouldBlock) break;
        if (status != ClientStream::Status::Ok) {
            drop(c, error.empty() ? "closed" : error.c_str());
            return;
        }
        c.offset += n;
        totals_.bytesSent += uint64_t(n);
        if (c.inflightTally) c.inflightTally->bytesSent += uint64_t(n);
        c.lastProgressUs = monotonicNowUs();
        if (c.offset < bytes.size()) continue;
        if (c.inflightIsFrame) ++totals_.framesSent;
        if (c.inflightTally) ++c.inflightTally->framesSent;
        c.inflight.reset();
        c.inflightTally.reset();
        if (!nextToWrite(c)) break;
    }
    if (!c.inflight && c.closeWhenSent) {
        drop(c, "closed");
        return;
    }
    const bool wantsWrite = bool(c.inflight);
    if (wantsWrite != c.wantsWrite) {
        c.wantsWrite = wantsWrite;
        sockets_.modify(c.tag, GIOCondition(kAlwaysWatched | (wantsWrite ? G_IO_OUT : 0)));
    }
}

void ViewerSockets::onReady() {
    bool moreInput = false;
    for (size_t i = 0; i < clients_.size(); ++i) {
        Client& c = *clients_[i];
        if (c.dropped) continue;
        try {
            serve(c);
        } catch (...) {
            // One client's input must not stop the others being served, nor
            // leave that client half-handled: log it, drop it.
            const std::string what = currentExceptionText();
            GST_ERROR("%s: client %s (fd %d) threw: %s; dropping it", name_.c_str(), c.peer.c_str(), c.fd, what.c_str());
            logWarning("", name_ + ": dropped client " + c.peer + " after an error: " + what);
            drop(c, "its input raised an error");
        }
        moreInput = moreInput || (!c.dropped && c.moreInput);
    }
    sockets_.setPending(moreInput);
    sweep();
}

void ViewerSockets::serve(Client& c) {
    const GIOCondition ready = sockets_.ready(c.tag);
    if ((ready & G_IO_IN) || c.moreInput) {
        readInput(c);
        if (c.dropped) return;
    } else if (ready & (G_IO_ERR | G_IO_HUP)) {
        drop(c, "hung up");
        return;
    }
    if (ready & G_IO_OUT) flush(c);
}

void ViewerSockets::readInput(Client& c) {
    c.moreInput = false;
    char buffer[16384];
    // Plain: one recv per readiness, as the descriptor reports what is left.
    // TLS: GnuTLS may hold decrypted bytes the descriptor does not show.
    const int reads = c.stream->tls() ? kMaxTlsReadsPerDispatch : 1;
    for (int i = 0; i < reads; ++i) {
        size_t n = 0;
        std::string error;
        const ClientStream::Status status = c.stream->read(buffer, sizeof buffer, &n, &error);
        if (status == ClientStream::Status::WouldBlock) return;
        if (status != ClientStream::Status::Ok) {
            drop(c, "hung up");
            return;
        }
        if (onInput_) onInput_(c, std::string_view(buffer, n));
        if (c.dropped || !c.stream->tls()) return;
    }
    c.moreInput = c.stream->hasBufferedInput();
}

gboolean ViewerSockets::checkTimeouts() {
    const int64_t now = monotonicNowUs();
    for (auto& c : clients_) {
        if (!c->dropped && c->inflight && now - c->lastProgressUs > clientTimeoutUs_) {
            ++totals_.viewersTimedOut;
            drop(*c, "timed out: accepted no data");
        }
    }
    sweep();
    if (!clients_.empty()) return G_SOURCE_CONTINUE;
    timeoutTimer_.forget();
    return G_SOURCE_REMOVE;
}

void ViewerSockets::drop(Client& c, const char* why) {
    if (c.dropped) return;
    GST_DEBUG("%s: dropping client %s (fd %d): %s", name_.c_str(), c.peer.c_str(), c.fd, why);
    sockets_.remove(c.tag);
    c.dropped = true;
    anyDropped_ = true;
    if (onDrop_) onDrop_(c);
}

void ViewerSockets::sweep() {
    if (!std::exchange(anyDropped_, false)) return;
    auto gone = std::stable_partition(clients_.begin(), clients_.end(), [](const auto& c) { return !c->dropped; });
    for (auto it = gone; it != clients_.end(); ++it)  // close now, not whenever the last reference goes
        (*it)->stream->close();
    clients_.erase(gone, clients_.end());
}

ViewerSocketStats ViewerSockets::stats() const {
    ViewerSocketStats s = totals_;
    s.viewers = clients_.size();
    for (const auto& c : clients_) {
        uint64_t pending = c->inflight ? c->inflight->size() - c->offset : 0;
        for (const auto& b : c->control) pending += b->size();
        for (const auto& w : c->waiting) pending += w.frame->size();
        s.pendingBytes += pending;
        s.maxClientPendingBytes = std::max(s.maxClientPendingBytes, pending);
    }
    return s;
}

}  // namespace camrelay

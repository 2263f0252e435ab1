#include "recording/file_response.h"

#include "core/clock.h"
#include "core/log.h"

#include <gio/gunixinputstream.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <limits>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

constexpr GIOCondition kAlwaysWatched = GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR);
constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

// A run of digits as a number, saturating (a byte position past any file is
// still a valid, unsatisfiable position); false if empty or not all digits.
bool parseDigits(std::string_view s, uint64_t* value) {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const uint64_t digit = uint64_t(c - '0');
        v = v > (kSaturated - digit) / 10 ? kSaturated : v * 10 + digit;
    }
    *value = v;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

RangeRequest parseByteRange(const char* header, uint64_t size) {
    RangeRequest r;
    if (!header) return r;
    r.kind = RangeKind::Ignored;
    std::string_view text = trim(header);
    if (text.size() > 256 || text.size() < 6 || g_ascii_strncasecmp(text.data(), "bytes=", 6) != 0) return r;
    text = trim(text.substr(6));
    if (text.find(',') != std::string_view::npos) return r;  // several ranges: the whole file
    const size_t dash = text.find('-');
    if (dash == std::string_view::npos) return r;
    const std::string_view a = trim(text.substr(0, dash)), b = trim(text.substr(dash + 1));
    uint64_t first = 0, last = 0;
    if (a.empty()) {  // "-n": the last n bytes
        if (!parseDigits(b, &last)) return r;
        if (last == 0 || size == 0) return RangeRequest{RangeKind::Unsatisfiable};
        r.first = size - std::min(last, size);
        r.last = size - 1;
    } else {
        if (!parseDigits(a, &first)) return r;
        if (b.empty()) last = kSaturated;
        else if (!parseDigits(b, &last) || last < first) return r;  // "5-3" is invalid: ignored
        if (first >= size) return RangeRequest{RangeKind::Unsatisfiable};
        r.first = first;
        r.last = std::min(last, size - 1);
    }
    r.kind = RangeKind::Single;
    return r;
}

struct FileSender::Transfer {
    std::unique_ptr<ClientStream> stream;
    FdWatchSet::Tag tag = nullptr;
    GRef<GInputStream> input;       // the file, positioned at the range's start
    GRef<GCancellable> cancellable;
    std::string head;
    size_t headSent = 0;
    GUniquePtr<GBytes> chunk;       // read, not yet all sent
    size_t chunkSent = 0;
    uint64_t toRead = 0;            // bytes of the range not yet read
    bool reading = false;
    bool wantsWrite = false;
    bool dropped = false;
    size_t inputBytes = 0;
    int64_t lastProgressUs = 0;
};

FileSender::FileSender(int clientTimeoutSec, size_t maxTransfers)
    : clientTimeoutUs_(int64_t(clientTimeoutSec) * 1000000),
      maxTransfers_(maxTransfers),
      sockets_([this] { onReady(); }, "file downloads") {}

FileSender::~FileSender() {
    for (auto& t : transfers_) {
        if (t->dropped) continue;
        sockets_.remove(t->tag);
        if (t->cancellable) g_cancellable_cancel(t->cancellable.get());
        t->stream->close();
    }
}

void FileSender::send(GRef<GIOStream> connection, GRef<GSocket> socket, std::string head, UniqueFd file,
                      uint64_t offset, uint64_t length) {
    auto t = std::make_shared<Transfer>();
    t->stream = std::make_unique<ClientStream>(std::move(connection), std::move(socket));  // non-blocking
    const int fd = t->stream->fd();
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketSendBuffer, sizeof kSocketSendBuffer);
    t->head = std::move(head);
    if (file && length > 0) {
        // A plain read(2) stream: GIO runs its async reads in its thread pool
        // (a regular file cannot be polled), so a slow disk never holds the loop.
        if (lseek(file.get(), off_t(offset), SEEK_SET) == off_t(offset)) {
            t->input = GRef<GInputStream>::adopt(g_unix_input_stream_new(file.release(), TRUE));
            t->cancellable = GRef<GCancellable>::adopt(g_cancellable_new());
            t->toRead = length;
        }
    }
    t->lastProgressUs = monotonicNowUs();
    t->tag = sockets_.add(fd, kAlwaysWatched);
    transfers_.push_back(t);
    if (!timeoutTimer_)
        timeoutTimer_ = SourceHandle(g_timeout_add_seconds(1, [](gpointer self) noexcept -> gboolean {
            return static_cast<FileSender*>(self)->checkTimeouts();
        }, this));
    pump(*t);
    sweep();
}

void FileSender::pump(Transfer& t) {
    while (!t.dropped) {
        const char* data = nullptr;
        size_t size = 0;
        if (t.headSent < t.head.size()) {
            data = t.head.data() + t.headSent;
            size = t.head.size() - t.headSent;
        } else if (t.chunk) {
            gsize chunkSize = 0;
            const char* bytes = static_cast<const char*>(g_bytes_get_data(t.chunk.get(), &chunkSize));
            data = bytes + t.chunkSent;
            size = chunkSize - t.chunkSent;
        } else if (t.toRead > 0) {
            if (!t.reading) startRead(t);
            break;  // the socket waits for the disk
        } else {
            ++totals_.served;
            drop(t, nullptr);  // all sent: close (the kernel still delivers what it holds)
            return;
        }
        size_t n = 0;
        std::string error;
        const ClientStream::Status status = t.stream->write(data, size, &n, &error);
        if (status == ClientStream::Status::WouldBlock) {
            if (!t.wantsWrite) {
                t.wantsWrite = true;
                sockets_.modify(t.tag, GIOCondition(kAlwaysWatched | G_IO_OUT));
            }
            return;
        }
        if (status != ClientStream::Status::Ok) {
            drop(t, error.empty() ? "closed" : error.c_str());
            return;
        }
        totals_.bytesSent += n;
        t.lastProgressUs = monotonicNowUs();
        if (t.headSent < t.head.size()) {
            t.headSent += n;
        } else {
            t.chunkSent += n;
            if (t.chunkSent == g_bytes_get_size(t.chunk.get())) {
                t.chunk.reset();
                t.chunkSent = 0;
            }
        }
    }
    if (t.wantsWrite) {
        t.wantsWrite = false;
        sockets_.modify(t.tag, kAlwaysWatched);
    }
}

void FileSender::startRead(Transfer& t) {
    t.reading = true;
    // The callback may come after the transfer is gone (or the sender): it
    // holds a weak reference and checks.
    std::weak_ptr<Transfer> weak;
    for (auto& p : transfers_)
        if (p.get() == &t) weak = p;
    auto* data = new std::pair<FileSender*, std::weak_ptr<Transfer>>(this, std::move(weak));
    g_input_stream_read_bytes_async(
        t.input.get(), gsize(std::min<uint64_t>(t.toRead, kChunkBytes)), G_PRIORITY_DEFAULT, t.cancellable.get(),
        [](GObject* source, GAsyncResult* result, gpointer p) noexcept {
            std::unique_ptr<std::pair<FileSender*, std::weak_ptr<Transfer>>> d(
                static_cast<std::pair<FileSender*, std::weak_ptr<Transfer>>*>(p));
            GError* raw = nullptr;
            GBytes* bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &raw);
            GUniquePtr<GError> error(raw);
            GUniquePtr<GBytes> owned(bytes);
            std::shared_ptr<Transfer> t = d->second.lock();
            if (!t) return;  // dropped meanwhile (the sender too, perhaps)
            try {
                d->first->onRead(*t, owned.release(), error.get());
                d->first->sweep();
            } catch (...) {
                logError("", "file download: " + currentExceptionText());
            }
        },
        data);
}

void FileSender::onRead(Transfer& t, GBytes* bytes, GError* error) {
    GUniquePtr<GBytes> owned(bytes);
    t.reading = false;
    if (t.dropped) return;
    if (!owned || g_bytes_get_size(owned.get()) == 0) {
        // Shrunk under us (only a crash-cut file could) or unreadable: the
        // client has a Content-Length we cannot honour; closing says so.
        logWarning("", std::string("file download cut short: ") + (error ? error->message : "the file ended early"));
        drop(t, "read failed");
        return;
    }
    t.toRead -= std::min<uint64_t>(t.toRead, g_bytes_get_size(owned.get()));
    t.chunk = std::move(owned);
    t.chunkSent = 0;
    pump(t);
}

void FileSender::onReady() {
    for (size_t i = 0; i < transfers_.size(); ++i) {
        Transfer& t = *transfers_[i];
        if (t.dropped) continue;
        const GIOCondition ready = sockets_.ready(t.tag);
        if (ready & G_IO_IN) readInput(t);
        else if (ready & (G_IO_ERR | G_IO_HUP)) drop(t, "hung up");
        if (!t.dropped && (ready & G_IO_OUT)) pump(t);
    }
    sweep();
}

void FileSender::readInput(Transfer& t) {
    char buffer[4096];
    size_t n = 0;
    std::string error;
    const ClientStream::Status status = t.stream->read(buffer, sizeof buffer, &n, &error);
    if (status == ClientStream::Status::WouldBlock) return;
    if (status != ClientStream::Status::Ok) return drop(t, "hung up");
    t.inputBytes += n;
    if (t.inputBytes > kMaxInputBytes) drop(t, "sent too much while downloading");
}

gboolean FileSender::checkTimeouts() {
    const int64_t now = monotonicNowUs();
    for (auto& t : transfers_) {
        if (!t->dropped && t->wantsWrite && now - t->lastProgressUs > clientTimeoutUs_) {
            ++totals_.timedOut;
            drop(*t, "timed out: accepted no data");
        }
    }
    sweep();
    if (!transfers_.empty()) return G_SOURCE_CONTINUE;
    timeoutTimer_.forget();
    return G_SOURCE_REMOVE;
}

void FileSender::drop(Transfer& t, const char* why) {
    if (t.dropped) return;
    if (why) {
        ++totals_.dropped;
        GST_DEBUG("file download closed early: %s", why);
    }
    sockets_.remove(t.tag);
    if (t.cancellable) g_cancellable_cancel(t.cancellable.get());
    t.dropped = true;
}

void FileSender::sweep() {
    auto gone = std::stable_partition(transfers_.begin(), transfers_.end(), [](const auto& t) { return !t->dropped; });
    for (auto it = gone; it != transfers_.end(); ++it) (*it)->stream->close();
    transfers_.erase(gone, transfers_.end());
}

FileSenderStats FileSender::stats() const {
    FileSenderStats s = totals_;
    s.active = transfers_.size();
    return s;
}

}  // namespace camrelay

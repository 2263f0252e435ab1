#include "client_stream.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace camrelay {

namespace {

// The stream a wrapper is built on: SoupIOStream says "base-iostream",
// GTlsConnection "base-io-stream". Returns a new reference, or null.
GRef<GIOStream> baseOf(GIOStream* stream) {
    for (const char* property : {"base-iostream", "base-io-stream"}) {
        if (!g_object_class_find_property(G_OBJECT_GET_CLASS(stream), property)) continue;
        GIOStream* inner = nullptr;
        g_object_get(stream, property, &inner, nullptr);
        return GRef<GIOStream>::adopt(inner);
    }
    return {};
}

// Wrappers are few (SoupIOStream over GTlsConnection over GSocketConnection):
// the bound only guards against a cycle.
constexpr int kMaxDepth = 8;

}  // namespace

GTlsConnection* findTlsConnection(GIOStream* connection) {
    GRef<GIOStream> at = GRef<GIOStream>::ref(connection);
    for (int depth = 0; at && depth < kMaxDepth; ++depth, at = baseOf(at.get()))
        if (G_IS_TLS_CONNECTION(at.get())) return G_TLS_CONNECTION(at.get());  // kept alive by connection
    return nullptr;
}

GSocketConnection* findSocketConnection(GIOStream* connection) {
    GRef<GIOStream> at = GRef<GIOStream>::ref(connection);
    for (int depth = 0; at && depth < kMaxDepth; ++depth, at = baseOf(at.get()))
        if (G_IS_SOCKET_CONNECTION(at.get())) return G_SOCKET_CONNECTION(at.get());
    return nullptr;
}

ClientStream::ClientStream(GRef<GIOStream> connection, GRef<GSocket> socket)
    : connection_(std::move(connection)), socket_(std::move(socket)) {
    fd_ = g_socket_get_fd(socket_.get());
    g_socket_set_blocking(socket_.get(), FALSE);
    if (GTlsConnection* tls = connection_ ? findTlsConnection(connection_.get()) : nullptr) {
        tls_ = GRef<GTlsConnection>::ref(tls);
        in_ = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(G_IO_STREAM(tls)));
        out_ = G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(G_IO_STREAM(tls)));
    }
}

ClientStream::~ClientStream() { close(); }

ClientStream::Status ClientStream::write(const char* data, size_t size, size_t* done, std::string* error) {
    *done = 0;
    if (closed_) return Status::Closed;
    if (!tls_) {
        for (;;) {
            const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                *done = size_t(n);
                return Status::Ok;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::WouldBlock;
            *error = g_strerror(errno);
            return Status::Failed;
        }
    }
    GError* raw = nullptr;
    const gssize n = g_pollable_output_stream_write_nonblocking(out_, data, size, nullptr, &raw);
    if (n >= 0) {
        *done = size_t(n);
        return Status::Ok;
    }
    GUniquePtr<GError> e(raw);
    if (g_error_matches(e.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) return Status::WouldBlock;
    *error = e ? e->message : "TLS write failed";
    return Status::Failed;
}

ClientStream::Status ClientStream::read(char* buffer, size_t size, size_t* done, std::string* error) {
    *done = 0;
    if (closed_) return Status::Closed;
    if (!tls_) {
        for (;;) {
            const ssize_t n = ::recv(fd_, buffer, size, MSG_DONTWAIT);
            if (n > 0) {
                *done = size_t(n);
                return Status::Ok;
            }
            if (n == 0) return Status::Closed;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::WouldBlock;
            *error = g_strerror(errno);
            return Status::Failed;
        }
    }
    GError* raw = nullptr;
    const gssize n = g_pollable_input_stream_read_nonblocking(in_, buffer, size, nullptr, &raw);
    if (n > 0) {
        *done = size_t(n);
        return Status::Ok;
    }
    if (n == 0) return Status::Closed;
    GUniquePtr<GError> e(raw);
    if (g_error_matches(e.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) return Status::WouldBlock;
    // A TCP close without close_notify is a hang-up like any other.
    if (g_error_matches(e.get(), G_TLS_ERROR, G_TLS_ERROR_EOF)) return Status::Closed;
    *error = e ? e->message : "TLS read failed";
    return Status::Failed;
}

bool ClientStream::hasBufferedInput() const {
    return tls_ && !closed_ && g_pollable_input_stream_is_readable(in_);
}

void ClientStream::close() {
    if (std::exchange(closed_, true)) return;
    // GLib's close of a TLS connection sends close_notify with a blocking
    // write: with the socket shut down first it fails at once instead.
    // What was already queued in the kernel is still delivered before the FIN.
    if (tls_) ::shutdown(fd_, SHUT_RDWR);
    if (connection_) g_io_stream_close(connection_.get(), nullptr, nullptr);
}

}  // namespace camrelay

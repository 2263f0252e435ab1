// ClientStream over real socket pairs: plain, and TLS with a certificate made
// here (openssl) and a real GnuTLS handshake (glib-networking).
#include "core/client_stream.h"

#include "child_process.h"
#include "service_process.h"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

struct Pair {
    GRef<GSocket> a, b;
    GRef<GIOStream> ca, cb;
    Pair() {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        a = GRef<GSocket>::adopt(g_socket_new_from_fd(fds[0], nullptr));
        b = GRef<GSocket>::adopt(g_socket_new_from_fd(fds[1], nullptr));
        ca = GRef<GIOStream>::adopt(G_IO_STREAM(g_socket_connection_factory_create_connection(a.get())));
        cb = GRef<GIOStream>::adopt(G_IO_STREAM(g_socket_connection_factory_create_connection(b.get())));
        g_socket_set_blocking(b.get(), FALSE);
    }
};

GRef<GTlsCertificate> testCertificate() {
    static TempDir dir;
    const std::string cert = dir.path() + "/c.pem", key = dir.path() + "/k.pem";
    auto [code, text] = runCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                                   "-subj /CN=localhost -keyout " + key + " -out " + cert + " 2>&1");
    if (code != 0) throw std::runtime_error("openssl failed: " + text);
    GError* error = nullptr;
    GTlsCertificate* c = g_tls_certificate_new_from_files(cert.c_str(), key.c_str(), &error);
    if (!c) throw std::runtime_error(error->message);
    return GRef<GTlsCertificate>::adopt(c);
}

// Both ends of a finished TLS handshake over a socket pair.
struct TlsPair {
    Pair pair;
    GRef<GIOStream> server, client;
    TlsPair() {
        GRef<GTlsCertificate> certificate = testCertificate();
        server = GRef<GIOStream>::adopt(g_tls_server_connection_new(pair.ca.get(), certificate.get(), nullptr));
        client = GRef<GIOStream>::adopt(g_tls_client_connection_new(pair.cb.get(), nullptr, nullptr));
        REQUIRE(server);
        REQUIRE(client);
        g_signal_connect(client.get(), "accept-certificate",
                         G_CALLBACK(+[](GTlsConnection*, GTlsCertificate*, GTlsCertificateFlags, gpointer) -> gboolean {
                             return TRUE;  // the test's own self-signed certificate
                         }), nullptr);
        int done = 0;
        auto finished = +[](GObject* source, GAsyncResult* result, gpointer data) {
            GError* error = nullptr;
            if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error)) {
                FAIL_CHECK(std::string("handshake: ") + error->message);
                g_error_free(error);
            }
            ++*static_cast<int*>(data);
        };
        g_tls_connection_handshake_async(G_TLS_CONNECTION(server.get()), G_PRIORITY_DEFAULT, nullptr, finished, &done);
        g_tls_connection_handshake_async(G_TLS_CONNECTION(client.get()), G_PRIORITY_DEFAULT, nullptr, finished, &done);
        const int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (done < 2 && g_get_monotonic_time() < end) g_main_context_iteration(nullptr, FALSE);
        REQUIRE(done == 2);
    }
};

// Reads what the client end of a TLS pair has, without blocking.
std::string drainClient(GIOStream* client) {
    std::string out;
    char buffer[65536];
    auto* in = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(client));
    for (;;) {
        GError* error = nullptr;
        const gssize n = g_pollable_input_stream_read_nonblocking(in, buffer, sizeof buffer, nullptr, &error);
        if (error) g_error_free(error);
        if (n <= 0) return out;
        out.append(buffer, size_t(n));
    }
}

}  // namespace

TEST_CASE("ClientStream finds the TLS and socket connections under wrappers", "[client-stream]") {
    Pair p;
    CHECK(findTlsConnection(p.ca.get()) == nullptr);
    CHECK(findSocketConnection(p.ca.get()) == G_SOCKET_CONNECTION(p.ca.get()));
    GRef<GTlsCertificate> certificate = testCertificate();
    GRef<GIOStream> tls = GRef<GIOStream>::adopt(g_tls_server_connection_new(p.ca.get(), certificate.get(), nullptr));
    REQUIRE(tls);
    CHECK(findTlsConnection(tls.get()) == G_TLS_CONNECTION(tls.get()));
    CHECK(findSocketConnection(tls.get()) == G_SOCKET_CONNECTION(p.ca.get()));
}

TEST_CASE("plain ClientStream: partial writes, would-block, reads and hang-up", "[client-stream]") {
    Pair p;
    ClientStream stream(p.ca, p.a);
    CHECK_FALSE(stream.tls());
    CHECK(stream.fd() == g_socket_get_fd(p.a.get()));
    const std::string big(4 << 20, 'x');
    size_t sent = 0, n = 0;
    std::string error;
    ClientStream::Status s;
    while ((s = stream.write(big.data() + sent, big.size() - sent, &n, &error)) == ClientStream::Status::Ok) sent += n;
    CHECK(s == ClientStream::Status::WouldBlock);
    CHECK(sent > 0);
    CHECK(sent < big.size());
    char buffer[64];
    CHECK(stream.read(buffer, sizeof buffer, &n, &error) == ClientStream::Status::WouldBlock);
    REQUIRE(send(g_socket_get_fd(p.b.get()), "hi", 2, 0) == 2);
    CHECK(stream.read(buffer, sizeof buffer, &n, &error) == ClientStream::Status::Ok);
    CHECK(std::string(buffer, n) == "hi");
    CHECK_FALSE(stream.hasBufferedInput());
    g_socket_close(p.b.get(), nullptr);
    CHECK(stream.read(buffer, sizeof buffer, &n, &error) != ClientStream::Status::Ok);
}

TEST_CASE("TLS ClientStream: would-block retried with the same bytes delivers everything in order", "[client-stream][tls]") {
    TlsPair t;
    ClientStream stream(t.server, t.pair.a);
    REQUIRE(stream.tls());
    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7 + i / 4096);
    size_t sent = 0;
    std::string received, error;
    int wouldBlock = 0;
    const int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (received.size() < big.size() && g_get_monotonic_time() < end) {
        size_t n = 0;
        // As ViewerSockets does: offset moves only on progress.
        while (sent < big.size()) {
            const ClientStream::Status s = stream.write(big.data() + sent, big.size() - sent, &n, &error);
            if (s == ClientStream::Status::WouldBlock) {
                ++wouldBlock;
                break;
            }
            REQUIRE(s == ClientStream::Status::Ok);
            sent += n;
        }
        received += drainClient(t.client.get());
    }
    CHECK(wouldBlock > 0);  // the socket pair's buffer is far smaller than 3 MiB
    CHECK(received.size() == big.size());
    CHECK(received == big);

    // Input: several records sent at once all come out of read() + hasBufferedInput().
    auto* out = g_io_stream_get_output_stream(t.client.get());
    const std::string message(40000, 'm');  // three TLS records
    g_socket_set_blocking(t.pair.b.get(), TRUE);
    REQUIRE(g_output_stream_write_all(out, message.data(), message.size(), nullptr, nullptr, nullptr));
    std::string got;
    char buffer[16384];
    for (int i = 0; i < 100 && got.size() < message.size(); ++i) {
        size_t n = 0;
        const ClientStream::Status s = stream.read(buffer, sizeof buffer, &n, &error);
        if (s == ClientStream::Status::Ok) got.append(buffer, n);
        else REQUIRE(s == ClientStream::Status::WouldBlock);
    }
    CHECK(got == message);
    CHECK_FALSE(stream.hasBufferedInput());

    // A peer that goes away is a hang-up, not an error.
    g_socket_close(t.pair.b.get(), nullptr);
    size_t n = 0;
    ClientStream::Status last = ClientStream::Status::WouldBlock;
    for (int i = 0; i < 100 && last == ClientStream::Status::WouldBlock; ++i) last = stream.read(buffer, sizeof buffer, &n, &error);
    CHECK(last == ClientStream::Status::Closed);
    stream.close();  // never blocks, even with the peer gone
}

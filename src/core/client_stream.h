#pragma once
// One client connection's bytes, plain TCP or TLS, moved without blocking.
//
// The fan-outs (ViewerSockets) write shared byte strings to many clients and
// watch their descriptors in one GSource. Plain connections are written with
// send() on the descriptor (the fast path, unchanged); TLS connections go
// through the GTlsConnection's pollable streams (GnuTLS via glib-networking),
// never the raw descriptor. The descriptor is still what is watched: TLS
// output waits for it to be writable like plain output does.
// TLS rules the callers must keep:
//  - a write that returns WouldBlock must be retried with the SAME bytes (a
//    TLS record may be half sent; GnuTLS finishes it on the next call);
//  - decrypted input may wait above the socket, where the descriptor does not
//    show it: after read() returns data, keep reading until WouldBlock, or ask
//    hasBufferedInput() before waiting on the descriptor again.
// Thread affinity: loop thread only (as the connection's owner).
#include "core/gobject_ptr.h"

#include <gio/gio.h>

#include <cstddef>
#include <string>

namespace camrelay {

// The TLS connection under connection (libsoup's stolen SoupIOStream wraps
// the stream the front door handed it); null for plain TCP.
GTlsConnection* findTlsConnection(GIOStream* connection);
// The socket connection at the bottom of connection's wrappers; null if none.
GSocketConnection* findSocketConnection(GIOStream* connection);

class ClientStream {
public:
    enum class Status { Ok, WouldBlock, Closed, Failed };

    // Takes over connection (socket: its socket). Makes the socket non-blocking.
    ClientStream(GRef<GIOStream> connection, GRef<GSocket> socket);
    ~ClientStream();
    ClientStream(const ClientStream&) = delete;
    ClientStream& operator=(const ClientStream&) = delete;

    int fd() const { return fd_; }
    bool tls() const { return bool(tls_); }
    // Ok: *done bytes taken (> 0). WouldBlock: wait until fd() is writable.
    Status write(const char* data, size_t size, size_t* done, std::string* error);
    // Ok: *done bytes read (> 0). Closed: the peer hung up.
    Status read(char* buffer, size_t size, size_t* done, std::string* error);
    // TLS: decrypted input is waiting (or the socket is readable). Plain: false.
    bool hasBufferedInput() const;
    // Closes now, never blocking: a TLS client that reads nothing must not
    // hold the loop while its close_notify waits for buffer space.
    void close();

private:
    GRef<GIOStream> connection_;
    GRef<GSocket> socket_;
    GRef<GTlsConnection> tls_;
    GPollableInputStream* in_ = nullptr;    // TLS only; owned by tls_
    GPollableOutputStream* out_ = nullptr;  // TLS only; owned by tls_
    int fd_ = -1;
    bool closed_ = false;
};

}  // namespace camrelay

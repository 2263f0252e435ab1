#pragma once
// The HTTP front door: every TCP connection is accepted here, before libsoup.
//
// Why not soup_server_listen_socket(): libsoup 3.2.3 (Debian 12) keeps every
// keep-alive connection that the client closes in CLOSE-WAIT forever and never
// unrefs the GSocket it accepts, and it has no limit on how slowly or how much
// of a request head a client sends. So the front door
//  - caps connections, in total (below the open-files limit, so cameras, RTSP
//    and existing viewers always have descriptors) and per client address:
//    503 with Retry-After;
//  - reads ahead the request head with MSG_PEEK (nothing is consumed) and
//    SO_RCVLOWAT (woken only when more bytes arrive, never spinning): request
//    target too long → 414, head too large or too many fields → 431, declared
//    body too large → 413, head not complete within head-timeout → 408;
//  - hands the untouched connection to libsoup (soup_server_accept_iostream)
//    for ONE request: every response says Connection: close, so no idle
//    keep-alive connection ever exists, and a declared body that does not
//    arrive within request-timeout gets the connection shut down.
// With a certificate (HTTPS and WSS), a connection within the caps waits
// (SO_RCVLOWAT, no thread, like a slow head) until its whole ClientHello
// record has arrived, then gets its TLS handshake (glib-networking runs it on
// a pool thread; cancelled and closed at head-timeout), then is
// handed to libsoup at once: the request head is encrypted, so it is not read
// ahead; libsoup's own head limit (64 KiB) bounds it, the header and request
// timeouts bound its time, and URL length and field count are checked once
// libsoup has parsed the head (414/431). Refused connections are closed
// without an answer (a plaintext 503 means nothing to a TLS client).
// Counting uses a ticket attached to each GSocket, released when the socket is
// finalized, whoever holds it last (libsoup, or an output that stole it).
// Decision and measurements: docs/architecture.md "Front door".
// Thread affinity: loop thread only.
#include "config/service_config.h"
#include "core/fd_watch_set.h"
#include "core/gobject_ptr.h"

#include <libsoup/soup.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

// What the bytes received so far say about a request head. Pure: no sockets.
struct HeadVerdict {
    enum Kind { Incomplete, Complete, Reject } kind = Incomplete;
    size_t length = 0;  // Complete: bytes up to and including the blank line
    unsigned status = 0;  // Reject: 400, 411, 413, 414 or 431
    std::string code, message;
};
HeadVerdict inspectRequestHead(std::string_view bytes, const HttpLimits& limits);

// The response written by the front door itself (errors only): status line,
// Content-Type JSON, Content-Length, Connection: close, extra headers.
std::string cannedResponse(unsigned status, const std::string& code, const std::string& message,
                           const std::string& extraHeaders = "");

struct FrontDoorStats {
    uint64_t open = 0;           // client sockets alive (any stage, stolen viewers included)
    uint64_t readingHead = 0;    // waiting for a complete request head
    uint64_t inLibsoup = 0;      // handed over, request not read yet
    uint64_t accepted = 0;       // since start
    uint64_t refused = 0;        // 503: over a connection cap
    uint64_t rejected = 0;       // 400/413/414/431
    uint64_t timedOut = 0;       // 408 or request-timeout
};

class FrontDoor {
public:
    FrontDoor(const HttpLimits& limits, SoupServer* server);
    ~FrontDoor();
    FrontDoor(const FrontDoor&) = delete;
    FrontDoor& operator=(const FrontDoor&) = delete;

    // Binds and listens on every address, on one port (port 0: the one the
    // first address got), each socket with its own accept source and the
    // backlog as configured. "::" is dual-stack unless the list also holds an
    // IPv4 address (which would then collide with it). false with a message
    // naming the address that failed; nothing stays open then.
    bool listen(const std::vector<std::string>& addresses, int port, int backlog, std::string* error);
    int port() const { return port_; }
    // Serves HTTPS and WSS from now on: loads the PEM certificate (chain) and
    // key once. False with a message naming [server] tls-certificate/tls-key.
    bool useTls(const std::string& certificateFile, const std::string& keyFile, std::string* error);
    bool tls() const { return bool(certificate_); }
    FrontDoorStats stats() const;
    uint64_t connectionCap() const { return maxConnections_; }

    struct Ledger;  // counts per address, shared with the tickets on the sockets

private:
    struct Pending {
        GRef<GSocket> socket;
        FdWatchSet::Tag tag = nullptr;
        int64_t deadlineUs = 0;
        bool closing = false;  // answered; draining input until EOF or the deadline
        size_t seen = 0;       // bytes peeked last time
        std::string address;
        bool tlsHello = false;  // HTTPS: waiting for the whole ClientHello record
        bool helloReady = false;  // ... which is here; waiting for a handshake slot of its address
    };
    struct Handshake {
        GRef<GSocket> socket;
        GRef<GIOStream> tls;  // the GTlsServerConnection over socket
        GRef<GCancellable> cancel;
        int64_t deadlineUs = 0;
        int64_t acceptedUs = 0;
        std::string address;
    };
    struct HandedOver {
        GRef<GSocket> socket;
        int64_t deadlineUs = 0;
    };

    struct Listener {
        FrontDoor* door = nullptr;
        GRef<GSocket> socket;
        GRef<GSource> acceptSource;  // null while accepting is paused (EMFILE)
    };
    bool listenOn(const std::string& address, bool v6Only, int port, int backlog, std::string* error);
    void watchListeners();  // an accept source for every listener that has none
    void stopWatchingListeners();
    static gboolean onAcceptReady(GSocket*, GIOCondition, gpointer listener) noexcept;
    static gboolean onSweep(gpointer self) noexcept;
    static void onRequestStarted(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept;
    static void onRequestDone(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept;
    void acceptAll(Listener& listener);
    void admit(GRef<GSocket> socket);
    void onReadable();
    // Reads what the client sent so far; true when the connection was handed over or closed.
    bool readHead(Pending& p, GIOCondition ready);
    // HTTPS: true when the connection was handed to its handshake or closed.
    bool readClientHello(Pending& p, GIOCondition ready);
    void answer(Pending& p, unsigned status, const std::string& code, const std::string& message,
                const std::string& extraHeaders = "");
    void handOver(Pending& p);
    void startHandshake(GRef<GSocket> socket, const std::string& address, int64_t deadlineUs);
    size_t handshakesFrom(const std::string& address) const;
    void startWaitingHandshake(const std::string& address);  // after one from address ended
    static void onHandshakeDone(GObject* tls, GAsyncResult* result, gpointer call) noexcept;
    void finishHandshake(uint64_t id, GAsyncResult* result);
    static void onGotHeaders(SoupServerMessage* msg, gpointer self) noexcept;
    void sweep();
    void refreshCap();  // maxConnections_ from the config and the open-files limit

    const HttpLimits limits_;
    SoupServer* server_;  // owned by HttpServer, which owns this
    std::shared_ptr<Ledger> ledger_;
    std::vector<std::unique_ptr<Listener>> listeners_;  // stable addresses: the accept sources point at them
    guint pauseId_ = 0;  // accept paused after EMFILE
    guint sweepId_ = 0;
    gulong startedHandler_ = 0, readHandler_ = 0, finishedHandler_ = 0, abortedHandler_ = 0;
    FdWatchSet watch_;
    std::map<FdWatchSet::Tag, Pending> pending_;
    std::map<std::string, HandedOver> handedOver_;  // by the peer's "address:port"
    GRef<GTlsCertificate> certificate_;             // set: HTTPS
    std::map<uint64_t, Handshake> handshakes_;
    uint64_t nextHandshake_ = 0;
    // Handshake callbacks may run after the door is gone (cancelled): they
    // find it through this, cleared by the destructor.
    std::shared_ptr<FrontDoor*> alive_;
    std::vector<char> peekBuffer_;
    uint64_t maxConnections_ = 0;
    int port_ = 0;
    uint64_t accepted_ = 0, refused_ = 0, rejected_ = 0, timedOut_ = 0;
};

}  // namespace camrelay

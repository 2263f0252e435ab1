#pragma once
// The accepted client connections of a fan-out, written without ever blocking.
//
// Per client, memory is bounded whatever the client does:
//   - control messages (response heads, pongs, errors, events) go out in
//     order and are never dropped, but at most kMaxControl may wait: a client
//     that provokes more without reading is dropped;
//   - frames: the one being written plus, per stream key (a camera), one
//     waiting frame; a newer frame replaces the waiting one (newest wins,
//     counted as a drop). Frames are shared byte strings built once for all.
// Sockets are non-blocking and watched by one GSource (FdWatchSet), which
// also reports input (handed to onInput) and hang-ups at once, frames or not.
// Bytes move through each client's ClientStream: send() for plain TCP, the
// TLS connection's pollable streams for HTTPS/WSS; the flow control is the same.
// A client whose pending bytes make no progress for clientTimeout is dropped.
// Thread affinity: loop thread only.
#include "core/client_stream.h"
#include "core/fd_watch_set.h"
#include "core/gobject_ptr.h"

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace camrelay {

struct ViewerSocketStats {
    size_t viewers = 0;
    uint64_t bytesSent = 0;       // all viewers, this set's life
    uint64_t framesSent = 0;
    uint64_t framesDropped = 0;   // replaced before a slow viewer could take them
    uint64_t viewersTimedOut = 0;
    // Unsent bytes held for clients now (frames are shared, so this is an
    // upper bound on the memory slow clients keep alive): all, and the most
    // any one client holds.
    uint64_t pendingBytes = 0;
    uint64_t maxClientPendingBytes = 0;
};

// One stream's own figures on a shared set of sockets (a camera's frames among
// every camera's, /metrics): held by the stream's owner and by each queued frame
// of it, so a frame finishing after its stream is gone still counts safely.
struct StreamTally {
    uint64_t framesSent = 0;
    uint64_t bytesSent = 0;      // frame bytes only (not handshakes or control messages)
    uint64_t framesDropped = 0;  // replaced before a slow viewer could take them
};
using StreamTallyPtr = std::shared_ptr<StreamTally>;

class ViewerSockets {
public:
    using Bytes = std::shared_ptr<const std::string>;
    static constexpr size_t kMaxControl = 64;

    struct Client {
        int fd = -1;
        std::string peer;             // "address:port", for log lines
        std::shared_ptr<void> state;  // the protocol's own per-client state
    private:
        friend class ViewerSockets;
        std::unique_ptr<ClientStream> stream;
        FdWatchSet::Tag tag = nullptr;
        struct Waiting {
            int key;
            Bytes frame;
            StreamTallyPtr tally;  // may be null
        };
        Bytes inflight;
        StreamTallyPtr inflightTally;  // the inflight frame's stream, if it keeps one
        size_t offset = 0;
        bool inflightIsFrame = false;
        std::deque<Bytes> control;
        std::vector<Waiting> waiting;  // per stream key, oldest offer first
        int64_t lastProgressUs = 0;
        bool wantsWrite = false;
        bool closeWhenSent = false;
        bool dropped = false;
        bool moreInput = false;  // TLS: decrypted input may wait above the socket
    };
    // Input bytes as they arrive; the handler may send, close or drop. It
    // should catch what the client's input makes it throw and close that
    // client with the protocol's own error; whatever still escapes is logged
    // here and the client dropped (never swallowed, never another client).
    using InputHandler = std::function<void(Client&, std::string_view)>;
    using DropHandler = std::function<void(Client&)>;

    // name: whose clients these are ("WebSocket viewers"), for log lines.
    ViewerSockets(int clientTimeoutSec, InputHandler onInput, DropHandler onDrop = {},
                  std::string name = "viewer sockets");
    ~ViewerSockets();
    ViewerSockets(const ViewerSockets&) = delete;
    ViewerSockets& operator=(const ViewerSockets&) = delete;

    // Takes over an accepted connection (socket: the connection's socket),
    // plain or TLS (a GTlsConnection anywhere under connection).
    Client& add(GRef<GIOStream> connection, GRef<GSocket> socket);
    // The kernel send buffer of clients added from now on (default 512 KiB):
    // smaller for sockets that carry only small messages, so a client that
    // never reads is found stalled (and dropped) after kilobytes, not a megabyte.
    void setSocketSendBuffer(int bytes) { sendBuffer_ = bytes; }
    void sendControl(Client& c, Bytes bytes);
    // tally (optional): the stream's own figures, counted besides this set's totals.
    void offerFrame(Client& c, int streamKey, const Bytes& frame, const StreamTallyPtr& tally = nullptr);
    // Sends what is queued (control first), then closes: for WebSocket close frames.
    void closeAfterSending(Client& c);
    void drop(Client& c, const char* why);
    // Frees dropped clients; call after a pass over clients.
    void sweep();

    template <typename F> void forEach(F&& f) {
        for (auto& c : clients_)
            if (!c->dropped) f(*c);
        sweep();
    }
    size_t size() const { return clients_.size(); }
    ViewerSocketStats stats() const;

private:
    void flush(Client& c);
    bool nextToWrite(Client& c);
    void onReady();
    void serve(Client& c);
    void readInput(Client& c);
    gboolean checkTimeouts();

    const std::string name_;
    const int64_t clientTimeoutUs_;
    InputHandler onInput_;
    DropHandler onDrop_;
    FdWatchSet sockets_;
    std::vector<std::unique_ptr<Client>> clients_;
    bool anyDropped_ = false;
    int sendBuffer_;
    SourceHandle timeoutTimer_;
    ViewerSocketStats totals_;
};

// Per-viewer frame-rate thinning (?fps=, "set fps"): keeps frames on a grid
// of capture times, with a little tolerance for capture jitter.
class FpsThinner {
public:
    void setMaxFps(double fps) { intervalUs_ = fps > 0 ? int64_t(1e6 / fps) : 0; nextDueUs_ = 0; }
    bool due(int64_t captureUs);

private:
    int64_t intervalUs_ = 0;
    int64_t nextDueUs_ = 0;
};

}  // namespace camrelay

#pragma once
// Serving a file (a recording, a capture) on a connection taken from
// libsoup, without ever blocking the loop or holding the file in memory:
//   - the file is read in chunks of kChunkBytes by GIO's worker threads
//     (g_input_stream_read_bytes_async on a regular file), one chunk at a time
//     per client: a client holds at most one chunk plus its socket's send
//     buffer (kSocketSendBuffer), whatever the file's size;
//   - the socket is non-blocking and watched with the other transfers in one
//     GSource; a client that takes no byte for clientTimeoutSec is closed
//     (counted), as is one that sends more than a few KiB while it downloads;
//   - the response always ends the connection (Connection: close).
// Also the pure HTTP Range parsing (RFC 9110 section 14) the routes use.
// Thread affinity: parseByteRange: any thread. FileSender: loop thread only.
#include "core/client_stream.h"
#include "core/fd_watch_set.h"
#include "core/gobject_ptr.h"
#include "recording/recording_store.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

enum class RangeKind {
    None,           // no Range header: the whole file, 200
    Single,         // one satisfiable range: 206 with Content-Range
    Unsatisfiable,  // one range wholly past the end (or a zero suffix): 416
    Ignored,        // not a byte range we serve (bad syntax, another unit, several ranges): 200 whole
};
struct RangeRequest {
    RangeKind kind = RangeKind::None;
    uint64_t first = 0;  // inclusive
    uint64_t last = 0;   // inclusive
    uint64_t length() const { return last - first + 1; }
};
// header: the Range header's value, or nullptr. size: the file's size.
// Several ranges ("bytes=0-1,5-6") are Ignored: the whole file is sent with
// 200, which RFC 9110 allows, and no client of ours asks for them.
RangeRequest parseByteRange(const char* header, uint64_t size);

struct FileSenderStats {
    size_t active = 0;
    uint64_t served = 0;          // transfers that sent everything
    uint64_t bytesSent = 0;       // body and heads
    uint64_t timedOut = 0;        // closed: took nothing for the client timeout
    uint64_t dropped = 0;         // closed early for any reason (hang-up, error, timeout, excess input)
};

class FileSender {
public:
    static constexpr size_t kChunkBytes = 128 * 1024;
    static constexpr int kSocketSendBuffer = 256 * 1024;
    static constexpr size_t kMaxInputBytes = 16 * 1024;  // a downloading client has nothing to say

    FileSender(int clientTimeoutSec, size_t maxTransfers);
    ~FileSender();
    FileSender(const FileSender&) = delete;
    FileSender& operator=(const FileSender&) = delete;

    bool full() const { return transfers_.size() >= maxTransfers_; }
    size_t maxTransfers() const { return maxTransfers_; }
    // Takes the connection over: sends head, then length bytes of file from
    // offset (length 0, file unset: the head only, for HEAD), then closes.
    void send(GRef<GIOStream> connection, GRef<GSocket> socket, std::string head, UniqueFd file, uint64_t offset,
              uint64_t length);
    FileSenderStats stats() const;

private:
    struct Transfer;
    void pump(Transfer& t);
    void startRead(Transfer& t);
    void onRead(Transfer& t, GBytes* bytes, GError* error);
    void onReady();
    void readInput(Transfer& t);
    void drop(Transfer& t, const char* why);
    void sweep();
    gboolean checkTimeouts();

    const int64_t clientTimeoutUs_;
    const size_t maxTransfers_;
    FdWatchSet sockets_;
    std::vector<std::shared_ptr<Transfer>> transfers_;
    SourceHandle timeoutTimer_;
    FileSenderStats totals_;
};

}  // namespace camrelay

#pragma once
// Many live HLS viewers on one thread (one epoll loop): each client holds one
// keep-alive HTTP/1.1 connection, polls the media playlist every half target
// duration, and fetches every segment that appears in it once, in order, as a
// player following the live edge does. Records per client which media
// sequence numbers arrived, the gaps, bytes, errors, and the time from the
// playlist that first listed a segment to the segment's last byte. Used by
// tests/integration/test_hls_nginx.cpp and bench/hls_load.cpp.
//
// Thread affinity: an HlsClients lives and runs on the thread that made it.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace camrelay::testing {

struct HlsClientStats {
    std::vector<uint64_t> sequences;   // media sequence numbers received, in arrival order
    uint64_t firstListed = 0;          // the first segment the client chose to follow (live edge)
    uint64_t lastListed = 0;           // the newest segment any playlist showed it
    bool following = false;            // a playlist arrived and the client picked its start
    uint64_t gaps = 0;                 // segments it should have had but never got (left the window, 404, ...)
    uint64_t bytes = 0;                // response bodies, playlists and segments
    uint64_t playlistPolls = 0;        // playlists received
    uint64_t errors = 0;               // failed requests (status, parse, connection lost mid-response)
    uint64_t reconnects = 0;           // connections the server closed between requests (keep-alive ended)
    std::vector<int64_t> listedToReceivedUs;  // per segment: listing playlist's arrival -> segment's last byte
    std::map<std::string, uint64_t> cacheStatus;  // X-Cache-Status of segment responses (nginx), "" if none
    std::string firstError;            // what went wrong first, for messages
    bool ended = false;                // the playlist carried #EXT-X-ENDLIST
};

struct HlsClientOptions {
    std::string extraHeaders;          // "Authorization: ...\r\n" lines, sent with every request
    int pollIntervalMs = 0;            // 0: half the playlist's EXT-X-TARGETDURATION (at least 100 ms)
    size_t startSegments = 1;          // how many of the first playlist's newest segments to fetch
    int requestTimeoutMs = 10000;      // a request without its whole response by then is an error
    bool keepSegments = false;         // hand segment bodies to onSegment
};

class HlsClients {
public:
    // count clients for http://127.0.0.1:port<playlistTarget> (e.g. "/api/cameras/demo/hls/index.m3u8").
    HlsClients(int port, std::string playlistTarget, size_t count, HlsClientOptions options = {});
    ~HlsClients();
    HlsClients(const HlsClients&) = delete;
    HlsClients& operator=(const HlsClients&) = delete;

    // Connects the clients (if not yet) and follows the playlist for durationMs.
    // Clients start staggered over the first poll interval, as real viewers do.
    void run(int durationMs);
    // Stops polling the playlist and fetches what the clients already saw
    // listed (at most timeoutMs): after it, each client holds every segment
    // its playlists listed, or counts the ones it could not get as gaps.
    void finish(int timeoutMs);
    // Closes every connection; stats stay readable.
    void closeAll();

    size_t size() const { return clients_.size(); }
    const HlsClientStats& stats(size_t index) const;
    // Called with (client index, media sequence, body) for every segment when keepSegments.
    std::function<void(size_t, uint64_t, const std::string&)> onSegment;

    struct Client;

private:
    void connectClient(size_t index);
    void drop(size_t index);
    void sendNext(size_t index, int64_t now);
    void transmit(size_t index);                   // (re)sends the request in flight, connecting if needed
    void watch(size_t index, bool writable);       // epoll interest: readable, and writable while the request is unsent
    void abandon(size_t index, const std::string& what);  // the request in flight failed for good
    void onReadable(size_t index, int64_t now);
    void onResponse(size_t index, int64_t now);
    void onPlaylist(size_t index, const std::string& body, int64_t now);
    void fail(size_t index, const std::string& what);
    bool idle() const;  // no client has a request in flight or a segment to fetch

    int port_;
    std::string playlistTarget_;
    std::string playlistDir_;  // playlistTarget_ up to its last '/', for relative segment URIs
    HlsClientOptions options_;
    int epoll_ = -1;
    bool started_ = false;
    bool polling_ = true;  // false once finish() began
    std::vector<std::unique_ptr<Client>> clients_;
};

// What camrelay's /metrics says about one camera's HLS (0 when a sample is absent).
struct HlsOriginCounts {
    double segmentsProduced = 0;  // camrelay_hls_segments_total{camera}
    double playlistRequests = 0;  // camrelay_hls_requests_total{camera,kind="playlist"}
    double segmentRequests = 0;   // camrelay_hls_requests_total{camera,kind="segment"}
};
// GET /metrics on 127.0.0.1:port; throws std::runtime_error when it does not answer 200.
HlsOriginCounts readHlsCounts(int port, const std::string& camera, const std::string& extraHeaders = {});

// A media playlist's parts (just what a live client needs).
struct MediaPlaylist {
    uint64_t mediaSequence = 0;
    double targetDuration = 0;
    std::vector<std::string> uris;  // in order: uris[i] has sequence mediaSequence + i
    bool ended = false;
    std::string error;              // not an HLS media playlist
};
MediaPlaylist parseMediaPlaylist(const std::string& text);

}  // namespace camrelay::testing

#pragma once
// The service config (INI): where to listen, where cameras live, limits, RTSP.
#include "problem.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace camrelay {

// What one HTTP client may send and hold (enforced by http/FrontDoor).
struct HttpLimits {
    int maxConnections = 0;             // 0: the open-files limit less a reserve for cameras and RTSP
    int maxConnectionsPerAddress = 256; // per client IP address (raise it behind a reverse proxy)
    int maxUrlBytes = 8192;             // request target; longer: 414
    int maxHeaderBytes = 16384;         // request line and header fields; larger: 431
    int maxHeaders = 100;               // header fields; more: 431
    int64_t maxBodyBytes = 64 * 1024;   // declared request body; larger: 413
    int headerTimeoutMs = 10000;        // the whole request head must arrive in this time: 408
    int requestTimeoutMs = 30000;       // a declared body must arrive in this time, else closed
    int retryAfterSec = 5;              // Retry-After on 503 answers
};

enum class Role { Viewer, Admin };  // viewer: watch and read state; admin: everything
const char* toString(Role role);

struct UserAccount {
    std::string name;
    Role role = Role::Viewer;
    std::string passwordHash;  // "pbkdf2-sha256$<iterations>$<salt>$<hash>" (camrelay --hash-password)
};

// [auth] and the [user:NAME] groups.
struct AuthConfig {
    std::optional<bool> enabled;          // unset: on unless the service listens on loopback only
    std::vector<UserAccount> users;
    int sessionTtlSec = 7 * 24 * 3600;    // a browser login lasts this long
    int tokenTtlSec = 24 * 3600;          // a stream token's default lifetime
    int maxTokenTtlSec = 366 * 24 * 3600; // the longest one that may be asked for
    int loginFailuresPerMinute = 10;      // per client address; beyond: 429
    int passwordChecksPerSecond = 4;      // hashes for all clients together (the HTTP loop computes them)
};

// [server]: what browsers may do (see docs/security.md).
struct WebSecurity {
    std::vector<std::string> hosts;           // allowed Host names besides IP literals and the defaults; "*": any
    std::vector<std::string> allowedOrigins;  // other origins that may call the API (CORS)
    std::string frameAncestors = "'self'";    // CSP frame-ancestors of the pages
    // Reverse proxies (addresses or masks) whose X-Forwarded-For names the
    // client (http/client_address): failed-login limits and logs per viewer.
    std::vector<std::string> trustedProxies;
    std::string tlsCertificate;               // PEM files: HTTPS and WSS when both are set
    std::string tlsKey;
};

// [recording]: where recordings and captures go, and the limits over all cameras.
struct RecordingLimits {
    std::string dir;              // dir: empty = <data>/recordings
    int64_t maxAgeSec = 0;        // max-age: 0 = no limit
    int64_t maxBytes = 0;         // max-size: every camera's files together; 0 = no limit
    int64_t minFreeBytes = 0;     // min-free as bytes ("2G"), or
    int minFreePercent = 2;       // min-free as a percentage of the filesystem ("5%"); the larger wins
};

// [compat]: the URLs of mjpg-streamer and ustreamer (http/compat_routes).
struct CompatConfig {
    bool enabled = true;
    std::string defaultCamera;  // the camera they serve; empty: the first in GET /api/cameras order
};

// [webrtc]: WebRTC viewers through WHEP (outputs/whep_peers, http/whep_routes).
struct WebRtcConfig {
    bool enabled = true;
    int maxPeers = 50;       // peers over all cameras; beyond: 503
    int iceTimeoutSec = 10;  // a peer not connected this long after its answer, or failed/disconnected this long, goes
};

// [hls]: HTTP Live Streaming of every camera's H.264 stream (outputs/hls_output).
struct HlsConfig {
    bool enabled = true;
    int segmentSec = 1;       // segment-duration: seconds per segment (encode mode; passthrough follows the camera's GOP)
    int playlistLength = 5;   // playlist-length: segments the playlist lists
    int lingerSec = 30;       // linger: the pipeline runs this long after the last playlist request
};

inline constexpr int kDefaultMaxCameras = 64;  // [limits] max-cameras

// ~/.local/share/camrelay (XDG): where a service run without a config keeps its data.
std::string defaultDataDir();

struct ServiceConfig {
    std::string file;                   // empty: built-in defaults
    // [server] listen: one socket per address, same port. "::" is dual-stack
    // (IPv4 clients arrive as ::ffff:a.b.c.d, seen as a.b.c.d) unless the
    // list also names an IPv4 address (then "::" is IPv6 only).
    std::vector<std::string> listenAddresses = {"127.0.0.1"};  // only this machine until configured otherwise
    int port = 8080;                    // 0: any free port (printed at start)
    int listenBacklog = 1024;           // GLib's default of 10 stalls bursts of viewers
    std::string pipelinesDir;           // empty: the embedded demo camera
    std::string dataDir = defaultDataDir();  // the installed config sets /var/lib/camrelay
    int clientTimeoutSec = 10;          // a viewer that accepts no bytes for this long is dropped
    int snapshotTimeoutMs = 2000;       // how long a snapshot waits for a first frame
    int maxViewersPerCamera = 2000;     // beyond this, stream requests get 503
    // Cameras the API creates and hot reload adds, at most (each costs threads,
    // descriptors and memory): beyond it POST /api/cameras is 409 and new files are left out.
    int maxCameras = kDefaultMaxCameras;
    HttpLimits http;
    AuthConfig auth;
    WebSecurity web;
    RecordingLimits recording;
    CompatConfig compat;
    WebRtcConfig webrtc;
    bool rtspEnabled = true;            // re-serve every camera at rtsp://host:rtspPort/<id>
    int rtspPort = 8554;                // 0: any free port (printed at start)
    HlsConfig hls;
    // --- client input hardening (issue 9: WebSocket/JSON input) ---
    int publishIdleTimeoutSec = 10;     // a publisher with no valid frame for this long is closed (1008)
};

// Where recordings and captures live: [recording] dir, else <data>/recordings.
std::string recordingsDir(const ServiceConfig& config);

// Auth is on when configured so, or by default unless every listen address is loopback.
bool authEnabled(const ServiceConfig& config);
// 127.0.0.0/8, ::1, ::ffff:127.x.x.x (IPv4 on a dual-stack socket) and "localhost".
bool isLoopbackAddress(const std::string& address);
bool allLoopback(const std::vector<std::string>& addresses);
// 0.0.0.0 or ::
bool isWildcardAddress(const std::string& address);
// "127.0.0.1, ::1" -> each IP address once (commas, semicolons or spaces
// between); nullopt and *error naming the first bad entry.
std::optional<std::vector<std::string>> parseListenAddresses(const std::string& text, std::string* error);
// The host of a URL that reaches the service: "localhost" for a wildcard,
// "[addr]" for IPv6, the address itself for IPv4 (first address of the list).
std::string urlHost(const std::string& address);
// The one address gst-rtsp-server listens on (it takes one): "::" when any
// listen address is a wildcard and IPv6 works on this machine, "0.0.0.0" when
// one is a wildcard and IPv6 does not, else the first address.
std::string rtspListenAddress(const std::vector<std::string>& addresses);

struct ServiceConfigLoad {
    ServiceConfig config;
    ConfigProblems problems;
};

ServiceConfigLoad parseServiceConfig(const std::string& fileLabel, const std::string& text);
ServiceConfigLoad loadServiceConfigFile(const std::string& path);

}  // namespace camrelay

#pragma once
// The service config (INI): where to listen, where cameras live, limits, RTSP.
#include "problem.h"

#include <cstdint>
#include <string>

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

struct ServiceConfig {
    std::string file;                   // empty: built-in defaults
    std::string listenAddress = "0.0.0.0";
    int port = 8080;                    // 0: any free port (printed at start)
    int listenBacklog = 1024;           // GLib's default of 10 stalls bursts of viewers
    std::string pipelinesDir;           // empty: the embedded demo camera
    std::string dataDir = "/var/lib/camrelay";
    int clientTimeoutSec = 10;          // a viewer that accepts no bytes for this long is dropped
    int snapshotTimeoutMs = 2000;       // how long a snapshot waits for a first frame
    int maxViewersPerCamera = 2000;     // beyond this, stream requests get 503
    HttpLimits http;
    bool rtspEnabled = true;            // re-serve every camera at rtsp://host:rtspPort/<id>
    int rtspPort = 8554;                // 0: any free port (printed at start)
    // --- client input hardening (issue 9: WebSocket/JSON input) ---
    int publishIdleTimeoutSec = 10;     // a publisher with no valid frame for this long is closed (1008)
};

struct ServiceConfigLoad {
    ServiceConfig config;
    ConfigProblems problems;
};

ServiceConfigLoad parseServiceConfig(const std::string& fileLabel, const std::string& text);
ServiceConfigLoad loadServiceConfigFile(const std::string& path);

}  // namespace camrelay

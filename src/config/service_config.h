#pragma once
// The service config (INI): where to listen, where cameras live, limits, RTSP.
#include "problem.h"

#include <string>

namespace camrelay {

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

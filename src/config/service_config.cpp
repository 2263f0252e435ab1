#include "service_config.h"

#include "core/files.h"
#include "core/gobject_ptr.h"
#include "key_file_reader.h"

namespace camrelay {

ServiceConfigLoad parseServiceConfig(const std::string& fileLabel, const std::string& text) {
    ServiceConfigLoad load;
    ServiceConfig& c = load.config;
    c.file = fileLabel;
    KeyFileReader reader(fileLabel, text, load.problems);
    if (!reader.ok()) return load;
    const std::initializer_list<const char*> groups = {"server", "paths", "limits", "rtsp"};
    reader.rejectUnknown(groups, "server", {"listen", "port", "backlog"});
    reader.rejectUnknown(groups, "paths", {"pipelines", "data"});
    reader.rejectUnknown(groups, "limits", {"client-timeout", "snapshot-timeout-ms", "max-viewers-per-camera",
                                            "max-connections", "max-connections-per-address", "max-url-bytes",
                                            "max-header-bytes", "max-headers", "max-body-bytes", "header-timeout-ms",
                                            "request-timeout-ms", "publish-idle-timeout"});
    reader.rejectUnknown(groups, "rtsp", {"enabled", "port"});

    if (auto v = reader.string("server", "listen")) {
        GInetAddress* parsed = g_inet_address_new_from_string(v->c_str());
        if (parsed) {
            g_object_unref(parsed);
            c.listenAddress = *v;
        } else {
            reader.problem("server", "listen", "not an IP address: \"" + *v + "\" (use 0.0.0.0, 127.0.0.1 or ::)");
        }
    }
    if (auto v = reader.integer("server", "port", 0, 65535)) c.port = *v;
    if (auto v = reader.integer("server", "backlog", 1, 65535)) c.listenBacklog = *v;
    if (auto v = reader.string("paths", "pipelines")) c.pipelinesDir = *v;
    if (auto v = reader.string("paths", "data")) c.dataDir = *v;
    if (auto v = reader.integer("limits", "client-timeout", 1, 3600)) c.clientTimeoutSec = *v;
    if (auto v = reader.integer("limits", "snapshot-timeout-ms", 0, 60000)) c.snapshotTimeoutMs = *v;
    if (auto v = reader.integer("limits", "max-viewers-per-camera", 1, 100000)) c.maxViewersPerCamera = *v;
    HttpLimits& h = c.http;
    if (auto v = reader.integer("limits", "max-connections", 0, 10000000)) h.maxConnections = *v;
    if (auto v = reader.integer("limits", "max-connections-per-address", 1, 10000000)) h.maxConnectionsPerAddress = *v;
    if (auto v = reader.integer("limits", "max-url-bytes", 256, 1 << 20)) h.maxUrlBytes = *v;
    if (auto v = reader.integer("limits", "max-header-bytes", 1024, 1 << 20)) h.maxHeaderBytes = *v;
    if (auto v = reader.integer("limits", "max-headers", 8, 10000)) h.maxHeaders = *v;
    if (auto v = reader.integer("limits", "max-body-bytes", 0, 1 << 30)) h.maxBodyBytes = *v;
    if (auto v = reader.integer("limits", "header-timeout-ms", 100, 600000)) h.headerTimeoutMs = *v;
    if (auto v = reader.integer("limits", "request-timeout-ms", 100, 3600000)) h.requestTimeoutMs = *v;
    if (auto v = reader.boolean("rtsp", "enabled")) c.rtspEnabled = *v;
    if (auto v = reader.integer("rtsp", "port", 0, 65535)) c.rtspPort = *v;
    // --- client input hardening (issue 9: WebSocket/JSON input) ---
    if (auto v = reader.integer("limits", "publish-idle-timeout", 1, 3600)) c.publishIdleTimeoutSec = *v;
    return load;
}

ServiceConfigLoad loadServiceConfigFile(const std::string& path) {
    std::string error;
    auto text = readFile(path, &error);
    if (!text) {
        ServiceConfigLoad load;
        load.config.file = path;
        load.problems.push_back({path, "", "cannot read: " + error});
        return load;
    }
    return parseServiceConfig(path, *text);
}

}  // namespace camrelay

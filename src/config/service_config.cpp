#include "service_config.h"

#include "core/files.h"
#include "core/gobject_ptr.h"
#include "key_file_reader.h"

#include "auth/password_hash.h"
#include "config/camera_config.h"

#include <gio/gio.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <regex>

namespace camrelay {

const char* toString(Role role) { return role == Role::Admin ? "admin" : "viewer"; }

bool isLoopbackAddress(const std::string& address) {
    GRef<GInetAddress> parsed = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(address.c_str()));
    if (!parsed) return address == "localhost";
    if (g_inet_address_get_is_loopback(parsed.get())) return true;
    // GLib calls only ::1 loopback among IPv6 addresses; an IPv4 client of a
    // dual-stack socket is ::ffff:127.0.0.1.
    if (g_inet_address_get_family(parsed.get()) != G_SOCKET_FAMILY_IPV6) return false;
    const guint8* b = g_inet_address_to_bytes(parsed.get());
    static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(b, mapped, sizeof mapped) == 0 && b[12] == 127;
}

bool allLoopback(const std::vector<std::string>& addresses) {
    return std::all_of(addresses.begin(), addresses.end(), [](const std::string& a) { return isLoopbackAddress(a); });
}

bool isWildcardAddress(const std::string& address) {
    GRef<GInetAddress> parsed = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(address.c_str()));
    return parsed && g_inet_address_get_is_any(parsed.get());
}

bool authEnabled(const ServiceConfig& config) {
    return config.auth.enabled.value_or(!allLoopback(config.listenAddresses));
}

std::string urlHost(const std::string& address) {
    if (isWildcardAddress(address)) return "localhost";
    return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

std::string rtspListenAddress(const std::vector<std::string>& addresses) {
    if (addresses.empty()) return "127.0.0.1";
    if (std::none_of(addresses.begin(), addresses.end(), [](const std::string& a) { return isWildcardAddress(a); }))
        return addresses.front();
    // Probe: a machine without IPv6 (ipv6.disable=1, containers) cannot open an AF_INET6 socket.
    GRef<GSocket> probe = GRef<GSocket>::adopt(g_socket_new(G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr));
    return probe ? "::" : "0.0.0.0";
}

namespace {

// "a, b; c" -> {a, b, c}: lists are separated by commas, semicolons or spaces.
std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    for (char c : text + ",") {
        if (c == ',' || c == ';' || c == ' ' || c == '\t') {
            if (!item.empty()) out.push_back(std::move(item));
            item.clear();
        } else {
            item += c;
        }
    }
    return out;
}

// An origin is scheme://host[:port], nothing else (no path, no trailing slash).
bool isOrigin(const std::string& text) {
    static const std::regex form(R"(^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$)");
    return text.size() < 256 && std::regex_match(text, form);
}

void parseUsers(KeyFileReader& reader, AuthConfig& auth) {
    static const std::regex userName("^[A-Za-z0-9._@-]{1,64}$");
    for (const std::string& group : reader.groupNames()) {
        if (group.rfind("user:", 0) != 0) continue;
        const char* g = group.c_str();
        reader.rejectUnknown({"server", "paths", "limits", "rtsp", "auth", "recording", "compat", "webrtc", "hls", "user:*"}, g, {"role", "password"});
        UserAccount user;
        user.name = group.substr(5);
        if (!std::regex_match(user.name, userName)) {
            reader.problem(g, nullptr, "a user name is 1 to 64 letters, digits and . _ @ -");
            continue;
        }
        const auto role = reader.string(g, "role");
        if (!role) {
            reader.problem(g, "role", "missing: viewer or admin");
            continue;
        }
        if (*role != "viewer" && *role != "admin") {
            reader.problem(g, "role", "must be viewer or admin");
            continue;
        }
        user.role = *role == "admin" ? Role::Admin : Role::Viewer;
        auto password = reader.string(g, "password");
        std::string why;
        if (!password) {
            reader.problem(g, "password", "missing (make one with camrelay --hash-password)");
            continue;
        }
        if (!parsePasswordHash(*password, &why)) {
            reader.problem(g, "password", why);  // never quotes the value: it may be a pasted password
            continue;
        }
        user.passwordHash = *password;
        auth.users.push_back(std::move(user));
    }
}

}  // namespace

std::optional<std::vector<std::string>> parseListenAddresses(const std::string& text, std::string* error) {
    std::vector<std::string> addresses;
    for (const std::string& item : splitList(text)) {
        GRef<GInetAddress> parsed = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(item.c_str()));
        if (!parsed) {
            *error = "not an IP address: \"" + clipText(item, kMaxQuotedBytes) +
                     "\" (use 127.0.0.1, ::1, 0.0.0.0, :: or a list like 127.0.0.1,::1)";
            return std::nullopt;
        }
        if (addresses.size() >= 16) {
            *error = "at most 16 addresses";
            return std::nullopt;
        }
        GUniquePtr<gchar> canonical(g_inet_address_to_string(parsed.get()));
        if (std::find(addresses.begin(), addresses.end(), canonical.get()) != addresses.end()) {
            *error = "names " + std::string(canonical.get()) + " twice";
            return std::nullopt;
        }
        addresses.push_back(canonical.get());
    }
    if (addresses.empty()) {
        *error = "is empty (use 127.0.0.1, ::1, 0.0.0.0, :: or a list like 127.0.0.1,::1)";
        return std::nullopt;
    }
    return addresses;
}

ServiceConfigLoad parseServiceConfig(const std::string& fileLabel, const std::string& text) {
    ServiceConfigLoad load;
    ServiceConfig& c = load.config;
    c.file = fileLabel;
    KeyFileReader reader(fileLabel, text, load.problems);
    if (!reader.ok()) return load;
    const std::initializer_list<const char*> groups = {"server", "paths", "limits", "rtsp", "auth", "recording", "compat", "webrtc", "hls", "user:*"};
    reader.rejectUnknown(groups, "recording", {"dir", "max-age", "max-size", "min-free"});
    reader.rejectUnknown(groups, "server", {"listen", "port", "backlog", "hosts", "allowed-origins", "frame-ancestors",
                                            "trusted-proxies", "tls-certificate", "tls-key"});
    reader.rejectUnknown(groups, "auth", {"enabled", "session-ttl", "token-ttl", "max-token-ttl",
                                          "login-failures-per-minute", "password-checks-per-second"});
    reader.rejectUnknown(groups, "paths", {"pipelines", "data"});
    reader.rejectUnknown(groups, "limits", {"client-timeout", "snapshot-timeout-ms", "max-viewers-per-camera", "max-cameras",
                                            "max-connections", "max-connections-per-address", "max-url-bytes",
                                            "max-header-bytes", "max-headers", "max-body-bytes", "header-timeout-ms",
                                            "request-timeout-ms", "publish-idle-timeout"});
    reader.rejectUnknown(groups, "rtsp", {"enabled", "port"});
    reader.rejectUnknown(groups, "compat", {"enabled", "default-camera"});
    reader.rejectUnknown(groups, "webrtc", {"enabled", "max-peers", "ice-timeout"});
    reader.rejectUnknown(groups, "hls", {"enabled", "segment-duration", "playlist-length", "linger"});

    if (auto v = reader.string("server", "listen")) {
        std::string why;
        if (auto addresses = parseListenAddresses(*v, &why)) c.listenAddresses = std::move(*addresses);
        else reader.problem("server", "listen", why);
    }
    if (auto v = reader.integer("server", "port", 0, 65535)) c.port = *v;
    if (auto v = reader.integer("server", "backlog", 1, 65535)) c.listenBacklog = *v;
    if (auto v = reader.string("paths", "pipelines")) c.pipelinesDir = *v;
    if (auto v = reader.string("paths", "data")) c.dataDir = *v;
    if (auto v = reader.integer("limits", "client-timeout", 1, 3600)) c.clientTimeoutSec = *v;
    if (auto v = reader.integer("limits", "snapshot-timeout-ms", 0, 60000)) c.snapshotTimeoutMs = *v;
    if (auto v = reader.integer("limits", "max-viewers-per-camera", 1, 100000)) c.maxViewersPerCamera = *v;
    if (auto v = reader.integer("limits", "max-cameras", 1, 1024)) c.maxCameras = *v;
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
    if (auto v = reader.boolean("webrtc", "enabled")) c.webrtc.enabled = *v;  // issue 14: WHEP
    if (auto v = reader.integer("webrtc", "max-peers", 1, 10000)) c.webrtc.maxPeers = *v;
    if (auto v = reader.integer("webrtc", "ice-timeout", 1, 3600)) c.webrtc.iceTimeoutSec = *v;
    // --- mjpg-streamer / ustreamer URLs (issue 13) ---
    if (auto v = reader.boolean("compat", "enabled")) c.compat.enabled = *v;
    if (auto v = reader.string("compat", "default-camera")) {
        // Whether the camera exists is asked per request: cameras come and go while the service runs.
        if (isValidCameraId(*v)) c.compat.defaultCamera = *v;
        else reader.problem("compat", "default-camera", "not a camera id (A-Z a-z 0-9 _ -, at most 64 characters): \"" +
                                                            v->substr(0, 80) + "\"");
    }
    // --- HLS (issue 14) ---
    if (auto v = reader.boolean("hls", "enabled")) c.hls.enabled = *v;
    if (auto v = reader.integer("hls", "segment-duration", 1, 10)) c.hls.segmentSec = *v;
    if (auto v = reader.integer("hls", "playlist-length", 2, 30)) c.hls.playlistLength = *v;
    if (auto v = reader.integer("hls", "linger", 2, 3600)) c.hls.lingerSec = *v;
    // --- client input hardening (issue 9: WebSocket/JSON input) ---
    if (auto v = reader.integer("limits", "publish-idle-timeout", 1, 3600)) c.publishIdleTimeoutSec = *v;

    // --- recording (issue 11) ---
    RecordingLimits& r = c.recording;
    if (auto v = reader.string("recording", "dir")) r.dir = *v;
    if (auto v = reader.duration("recording", "max-age", 0, int64_t(100) * 366 * 86400)) r.maxAgeSec = *v;
    if (auto v = reader.bytes("recording", "max-size", 0, INT64_MAX)) r.maxBytes = *v;
    if (auto v = reader.string("recording", "min-free")) {
        if (!v->empty() && v->back() == '%') {
            const std::string number = v->substr(0, v->size() - 1);
            char* end = nullptr;
            const long percent = number.empty() ? -1 : std::strtol(number.c_str(), &end, 10);
            if (percent < 0 || percent > 90 || *end != '\0')
                reader.problem("recording", "min-free", "a percentage must be 0%..90% (got \"" + v->substr(0, 40) + "\")");
            else {
                r.minFreePercent = int(percent);
                r.minFreeBytes = 0;
            }
        } else if (auto bytes = reader.bytes("recording", "min-free", 0, INT64_MAX)) {
            r.minFreeBytes = *bytes;
            r.minFreePercent = 0;
        }
    }

    // --- who may do what (issue 10) ---
    AuthConfig& a = c.auth;
    if (auto v = reader.boolean("auth", "enabled")) a.enabled = *v;
    if (auto v = reader.integer("auth", "session-ttl", 60, 366 * 24 * 3600)) a.sessionTtlSec = *v;
    if (auto v = reader.integer("auth", "max-token-ttl", 60, 10 * 366 * 24 * 3600)) a.maxTokenTtlSec = *v;
    if (auto v = reader.integer("auth", "token-ttl", 60, a.maxTokenTtlSec)) a.tokenTtlSec = *v;
    if (auto v = reader.integer("auth", "login-failures-per-minute", 1, 10000)) a.loginFailuresPerMinute = *v;
    if (auto v = reader.integer("auth", "password-checks-per-second", 1, 1000)) a.passwordChecksPerSecond = *v;
    parseUsers(reader, a);
    WebSecurity& w = c.web;
    if (auto v = reader.string("server", "hosts")) w.hosts = splitList(*v);
    if (auto v = reader.string("server", "allowed-origins")) {
        for (const std::string& origin : splitList(*v)) {
            if (isOrigin(origin)) w.allowedOrigins.push_back(origin);
            else reader.problem("server", "allowed-origins", "not an origin (scheme://host[:port], no path): \"" +
                                                                 origin.substr(0, 80) + "\"");
        }
    }
    if (auto v = reader.string("server", "trusted-proxies")) {
        constexpr size_t kMaxTrustedProxies = 64;
        for (const std::string& proxy : splitList(*v)) {
            GRef<GInetAddressMask> mask =
                GRef<GInetAddressMask>::adopt(g_inet_address_mask_new_from_string(proxy.c_str(), nullptr));
            if (!mask)
                reader.problem("server", "trusted-proxies", "not an IP address or address/prefix (192.0.2.1, 10.0.0.0/8, ::1): \"" +
                                                                proxy.substr(0, 80) + "\"");
            else if (g_ascii_strncasecmp(proxy.c_str(), "::ffff:", 7) == 0)
                // Clients of a dual-stack socket are seen as plain IPv4: such a mask would never match.
                reader.problem("server", "trusted-proxies", "write IPv4-mapped addresses as IPv4 (\"" + proxy.substr(7, 80) +
                                                                "\" for \"" + proxy.substr(0, 80) + "\")");
            else if (w.trustedProxies.size() == kMaxTrustedProxies) {
                reader.problem("server", "trusted-proxies", "at most " + std::to_string(kMaxTrustedProxies) + " entries");
                break;
            } else
                w.trustedProxies.push_back(proxy);
        }
    }
    if (auto v = reader.string("server", "frame-ancestors")) {
        // Goes into a header: no characters that would end the directive or the header.
        if (v->find_first_of(";,\r\n") != std::string::npos || v->size() > 512)
            reader.problem("server", "frame-ancestors", "a CSP source list: 'self', 'none' or origins separated by spaces");
        else
            w.frameAncestors = v->empty() ? "'none'" : *v;
    }
    if (auto v = reader.string("server", "tls-certificate")) w.tlsCertificate = *v;
    if (auto v = reader.string("server", "tls-key")) w.tlsKey = *v;
    if (w.tlsCertificate.empty() != w.tlsKey.empty())
        reader.problem("server", w.tlsKey.empty() ? "tls-key" : "tls-certificate",
                       "tls-certificate and tls-key go together (PEM files)");
    return load;
}

std::string defaultDataDir() { return std::string(g_get_user_data_dir()) + "/camrelay"; }

std::string recordingsDir(const ServiceConfig& config) {
    return config.recording.dir.empty() ? config.dataDir + "/recordings" : config.recording.dir;
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

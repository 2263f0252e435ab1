#include "access_gate.h"

#include "core/gobject_ptr.h"
#include "core/log.h"
#include "http/access_rules.h"
#include "http/client_address.h"
#include "http/json.h"
#include "http/route_path.h"
#include "http/request.h"

#include <cstring>

namespace camrelay {

struct Gate {
    GateSettings settings;
    ClientAddress clients;  // [server] trusted-proxies
};

namespace {

constexpr const char* kIdentityKey = "camrelay-identity";
constexpr const char* kPeerKey = "camrelay-peer";  // the client's address, as the gate resolved it
constexpr guint kTooManyRequests = 429;  // libsoup 3.2 names no constant for it

std::string lower(std::string text) {
    for (char& c : text) c = g_ascii_tolower(c);
    return text;
}

// "Host: name:port" / "[::1]:port" -> "name" / "::1".
std::string hostName(const char* host) {
    std::string h = host ? host : "";
    if (!h.empty() && h[0] == '[') {
        const size_t close = h.find(']');
        return close == std::string::npos ? h : h.substr(1, close - 1);
    }
    const size_t colon = h.find(':');
    return lower(colon == std::string::npos ? h : h.substr(0, colon));
}

bool hostAllowed(const Gate& gate, const char* hostHeader) {
    if (!hostHeader) return true;  // HTTP/1.0 without Host: no browser sends that, so no rebinding either
    const std::string host = hostName(hostHeader);
    if (g_hostname_is_ip_address(host.c_str()) || host == "localhost") return true;
    const std::string machine = lower(g_get_host_name());
    if (host == machine || host == machine + ".local") return true;
    for (const std::string& allowed : gate.settings.config.web.hosts)
        if (allowed == "*" || lower(allowed) == host) return true;
    return false;
}

std::string ownOrigin(const Gate& gate, const char* hostHeader) {
    return std::string(gate.settings.tls ? "https://" : "http://") + lower(hostHeader ? hostHeader : "");
}

bool isAllowedOther(const Gate& gate, const std::string& origin) {
    for (const std::string& allowed : gate.settings.config.web.allowedOrigins)
        if (lower(allowed) == origin) return true;
    return false;
}

void setSecurityHeaders(SoupMessageHeaders* h, const Gate& gate) {
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    // Stream tokens travel in URLs: never hand them to another site in a Referer.
    soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
    const std::string csp =
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
        "script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors " + gate.settings.config.web.frameAncestors;
    soup_message_headers_replace(h, "Content-Security-Policy", csp.c_str());
}

// Multi-range removal, chunked and oversized bodies (moved here from the
// route groups: libsoup keeps one early handler per path). True if answered.
bool refusedByLimits(SoupServerMessage* msg, const HttpLimits& limits) {
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
    // libsoup answers Range itself, as many parts as asked (20,000 copies of a
    // snapshot for one 60 KB header): only a single range is honoured; any
    // other Range is ignored, as RFC 9110 allows, and the whole body is sent.
    const char* range = soup_message_headers_get_one(headers, "Range");
    if (range && (std::strchr(range, ',') || std::strlen(range) > 64)) soup_message_headers_remove(headers, "Range");
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CHUNKED ||
        soup_message_headers_get_content_length(headers) > limits.maxBodyBytes) {
        // Answered at once when the client sent "Expect: 100-continue"; otherwise
        // libsoup reads the body through (bounded by the request timeout), not kept in memory.
        soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
        respondError(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                     "request bodies are limited to " + std::to_string(limits.maxBodyBytes) +
                         " bytes and must declare their length");
        return true;
    }
    return false;
}

void answerPreflight(SoupServerMessage* msg, bool originOk) {
    if (!originOk) {
        return respondError(msg, SOUP_STATUS_FORBIDDEN, "origin_not_allowed",
                            "this origin may not call the camrelay API (see [server] allowed-origins)");
    }
    SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    soup_message_headers_replace(h, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
    soup_message_headers_replace(h, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    soup_message_headers_replace(h, "Access-Control-Max-Age", "600");
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
}

// A page fetch() or XHR must not make the browser pop up its own Basic dialog.
bool challengeWanted(SoupMessageHeaders* h) {
    const char* mode = soup_message_headers_get_one(h, "Sec-Fetch-Mode");
    return !mode || g_str_equal(mode, "navigate");
}

void refuseUnauthenticated(SoupServerMessage* msg, const AccessRule& rule, const char* path, const AuthResult& result) {
    SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
    if (result.outcome == AuthOutcome::RateLimited) return respondRateLimited(msg, result);
    if (rule.page && isRead(msg)) {
        // A person at a browser: the login page, then back here.
        // Back to the same page with its query (viewer.html?camera=...) after the login.
        GUri* uri = soup_server_message_get_uri(msg);
        const char* query = uri ? g_uri_get_query(uri) : nullptr;
        const std::string target = std::string(path) + (query ? std::string("?") + query : std::string());
        GUniquePtr<char> next(g_uri_escape_string(target.c_str(), "/", FALSE));
        const std::string location = std::string("/login.html?next=") + next.get();
        soup_message_headers_replace(out, "Location", location.c_str());
        soup_message_headers_replace(out, "Cache-Control", "no-store");
        soup_server_message_set_status(msg, SOUP_STATUS_SEE_OTHER, nullptr);
        return;
    }
    respondUnauthorized(msg, result);
}

Credentials credentialsOf(SoupServerMessage* msg, GHashTable* query) {
    Credentials credentials;
    SoupMessageHeaders* in = soup_server_message_get_request_headers(msg);
    if (const char* authorization = soup_message_headers_get_one(in, "Authorization")) credentials.authorization = authorization;
    credentials.sessionCookie = requestCookie(msg, kSessionCookie);
    if (const char* token = queryValue(query, "token")) credentials.queryToken = token;
    credentials.peer = requestPeer(msg);
    return credentials;
}

// The path GET /api/access answers on (route_path parses it as the handlers do).
bool isAccessCheckPath(const char* path) {
    return std::strncmp(path, "/api", 4) == 0 && parseApiRoute(path).kind == ApiRouteKind::AccessCheck;
}

void keepIdentity(SoupServerMessage* msg, const Identity& who) {
    g_object_set_data_full(G_OBJECT(msg), kIdentityKey, new Identity(who),
                           [](gpointer p) { delete static_cast<Identity*>(p); });
}

AccessVerdict judgeRequest(const Gate& gate, const char* path, GHashTable* query, bool read, const Credentials& credentials) {
    AccessVerdict verdict;
    const char* action = g_str_equal(path, "/") ? queryValue(query, "action") : nullptr;
    verdict.route = classifyRoute(path, action ? action : "");
    const Access need = read ? verdict.route.rule.read : verdict.route.rule.write;
    const bool presented = !credentials.authorization.empty() || !credentials.sessionCookie.empty() ||
                           !credentials.queryToken.empty() || !gate.settings.auth.enabled();
    if (need == Access::Public) {
        // Open to all; a valid credential still says who is asking (/health detail, /api/session).
        if (presented) {
            verdict.auth = gate.settings.auth.authenticate(credentials);
            if (!verdict.auth.identity) verdict.auth = AuthResult{};
        }
        return verdict;
    }
    verdict.auth = gate.settings.auth.authenticate(credentials);
    if (!verdict.auth.identity) {
        verdict.status = verdict.auth.outcome == AuthOutcome::RateLimited ? kTooManyRequests : guint(SOUP_STATUS_UNAUTHORIZED);
        return verdict;
    }
    const Identity& who = *verdict.auth.identity;
    if (who.kind == Identity::Kind::Token) {
        // Which camera a compatibility URL serves is known only against the running cameras.
        if (verdict.route.compat && gate.settings.compatCamera) verdict.route.cameraId = gate.settings.compatCamera(path, query);
        if (!verdict.route.rule.streamToken || !read || who.camera != verdict.route.cameraId) {
            verdict.status = SOUP_STATUS_FORBIDDEN;
            verdict.code = "token_not_valid_here";
            verdict.message = "this token opens only camera " + who.camera + "'s stream, snapshot and WebSocket";
        }
    } else if (need == Access::Admin && !who.isAdmin()) {
        verdict.status = SOUP_STATUS_FORBIDDEN;
        verdict.code = "admin_only";
        verdict.message = "user " + printableName(who.user) + " is a viewer; this needs an admin";
    }
    return verdict;
}

void onRequest(SoupServerMessage* msg, const char* path, GHashTable* query, Gate& gate) {
    SoupMessageHeaders* in = soup_server_message_get_request_headers(msg);
    SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
    // Who is asking, behind a trusted proxy too: requestPeer() reads this from here on.
    // (get_list: several X-Forwarded-For lines are one list, in order.)
    const char* socketPeer = soup_server_message_get_remote_host(msg);
    g_object_set_data_full(G_OBJECT(msg), kPeerKey,
                           new std::string(gate.clients.resolve(socketPeer ? socketPeer : "",
                                                                soup_message_headers_get_list(in, "X-Forwarded-For"))),
                           [](gpointer p) { delete static_cast<std::string*>(p); });
    setSecurityHeaders(out, gate);
    if (refusedByLimits(msg, gate.settings.config.http)) return;

    const char* host = soup_message_headers_get_one(in, "Host");
    if (!hostAllowed(gate, host)) {
        return respondError(msg, SOUP_STATUS_MISDIRECTED_REQUEST, "host_not_allowed",
                            "this service does not answer to the name \"" + printableName(hostName(host)) +
                                "\" (add it to [server] hosts)");
    }

    // Browsers send Origin on every cross-origin request that is not a plain
    // <img>/navigation GET, and on every WebSocket upgrade.
    const char* originHeader = soup_message_headers_get_one(in, "Origin");
    const std::string origin = lower(originHeader ? originHeader : "");
    const bool sameOrigin = origin.empty() || origin == ownOrigin(gate, host);
    const bool allowedOther = !sameOrigin && isAllowedOther(gate, origin);
    if (allowedOther) {
        soup_message_headers_replace(out, "Access-Control-Allow-Origin", originHeader);
        soup_message_headers_append(out, "Vary", "Origin");
    }
    if (methodIs(msg, "OPTIONS")) return answerPreflight(msg, sameOrigin || allowedOther);
    if (!sameOrigin && !allowedOther) {
        return respondError(msg, SOUP_STATUS_FORBIDDEN, "origin_not_allowed",
                            "requests from the page at " + printableName(origin) +
                                " are refused (a page of this service, or one listed in [server] allowed-origins, may call it)");
    }
    // No Origin but a browser says the request comes from another site (old browsers, some forms).
    const char* site = soup_message_headers_get_one(in, "Sec-Fetch-Site");
    if (!isRead(msg) && origin.empty() && site && !g_str_equal(site, "same-origin") && !g_str_equal(site, "none")) {
        return respondError(msg, SOUP_STATUS_FORBIDDEN, "origin_not_allowed",
                            "a state-changing request from another site is refused");
    }
    // GET /api/access judges the request named in its X-Original-URI with these
    // credentials (http/access_check_routes): judging them here too would count
    // one failed login twice.
    if (isRead(msg) && isAccessCheckPath(path)) return;

    const AccessVerdict verdict = judgeRequest(gate, path, query, isRead(msg), credentialsOf(msg, query));
    if (verdict.allowed()) {
        if (verdict.auth.identity) keepIdentity(msg, *verdict.auth.identity);
        return;
    }
    if (verdict.status == SOUP_STATUS_FORBIDDEN) return respondError(msg, verdict.status, verdict.code, verdict.message);
    refuseUnauthenticated(msg, verdict.route.rule, path, verdict.auth);
}

}  // namespace

void respondUnauthorized(SoupServerMessage* msg, const AuthResult& result) {
    if (challengeWanted(soup_server_message_get_request_headers(msg)))
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                     "Basic realm=\"camrelay\", charset=\"UTF-8\"");
    respondError(msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                 result.outcome == AuthOutcome::Missing
                     ? "log in: a session cookie, HTTP Basic, Authorization: Bearer, or a stream ?token= for this camera"
                     : result.reason);
}

void respondRateLimited(SoupServerMessage* msg, const AuthResult& result) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                 std::to_string(result.retryAfterSec).c_str());
    respondError(msg, kTooManyRequests, "too_many_failed_logins",
                 result.reason + "; try again in " + std::to_string(result.retryAfterSec) + " s");
}

const Identity* requestIdentity(SoupServerMessage* msg) {
    return static_cast<const Identity*>(g_object_get_data(G_OBJECT(msg), kIdentityKey));
}

std::string requestPeer(SoupServerMessage* msg) {
    if (const auto* resolved = static_cast<const std::string*>(g_object_get_data(G_OBJECT(msg), kPeerKey))) return *resolved;
    const char* host = soup_server_message_get_remote_host(msg);
    return host ? host : "";
}

std::string requestCookie(SoupServerMessage* msg, const char* name) {
    const char* header = soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie");
    if (!header) return "";
    const size_t nameLength = std::strlen(name);
    for (const char* at = header; *at;) {
        while (*at == ' ' || *at == ';' || *at == ',') ++at;
        const char* end = at;
        while (*end && *end != ';' && *end != ',') ++end;
        if (size_t(end - at) > nameLength && std::strncmp(at, name, nameLength) == 0 && at[nameLength] == '=')
            return std::string(at + nameLength + 1, end);
        at = end;
    }
    return "";
}

AccessVerdict AccessGate::judge(const std::string& path, GHashTable* query, bool read, SoupServerMessage* msg) const {
    return judgeRequest(*gate_, path.c_str(), query, read, credentialsOf(msg, query));
}

AccessGate::AccessGate(const GateSettings& settings)
    : gate_(std::make_unique<Gate>(Gate{settings, ClientAddress(settings.config.web.trustedProxies)})) {}
AccessGate::~AccessGate() = default;

void AccessGate::attach(SoupServer* server, std::initializer_list<const char*> paths) {
    Gate* gate = gate_.get();
    for (const char* path : paths) soup_server_add_early_handler(
        server, path,
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
            try {
                onRequest(msg, path, query, *static_cast<Gate*>(data));
            } catch (...) {
                const std::string what = currentExceptionText();
                logWarning("", std::string("access check failed: ") + what);
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal_error", "the request could not be checked");
            }
        },
        gate, nullptr);
}

}  // namespace camrelay

// GET /api/access: "may this request go ahead?" for a proxy in front of
// camrelay. nginx's auth_request (data/nginx-camrelay.conf) asks it before it
// answers a viewer from its HLS cache, so a cached segment reaches only the
// people camrelay itself would have served (docs/scaling.md "Access control").
//
// The request to judge is named by X-Original-URI (nginx's $request_uri: the
// path and query as the viewer sent them) and, optionally, X-Original-Method;
// the credentials are this request's own (Authorization, session cookie: the
// proxy passes the viewer's headers on) plus the ?token= of the original URI.
// The answer is the access gate's own verdict on that path (http/access_gate):
//   204 allowed (X-Camrelay-User names who; also for a CORS preflight, which
//   the gate answers itself), 401 (with the Basic challenge), 403 for a path
//   whose decoding changes it (an encoded '/', a dot segment),
//   403 (another camera's token, a viewer on an admin route, or too many
//   failed logins: auth_request passes on only 401 and 403, anything else
//   would reach the viewer as a 500), 400 for a missing or malformed header
//   (a proxy configuration error: the viewer gets a 500 from nginx).
#include "core/gobject_ptr.h"
#include "core/log.h"
#include "http/access_gate.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"

#include <cstring>

namespace camrelay {

namespace {

// nginx's $request_uri is bounded by its large_client_header_buffers (8 KiB by default).
constexpr size_t kMaxOriginalUri = 8192;

// True when decoding the path changes none of its structure: no encoded '/',
// '\\' or NUL, and no "." or ".." segment after decoding.
bool canonicalPath(const char* path) {
    GUniquePtr<char> decoded(g_uri_unescape_string(path, "/\\"));  // NULL for %00, %2F, %5C or a bad escape
    if (!decoded) return false;
    const std::string p = std::string(decoded.get()) + "/";
    return p.find("/./") == std::string::npos && p.find("/../") == std::string::npos;
}

std::string describe(const Identity& who) {
    switch (who.kind) {
    case Identity::Kind::Everyone: return "everyone (auth off)";
    case Identity::Kind::User: return who.user;
    case Identity::Kind::Token: return "token for camera " + who.camera;
    }
    return "";
}

void answer(SoupServerMessage* msg, const AccessGate& gate) {
    SoupMessageHeaders* in = soup_server_message_get_request_headers(msg);
    SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
    // A verdict for one set of credentials: never for a shared cache that does not key on them.
    soup_message_headers_replace(out, "Cache-Control", "no-store");
    const char* original = soup_message_headers_get_one(in, "X-Original-URI");
    // A request target is visible ASCII (RFC 9112): anything else was never a request line.
    auto visibleAscii = [](const char* text) {
        for (const char* c = text; *c; ++c)
            if (static_cast<unsigned char>(*c) <= 0x20 || static_cast<unsigned char>(*c) >= 0x7f) return false;
        return true;
    };
    if (!original || original[0] != '/' || std::strlen(original) > kMaxOriginalUri || !visibleAscii(original)) {
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_original_uri",
                            "send X-Original-URI: the path (and query) of the request to check, starting with '/', visible ASCII, at most " +
                                std::to_string(kMaxOriginalUri) + " bytes (nginx: proxy_set_header X-Original-URI $request_uri)");
    }
    // Parsed with libsoup's flags (dot segments removed, escapes kept), so the
    // path is the one the gate would classify had the request come here directly.
    const std::string absolute = std::string("http://localhost") + original;
    GUniquePtr<GUri> uri(g_uri_parse(absolute.c_str(), GUriFlags(SOUP_HTTP_URI_FLAGS), nullptr));
    if (!uri) {
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_original_uri",
                            "X-Original-URI is not a request path: " + printableName(std::string(original).substr(0, 64)));
    }
    // A proxy's cache may key on the decoded path (nginx's $uri): a path whose
    // decoding adds a '/' or a dot segment names another resource there than
    // here, so it is judged nowhere. libsoup refuses such paths too (400).
    if (!canonicalPath(g_uri_get_path(uri.get()))) {
        return respondError(msg, SOUP_STATUS_FORBIDDEN, "path_not_canonical",
                            "X-Original-URI's path holds an encoded '/' or '\\', a NUL, or a dot segment once decoded");
    }
    const char* method = soup_message_headers_get_one(in, "X-Original-Method");
    // Preflights are answered by the gate itself before any rule (CORS for [server] allowed-origins).
    if (method && g_str_equal(method, "OPTIONS")) {
        soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
        return;
    }
    const bool read = !method || g_str_equal(method, "GET") || g_str_equal(method, "HEAD");
    const char* queryText = g_uri_get_query(uri.get());
    GUniquePtr<GHashTable> query(queryText ? soup_form_decode(queryText) : nullptr);

    const AccessVerdict verdict = gate.judge(g_uri_get_path(uri.get()), query.get(), read, msg);
    if (verdict.allowed()) {
        if (verdict.auth.identity)
            soup_message_headers_replace(out, "X-Camrelay-User", printableName(describe(*verdict.auth.identity)).c_str());
        soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
        return;
    }
    if (verdict.status == SOUP_STATUS_UNAUTHORIZED) return respondUnauthorized(msg, verdict.auth);
    if (verdict.auth.outcome == AuthOutcome::RateLimited) {
        soup_message_headers_replace(out, "Retry-After", std::to_string(verdict.auth.retryAfterSec).c_str());
        // nginx caches verdicts (data/nginx-camrelay.conf): not this one, or the lockout would outlast the limiter.
        soup_message_headers_replace(out, "X-Accel-Expires", "0");
        return respondError(msg, SOUP_STATUS_FORBIDDEN, "too_many_failed_logins",
                            verdict.auth.reason + "; try again in " + std::to_string(verdict.auth.retryAfterSec) + " s");
    }
    respondError(msg, SOUP_STATUS_FORBIDDEN, verdict.code, verdict.message);
}

void handle(SoupServerMessage* msg, const char* path, const AccessGate& gate) {
    if (!g_str_equal(path, "/api/access"))
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no API route ") + printableName(path));
    if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
    answer(msg, gate);
}

}  // namespace

void addAccessCheckRoute(SoupServer* server, const AccessGate& gate) {
    soup_server_add_handler(
        server, "/api/access",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) noexcept {
            try {
                handle(msg, path, *static_cast<const AccessGate*>(data));
            } catch (...) {
                const std::string what = currentExceptionText();
                logWarning("", "/api/access request failed: " + what);
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal_error", "the request could not be checked");
            }
        },
        const_cast<AccessGate*>(&gate), nullptr);
}

}  // namespace camrelay

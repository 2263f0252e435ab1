// /api/session: the login form's endpoint (POST), who am I (GET), logout (DELETE).
// The session lives in an HttpOnly, SameSite=Strict cookie: page scripts never
// see it and other sites' pages never send it.
#include "core/json_input.h"
#include "core/log.h"
#include "http/access_gate.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"

namespace camrelay {

namespace {

struct SessionRoutes {
    Authenticator& auth;
    bool tls;
};

std::string cookie(const std::string& value, int maxAgeSec, bool tls) {
    return std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
           std::to_string(maxAgeSec) + (tls ? "; Secure" : "");
}

JsonObjectValue describe(const Identity& who, bool enabled) {
    JsonObjectValue body;
    body.set("auth", enabled);
    if (who.kind == Identity::Kind::Token) {
        body.setNull("user").set("role", "token").set("camera", who.camera);
    } else {
        body.set("user", who.kind == Identity::Kind::User ? who.user.c_str() : nullptr).set("role", toString(who.role));
    }
    body.set("via", who.via);
    return body;
}

void login(SoupServerMessage* msg, SessionRoutes& routes) {
    if (!routes.auth.enabled()) {
        JsonObjectValue body;
        body.set("auth", false).set("message", "authentication is off: no login needed");
        return respondJson(msg, SOUP_STATUS_OK, body);
    }
    JsonInput input(requestBody(msg), JsonInputLimits{4096, 2});
    JsonObjectView object = input.ok() ? input.rootObject() : JsonObjectView();
    std::string user, password;
    if (!object || object.string("user", &user) != JsonObjectView::Member::Ok ||
        object.string("password", &password) != JsonObjectView::Member::Ok) {
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_login",
                            input.ok() ? "send {\"user\": \"...\", \"password\": \"...\"} (both strings)"
                                       : "the body is not JSON: " + input.error());
    }
    AuthResult result = routes.auth.checkPassword(user, password, requestPeer(msg));
    if (result.outcome == AuthOutcome::RateLimited) return respondRateLimited(msg, result);
    if (!result.identity) return respondError(msg, SOUP_STATUS_UNAUTHORIZED, "login_failed", result.reason);
    Identity who = *result.identity;
    who.via = "session";
    const std::string session = routes.auth.startSession(who);
    const int ttl = routes.auth.config().sessionTtlSec;
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                cookie(session, ttl, routes.tls).c_str());
    JsonObjectValue body = describe(who, true);
    body.set("expires_in", int64_t(ttl));
    respondJson(msg, SOUP_STATUS_OK, body);
}

void handle(SoupServerMessage* msg, const char* path, SessionRoutes& routes) {
    if (!g_str_equal(path, "/api/session"))
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no route ") + path);
    if (methodIs(msg, "POST")) return login(msg, routes);
    if (methodIs(msg, "DELETE")) {
        const std::string session = requestCookie(msg, kSessionCookie);
        if (!session.empty()) routes.auth.endSession(session);
        soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                    cookie("", 0, routes.tls).c_str());
        soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
        return;
    }
    if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD, POST, DELETE");
    const Identity* who = requestIdentity(msg);
    if (!who) {
        // Public route: "nobody" is an answer, not a refusal.
        JsonObjectValue body;
        body.set("auth", true).setNull("user").setNull("role");
        return respondJson(msg, SOUP_STATUS_OK, body);
    }
    respondJson(msg, SOUP_STATUS_OK, describe(*who, routes.auth.enabled()));
}

}  // namespace

void addSessionRoutes(SoupServer* server, Authenticator& auth, bool tls) {
    soup_server_add_handler(
        server, "/api/session",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) noexcept {
            try {
                handle(msg, path, *static_cast<SessionRoutes*>(data));
            } catch (...) {
                const std::string what = currentExceptionText();
                logWarning("", "/api/session request failed: " + what);
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal_error", "the request failed");
            }
        },
        new SessionRoutes{auth, tls}, [](gpointer p) { delete static_cast<SessionRoutes*>(p); });
}

}  // namespace camrelay

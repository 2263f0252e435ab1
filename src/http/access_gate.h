#pragma once
// The checks every request passes before its handler runs (a libsoup early
// handler, so a refused request never reaches a route, a WebSocket upgrade or
// a body read):
//   1. request limits (chunked or oversized bodies, multi-range);
//   2. Host: a configured name, this machine's name or an IP literal (DNS rebinding);
//   3. Origin: a browser request from another origin is refused unless that
//      origin is in [server] allowed-origins (then it gets CORS headers);
//      OPTIONS preflights are answered here;
//   4. who is asking (auth/authenticator) against the route's rule (access_rules);
// and sets the security headers every answer carries.
// Thread affinity: loop thread only.
#include "auth/authenticator.h"
#include "config/service_config.h"
#include "http/access_rules.h"

#include <libsoup/soup.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

namespace camrelay {

struct GateSettings {
    const ServiceConfig& config;
    Authenticator& auth;
    bool tls = false;  // the service speaks HTTPS: cookies get Secure, origins https://
    // The camera a compatibility URL (/?action=stream, /snapshot, ...) serves, "" when
    // none: a stream token opens it only for that camera (http/compat_path.h).
    std::function<std::string(const char* path, GHashTable* query)> compatCamera;
};

struct Gate;

// What the access rules say of one request (http/access_rules): allowed
// (status 200; auth.identity says who, empty on a public route nobody logged
// in to), 401 or 429 (auth says why), or 403 (code and message).
struct AccessVerdict {
    guint status = SOUP_STATUS_OK;
    RouteAccess route;
    AuthResult auth;
    std::string code, message;
    bool allowed() const { return status == SOUP_STATUS_OK; }
};

class AccessGate {
public:
    explicit AccessGate(const GateSettings& settings);
    ~AccessGate();
    // Registers the gate beside every route group path (libsoup runs the early
    // handler of the most specific path, the same one it picks for the handler).
    // The gate must outlive the server's handlers.
    void attach(SoupServer* server, std::initializer_list<const char*> paths);
    // The verdict on a request this gate did not receive: `path` and `query` as
    // libsoup would hand them to a handler, with msg's credentials (Authorization,
    // session cookie, client address) and the query's ?token=. For GET /api/access
    // (nginx's auth_request asks it about each viewer's request).
    AccessVerdict judge(const std::string& path, GHashTable* query, bool read, SoupServerMessage* msg) const;

private:
    std::unique_ptr<Gate> gate_;
};

// The identity the gate accepted for this request; null if the route is
// public and no credential came (or before the gate ran).
const Identity* requestIdentity(SoupServerMessage* msg);
// 429 with Retry-After for a RateLimited AuthResult (the gate and the login route).
void respondRateLimited(SoupServerMessage* msg, const AuthResult& result);
// 401 with why (no or a wrong credential); it carries the Basic challenge unless a
// page's fetch() asked (the browser's own login dialog would pop up over the page).
void respondUnauthorized(SoupServerMessage* msg, const AuthResult& result);
// The client's IP address as text ("" if unknown): behind a trusted proxy
// ([server] trusted-proxies), the one its X-Forwarded-For names (http/client_address).
std::string requestPeer(SoupServerMessage* msg);
// The value of one cookie from the Cookie header ("" if absent).
std::string requestCookie(SoupServerMessage* msg, const char* name);

constexpr const char* kSessionCookie = "camrelay_session";

}  // namespace camrelay

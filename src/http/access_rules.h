#pragma once
// Who may use which route: the one table every request is checked against
// before its handler runs (http/access_gate). A path no rule names needs an
// admin, so a route added later is closed until it is given a rule here.
// Thread affinity: any thread (pure).
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

enum class Access { Public, Viewer, Admin };
const char* toString(Access access);

struct AccessRule {
    const char* route;    // the documented shape, e.g. "/api/cameras/{id}/stream"
    Access read;          // GET and HEAD (and WebSocket upgrades, which are GETs)
    Access write;         // every other method
    bool streamToken;     // a camera's read-only token opens it (reads only)
    bool page;            // a browser page: without credentials, redirect to the login page
    const char* example;  // a concrete path of this shape (tests walk the table with it)
};

struct RouteAccess {
    AccessRule rule;
    std::string cameraId;  // for routes under /api/cameras/{id}
};

// One path shape the server answers, as docs/openapi.yaml names it: the table
// the OpenAPI coverage test (tests/integration/test_openapi.cpp) holds the
// document against, both ways. A route's handler answers exactly these
// methods (any other gets 405), and classifyRoute(example) gives its rule.
struct RouteShape {
    const char* path;        // OpenAPI-style, e.g. "/api/cameras/{id}/start"
    const char* methods;     // every method answered, space-separated: "GET HEAD POST"
    const char* example;     // a concrete path of this shape
    const AccessRule* rule;  // the rule among accessRules() that guards it
};

// The rule for a request path, parsed exactly as the route handlers parse it.
RouteAccess classifyRoute(std::string_view path);
// Every rule, for documentation and the auth matrix test.
const std::vector<AccessRule>& accessRules();
// Every path shape the server answers (compat routes, pages and API alike).
const std::vector<RouteShape>& routeShapes();

}  // namespace camrelay

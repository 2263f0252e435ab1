#include "rtsp_auth.h"

#include "config/camera_config.h"

#include <mutex>

#include "core/log.h"

#include <cstring>
#include <map>
#include <new>

namespace camrelay {
namespace {

constexpr size_t kMaxAuthorizationBytes = 4096;
constexpr size_t kMaxQueryTokenBytes = 1024;

// What the GObject carries: immutable once RtspAuth's constructor has filled it.
// The tokens handed to gst-rtsp-server (borrowed by its contexts) live as long
// as the auth object. Cameras come and go at run time, so a "token:<id>" role
// is made the first time a verified token names it (ids are checked names,
// and only the service issues tokens: the map stays small). Guarded: read and
// grown on gst-rtsp-server's client threads.
struct AuthState {
    Authenticator* auth = nullptr;
    std::mutex mutex;
    std::map<std::string, GRef<GstRTSPToken>> tokens;  // by media-factory role

    GstRTSPToken* token(const std::string& role) {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = tokens.find(role);
        if (it != tokens.end()) return it->second.get();
        if (role.rfind("token:", 0) != 0 || !isValidCameraId(role.substr(6))) return nullptr;
        GRef<GstRTSPToken>& made = tokens[role];
        made = GRef<GstRTSPToken>::adopt(gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, role.c_str(), nullptr));
        return made.get();
    }
};

}  // namespace
}  // namespace camrelay

// The GstRTSPAuth subclass. Its C++ state lives inside the instance, built in
// _init and destroyed in finalize, so it goes with the last reference whoever
// drops it (the server, a client still finishing a request).
struct CamrelayRtspAuth {
    GstRTSPAuth parent;
    camrelay::AuthState state;
};
struct CamrelayRtspAuthClass {
    GstRTSPAuthClass parent_class;
};

G_DEFINE_TYPE(CamrelayRtspAuth, camrelay_rtsp_auth, GST_TYPE_RTSP_AUTH)

namespace camrelay {
namespace {

CamrelayRtspAuth* self(gpointer object) {
    return G_TYPE_CHECK_INSTANCE_CAST(object, camrelay_rtsp_auth_get_type(), CamrelayRtspAuth);
}

// The ?token= an RTSP connection (GstRTSPClient) gave, as qdata owning a std::string.
GQuark connectionTokenQuark() {
    static const GQuark quark = g_quark_from_static_string("camrelay-rtsp-url-token");
    return quark;
}

std::string requestPath(const GstRTSPContext* ctx) {
    return ctx->uri && ctx->uri->abspath ? printableName(ctx->uri->abspath) : std::string("?");
}

// The `authenticate` vfunc, called by gst-rtsp-server's media-factory checks
// (DESCRIBE, SETUP) when the request has no token yet. TRUE with ctx->token set
// lets the permission check run; FALSE answers 401 with the Basic challenge.
// ctx->token is borrowed (gst-rtsp-server never unrefs it): it points to one
// of the tokens the state owns for the object's lifetime.
gboolean authenticateRequest(GstRTSPAuth* base, GstRTSPContext* ctx) noexcept {
    try {
        if (!ctx || !ctx->request) return FALSE;
        AuthState& state = self(base)->state;
        Credentials credentials;
        if (ctx->conn)
            if (const gchar* ip = gst_rtsp_connection_get_ip(ctx->conn)) credentials.peer = ip;
        const gchar* method = gst_rtsp_method_as_text(ctx->method);
        const std::string what = std::string("RTSP ") + (method ? method : "?") + " " +
                                 requestPath(ctx) + " from " + credentials.peer;
        gchar* header = nullptr;
        if (gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_AUTHORIZATION, &header, 0) == GST_RTSP_OK && header) {
            if (std::strlen(header) > kMaxAuthorizationBytes) {
                logWarning("", what + " refused: Authorization header over " + std::to_string(kMaxAuthorizationBytes) + " bytes");
                return FALSE;
            }
            credentials.authorization = header;
        }
        const std::string urlToken = ctx->uri ? rtspQueryToken(ctx->uri->query) : std::string();
        credentials.queryToken = urlToken;
        // gst-rtsp-server's Content-Base drops the query, so the SETUP URLs
        // clients derive from it lose ?token=: a URL token that was accepted
        // stands for the later requests of its connection that carry no
        // credentials. It is verified again each time (expiry, camera).
        GObject* connection = ctx->client ? G_OBJECT(ctx->client) : nullptr;
        if (connection && urlToken.empty() && credentials.authorization.empty())
            if (auto* remembered = static_cast<const std::string*>(g_object_get_qdata(connection, connectionTokenQuark())))
                credentials.queryToken = *remembered;
        AuthResult result = state.auth->authenticate(credentials);
        if (result.outcome == AuthOutcome::Ok && result.identity) {
            if (GstRTSPToken* token = state.token(rtspRole(*result.identity))) {
                if (connection && !urlToken.empty())
                    g_object_set_qdata_full(connection, connectionTokenQuark(), new std::string(urlToken),
                                            [](gpointer p) { delete static_cast<std::string*>(p); });
                ctx->token = token;
                return TRUE;
            }
            result.reason = "the stream token is for a camera this service does not serve";
        }
        // No credentials is the first step of every Basic login (the client
        // answers the challenge): not worth a log line.
        if (result.outcome != AuthOutcome::Missing) logWarning("", what + " refused: " + result.reason);
        return FALSE;
    } catch (...) {
        logError("", "RTSP authentication failed: " + currentExceptionText());
        return FALSE;
    }
}

}  // namespace
}  // namespace camrelay

static void camrelay_rtsp_auth_init(CamrelayRtspAuth* auth) {
    new (&auth->state) camrelay::AuthState();
}

static void camrelayRtspAuthFinalize(GObject* object) noexcept {
    camrelay::self(object)->state.~AuthState();
    G_OBJECT_CLASS(camrelay_rtsp_auth_parent_class)->finalize(object);
}

static void camrelay_rtsp_auth_class_init(CamrelayRtspAuthClass* klass) {
    G_OBJECT_CLASS(klass)->finalize = camrelayRtspAuthFinalize;
    GST_RTSP_AUTH_CLASS(klass)->authenticate = camrelay::authenticateRequest;
}

namespace camrelay {

std::string rtspRole(const Identity& identity) {
    if (identity.kind == Identity::Kind::Token) return "token:" + identity.camera;
    return toString(identity.role);
}

std::string rtspQueryToken(const char* query) {
    if (!query) return {};
    const std::string text(query);
    size_t at = 0;
    while (at <= text.size()) {
        size_t end = text.find('&', at);
        if (end == std::string::npos) end = text.size();
        const std::string pair = text.substr(at, end - at);
        if (pair.rfind("token=", 0) == 0) {
            std::string value = pair.substr(6);
            value = value.substr(0, value.find('/'));
            if (value.size() > kMaxQueryTokenBytes) return {};
            GUniquePtr<gchar> decoded(g_uri_unescape_string(value.c_str(), nullptr));  // null: bad escape or %00
            return decoded ? std::string(decoded.get()) : std::string();
        }
        at = end + 1;
    }
    return {};
}

RtspAuth::RtspAuth(Authenticator& auth) {
    auth_ = GRef<GstRTSPAuth>::adopt(GST_RTSP_AUTH(g_object_new(camrelay_rtsp_auth_get_type(), nullptr)));
    AuthState& state = self(auth_.get())->state;
    state.auth = &auth;
    for (const std::string role : {toString(Role::Viewer), toString(Role::Admin)})
        state.tokens[role] = GRef<GstRTSPToken>::adopt(
            gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, role.c_str(), nullptr));
    gst_rtsp_auth_set_supported_methods(auth_.get(), GST_RTSP_AUTH_BASIC);
    gst_rtsp_auth_set_realm(auth_.get(), "camrelay");
}

void RtspAuth::protect(GstRTSPMediaFactory* factory, const std::string& cameraId) {
    GRef<GstRTSPPermissions> permissions = GRef<GstRTSPPermissions>::adopt(gst_rtsp_permissions_new());
    for (const std::string& role : {std::string(toString(Role::Viewer)), std::string(toString(Role::Admin)), "token:" + cameraId})
        gst_rtsp_permissions_add_role(permissions.get(), role.c_str(),
                                      GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                      GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);
    gst_rtsp_media_factory_set_permissions(factory, permissions.get());
}

}  // namespace camrelay

#include "rtsp_restream.h"

#include "camera/frame_stamper.h"
#include "core/invoke.h"
#include "outputs/rtsp_auth.h"
#include "core/log.h"

#include <gst/app/gstappsrc.h>

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {
constexpr const char* kSourceName = "camrelay_src";
constexpr const char* kAnyoneRole = "anyone";  // RTSPS with auth off

// A GstRTSPAuth (needed for TLS) checks factory permissions: with auth off, everyone may watch.
void letAnyoneIn(GstRTSPMediaFactory* factory) {
    GRef<GstRTSPPermissions> permissions = GRef<GstRTSPPermissions>::adopt(gst_rtsp_permissions_new());
    gst_rtsp_permissions_add_role(permissions.get(), kAnyoneRole, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN,
                                  TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);
    gst_rtsp_media_factory_set_permissions(factory, permissions.get());
}
}  // namespace

std::string rtspMediaLaunch() {
    // The camera's shared H.264 stream (the source's own access units, or its
    // one encoder): parsed and payloaded, never decoded or encoded here.
    // appsrc holds at most a second of them, so a stuck client costs bounded memory.
    return std::string("( appsrc name=") + kSourceName +
           " is-live=true format=time max-buffers=30 leaky-type=downstream block=false"
           " caps=video/x-h264,stream-format=byte-stream,alignment=au"
           " ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )";
}

// Access units are stamped with the media's running time when they are
// pushed, which only means something once the media plays: a buffer pushed
// while it is still being prepared would get a time far ahead of the ones
// after it. Access units before PLAYING are skipped.
static bool playing(GstElement* appsrc) { return GST_STATE(appsrc) == GST_STATE_PLAYING; }

// One media's frame counts (/metrics): added to on streaming threads (the
// tap pushes, the appsrc's pad passes on), read on the loop.
struct MediaCounts {
    std::atomic<uint64_t> pushed{0}, out{0}, bytesOut{0};
};

// One camera's mount. Shared with callbacks queued for the loop, which check
// `alive` so none runs after the re-streamer is gone.
struct RtspRestream::Mount {
    CameraPtr camera;
    GMainContext* loop = nullptr;
    bool alive = true;
    GRef<GstElement> source;  // the running media's appsrc, if any
    int tapListener = 0;      // on the camera's shared H.264 stream
    H264Stream::Claim claim;  // the stream (and an on-demand camera) runs while RTSP clients watch
    std::shared_ptr<MediaCounts> counts = std::make_shared<MediaCounts>();  // the running media's
    // Figures of the medias gone. Access units still queued when a media
    // ends were never sent: they count as dropped then (appsrc 1.22 counts no drops itself).
    uint64_t framesBefore = 0, bytesBefore = 0, droppedBefore = 0;

    bool passthrough() const { return camera->h264().passthrough(); }

    void attach(GRef<GstElement> src) {
        source = std::move(src);
        H264Stream& stream = camera->h264();
        claim = stream.claim();  // asks for a key frame too
        GRef<GstElement> appsrc = source;
        // Every access unit is kept (a dropped one would break decoding), so
        // no stamp is ever refused. Passthrough: stamps only have to increase
        // (the camera's rate is unknown). Encoded: at most kEncodedFps frames
        // a second come, so they are spaced by a whole frame (ffmpeg saw
        // "non monotonically increasing dts" for two on one 1/30 tick).
        const GstClockTime spacing = stream.passthrough() ? GST_MSECOND : GST_SECOND / SharedH264Stream::kEncodedFps;
        auto stamper = std::make_shared<FrameStamper>(spacing, G_MAXUINT64 / 2);
        counts = std::make_shared<MediaCounts>();
        // What leaves the appsrc toward the payloader: its leaky queue dropped the rest.
        if (GstPad* pad = gst_element_get_static_pad(appsrc.get(), "src")) {
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, [](GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
                MediaCounts* c = static_cast<std::shared_ptr<MediaCounts>*>(data)->get();
                c->out.fetch_add(1, std::memory_order_relaxed);
                if (GstBuffer* b = gst_pad_probe_info_get_buffer(info)) c->bytesOut.fetch_add(gst_buffer_get_size(b), std::memory_order_relaxed);
                return GST_PAD_PROBE_OK;
            }, new std::shared_ptr<MediaCounts>(counts), [](gpointer p) { delete static_cast<std::shared_ptr<MediaCounts>*>(p); });
            gst_object_unref(pad);
        }
        tapListener = stream.tap().add([appsrc, stamper, c = counts](GstBuffer* au) {
            if (!playing(appsrc.get())) return;
            c->pushed.fetch_add(1, std::memory_order_relaxed);
            stamper->push(appsrc.get(), gst_buffer_copy(au));  // the copy shares the memory
        });
        logInfo(camera->id(), passthrough() ? "RTSP clients connected: passing the camera's H.264 through (no encoder)"
                                            : "RTSP clients connected: on the camera's shared H.264 encoder");
    }
    void detach(GstElement* src) {
        if (!source || source.get() != src) return;  // none, or an older media already replaced
        if (tapListener) camera->h264().tap().remove(std::exchange(tapListener, 0));
        const uint64_t pushed = counts->pushed.load(), out = counts->out.load();
        framesBefore += out;
        bytesBefore += counts->bytesOut.load();
        droppedBefore += pushed > out ? pushed - out : 0;
        counts = std::make_shared<MediaCounts>();
        source.reset();
        claim.reset();
        logInfo(camera->id(), "no RTSP clients: released the camera's H.264 stream");
    }
    void requestKeyframe() {
        if (source) camera->h264().requestKeyframe();
    }
};

RtspRestream::RtspRestream(const ServiceConfig& config, Authenticator& auth) : config_(config) {
    server_ = GRef<GstRTSPServer>::adopt(gst_rtsp_server_new());
    // gst-rtsp-server listens on one address (service_config.h rtspListenAddress):
    // "::" (IPv4 and IPv6) when HTTP listens on a wildcard, else HTTP's first address.
    gst_rtsp_server_set_address(server_.get(), rtspListenAddress(config.listenAddresses).c_str());
    gst_rtsp_server_set_service(server_.get(), std::to_string(config.rtspPort).c_str());
    loop_ = g_main_context_ref_thread_default();
    g_main_context_unref(loop_);  // the loop's context outlives the service
    // Auth off: no GstRTSPAuth at all, every client is let in as before.
    std::optional<RtspAuth> rtspAuth;
    if (auth.enabled()) {
        rtspAuth.emplace(auth);
        gst_rtsp_server_set_auth(server_.get(), rtspAuth->get());  // the server keeps its own reference
        protect_ = true;
    }
    // RTSPS with the HTTP certificate. gst-rtsp-server keeps TLS on its
    // GstRTSPAuth; with auth off that is a plain one letting everyone in.
    if (!config.web.tlsCertificate.empty()) {
        GError* raw = nullptr;
        GRef<GTlsCertificate> certificate = GRef<GTlsCertificate>::adopt(
            g_tls_certificate_new_from_files(config.web.tlsCertificate.c_str(), config.web.tlsKey.c_str(), &raw));
        GUniquePtr<GError> failure(raw);
        if (!certificate) {
            setupError_ = "RTSPS: cannot load [server] tls-certificate/tls-key: " + errorMessage(failure);
        } else {
            GRef<GstRTSPAuth> tlsAuth = rtspAuth ? GRef<GstRTSPAuth>::ref(rtspAuth->get())
                                                 : GRef<GstRTSPAuth>::adopt(gst_rtsp_auth_new());
            if (!rtspAuth) {
                GRef<GstRTSPToken> anyone = GRef<GstRTSPToken>::adopt(
                    gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, kAnyoneRole, nullptr));
                gst_rtsp_auth_set_default_token(tlsAuth.get(), anyone.get());
                gst_rtsp_server_set_auth(server_.get(), tlsAuth.get());
            }
            gst_rtsp_auth_set_tls_certificate(tlsAuth.get(), certificate.get());
            tls_ = true;
        }
    }
    // A client joining a running shared media needs a key frame now, not at the next interval.
    g_signal_connect(server_.get(), "client-connected", G_CALLBACK(+[](GstRTSPServer*, GstRTSPClient* client, gpointer self) noexcept {
        g_signal_connect(client, "play-request", G_CALLBACK(+[](GstRTSPClient*, GstRTSPContext* ctx, gpointer self) noexcept {
            if (!ctx || !ctx->uri || !ctx->uri->abspath) return;
            auto* restream = static_cast<RtspRestream*>(self);
            // Clients PLAY the Content-Base ("/demo/"), some the mount ("/demo"); the query is not in abspath.
            const std::string path = ctx->uri->abspath;
            if (path.empty() || path[0] != '/') return;
            auto it = restream->mounts_.find(path.substr(1, path.find('/', 1) - 1));
            if (it == restream->mounts_.end()) return;
            std::shared_ptr<Mount> mount = it->second;
            invokeOn(mount->loop, [mount] {
                if (mount->alive) mount->requestKeyframe();
            });
        }), self);
    }), this);
}

void RtspRestream::attach(const CameraPtr& camera) {
    if (!camera->configValid()) return;  // nothing to serve; a later valid config re-attaches
    if (mounts_.count(camera->id())) return;
    auto mount = std::make_shared<Mount>();
    mount->camera = camera;
    mount->loop = loop_;
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(factory, rtspMediaLaunch().c_str());
    gst_rtsp_media_factory_set_shared(factory, TRUE);  // one media (one claim) for every RTSP client
    if (protect_) RtspAuth::protect(factory, camera->id());
    if (tls_) {
        if (!protect_) letAnyoneIn(factory);
        // RTP over UDP would leave the TLS connection in clear text: interleaved only.
        gst_rtsp_media_factory_set_protocols(factory, GST_RTSP_LOWER_TRANS_TCP);
    }
    g_signal_connect_data(factory, "media-configure", G_CALLBACK(&RtspRestream::onMediaConfigure),
                          new std::shared_ptr<Mount>(mount),
                          [](gpointer p, GClosure*) { delete static_cast<std::shared_ptr<Mount>*>(p); },
                          GConnectFlags(0));
    GRef<GstRTSPMountPoints> points = GRef<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server_.get()));
    gst_rtsp_mount_points_add_factory(points.get(), ("/" + camera->id()).c_str(), factory);  // takes factory
    mounts_[camera->id()] = mount;
}

void RtspRestream::detach(const std::string& cameraId) {
    auto it = mounts_.find(cameraId);
    if (it == mounts_.end()) return;
    std::shared_ptr<Mount> mount = it->second;
    mounts_.erase(it);
    mount->alive = false;  // queued callbacks of its media do nothing now
    mount->detach(mount->source.get());
    mount->camera.reset();
    const std::string path = "/" + cameraId;
    GRef<GstRTSPMountPoints> points = GRef<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server_.get()));
    gst_rtsp_mount_points_remove_factory(points.get(), path.c_str());
    // Sessions playing it end: their media is unmanaged and unprepared.
    GRef<GstRTSPSessionPool> pool = GRef<GstRTSPSessionPool>::adopt(gst_rtsp_server_get_session_pool(server_.get()));
    if (!pool) return;
    // data: the mount path, handed on to the per-session filter.
    gst_rtsp_session_pool_filter(pool.get(), [](GstRTSPSessionPool*, GstRTSPSession* session, gpointer data) noexcept {
        GList* removed = gst_rtsp_session_filter(session, [](GstRTSPSession*, GstRTSPSessionMedia* media, gpointer data) noexcept {
            gint matched = 0;
            const std::string& path = *static_cast<const std::string*>(data);
            return gst_rtsp_session_media_matches(media, path.c_str(), &matched) ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
        }, data);
        g_list_free_full(removed, g_object_unref);
        return GST_RTSP_FILTER_KEEP;
    }, const_cast<std::string*>(&path));
    logInfo(cameraId, "camera removed: its RTSP mount is gone");
}

RtspRestream::~RtspRestream() {
    for (auto& [id, mount] : mounts_) {
        mount->alive = false;
        mount->detach(mount->source.get());
        mount->camera.reset();
    }
    serverSource_.reset();
    // Media pipelines still running (clients connected at shutdown) go with the pools.
    if (server_) {
        GRef<GstRTSPSessionPool> pool = GRef<GstRTSPSessionPool>::adopt(gst_rtsp_server_get_session_pool(server_.get()));
        gst_rtsp_server_client_filter(server_.get(), [](GstRTSPServer*, GstRTSPClient* client, gpointer) noexcept {
            gst_rtsp_client_close(client);
            return GST_RTSP_FILTER_REMOVE;
        }, nullptr);
        if (pool) gst_rtsp_session_pool_filter(pool.get(), [](GstRTSPSessionPool*, GstRTSPSession*, gpointer) noexcept {
            return GST_RTSP_FILTER_REMOVE;
        }, nullptr);
    }
}

bool RtspRestream::start(std::string* error) {
    if (!setupError_.empty()) {
        *error = setupError_;
        return false;
    }
    GError* raw = nullptr;
    GRef<GSource> source = GRef<GSource>::adopt(gst_rtsp_server_create_source(server_.get(), nullptr, &raw));
    GUniquePtr<GError> failure(raw);
    if (!source) {
        *error = "cannot serve RTSP on " + rtspListenAddress(config_.listenAddresses) + " port " + std::to_string(config_.rtspPort) + ": " +
                 errorMessage(failure);
        return false;
    }
    serverSource_ = SourceHandle(g_source_attach(source.get(), nullptr));
    port_ = gst_rtsp_server_get_bound_port(server_.get());
    return true;
}

bool RtspRestream::active(const std::string& cameraId) const {
    auto it = mounts_.find(cameraId);
    return it != mounts_.end() && it->second->source;
}

bool RtspRestream::passthrough(const std::string& cameraId) const {
    auto it = mounts_.find(cameraId);
    return it != mounts_.end() && it->second->passthrough();
}

RtspStats RtspRestream::stats(const std::string& cameraId) const {
    RtspStats s;
    auto it = mounts_.find(cameraId);
    if (it == mounts_.end()) return s;
    const Mount& mount = *it->second;
    // While a media runs, pushed - out is mostly its queue (at most a second): counted when it ends.
    s.framesSent = mount.framesBefore + mount.counts->out.load(std::memory_order_relaxed);
    s.bytesSent = mount.bytesBefore + mount.counts->bytesOut.load(std::memory_order_relaxed);
    s.framesDropped = mount.droppedBefore;
    GRef<GstRTSPSessionPool> pool = GRef<GstRTSPSessionPool>::adopt(gst_rtsp_server_get_session_pool(server_.get()));
    if (!pool) return s;
    struct Walk {
        std::string path;
        uint64_t sessions = 0;
    } walk{"/" + cameraId};
    gst_rtsp_session_pool_filter(pool.get(), [](GstRTSPSessionPool*, GstRTSPSession* session, gpointer data) noexcept {
        gst_rtsp_session_filter(session, [](GstRTSPSession*, GstRTSPSessionMedia* media, gpointer data) noexcept {
            auto* walk = static_cast<Walk*>(data);
            gint matched = 0;
            // matches() is a prefix test: "/cam" must not count the sessions of "/cam2" (nor the reverse).
            if (gst_rtsp_session_media_matches(media, walk->path.c_str(), &matched) && size_t(matched) == walk->path.size())
                ++walk->sessions;
            return GST_RTSP_FILTER_KEEP;
        }, data);
        return GST_RTSP_FILTER_KEEP;
    }, &walk);
    s.viewers = walk.sessions;
    return s;
}

void RtspRestream::onMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) noexcept {
    std::shared_ptr<Mount> mount = *static_cast<std::shared_ptr<Mount>*>(data);
    GRef<GstElement> bin = GRef<GstElement>::adopt(gst_rtsp_media_get_element(media));
    GRef<GstElement> src = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(bin.get()), kSourceName));
    if (!src) return;
    invokeOn(mount->loop, [mount, src] {
        if (mount->alive) mount->attach(src);
    });
    // The last client left: the media is unprepared and its pipeline goes.
    using Kept = std::pair<std::shared_ptr<Mount>, GRef<GstElement>>;
    auto onUnprepared = +[](GstRTSPMedia*, gpointer p) noexcept {
        auto* kept = static_cast<Kept*>(p);
        std::shared_ptr<Mount> m = kept->first;
        GRef<GstElement> s = kept->second;
        invokeOn(m->loop, [m, s] {
            if (m->alive) m->detach(s.get());
        });
    };
    g_signal_connect_data(media, "unprepared", G_CALLBACK(onUnprepared), new Kept(mount, src),
                          [](gpointer p, GClosure*) { delete static_cast<Kept*>(p); }, GConnectFlags(0));
}

}  // namespace camrelay

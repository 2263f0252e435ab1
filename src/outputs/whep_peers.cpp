#include "outputs/whep_peers.h"

#include "camera/frame_stamper.h"
#include "core/clock.h"
#include "core/invoke.h"
#include "core/log.h"
#include "outputs/webrtc_abi.h"

#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtphdrext.h>
#include <gst/video/video.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

// A peer's appsrc holds at most this much; beyond it the peer is behind and
// access units are dropped until the next key frame.
constexpr guint64 kMaxQueuedBytes = 2 * 1024 * 1024;
constexpr const char* kNtp64Uri = "urn:ietf:params:rtp-hdrext:ntp-64";
// NTP counts from 1900, Unix from 1970.
constexpr guint64 kNtpUnixOffsetSec = 2208988800ULL;
// SDP sections an offer may have (a WHEP player sends one or two).
constexpr guint kMaxMedias = 16;

const char* mediaOrSessionAttribute(const GstSDPMessage* sdp, const GstSDPMedia* media, const char* name) {
    const char* value = gst_sdp_media_get_attribute_val(media, name);
    return value ? value : gst_sdp_message_get_attribute_val(sdp, name);
}

bool hasAttribute(const GstSDPMedia* media, const char* name) {
    for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i)
        if (g_strcmp0(gst_sdp_media_get_attribute(media, i)->key, name) == 0) return true;
    return false;
}

// "96 packetization-mode=1;profile-level-id=42e01f" → the value of key for pt, or "".
std::string fmtpValue(const GstSDPMedia* media, const std::string& pt, const std::string& key) {
    for (guint i = 0; const char* fmtp = gst_sdp_media_get_attribute_val_n(media, "fmtp", i); ++i) {
        const std::string text(fmtp);
        if (text.compare(0, pt.size() + 1, pt + " ") != 0) continue;
        std::string params = text.substr(pt.size() + 1);
        size_t start = 0;
        while (start <= params.size()) {
            size_t end = params.find(';', start);
            if (end == std::string::npos) end = params.size();
            std::string item = params.substr(start, end - start);
            item.erase(0, item.find_first_not_of(' '));
            const size_t eq = item.find('=');
            if (eq != std::string::npos && g_ascii_strcasecmp(item.substr(0, eq).c_str(), key.c_str()) == 0)
                return item.substr(eq + 1);
            start = end + 1;
        }
    }
    return {};
}

struct H264Format {
    int pt;
    std::string profileLevelId;
};

std::vector<H264Format> h264Formats(const GstSDPMedia* media) {
    std::vector<H264Format> formats;
    for (guint i = 0; const char* rtpmap = gst_sdp_media_get_attribute_val_n(media, "rtpmap", i); ++i) {
        int pt = -1;
        char encoding[32] = {0};
        if (sscanf(rtpmap, "%d %31[^/]", &pt, encoding) != 2 || pt < 96 || pt > 127) continue;
        if (g_ascii_strcasecmp(encoding, "H264") != 0) continue;
        const std::string ptText = std::to_string(pt);
        if (fmtpValue(media, ptText, "packetization-mode") != "1") continue;
        formats.push_back({pt, fmtpValue(media, ptText, "profile-level-id")});
    }
    return formats;
}

int profileIdcOf(const std::string& profileLevelId) {
    if (profileLevelId.size() != 6) return 0;
    return int(g_ascii_strtoull(profileLevelId.substr(0, 2).c_str(), nullptr, 16));
}

WhepOffer refuse(const char* code, std::string message) {
    WhepOffer offer;
    offer.errorCode = code;
    offer.error = std::move(message);
    return offer;
}

}  // namespace

WhepOffer parseWhepOffer(const std::string& text, int streamProfileIdc) {
    GstSDPMessage* raw = nullptr;
    if (gst_sdp_message_new(&raw) != GST_SDP_OK) return refuse("internal", "cannot allocate an SDP message");
    GUniquePtr<GstSDPMessage> sdp(raw);
    if (text.empty() || text.find('\0') != std::string::npos ||
        gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(text.data()), guint(text.size()), sdp.get()) != GST_SDP_OK ||
        g_strcmp0(gst_sdp_message_get_version(sdp.get()), "0") != 0)
        return refuse("bad_sdp", "the body is not an SDP offer (it must start with v=0)");
    const guint medias = gst_sdp_message_medias_len(sdp.get());
    if (medias > kMaxMedias)
        return refuse("bad_sdp", "the offer has " + std::to_string(medias) + " media sections; at most " +
                                     std::to_string(kMaxMedias) + " are taken");
    const GstSDPMedia* video = nullptr;
    for (guint i = 0; i < medias && !video; ++i) {
        const GstSDPMedia* media = gst_sdp_message_get_media(sdp.get(), i);
        if (g_strcmp0(gst_sdp_media_get_media(media), "video") == 0) video = media;
    }
    if (!video) return refuse("no_video", "the offer has no video section (m=video); this camera sends H.264 video only");
    if (hasAttribute(video, "sendonly") || hasAttribute(video, "inactive"))
        return refuse("bad_direction", "the offer's video section does not receive (it says sendonly or inactive); "
                                       "offer recvonly or sendrecv");
    const std::vector<H264Format> formats = h264Formats(video);
    if (formats.empty())
        return refuse("no_h264", "the offer's video section has no H.264 payload type with packetization-mode=1 "
                                 "(a=rtpmap:<pt> H264/90000 and a=fmtp:<pt> packetization-mode=1)");
    const char* ufrag = mediaOrSessionAttribute(sdp.get(), video, "ice-ufrag");
    const char* pwd = mediaOrSessionAttribute(sdp.get(), video, "ice-pwd");
    if (!ufrag || !*ufrag || !pwd || !*pwd)
        return refuse("no_ice", "the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)");
    const char* fingerprint = mediaOrSessionAttribute(sdp.get(), video, "fingerprint");
    if (!fingerprint || !*fingerprint)
        return refuse("no_fingerprint", "the offer has no DTLS fingerprint (a=fingerprint)");

    WhepOffer offer;
    const H264Format* chosen = &formats.front();
    for (const H264Format& f : formats)
        if (streamProfileIdc && profileIdcOf(f.profileLevelId) == streamProfileIdc) {
            chosen = &f;
            break;
        }
    offer.payloadType = chosen->pt;
    offer.profileLevelId = chosen->profileLevelId;
    for (guint i = 0; const char* extmap = gst_sdp_media_get_attribute_val_n(video, "extmap", i); ++i) {
        int id = 0;
        char uri[128] = {0};
        if (sscanf(extmap, "%d%*[^ ] %127s", &id, uri) == 2 || sscanf(extmap, "%d %127s", &id, uri) == 2)
            if (id >= 1 && id <= 14 && g_strcmp0(uri, kNtp64Uri) == 0) offer.ntpExtensionId = id;
    }
    offer.sdp = std::move(sdp);
    return offer;
}

int spsProfileIdc(const guint8* data, size_t size) {
    // Annex B: 00 00 01 <nal header> ...; SPS is type 7, profile_idc its next byte.
    for (size_t i = 0; i + 4 < size; ++i)
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
            if ((data[i + 3] & 0x1f) == 7) return data[i + 4];
            i += 2;
        }
    return 0;
}

// What the camera's streaming thread pushes through: the bounded appsrc and
// the drop-until-key-frame state. Thread affinity: any thread (mutex).
struct WhepPeers::Feed {
    std::mutex mutex;
    GRef<GstElement> appsrc;
    FrameStamper stamper;
    bool open = true;
    bool waitKey = true;  // at start and after an overflow: only a key frame may come next
    bool stampNtp = false;
    std::shared_ptr<std::atomic<int>> profileIdc;  // the camera's, learned from key frames
    std::atomic<uint64_t> pushed{0}, dropped{0}, bytes{0};

    Feed(GstClockTime spacing, std::shared_ptr<std::atomic<int>> profile)
        : stamper(spacing, G_MAXUINT64 / 2), profileIdc(std::move(profile)) {}

    // buffer is borrowed.
    void push(GstBuffer* buffer) {
        const bool keyFrame = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
        const int64_t arrivedUs = unixNowUs();
        if (keyFrame) {
            GstMapInfo map;
            if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
                if (int idc = spsProfileIdc(map.data, std::min<size_t>(map.size, 256))) profileIdc->store(idc);
                gst_buffer_unmap(buffer, &map);
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        if (!open) return;
        if (waitKey && !keyFrame) {
            ++dropped;
            return;
        }
        if (gst_app_src_get_current_level_bytes(GST_APP_SRC(appsrc.get())) > kMaxQueuedBytes) {
            waitKey = true;
            ++dropped;
            return;
        }
        const GstClockTime pts = stamper.stamp(appsrc.get());
        if (!GST_CLOCK_TIME_IS_VALID(pts)) {  // not playing yet
            waitKey = true;
            ++dropped;
            return;
        }
        GstBuffer* copy = gst_buffer_copy(buffer);  // shares the memory
        GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = pts;
        GST_BUFFER_DURATION(copy) = GST_CLOCK_TIME_NONE;
        if (stampNtp) {
            // rtphdrextntp64 writes this into the frame's first packet. The
            // capture time an upstream element noted (timestamp/x-unix), else
            // the time the access unit reached the service.
            static GstStaticCaps unixCaps = GST_STATIC_CAPS("timestamp/x-unix");
            static GstStaticCaps ntpCaps = GST_STATIC_CAPS("timestamp/x-ntp");
            GstCaps* unix = gst_static_caps_get(&unixCaps);
            GstReferenceTimestampMeta* captured = gst_buffer_get_reference_timestamp_meta(buffer, unix);
            const guint64 unixNs = captured ? captured->timestamp : guint64(arrivedUs) * 1000;
            gst_caps_unref(unix);
            GstCaps* ntp = gst_static_caps_get(&ntpCaps);
            gst_buffer_add_reference_timestamp_meta(copy, ntp, unixNs + kNtpUnixOffsetSec * GST_SECOND, GST_CLOCK_TIME_NONE);
            gst_caps_unref(ntp);
        }
        bytes += gst_buffer_get_size(copy);
        gst_app_src_push_buffer(GST_APP_SRC(appsrc.get()), copy);
        waitKey = false;
        ++pushed;
    }
    void close() {
        std::lock_guard<std::mutex> lock(mutex);
        open = false;
    }
};

// This object, for callbacks that come through the loop later.
struct WhepPeers::Alive {
    WhepPeers* self;
};

namespace {

// What webrtcbin's callbacks (its threads) know of their peer.
// Thread affinity: any thread; the loop side is reached through invokeOn.
struct PeerLink {
    std::weak_ptr<void> alive;  // WhepPeers::Alive
    GRef<GMainContext> context;
    std::string cameraId, peerId;
    GRef<GstElement> webrtc;  // for the promise chain; dropped with the link
    std::atomic<bool> localSet{false};
    std::atomic<bool> delivered{false};
};
using LinkPtr = std::shared_ptr<PeerLink>;

gpointer newLinkData(const LinkPtr& link) { return new LinkPtr(link); }
void freeLinkData(gpointer data) noexcept { delete static_cast<LinkPtr*>(data); }
void freeLinkClosure(gpointer data, GClosure*) noexcept { freeLinkData(data); }

}  // namespace

struct WhepPeers::Peer {
    std::string id;
    GRef<GstElement> pipeline, webrtc;
    std::shared_ptr<Feed> feed;
    LinkPtr link;
    int tapListener = 0;
    SourceHandle busWatch;
    std::vector<gulong> handlers;  // on webrtc
    std::function<void(WhepAnswer&)> done;  // until answered
    int64_t createdUs = 0, answeredUs = 0, badSinceUs = 0;
    bool connected = false;
};

struct WhepPeers::CameraPeers {
    CameraPtr camera;
    std::map<std::string, std::unique_ptr<Peer>> peers;
    H264Stream::Claim claim;  // while any peer exists
    uint64_t total = 0;
    uint64_t sentDone = 0, droppedDone = 0, bytesDone = 0;  // of peers gone
    int64_t lastKeyRequestUs = 0;
    std::shared_ptr<std::atomic<int>> profileIdc = std::make_shared<std::atomic<int>>(0);
};

namespace {

void deliver(const LinkPtr& link, std::string sdp, std::string error);

std::string promiseError(GstPromise* promise) {
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "webrtcbin did not answer";
    const GstStructure* reply = gst_promise_get_reply(promise);
    if (!reply || !gst_structure_has_field(reply, "error")) return {};
    GError* error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    GUniquePtr<GError> owned(error);
    return error ? error->message : "webrtcbin refused";
}

void readLocalDescription(const LinkPtr& link) {
    if (!link->localSet.load()) return;
    int state = 0;
    g_object_get(link->webrtc.get(), "ice-gathering-state", &state, nullptr);
    if (state != webrtc::kGatheringComplete) return;
    GstWebRTCSessionDescription* local = nullptr;
    g_object_get(link->webrtc.get(), "local-description", &local, nullptr);
    if (!local) return deliver(link, {}, "webrtcbin has no local description");
    GUniquePtr<gchar> text(gst_sdp_message_as_text(local->sdp));
    gst_webrtc_session_description_free(local);
    deliver(link, text ? text.get() : "", text ? "" : "cannot write the answer");
}

void onLocalSet(GstPromise* promise, gpointer data) noexcept {
    const LinkPtr& link = *static_cast<LinkPtr*>(data);
    try {
        const std::string error = promiseError(promise);
        if (!error.empty()) return deliver(link, {}, "set-local-description: " + error);
        link->localSet = true;
        readLocalDescription(link);  // gathering may be over already
    } catch (...) {
        deliver(link, {}, currentExceptionText());
    }
}

void onAnswerCreated(GstPromise* promise, gpointer data) noexcept {
    const LinkPtr& link = *static_cast<LinkPtr*>(data);
    try {
        const std::string error = promiseError(promise);
        if (!error.empty()) return deliver(link, {}, "create-answer: " + error);
        const GstStructure* reply = gst_promise_get_reply(promise);
        GstWebRTCSessionDescription* answer = nullptr;
        if (!reply || !gst_structure_get(reply, "answer", gst_webrtc_session_description_get_type(), &answer, nullptr) || !answer)
            return deliver(link, {}, "webrtcbin made no answer");
        GstPromise* next = gst_promise_new_with_change_func(&onLocalSet, newLinkData(link), &freeLinkData);
        g_signal_emit_by_name(link->webrtc.get(), "set-local-description", answer, next);
        gst_promise_unref(next);
        gst_webrtc_session_description_free(answer);
    } catch (...) {
        deliver(link, {}, currentExceptionText());
    }
}

void onRemoteSet(GstPromise* promise, gpointer data) noexcept {
    const LinkPtr& link = *static_cast<LinkPtr*>(data);
    try {
        const std::string error = promiseError(promise);
        if (!error.empty()) return deliver(link, {}, "set-remote-description: " + error);
        GstPromise* next = gst_promise_new_with_change_func(&onAnswerCreated, newLinkData(link), &freeLinkData);
        g_signal_emit_by_name(link->webrtc.get(), "create-answer", nullptr, next);
        gst_promise_unref(next);
    } catch (...) {
        deliver(link, {}, currentExceptionText());
    }
}

void onGatheringState(GstElement*, GParamSpec*, gpointer data) noexcept {
    try {
        readLocalDescription(*static_cast<LinkPtr*>(data));
    } catch (...) {
        deliver(*static_cast<LinkPtr*>(data), {}, currentExceptionText());
    }
}

}  // namespace

// Loop-thread entry points for the callbacks above and below.
struct WhepPeersAccess {
    static void negotiated(const LinkPtr& link, std::string sdp, std::string error) {
        invokeOn(link->context.get(), [link, sdp = std::move(sdp), error = std::move(error)] {
            if (auto alive = std::static_pointer_cast<WhepPeers::Alive>(link->alive.lock()))
                alive->self->onNegotiated(link->cameraId, link->peerId, sdp, error);
        });
    }
    static void states(const LinkPtr& link, int ice, int connection) {
        invokeOn(link->context.get(), [link, ice, connection] {
            if (auto alive = std::static_pointer_cast<WhepPeers::Alive>(link->alive.lock()))
                alive->self->onStates(link->cameraId, link->peerId, ice, connection);
        });
    }
    static void keyframeWanted(const LinkPtr& link) {
        invokeOn(link->context.get(), [link] {
            if (auto alive = std::static_pointer_cast<WhepPeers::Alive>(link->alive.lock()))
                alive->self->onKeyframeWanted(link->cameraId);
        });
    }
};

namespace {

void deliver(const LinkPtr& link, std::string sdp, std::string error) {
    if (link->delivered.exchange(true)) return;
    WhepPeersAccess::negotiated(link, std::move(sdp), std::move(error));
}

void onConnectionState(GstElement* webrtc, GParamSpec*, gpointer data) noexcept {
    int ice = 0, connection = 0;
    g_object_get(webrtc, "ice-connection-state", &ice, "connection-state", &connection, nullptr);
    try {
        WhepPeersAccess::states(*static_cast<LinkPtr*>(data), ice, connection);
    } catch (...) {
        GST_ERROR("WebRTC state change lost: %s", currentExceptionText().c_str());
    }
}

// A browser's PLI/FIR arrives as an upstream force-key-unit event.
GstPadProbeReturn onUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && gst_video_event_is_force_key_unit(event)) {
        try {
            WhepPeersAccess::keyframeWanted(*static_cast<LinkPtr*>(data));
        } catch (...) {
            GST_ERROR("key frame request lost: %s", currentExceptionText().c_str());
        }
    }
    return GST_PAD_PROBE_OK;
}

GRef<GstElement> make(const char* factory) { return GRef<GstElement>::adopt(gst_element_factory_make(factory, nullptr)); }

}  // namespace

WhepPeers::WhepPeers(const WebRtcConfig& config) : config_(config), alive_(std::make_shared<Alive>(Alive{this})) {
    ticker_.start(1, "WebRTC peer tick", [this] { tick(); });
}

WhepPeers::~WhepPeers() {
    alive_.reset();
    for (auto& [id, camera] : cameras_) closeAll(*camera, "the service is shutting down");
}

void WhepPeers::attach(const CameraPtr& camera) {
    auto& entry = cameras_[camera->id()];
    if (!entry) entry = std::make_unique<CameraPeers>();
    entry->camera = camera;
}

void WhepPeers::reconfigured(const CameraPtr& camera) {
    auto it = cameras_.find(camera->id());
    if (it != cameras_.end()) closeAll(*it->second, "the camera was reconfigured");
    attach(camera);
}

void WhepPeers::detach(const std::string& cameraId) {
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end()) return;
    closeAll(*it->second, "the camera was removed");
    cameras_.erase(it);
}

size_t WhepPeers::peers(const std::string& cameraId) const {
    auto it = cameras_.find(cameraId);
    return it == cameras_.end() ? 0 : it->second->peers.size();
}

size_t WhepPeers::totalPeers() const {
    size_t n = 0;
    for (const auto& [id, camera] : cameras_) n += camera->peers.size();
    return n;
}

WhepCameraFigures WhepPeers::figures(const std::string& cameraId) const {
    WhepCameraFigures f;
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end()) return f;
    const CameraPeers& c = *it->second;
    f.peers = c.peers.size();
    f.peersTotal = c.total;
    f.framesSent = c.sentDone;
    f.framesDropped = c.droppedDone;
    f.bytesSent = c.bytesDone;
    for (const auto& [id, peer] : c.peers) {
        f.framesSent += peer->feed->pushed.load();
        f.framesDropped += peer->feed->dropped.load();
        f.bytesSent += peer->feed->bytes.load();
    }
    return f;
}

void WhepPeers::offer(const std::string& cameraId, const std::string& sdpText, std::function<void(WhepAnswer&)> done) {
    // Answers that need no peer still come later, as the caller expects.
    auto answerLater = [&done](unsigned status, const char* code, std::string message) {
        auto answer = std::make_shared<WhepAnswer>();
        answer->status = status;
        answer->errorCode = code;
        answer->message = std::move(message);
        // An idle source, not invokeOn: that would run it now, before the caller paused its request.
        auto* fn = new std::function<void()>([answer, done = std::move(done)] { done(*answer); });
        GRef<GSource> idle = GRef<GSource>::adopt(g_idle_source_new());
        g_source_set_callback(
            idle.get(),
            [](gpointer p) noexcept -> gboolean {
                try {
                    (*static_cast<std::function<void()>*>(p))();
                } catch (...) {
                    logError("", "answering a WebRTC offer failed: " + currentExceptionText());
                }
                return G_SOURCE_REMOVE;
            },
            fn, [](gpointer p) noexcept { delete static_cast<std::function<void()>*>(p); });
        g_source_attach(idle.get(), g_main_context_get_thread_default());
    };
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end()) return answerLater(404, "unknown_camera", "no camera \"" + cameraId + "\"");
    CameraPeers& camera = *it->second;
    if (!camera.camera->configValid())
        return answerLater(409, "camera_failed", "camera " + cameraId + " cannot run: " + camera.camera->lastError());
    if (totalPeers() >= size_t(config_.maxPeers))
        return answerLater(503, "too_many_peers", "the service has " + std::to_string(totalPeers()) +
                                                      " WebRTC peers, its limit ([webrtc] max-peers)");
    WhepOffer offer = parseWhepOffer(sdpText, camera.profileIdc->load());
    if (!offer.error.empty()) return answerLater(400, offer.errorCode.c_str(), offer.error);

    auto peer = std::make_unique<Peer>();
    peer->id = std::to_string(nextPeer_++) + "-" + GUniquePtr<gchar>(g_uuid_string_random()).get();
    peer->createdUs = monotonicNowUs();
    peer->pipeline = GRef<GstElement>::adopt(gst_pipeline_new(("webrtc-" + cameraId + "-" + peer->id).c_str()));
    GRef<GstElement> appsrc = make("appsrc"), parse = make("h264parse"), pay = make("rtph264pay"),
                     setter = make("capssetter"), webrtc = make("webrtcbin");
    if (!appsrc || !parse || !pay || !setter || !webrtc)
        return answerLater(500, "internal", "an element is missing (appsrc, h264parse, rtph264pay, capssetter, webrtcbin): "
                                            "install gstreamer1.0-plugins-good, -bad and gstreamer1.0-nice");
    GRef<GstCaps> caps = GRef<GstCaps>::adopt(gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au"));
    g_object_set(appsrc.get(), "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE, "block", FALSE,
                 "max-bytes", guint64(kMaxQueuedBytes), "caps", caps.get(), nullptr);
    g_object_set(parse.get(), "config-interval", -1, nullptr);
    g_object_set(pay.get(), "config-interval", -1, "pt", guint(offer.payloadType), "mtu", guint(1200), nullptr);
    gst_util_set_object_arg(G_OBJECT(pay.get()), "aggregate-mode", "zero-latency");
    // webrtcbin 1.22 pairs the offer's H.264 format with this pad by the
    // exact profile-level-id string: say the one the offer chose.
    std::string rtpCaps = "application/x-rtp,packetization-mode=(string)1";
    if (!offer.profileLevelId.empty()) rtpCaps += ",profile-level-id=(string)" + offer.profileLevelId;
    GRef<GstCaps> setCaps = GRef<GstCaps>::adopt(gst_caps_from_string(rtpCaps.c_str()));
    g_object_set(setter.get(), "caps", setCaps.get(), nullptr);
    gst_util_set_object_arg(G_OBJECT(webrtc.get()), "bundle-policy", "max-bundle");
    const bool stampNtp = offer.ntpExtensionId > 0;
    if (stampNtp) {
        GRef<GstElement> ext = make("rtphdrextntp64");
        if (ext) {
            gst_rtp_header_extension_set_id(GST_RTP_HEADER_EXTENSION(ext.get()), guint(offer.ntpExtensionId));
            g_signal_emit_by_name(pay.get(), "add-extension", ext.get());
        }
    }
    gst_bin_add_many(GST_BIN(peer->pipeline.get()), GST_ELEMENT(gst_object_ref(appsrc.get())),
                     GST_ELEMENT(gst_object_ref(parse.get())), GST_ELEMENT(gst_object_ref(pay.get())),
                     GST_ELEMENT(gst_object_ref(setter.get())), GST_ELEMENT(gst_object_ref(webrtc.get())), nullptr);
    if (!gst_element_link_many(appsrc.get(), parse.get(), pay.get(), setter.get(), webrtc.get(), nullptr))
        return answerLater(500, "internal", "cannot link appsrc ! h264parse ! rtph264pay ! capssetter ! webrtcbin");
    peer->webrtc = webrtc;

    auto link = std::make_shared<PeerLink>();
    link->alive = alive_;
    link->context = GRef<GMainContext>::adopt(g_main_context_ref_thread_default());
    link->cameraId = cameraId;
    link->peerId = peer->id;
    link->webrtc = webrtc;
    peer->link = link;
    for (const char* signal : {"notify::ice-connection-state", "notify::connection-state"})
        peer->handlers.push_back(g_signal_connect_data(webrtc.get(), signal, G_CALLBACK(&onConnectionState),
                                                       newLinkData(link), &freeLinkClosure, GConnectFlags(0)));
    peer->handlers.push_back(g_signal_connect_data(webrtc.get(), "notify::ice-gathering-state", G_CALLBACK(&onGatheringState),
                                                   newLinkData(link), &freeLinkClosure, GConnectFlags(0)));
    GRef<GstPad> srcPad = GRef<GstPad>::adopt(gst_element_get_static_pad(appsrc.get(), "src"));
    gst_pad_add_probe(srcPad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &onUpstreamEvent, newLinkData(link), &freeLinkData);

    // Errors of the peer's pipeline end the peer (and only it).
    struct BusTarget {
        std::weak_ptr<Alive> alive;
        std::string cameraId, peerId;
    };
    GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(peer->pipeline.get()));
    peer->busWatch = SourceHandle(gst_bus_add_watch_full(
        bus.get(), G_PRIORITY_DEFAULT,
        [](GstBus*, GstMessage* message, gpointer data) noexcept -> gboolean {
            if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR) return G_SOURCE_CONTINUE;
            auto* target = static_cast<BusTarget*>(data);
            GError* raw = nullptr;
            gst_message_parse_error(message, &raw, nullptr);
            GUniquePtr<GError> error(raw);
            try {
                auto alive = target->alive.lock();
                if (!alive) return G_SOURCE_CONTINUE;
                WhepPeers& self = *alive->self;
                auto it = self.cameras_.find(target->cameraId);
                if (it == self.cameras_.end()) return G_SOURCE_CONTINUE;
                const std::string why = std::string("its pipeline failed: ") + GST_OBJECT_NAME(GST_MESSAGE_SRC(message)) +
                                        ": " + errorMessage(error);
                auto peerIt = it->second->peers.find(target->peerId);
                if (peerIt != it->second->peers.end() && peerIt->second->done) {
                    WhepAnswer answer{500, {}, {}, "webrtc_failed", "the WebRTC peer failed: " + why};
                    std::function<void(WhepAnswer&)> done = std::move(peerIt->second->done);
                    self.closePeer(*it->second, target->peerId, why);
                    done(answer);
                } else {
                    self.closePeer(*it->second, target->peerId, why);
                }
            } catch (...) {
                logError(target->cameraId, "WebRTC peer error handling failed: " + currentExceptionText());
            }
            return G_SOURCE_CONTINUE;
        },
        new BusTarget{alive_, cameraId, peer->id}, [](gpointer p) noexcept { delete static_cast<BusTarget*>(p); }));

    const bool encoded = !camera.camera->h264().passthrough();
    peer->feed = std::make_shared<Feed>(encoded ? GST_SECOND / SharedH264Stream::kEncodedFps : GST_MSECOND, camera.profileIdc);
    peer->feed->appsrc = appsrc;
    peer->feed->stampNtp = stampNtp;

    Peer& p = *peer;
    p.done = std::move(done);
    if (!camera.claim) camera.claim = camera.camera->h264().claim();
    camera.peers[p.id] = std::move(peer);
    ++camera.total;
    if (gst_element_set_state(p.pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        done = std::move(p.done);
        closePeer(camera, p.id, "its pipeline does not start");
        return answerLater(500, "webrtc_failed", "the WebRTC pipeline does not start (see the service log)");
    }
    std::shared_ptr<Feed> feed = p.feed;
    p.tapListener = camera.camera->h264().tap().add([feed](GstBuffer* unit) { feed->push(unit); });
    camera.camera->h264().requestKeyframe();

    GstWebRTCSessionDescription* description = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, offer.sdp.release());
    GstPromise* promise = gst_promise_new_with_change_func(&onRemoteSet, newLinkData(link), &freeLinkData);
    g_signal_emit_by_name(webrtc.get(), "set-remote-description", description, promise);
    gst_promise_unref(promise);
    gst_webrtc_session_description_free(description);
    GST_INFO("WebRTC peer %s of %s: answering with PT %d profile-level-id %s%s", p.id.c_str(), cameraId.c_str(),
             offer.payloadType, offer.profileLevelId.c_str(), stampNtp ? ", ntp-64 capture times" : "");
}

void WhepPeers::onNegotiated(const std::string& cameraId, const std::string& peerId, const std::string& sdp,
                             const std::string& error) {
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end()) return;
    auto peerIt = it->second->peers.find(peerId);
    if (peerIt == it->second->peers.end()) return;
    Peer& peer = *peerIt->second;
    if (!peer.done) return;
    std::function<void(WhepAnswer&)> done = std::move(peer.done);
    WhepAnswer answer;
    if (!error.empty()) {
        answer = {500, {}, {}, "webrtc_failed", "cannot answer the offer: " + error};
        logWarning(cameraId, "WebRTC peer " + peerId + ": " + answer.message);
        closePeer(*it->second, peerId, "negotiation failed");
        return done(answer);
    }
    peer.answeredUs = monotonicNowUs();
    answer = {201, sdp, peerId, {}, {}};
    logInfo(cameraId, "WebRTC peer " + peerId + " answered (" + std::to_string(it->second->peers.size()) + " peers)");
    done(answer);
}

void WhepPeers::onStates(const std::string& cameraId, const std::string& peerId, int ice, int connection) {
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end()) return;
    auto peerIt = it->second->peers.find(peerId);
    if (peerIt == it->second->peers.end()) return;
    Peer& peer = *peerIt->second;
    const bool bad = ice == webrtc::kIceFailed || ice == webrtc::kIceDisconnected || ice == webrtc::kIceClosed ||
                     connection == webrtc::kPeerFailed || connection == webrtc::kPeerDisconnected ||
                     connection == webrtc::kPeerClosed;
    if (bad) {
        if (!peer.badSinceUs) peer.badSinceUs = monotonicNowUs();
        return;
    }
    peer.badSinceUs = 0;
    if (connection == webrtc::kPeerConnected && !peer.connected) {
        peer.connected = true;
        logInfo(cameraId, "WebRTC peer " + peerId + " connected");
        // Encode mode: the next access unit is a key frame, so the picture starts now.
        it->second->camera->h264().requestKeyframe();
        it->second->lastKeyRequestUs = monotonicNowUs();
    }
}

void WhepPeers::onKeyframeWanted(const std::string& cameraId) {
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end() || it->second->peers.empty()) return;
    const int64_t now = monotonicNowUs();
    if (now - it->second->lastKeyRequestUs < kPliMinIntervalUs) return;
    it->second->lastKeyRequestUs = now;
    it->second->camera->h264().requestKeyframe();
}

void WhepPeers::tick() {
    const int64_t now = monotonicNowUs();
    const int64_t iceTimeoutUs = int64_t(config_.iceTimeoutSec) * G_USEC_PER_SEC;
    for (auto& [cameraId, camera] : cameras_) {
        std::vector<std::pair<std::string, std::string>> gone;  // id, why
        for (auto& [id, peer] : camera->peers) {
            if (peer->done && now - peer->createdUs > int64_t(kGatherTimeoutMs) * 1000)
                gone.emplace_back(id, "no answer in time (ICE gathering)");
            else if (!peer->done && !peer->connected && peer->answeredUs && now - peer->answeredUs > iceTimeoutUs)
                gone.emplace_back(id, "not connected " + std::to_string(config_.iceTimeoutSec) + " s after the answer ([webrtc] ice-timeout)");
            else if (peer->badSinceUs && now - peer->badSinceUs > iceTimeoutUs)
                gone.emplace_back(id, "ICE failed or disconnected for " + std::to_string(config_.iceTimeoutSec) + " s ([webrtc] ice-timeout)");
        }
        for (const auto& [id, why] : gone) {
            auto peerIt = camera->peers.find(id);
            std::function<void(WhepAnswer&)> done = std::move(peerIt->second->done);
            closePeer(*camera, id, why);
            if (done) {
                WhepAnswer answer{503, {}, {}, "webrtc_busy", "the WebRTC answer was not ready in " +
                                                                  std::to_string(kGatherTimeoutMs / 1000) + " s; try again"};
                done(answer);
            }
        }
    }
}

bool WhepPeers::remove(const std::string& cameraId, const std::string& peerId) {
    auto it = cameras_.find(cameraId);
    if (it == cameras_.end() || !it->second->peers.count(peerId)) return false;
    closePeer(*it->second, peerId, "DELETE");
    return true;
}

void WhepPeers::closeAll(CameraPeers& camera, const std::string& why) {
    std::vector<std::string> ids;
    for (const auto& [id, peer] : camera.peers) ids.push_back(id);
    for (const std::string& id : ids) {
        auto it = camera.peers.find(id);
        std::function<void(WhepAnswer&)> done = std::move(it->second->done);
        closePeer(camera, id, why);
        if (done) {
            WhepAnswer answer{503, {}, {}, "webrtc_closed", "the peer was closed before its answer: " + why};
            done(answer);
        }
    }
}

void WhepPeers::closePeer(CameraPeers& camera, const std::string& peerId, const std::string& why) {
    auto it = camera.peers.find(peerId);
    if (it == camera.peers.end()) return;
    std::unique_ptr<Peer> peer = std::move(it->second);
    camera.peers.erase(it);
    if (peer->tapListener) camera.camera->h264().tap().remove(peer->tapListener);
    peer->feed->close();
    camera.sentDone += peer->feed->pushed.load();
    camera.droppedDone += peer->feed->dropped.load();
    camera.bytesDone += peer->feed->bytes.load();
    for (gulong handler : peer->handlers) g_signal_handler_disconnect(peer->webrtc.get(), handler);
    peer->busWatch.reset();
    logInfo(camera.camera->id(), "WebRTC peer " + peerId + " closed: " + why + " (" + std::to_string(camera.peers.size()) +
                                     " peers left)");
    // The promise chain's link holds webrtcbin: drop that cycle, then the pipeline goes to NULL off the loop.
    peer->webrtc.reset();
    reaper_.reap(std::move(peer->pipeline), "WebRTC peer " + camera.camera->id());
    if (camera.peers.empty()) camera.claim.reset();
}

}  // namespace camrelay

#include "whep_client.h"

#include "outputs/webrtc_abi.h"

#include <gst/rtp/gstrtphdrext.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace camrelay::testing {

namespace {

constexpr int kNtpExtensionId = 3;  // what this client offers for ntp-64
constexpr guint64 kNtpUnixOffsetNs = 2208988800ULL * GST_SECOND;

int64_t nowUs() { return g_get_monotonic_time(); }

// create-offer (or -answer), then set-local-description with it.
void createAndSetLocal(GstElement* webrtc, const char* signal, const char* field) {
    GstPromise* promise = gst_promise_new();
    g_signal_emit_by_name(webrtc, signal, nullptr, promise);
    gst_promise_wait(promise);
    const GstStructure* reply = gst_promise_get_reply(promise);
    GstWebRTCSessionDescription* description = nullptr;
    if (reply) gst_structure_get(reply, field, gst_webrtc_session_description_get_type(), &description, nullptr);
    gst_promise_unref(promise);
    if (!description) throw std::runtime_error(std::string("webrtcbin: ") + signal + " gave no description");
    GstPromise* set = gst_promise_new();
    g_signal_emit_by_name(webrtc, "set-local-description", description, set);
    gst_promise_wait(set);
    gst_promise_unref(set);
    gst_webrtc_session_description_free(description);
}

}  // namespace

struct WhepClient::State {
    GstElement* pipeline = nullptr;  // owned
    GstElement* webrtc = nullptr;    // owned by pipeline
    std::atomic<uint64_t> frames{0};
    std::atomic<int64_t> startUs{0}, firstFrameUs{0};
    std::atomic<int> extensionId{0};
    std::mutex mutex;
    std::map<GstClockTime, guint64> captureByPts;  // depayloaded frame PTS → capture time (Unix ns)
    std::vector<double> latencies;

    ~State() {
        if (pipeline) {
            gst_element_set_state(pipeline, GST_STATE_NULL);
            gst_object_unref(pipeline);
        }
    }

    static GstPadProbeReturn onDepayed(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
        auto* self = static_cast<State*>(data);
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        static GstStaticCaps ntpCaps = GST_STATIC_CAPS("timestamp/x-ntp");
        GstCaps* caps = gst_static_caps_get(&ntpCaps);
        GstReferenceTimestampMeta* meta = buffer ? gst_buffer_get_reference_timestamp_meta(buffer, caps) : nullptr;
        gst_caps_unref(caps);
        if (meta && meta->timestamp > kNtpUnixOffsetNs && GST_BUFFER_PTS_IS_VALID(buffer)) {
            std::lock_guard<std::mutex> lock(self->mutex);
            self->captureByPts[GST_BUFFER_PTS(buffer)] = meta->timestamp - kNtpUnixOffsetNs;
            while (self->captureByPts.size() > 300) self->captureByPts.erase(self->captureByPts.begin());
        }
        return GST_PAD_PROBE_OK;
    }

    static GstPadProbeReturn onDecoded(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
        auto* self = static_cast<State*>(data);
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        const guint64 nowNs = guint64(g_get_real_time()) * 1000;
        if (!self->frames++) self->firstFrameUs = nowUs();
        if (buffer && GST_BUFFER_PTS_IS_VALID(buffer)) {
            std::lock_guard<std::mutex> lock(self->mutex);
            auto it = self->captureByPts.find(GST_BUFFER_PTS(buffer));
            if (it != self->captureByPts.end()) {
                if (nowNs > it->second && self->latencies.size() < 100000)
                    self->latencies.push_back(double(nowNs - it->second) / 1e6);
                self->captureByPts.erase(self->captureByPts.begin(), std::next(it));
            }
        }
        return GST_PAD_PROBE_OK;
    }

    static void onPadAdded(GstElement*, GstPad* pad, gpointer data) noexcept {
        auto* self = static_cast<State*>(data);
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
        GError* error = nullptr;
        GstElement* bin = gst_parse_bin_from_description(
            "rtph264depay name=depay ! h264parse ! avdec_h264 max-threads=1 ! fakesink name=sink sync=false async=false",
            TRUE, &error);
        if (!bin) {
            g_printerr("whep client: %s\n", error ? error->message : "cannot build the decoder");
            g_clear_error(&error);
            return;
        }
        GstElement* depay = gst_bin_get_by_name(GST_BIN(bin), "depay");
        GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "sink");
        if (int id = self->extensionId.load()) {
            GstElement* ext = gst_element_factory_make("rtphdrextntp64", nullptr);
            if (ext) {
                gst_rtp_header_extension_set_id(GST_RTP_HEADER_EXTENSION(ext), guint(id));
                g_signal_emit_by_name(depay, "add-extension", ext);
                gst_object_unref(ext);
            }
        }
        GstPad* depaySrc = gst_element_get_static_pad(depay, "src");
        gst_pad_add_probe(depaySrc, GST_PAD_PROBE_TYPE_BUFFER, &State::onDepayed, self, nullptr);
        gst_object_unref(depaySrc);
        GstPad* sinkPad = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(sinkPad, GST_PAD_PROBE_TYPE_BUFFER, &State::onDecoded, self, nullptr);
        gst_object_unref(sinkPad);
        gst_object_unref(depay);
        gst_object_unref(sink);
        gst_bin_add(GST_BIN(self->pipeline), bin);
        gst_element_sync_state_with_parent(bin);
        GstPad* binSink = gst_element_get_static_pad(bin, "sink");
        gst_pad_link(pad, binSink);
        gst_object_unref(binSink);
    }
};

WhepClient::WhepClient(int port, std::string cameraId, std::string extraHeaders)
    : state_(std::make_shared<State>()), port_(port), cameraId_(std::move(cameraId)), extraHeaders_(std::move(extraHeaders)) {
    State& s = *state_;
    s.pipeline = gst_pipeline_new("whep-client");
    s.webrtc = gst_element_factory_make("webrtcbin", nullptr);
    if (!s.pipeline || !s.webrtc) throw std::runtime_error("whep client: no webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice)");
    gst_util_set_object_arg(G_OBJECT(s.webrtc), "bundle-policy", "max-bundle");
    gst_bin_add(GST_BIN(s.pipeline), s.webrtc);
    // The State outlives the pipeline (its destructor stops it), so plain pointers do.
    g_signal_connect(s.webrtc, "pad-added", G_CALLBACK(&State::onPadAdded), &s);
    const std::string caps = "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,"
                             "packetization-mode=(string)1,profile-level-id=(string)42e01f,extmap-" +
                             std::to_string(kNtpExtensionId) + "=(string)urn:ietf:params:rtp-hdrext:ntp-64";
    GstCaps* transceiverCaps = gst_caps_from_string(caps.c_str());
    GObject* transceiver = nullptr;
    g_signal_emit_by_name(s.webrtc, "add-transceiver", int(webrtc::kRecvOnly), transceiverCaps, &transceiver);
    gst_caps_unref(transceiverCaps);
    if (transceiver) g_object_unref(transceiver);
    gst_element_set_state(s.pipeline, GST_STATE_PLAYING);
}

WhepClient::~WhepClient() {
    try {
        close();
    } catch (...) {
        // The service may be gone already: nothing to delete then.
    }
}

std::string WhepClient::makeOffer(int gatherTimeoutMs) {
    State& s = *state_;
    createAndSetLocal(s.webrtc, "create-offer", "offer");
    const int64_t deadline = nowUs() + int64_t(gatherTimeoutMs) * 1000;
    int gathering = 0;
    while (true) {
        g_object_get(s.webrtc, "ice-gathering-state", &gathering, nullptr);
        if (gathering == webrtc::kGatheringComplete) break;
        if (nowUs() > deadline) throw std::runtime_error("whep client: ICE gathering did not complete");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    GstWebRTCSessionDescription* local = nullptr;
    g_object_get(s.webrtc, "local-description", &local, nullptr);
    if (!local) throw std::runtime_error("whep client: no local description");
    gchar* text = gst_sdp_message_as_text(local->sdp);
    std::string offer = text ? text : "";
    g_free(text);
    gst_webrtc_session_description_free(local);
    return offer;
}

HttpResponse WhepClient::connect(int gatherTimeoutMs) {
    State& s = *state_;
    s.startUs = nowUs();
    offer_ = makeOffer(gatherTimeoutMs);
    HttpResponse response = httpRequest(port_, "POST", "/api/cameras/" + cameraId_ + "/whep", offer_,
                                        "Content-Type: application/sdp\r\n" + extraHeaders_);
    if (response.status != 201) return response;
    location_ = response.headers.count("location") ? response.headers["location"] : "";
    std::smatch match;
    static const std::regex extmap("a=extmap:([0-9]+)[^ ]* urn:ietf:params:rtp-hdrext:ntp-64");
    if (std::regex_search(response.body, match, extmap)) s.extensionId = std::stoi(match[1]);
    GstSDPMessage* sdp = nullptr;
    gst_sdp_message_new_from_text(response.body.c_str(), &sdp);
    GstWebRTCSessionDescription* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    GstPromise* promise = gst_promise_new();
    g_signal_emit_by_name(s.webrtc, "set-remote-description", answer, promise);
    gst_promise_wait(promise);
    gst_promise_unref(promise);
    gst_webrtc_session_description_free(answer);
    return response;
}

uint64_t WhepClient::frames() const { return state_->frames.load(); }

bool WhepClient::waitFrames(uint64_t count, int timeoutMs) const {
    const int64_t deadline = nowUs() + int64_t(timeoutMs) * 1000;
    while (frames() < count) {
        if (nowUs() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

double WhepClient::measureFps(int windowMs) const {
    const uint64_t before = frames();
    const int64_t start = nowUs();
    std::this_thread::sleep_for(std::chrono::milliseconds(windowMs));
    return double(frames() - before) * 1e6 / double(nowUs() - start);
}

double WhepClient::firstFrameSeconds() const {
    const int64_t first = state_->firstFrameUs.load();
    return first ? double(first - state_->startUs.load()) / 1e6 : -1;
}

std::vector<double> WhepClient::latenciesMs() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->latencies;
}

int WhepClient::connectionState() const {
    int state = 0;
    g_object_get(state_->webrtc, "connection-state", &state, nullptr);
    return state;
}

void WhepClient::stopReading() { gst_element_set_state(state_->pipeline, GST_STATE_PAUSED); }

int WhepClient::close() {
    if (location_.empty()) return 0;
    const std::string target = std::exchange(location_, {});
    return httpRequest(port_, "DELETE", target, {}, extraHeaders_).status;
}

}  // namespace camrelay::testing

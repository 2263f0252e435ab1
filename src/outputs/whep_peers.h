#pragma once
// WebRTC viewers through WHEP (issue 14): every peer of every camera.
//
// Each peer has its OWN small pipeline, fed from the camera's shared H.264
// stream (H264Stream::tap(), passthrough for H.264 cameras):
//   appsrc (bounded; full: drop until the next key frame) ! h264parse
//   ! rtph264pay pt=<the offer's> ! capssetter (the offer's profile-level-id)
//   ! webrtcbin bundle-policy=max-bundle
// so one slow peer never stalls another or the camera. webrtcbin 1.22 matches
// the H.264 fmtp of the offer by exact string: without the capssetter its
// answer says a=inactive/recvonly and no frame flows.
//
// Non-trickle: the answer goes out once ICE gathering is complete (host
// candidates only; no STUN), so it carries every candidate. When the offer
// names urn:ietf:params:rtp-hdrext:ntp-64, each frame's first packet carries
// the frame's capture time (NTP format) so a client can measure capture to
// decoder latency.
//
// Lifetime: a peer goes on remove() (DELETE), when ICE or the connection is
// failed or disconnected for longer than [webrtc] ice-timeout, when it is not
// connected ice-timeout after its answer, and when its camera is removed or
// reconfigured. Pipelines go to NULL on the reaper.
// Thread affinity: loop thread only. webrtcbin calls back on its own threads;
// those callbacks only marshal to the loop (core/invoke.h); the tap listener
// runs on the camera's streaming thread and only queues into the appsrc.
#include "camera/camera.h"
#include "camera/pipeline_reaper.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"
#include "core/repeating_timer.h"

#include <gst/sdp/sdp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace camrelay {

template <> struct GDeleter<GstSDPMessage> {
    void operator()(GstSDPMessage* p) const noexcept { if (p) gst_sdp_message_free(p); }
};

// What an SDP offer asks for, checked.
struct WhepOffer {
    GUniquePtr<GstSDPMessage> sdp;  // null when error is set
    int payloadType = -1;            // the H.264 PT answered with
    std::string profileLevelId;      // its profile-level-id, as offered ("" when none)
    int ntpExtensionId = 0;          // the offer's id for urn:ietf:params:rtp-hdrext:ntp-64; 0: none
    std::string error;               // empty when the offer can be answered
    std::string errorCode;           // bad_sdp, no_video, no_h264, no_ice, no_fingerprint, bad_direction
};

// Parses and checks an offer: an m=video section that receives, an H.264
// payload type with packetization-mode=1, ICE credentials and a DTLS
// fingerprint. Among the H.264 PTs, the first whose profile_idc is
// streamProfileIdc (0: unknown) wins, else the first (decoders take higher
// profiles in practice). Thread affinity: any thread (pure).
WhepOffer parseWhepOffer(const std::string& text, int streamProfileIdc);

// profile_idc of the first SPS in an H.264 byte-stream access unit; 0: none.
int spsProfileIdc(const guint8* data, size_t size);

struct WhepAnswer {
    unsigned status = 0;  // 201, or an error status
    std::string sdp;      // the answer, when 201
    std::string peerId;   // when 201
    std::string errorCode, message;  // otherwise
};

struct WhepCameraFigures {
    uint64_t peers = 0;       // now
    uint64_t peersTotal = 0;  // answered since the camera came
    uint64_t framesSent = 0, framesDropped = 0;  // access units into peers' pipelines, and dropped for them
    uint64_t bytesSent = 0;                      // H.264 bytes of those access units
};

class WhepPeers {
public:
    static constexpr int kGatherTimeoutMs = 5000;  // no complete gathering by then: 503
    static constexpr int kPliMinIntervalUs = 1000000;  // key frame requests from peers, at most this often per camera

    explicit WhepPeers(const WebRtcConfig& config);
    ~WhepPeers();
    WhepPeers(const WhepPeers&) = delete;
    WhepPeers& operator=(const WhepPeers&) = delete;

    void attach(const CameraPtr& camera);
    // Closes the camera's peers (its stream may have changed under them).
    void reconfigured(const CameraPtr& camera);
    void detach(const std::string& cameraId);

    // Answers an offer: done(answer) later on the loop thread (never before
    // offer() returns), unless the WhepPeers go first.
    void offer(const std::string& cameraId, const std::string& sdpText, std::function<void(WhepAnswer&)> done);
    // false when the camera has no such peer.
    bool remove(const std::string& cameraId, const std::string& peerId);
    size_t peers(const std::string& cameraId) const;
    size_t totalPeers() const;
    WhepCameraFigures figures(const std::string& cameraId) const;
    int maxPeers() const { return config_.maxPeers; }

private:
    friend struct WhepPeersAccess;  // webrtcbin's callbacks, through the loop
    struct Feed;
    struct Peer;
    struct CameraPeers;
    struct Alive;

    void closePeer(CameraPeers& camera, const std::string& peerId, const std::string& why);
    void closeAll(CameraPeers& camera, const std::string& why);
    void tick();
    // Loop-thread ends of webrtcbin's callbacks.
    void onNegotiated(const std::string& cameraId, const std::string& peerId, const std::string& sdp, const std::string& error);
    void onStates(const std::string& cameraId, const std::string& peerId, int ice, int connection);
    void onKeyframeWanted(const std::string& cameraId);

    PipelineReaper reaper_;  // first: outlives the peers it takes
    const WebRtcConfig config_;
    std::map<std::string, std::unique_ptr<CameraPeers>> cameras_;
    std::shared_ptr<Alive> alive_;  // webrtcbin's threads reach this object only through it, via the loop
    uint64_t nextPeer_ = 1;
    RepeatingTimer ticker_;
};

}  // namespace camrelay

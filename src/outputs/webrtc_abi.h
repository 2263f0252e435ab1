#pragma once
// The few pieces of GStreamer's WebRTC library (libgstwebrtc-1.0) that
// camrelay uses, declared here instead of included.
//
// Why: Debian 12 ships the headers only in libgstreamer-plugins-bad1.0-dev,
// which pulls OpenCV's development packages (141 packages) into every build
// machine. Everything else about webrtcbin goes through GObject signals and
// properties; what cannot is this: the GstWebRTCSessionDescription box its
// signals take and give, its constructor and destructor, and the enum values
// its properties report. All of it is public, ABI-stable API since 1.14
// (gst/webrtc/rtcsessiondescription.h, webrtc_fwd.h; values checked against
// the 1.22 headers). The library itself is libgstreamer-plugins-bad1.0-0,
// which gstreamer1.0-plugins-bad (webrtcbin) depends on; meson links it by
// its soname (-l:libgstwebrtc-1.0.so.0) since the unversioned link comes
// only with -dev.
// Thread affinity: any thread (declarations).
#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#ifdef __GST_WEBRTC_H__
#error "webrtc_abi.h stands in for <gst/webrtc/webrtc.h>: include one or the other"
#endif

extern "C" {

// GstWebRTCSDPType
enum GstWebRTCSDPType { GST_WEBRTC_SDP_TYPE_OFFER = 1, GST_WEBRTC_SDP_TYPE_PRANSWER, GST_WEBRTC_SDP_TYPE_ANSWER };

struct GstWebRTCSessionDescription {
    GstWebRTCSDPType type;
    GstSDPMessage* sdp;
};

// Takes ownership of sdp.
GstWebRTCSessionDescription* gst_webrtc_session_description_new(GstWebRTCSDPType type, GstSDPMessage* sdp);
void gst_webrtc_session_description_free(GstWebRTCSessionDescription* desc);
GType gst_webrtc_session_description_get_type(void);

}  // extern "C"

namespace camrelay::webrtc {

// GstWebRTCICEGatheringState
enum IceGatheringState { kGatheringNew = 0, kGatheringGathering = 1, kGatheringComplete = 2 };
// GstWebRTCICEConnectionState
enum IceConnectionState {
    kIceNew = 0, kIceChecking = 1, kIceConnected = 2, kIceCompleted = 3, kIceFailed = 4, kIceDisconnected = 5, kIceClosed = 6
};
// GstWebRTCPeerConnectionState
enum PeerConnectionState {
    kPeerNew = 0, kPeerConnecting = 1, kPeerConnected = 2, kPeerDisconnected = 3, kPeerFailed = 4, kPeerClosed = 5
};
// GstWebRTCRTPTransceiverDirection
enum TransceiverDirection { kDirectionNone = 0, kInactive = 1, kSendOnly = 2, kRecvOnly = 3, kSendRecv = 4 };

}  // namespace camrelay::webrtc

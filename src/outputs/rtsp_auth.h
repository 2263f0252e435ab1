#pragma once
// RTSP clients authenticated with the service's users and stream tokens: a
// GstRTSPAuth subclass whose `authenticate` asks the Authenticator.
//
// What a client may present:
//   - Basic credentials (rtsp://user:pass@host:8554/<id>; clients send them
//     after the 401 challenge `WWW-Authenticate: Basic realm="camrelay"`);
//   - `Authorization: Bearer <stream token>`;
//   - a stream token in the URL, rtsp://host:8554/<id>?token=cr1... , for
//     clients that cannot send headers (Home Assistant, ffmpeg, NVRs).
// No Digest: the service keeps PBKDF2 hashes only, and Digest needs the
// plaintext password (or its MD5 with the realm) on the server side.
//
// Each accepted request gets a GstRTSPToken whose media-factory role is
// "viewer", "admin" or "token:<camera id>"; each camera's factory (protect())
// lets viewer, admin and its own token role access and construct its media,
// so a token for camera A opens A and nothing else (404 elsewhere, as for a
// mount the client may not see). An accepted ?token= also covers the later
// requests of its connection that carry no credentials (SETUP URLs come from
// Content-Base, which gst-rtsp-server builds without the query); it is
// verified again each time. No credentials, or wrong ones: 401 with the
// challenge above. OPTIONS needs no credentials; DESCRIBE and SETUP do (the
// media-factory checks), PLAY/TEARDOWN need the session those returned.
//
// Thread affinity: built and destroyed on the loop thread; `authenticate`
// runs on gst-rtsp-server's client thread. The state it reads is immutable
// after construction and the Authenticator is thread-safe. A first Basic
// login costs one PBKDF2 on that thread (later requests hit the
// Authenticator's 5-minute cache of verified passwords).
#include "auth/authenticator.h"
#include "core/gobject_ptr.h"

#include <gst/rtsp-server/rtsp-server.h>

#include <string>
#include <vector>

namespace camrelay {

CAMRELAY_MINIOBJECT_TRAITS(GstRTSPToken)
CAMRELAY_MINIOBJECT_TRAITS(GstRTSPPermissions)

class RtspAuth {
public:
    // auth must outlive every RTSP client (main builds it before the outputs).
    explicit RtspAuth(Authenticator& auth);

    // For gst_rtsp_server_set_auth (which takes its own reference).
    GstRTSPAuth* get() const { return auth_.get(); }
    // Lets viewers, admins and tokens for cameraId access and construct the factory's media.
    static void protect(GstRTSPMediaFactory* factory, const std::string& cameraId);

private:
    GRef<GstRTSPAuth> auth_;
};

// The media-factory role of an accepted identity: "viewer", "admin", "token:<camera>".
std::string rtspRole(const Identity& identity);
// The `token` parameter of a request URL's query ("a=1&token=cr1...."), percent-
// decoded; empty if absent or oversized. Anything from a '/' on is dropped:
// some clients append the stream's control path after the query.
std::string rtspQueryToken(const char* query);

}  // namespace camrelay

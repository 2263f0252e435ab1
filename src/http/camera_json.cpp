#include "camera_json.h"

#include "core/redact.h"
#include "http/recording_routes.h"

namespace camrelay {

namespace {

JsonObjectValue configJson(const CameraConfig& c) {
    JsonObjectValue o;
    o.set("file", c.file).set("source", redactCredentials(c.source)).set("encoder", redactCredentials(c.encoder)).set("quality", c.quality);
    o.set("enabled", c.enabled).set("jpeg_passthrough", c.jpegPassthrough).set("jpeg_chroma", toString(c.jpegChroma));
    o.set("on_demand", c.onDemand).set("linger", c.linger);
    o.set("watchdog_timeout", c.watchdogTimeout).set("start_timeout", c.startTimeout);
    o.set("reconnect_delay", c.reconnectDelay).set("reconnect_max_delay", c.reconnectMaxDelay);
    if (c.width) o.set("width", c.width).set("height", c.height);
    else o.setNull("width").setNull("height");
    if (c.framerate.isSet()) o.set("framerate", std::to_string(c.framerate.num) + "/" + std::to_string(c.framerate.den));
    else o.setNull("framerate");
    return o;
}

}  // namespace

JsonObjectValue cameraJson(const Camera& camera, const Outputs& outputs) {
    const MjpegStats mjpeg = outputs.mjpegStats(camera.id());
    const CameraStats s = camera.stats();
    const std::string base = "/api/cameras/" + camera.id();
    JsonObjectValue o;
    o.set("id", camera.id()).set("name", camera.config().name).set("state", toString(camera.state()));
    const bool down = camera.recovering() || camera.state() == CameraState::Failed;
    const char* lastError = camera.lastError().empty() ? nullptr : camera.lastError().c_str();
    o.set("error", down ? lastError : nullptr);  // what is wrong now
    o.set("last_error", lastError);             // kept after the camera recovers
    o.set("apply_error", camera.applyError());  // a hot apply or file edit that did not take ("" when none)
    o.set("applying", camera.applying());       // a new pipeline is on trial beside the running one
    o.set("enabled", camera.config().enabled);
    o.set("source_kind", camera.configValid() ? toString(camera.sourceKind()) : nullptr);
    o.set("pipeline", camera.pipelineText().empty() ? nullptr : camera.pipelineText().c_str());
    o.set("fps", double(int(s.fps * 100 + 0.5)) / 100).set("frames", s.frames);
    o.set("width", s.width).set("height", s.height);
    o.set("uptime", s.uptimeSec).set("state_age", s.stateAgeSec);
    if (s.lastFrameAgeSec >= 0) o.set("last_frame_age", s.lastFrameAgeSec);
    else o.setNull("last_frame_age");
    o.set("reconnects", s.reconnects).set("reconnect_attempt", s.attempt);
    if (s.nextRetrySec >= 0) o.set("next_retry_in", s.nextRetrySec);
    else o.setNull("next_retry_in");
    o.set("viewers", uint64_t(outputs.viewers(camera.id())));  // MJPEG + WebSocket
    o.set("consumers", uint64_t(camera.consumers()));          // viewers, snapshots, RTSP media holding it
    if (camera.isPush()) o.set("publisher", camera.hasPublisher());
    else o.setNull("publisher");
    o.set("mjpeg_viewers", uint64_t(mjpeg.viewers)).set("ws_viewers", uint64_t(outputs.websockets().viewers(camera.id())));
    o.set("bytes_sent", mjpeg.bytesSent);
    o.set("frames_sent", mjpeg.framesSent).set("frames_dropped", mjpeg.framesDropped);
    o.set("viewers_timed_out", mjpeg.viewersTimedOut);
    o.set("config", configJson(camera.config()));
    if (camera.configValid()) {  // the shared H.264 stream (issue 11) and whether JPEG is being made now
        const SharedH264Stream& h264 = camera.h264();
        JsonObjectValue h;
        h.set("mode", h264.passthrough() ? "passthrough" : "encode").set("encoding", h264.encoding());
        h.set("claims", uint64_t(h264.claims())).set("encoder_starts", h264.encoderStarts());
        o.set("h264", std::move(h));
        JsonObjectValue j;
        j.set("active", camera.jpegActive()).set("consumers", uint64_t(camera.jpegConsumers()));
        o.set("jpeg", std::move(j));
    } else {
        o.setNull("h264").setNull("jpeg");
    }
    JsonObjectValue urls;
    urls.set("stream", base + "/stream").set("snapshot", base + "/snapshot").set("websocket", base + "/ws");
    if (camera.isPush()) urls.set("publish", base + "/publish");
    if (outputs.whep()) urls.set("webrtc", base + "/whep");  // issue 14: WHEP endpoint
    if (outputs.hls(camera.id())) urls.set("hls", base + "/hls/index.m3u8");
    o.set("urls", std::move(urls));
    o.set("recording", recordingJson(camera, outputs.recorders().find(camera.id())));
    // rtsp://<the host you reached>:<port><path>
    if (RtspRestream* rtsp = outputs.rtsp(); rtsp && camera.configValid()) {
        JsonObjectValue r;
        r.set("port", rtsp->port()).set("path", "/" + camera.id());
        r.set("mode", rtsp->passthrough(camera.id()) ? "passthrough" : "encode");
        r.set("active", rtsp->active(camera.id()));  // clients are watching
        o.set("rtsp", std::move(r));
    } else {
        o.setNull("rtsp");
    }
    return o;
}

}  // namespace camrelay

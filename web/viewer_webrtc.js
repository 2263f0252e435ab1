// WebRTC mode of the viewer page: WHEP (POST an SDP offer to
// /api/cameras/{id}/whep, 201 with the answer and a Location to DELETE),
// non-trickle: the offer carries every ICE candidate, so does the answer.
// The video is the camera's shared H.264 stream (recvonly, no audio).
//
// camrelayWebrtc.start(id, video, sink) -> {stop(), sample()}; sink: {error(text), playing()}.
// stop() closes the peer connection and DELETEs the WHEP resource (with
// keepalive, so it also works from pagehide).
// sample() -> Promise {frames, bytes, fps, latencyMs|null, approx:true, how}:
//  - "capture → display" when Chromium's requestVideoFrameCallback gives the
//    frame's captureTime (the sender's RTP timestamp mapped through its RTCP
//    sender reports to this browser's clock; needs a few seconds of RTCP), else
//  - "RTT/2 + jitter buffer + decode" from getStats over the last second:
//    Δ jitterBufferDelay / Δ jitterBufferEmittedCount + Δ totalDecodeTime /
//    Δ framesDecoded + the ICE pair's currentRoundTripTime / 2. It leaves out
//    the camera, camrelay and the display, so it is a lower bound.
// Both are estimates: shown with "≈".
'use strict';

const camrelayWebrtc = (() => {
  const kGatherTimeoutMs = 3000;    // host candidates on a LAN take milliseconds; send what we have after this
  const kConnectTimeoutMs = 15000;  // from the answer to ICE "connected"

  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise(resolve => {
      const timer = setTimeout(done, kGatherTimeoutMs);
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      function check() { if (pc.iceGatheringState === 'complete') done(); }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  // H.264 with packetization-mode=1 (what camrelay sends), baseline-compatible profiles first.
  function h264Codecs() {
    const caps = window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities('video') : null;
    if (!caps) return null;
    const h264 = caps.codecs.filter(c => c.mimeType.toLowerCase() === 'video/h264' &&
                                         /packetization-mode=1/.test(c.sdpFmtpLine || ''));
    const rank = c => (/profile-level-id=42e0/.test(c.sdpFmtpLine) ? 0 : /profile-level-id=4200/.test(c.sdpFmtpLine) ? 1 : 2);
    return h264.sort((a, b) => rank(a) - rank(b));
  }

  function start(id, video, sink) {
    let stopped = false;
    let failed = false;
    let pc = null;
    let resource = null;   // the WHEP Location, once answered
    let connectTimer = 0;
    let captureLatency = null;   // ms, from requestVideoFrameCallback's captureTime
    let previous = null;         // the last getStats figures, for per-second deltas

    function fail(text) {
      if (stopped || failed) return;
      failed = true;
      sink.error(`WebRTC: ${text}`);
      release();
    }

    function release() {
      clearTimeout(connectTimer);
      if (pc) pc.close();
      if (resource) fetch(resource, { method: 'DELETE', keepalive: true }).catch(() => {});
      resource = null;
    }

    function watchFrames() {
      if (!video.requestVideoFrameCallback) return;
      const onFrame = (now, meta) => {
        if (stopped) return;
        if (typeof meta.captureTime === 'number' && meta.captureTime > 0) {
          const ms = meta.expectedDisplayTime - meta.captureTime;
          captureLatency = ms > 0 && ms < 60000 ? ms : null;   // an RTCP clock mapping not settled yet
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }

    (async () => {
      if (!window.RTCPeerConnection) return fail('this browser has no RTCPeerConnection');
      const codecs = h264Codecs();
      if (codecs && !codecs.length) return fail('this browser cannot receive H.264 (packetization-mode=1) over WebRTC');
      pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
      if (codecs && transceiver.setCodecPreferences) transceiver.setCodecPreferences(codecs);
      pc.addEventListener('track', event => {
        video.muted = true;
        video.playsInline = true;
        video.srcObject = event.streams[0] || new MediaStream([event.track]);
        video.addEventListener('playing', sink.playing, { once: true });
        video.play().catch(() => {});
        watchFrames();
      });
      pc.addEventListener('connectionstatechange', () => {
        if (pc.connectionState === 'failed')
          fail('ICE failed: no network path between this browser and the service (UDP blocked or filtered?)');
        if (pc.connectionState === 'connected') clearTimeout(connectTimer);
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (stopped) return;
      const response = camrelaySession.checkAnswer(await fetch(`/api/cameras/${encodeURIComponent(id)}/whep`, {
        method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp, cache: 'no-store' }));
      if (response.status !== 201) return fail(await camrelayMjpeg.answerError(response));
      const location = response.headers.get('Location');
      if (location) {
        const url = new URL(location, window.location.href);
        // Only a resource of this service (a DELETE elsewhere would carry our cookies nowhere useful).
        if (url.origin === window.location.origin) resource = url.href;
      }
      if (stopped) return release();   // answered after the mode changed: free the peer at once
      if (!resource) return fail('the answer has no Location header (the peer cannot be closed)');
      const answer = await response.text();
      if (!/^v=0/.test(answer)) return fail('the answer is not SDP');
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      connectTimer = setTimeout(() => {
        if (pc.connectionState !== 'connected') fail(`ICE did not connect within ${kConnectTimeoutMs / 1000} s`);
      }, kConnectTimeoutMs);
    })().catch(e => fail(e.message || String(e)));

    return {
      stop() {
        if (stopped) return;
        stopped = true;
        video.removeEventListener('playing', sink.playing);
        release();
        video.srcObject = null;
      },
      async sample() {
        if (!pc || stopped || failed) return null;
        const report = await pc.getStats();
        let inbound = null, pair = null;
        report.forEach(s => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
          if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
        });
        if (!inbound) return { frames: 0, bytes: 0, fps: 0, latencyMs: null, approx: true, how: 'no video yet' };
        const now = { jb: inbound.jitterBufferDelay || 0, jbCount: inbound.jitterBufferEmittedCount || 0,
                      decode: inbound.totalDecodeTime || 0, decoded: inbound.framesDecoded || 0 };
        let latencyMs = null;
        let how = 'RTT/2 + jitter buffer + decode';
        if (captureLatency !== null) {
          latencyMs = captureLatency;
          how = 'capture → display (sender RTCP clock)';
        } else if (previous && now.jbCount > previous.jbCount && now.decoded > previous.decoded) {
          const jitter = (now.jb - previous.jb) / (now.jbCount - previous.jbCount);
          const decode = (now.decode - previous.decode) / (now.decoded - previous.decoded);
          const rtt = pair && typeof pair.currentRoundTripTime === 'number' ? pair.currentRoundTripTime : 0;
          latencyMs = (jitter + decode + rtt / 2) * 1000;
        }
        previous = now;
        return { frames: inbound.framesDecoded || 0, bytes: inbound.bytesReceived || 0,
                 fps: inbound.framesPerSecond || 0, latencyMs, approx: true, how };
      },
    };
  }

  return { start };
})();

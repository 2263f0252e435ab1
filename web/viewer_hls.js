// HLS mode of the viewer page: /api/cameras/{id}/hls/index.m3u8 in a <video>.
// hls.js (compiled into the binary, /vendor/hls.light.min.js) is loaded on
// first use and plays it through Media Source Extensions; the browser's own
// HLS is used only where MSE is missing (iOS Safari).
//
// camrelayHls.start(id, video, sink) -> {stop(), sample()}; sink: {error(text), playing()}.
// sample() -> {frames, bytes, latencyMs|null, approx:false}: frames decoded and
// shown so far, segment bytes loaded so far, and now − the capture time of the
// picture on screen (the playlist's #EXT-X-PROGRAM-DATE-TIME: the wall-clock
// capture time of each segment's first frame, plus the position in it).
'use strict';

const camrelayHls = (() => {
  let library = null;   // a Promise of the Hls class, or of null when it cannot load

  function loadLibrary() {
    if (!library) {
      library = new Promise(resolve => {
        if (typeof Hls !== 'undefined') return resolve(Hls);
        const script = document.createElement('script');
        script.src = '/vendor/hls.light.min.js';
        script.onload = () => resolve(typeof Hls !== 'undefined' ? Hls : null);
        script.onerror = () => resolve(null);
        document.head.append(script);
      });
    }
    return library;
  }

  // The service's JSON message from a failed playlist or segment load, if hls.js kept the answer.
  function networkMessage(data) {
    const code = data.response && data.response.code;
    const xhr = data.networkDetails;
    let text = '';
    try { text = xhr && typeof xhr.responseText === 'string' ? xhr.responseText : ''; } catch (e) { /* binary */ }
    try {
      const body = JSON.parse(text);
      if (body && typeof body.message === 'string') return `${code}: ${body.message}`;
    } catch (e) { /* not JSON */ }
    return code ? `HTTP ${code} for ${data.url || 'the playlist'}` : (data.details || 'network error');
  }

  function start(id, video, sink) {
    const url = `/api/cameras/${encodeURIComponent(id)}/hls/index.m3u8`;
    let hls = null;
    let stopped = false;
    let bytes = 0;
    let recovered = false;
    video.muted = true;   // autoplay without a gesture needs a muted video
    video.playsInline = true;
    video.addEventListener('playing', sink.playing, { once: true });

    loadLibrary().then(HlsClass => {
      if (stopped) return;
      if (HlsClass && HlsClass.isSupported()) {
        // enableWorker: the page's Content-Security-Policy has no worker-src blob:.
        hls = new HlsClass({ enableWorker: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6,
                             manifestLoadingMaxRetry: 2, levelLoadingMaxRetry: 4 });
        hls.on(HlsClass.Events.FRAG_LOADED, (event, data) => {
          bytes += (data.frag && data.frag.stats && data.frag.stats.loaded) || (data.payload ? data.payload.byteLength : 0);
        });
        hls.on(HlsClass.Events.ERROR, (event, data) => {
          if (!data.fatal || stopped) return;
          if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && !recovered) {
            recovered = true;   // one retry (hls.js's recipe for a decoder hiccup); a second one ends it
            hls.recoverMediaError();
            return;
          }
          const text = data.type === HlsClass.ErrorTypes.NETWORK_ERROR ? networkMessage(data) : (data.details || data.type);
          sink.error(`HLS: ${text}`);
          hls.destroy();
          hls = null;
        });
        hls.attachMedia(video);
        hls.loadSource(url);
        hls.on(HlsClass.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
      } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
        video.src = url;
        video.addEventListener('error', () => {
          if (!stopped) sink.error(`HLS: the browser cannot play ${url} (${video.error ? video.error.message || video.error.code : 'error'})`);
        });
        video.play().catch(() => {});
      } else {
        sink.error('HLS: this browser has neither Media Source Extensions nor native HLS (and hls.js did not load)');
      }
    });

    return {
      stop() {
        stopped = true;
        video.removeEventListener('playing', sink.playing);
        if (hls) hls.destroy();
        hls = null;
        video.removeAttribute('src');
        video.load();
      },
      sample() {
        const quality = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
        const frames = quality ? quality.totalVideoFrames - quality.droppedVideoFrames : 0;
        let captured = null;   // ms since the epoch of the picture on screen
        if (hls && hls.playingDate) captured = hls.playingDate.getTime();
        else if (!hls && video.getStartDate && !Number.isNaN(video.getStartDate().getTime()))
          captured = video.getStartDate().getTime() + video.currentTime * 1000;   // Safari's native HLS
        const playing = video.currentTime > 0 && !video.paused;
        return { frames, bytes, latencyMs: captured !== null && playing ? Date.now() - captured : null, approx: false };
      },
    };
  }

  return { start };
})();

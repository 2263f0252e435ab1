// One /api/ws WebSocket per page for every camera it shows (browsers open at
// most ~6 HTTP connections per host, so a tile per MJPEG stream stops working
// at 6 cameras). The dashboard and the editor's preview watch cameras through
// it; binary frames (header + JPEG, docs/api.md) go to the camera's watcher.
// The socket reconnects by itself (3 s, doubling up to 30 s) and subscribes
// again to everything watched.
//
// camrelayFeed.watch(id, {fps, onFrame(frame), onState(state, error), onError(code, message)})
//   -> {setFps(n), stop()}; one watcher per camera id per page.
// camrelayFeed.onConnection = (state, text) => ...
// The service greets with {"type":"hello","data":{"format":"binary"}}: frames
// on /api/ws are always binary, tagged with the camera id.
// ImageSink draws frames into an <img> through object URLs (revoked once the
// image has decoded); frames arriving meanwhile replace each other, so a slow
// tab draws the newest frame rather than a backlog.
'use strict';

const camrelayFeed = (() => {
  const watchers = new Map();
  let ws = null;
  let open = false;
  let retryDelay = 3000;
  const feed = { onConnection: () => {}, reconnects: 0 };

  function send(message) {
    if (open) ws.send(JSON.stringify(message));
  }

  function subscribe(id, w) {
    const data = { camera: id };
    if (w.fps !== undefined) data.fps = w.fps;
    send({ type: 'subscribe', data });
  }

  // Header: "CRF1", header length, flags (1: offline placeholder), id length,
  // reserved, frame number (u64 BE), capture time in µs since the epoch (u64 BE), id.
  function parseFrame(buffer) {
    if (buffer.byteLength < 24) return null;
    const view = new DataView(buffer);
    if (view.getUint32(0) !== 0x43524631) return null;  // "CRF1"
    const headerLength = view.getUint8(4);
    const idLength = view.getUint8(6);
    if (headerLength < 24 + idLength || headerLength > buffer.byteLength) return null;
    return {
      id: new TextDecoder().decode(new Uint8Array(buffer, 24, idLength)),
      placeholder: (view.getUint8(5) & 1) === 1,
      number: Number(view.getBigUint64(8)),
      captureMs: Number(view.getBigUint64(16)) / 1000,
      jpeg: new Blob([new Uint8Array(buffer, headerLength)], { type: 'image/jpeg' }),
      size: buffer.byteLength,
    };
  }

  function onMessage(event) {
    if (typeof event.data !== 'string') {
      const f = parseFrame(event.data);
      const w = f && watchers.get(f.id);
      if (w && w.onFrame) w.onFrame(f);
      return;
    }
    let m;
    try { m = JSON.parse(event.data); } catch (e) { return; }
    if (!m || typeof m !== 'object' || !m.data || typeof m.data !== 'object') return;
    const id = typeof m.data.camera === 'string' ? m.data.camera : null;
    if (m.type === 'state' && id && watchers.has(id)) {
      const w = watchers.get(id);
      if (w.onState) w.onState(String(m.data.state), m.data.error ? String(m.data.error) : '');
    } else if (m.type === 'error') {
      // unknown_camera and too_many_viewers name the camera only in the message.
      const message = String(m.data.message || '');
      for (const [wid, w] of watchers)
        if ((id === wid || message.includes(`"${wid}"`)) && w.onError) w.onError(String(m.data.code || ''), message);
    }
  }

  function connect() {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`);
    ws.binaryType = 'arraybuffer';
    feed.onConnection('connecting', feed.reconnects ? `reconnecting (attempt ${feed.reconnects})…` : 'connecting…');
    ws.onopen = () => {
      open = true;
      retryDelay = 3000;
      feed.onConnection('open', 'connected');
      for (const [id, w] of watchers) subscribe(id, w);
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      open = false;
      ws = null;
      if (typeof camrelaySession !== 'undefined') camrelaySession.stillLoggedIn();
      feed.reconnects += 1;
      feed.onConnection('closed', `disconnected; retrying in ${Math.round(retryDelay / 1000)} s`);
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }

  feed.watch = (id, w) => {
    const old = watchers.get(id);
    if (old) old.stop();
    watchers.set(id, w);
    if (!ws) connect(); else subscribe(id, w);
    w.setFps = fps => {
      w.fps = fps;
      if (watchers.get(id) === w) send({ type: 'set', data: { camera: id, fps } });
    };
    w.stop = () => {
      if (watchers.get(id) !== w) return;
      watchers.delete(id);
      send({ type: 'unsubscribe', data: { camera: id } });
    };
    return w;
  };
  feed.watching = () => [...watchers.keys()];
  return feed;
})();

// Draws JPEG frames into one <img>. onDrawn(frame, img) runs once a frame shows.
class ImageSink {
  constructor(img, onDrawn) {
    this.img = img;
    this.onDrawn = onDrawn;
    this.url = null;        // the URL the img is decoding or showing
    this.busy = false;
    this.pending = null;
    this.current = null;
    img.addEventListener('load', () => this.settled(true));
    img.addEventListener('error', () => this.settled(false));
  }

  push(frame) {
    this.pending = frame;
    if (!this.busy) this.next();
  }

  next() {
    const f = this.pending;
    this.pending = null;
    if (!f) return;
    this.busy = true;
    this.current = f;
    this.url = URL.createObjectURL(f.jpeg);
    this.img.src = this.url;
  }

  settled(ok) {
    if (!this.url) return;
    // The decoded picture stays on screen; the blob behind it can go.
    URL.revokeObjectURL(this.url);
    this.url = null;
    this.busy = false;
    if (ok && this.onDrawn) this.onDrawn(this.current, this.img);
    this.current = null;
    this.next();
  }

  close() {
    this.pending = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.busy = false;
    this.img.removeAttribute('src');
  }
}

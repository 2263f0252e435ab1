// Dashboard: one tile per camera with its live MJPEG stream, name and state.
// The camera list is polled; a tile's <img> streams only while its camera is
// running (live, starting, or down and showing the service's "camera offline"
// picture while it reconnects), so stopped cameras hold no connection
// (browsers allow ~6 per host).
'use strict';

const grid = document.getElementById('cameras');
const summary = document.getElementById('summary');
const tiles = new Map();
// An idle on-demand camera is shown too: the tile's viewer is what starts it.
const running = new Set(['live', 'starting', 'stalled', 'reconnecting', 'idle']);

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function makeTile(camera) {
  const tile = element('section', 'tile');
  tile.dataset.camera = camera.id;
  const frame = element('div', 'frame');
  const meta = element('div', 'meta');
  const name = element('span', 'name');
  const state = element('span', 'state');
  meta.append(name, state);
  const detail = element('div', 'detail');
  const actions = element('div', 'detail actions');
  const snapshot = element('a', '', 'snapshot');
  snapshot.href = camera.urls.snapshot;
  const stream = element('a', '', 'stream');
  stream.href = camera.urls.stream;
  const viewer = element('a', 'viewer', 'viewer');
  viewer.href = `/viewer.html?camera=${encodeURIComponent(camera.id)}`;
  actions.append(snapshot, stream, viewer);
  if (camera.rtsp) {
    const rtsp = element('a', 'rtsp', 'rtsp');
    rtsp.href = `rtsp://${location.hostname}:${camera.rtsp.port}${camera.rtsp.path}`;
    rtsp.title = 'Open in VLC, ffplay or an NVR';
    actions.append(rtsp);
  }
  tile.append(frame, meta, detail, actions);
  grid.append(tile);
  return { tile, frame, name, state, detail, img: null };
}

function showStream(t, camera) {
  if (t.img) return;
  t.frame.replaceChildren();
  t.img = element('img');
  t.img.alt = camera.name;
  t.img.src = camera.urls.stream;
  t.frame.append(t.img);
}

function showOffline(t, camera) {
  if (t.img) t.img.src = '';  // closes the stream connection
  t.img = null;
  const text = camera.state === 'failed' ? 'Camera failed' : `Camera ${camera.state}`;
  t.frame.replaceChildren(element('div', 'offline', text));
}

function update(camera) {
  let t = tiles.get(camera.id);
  if (!t) { t = makeTile(camera); tiles.set(camera.id, t); }
  t.name.textContent = camera.name;
  t.state.textContent = camera.state;
  t.state.className = `state ${camera.state}`;
  t.tile.dataset.state = camera.state;
  if (running.has(camera.state)) showStream(t, camera); else showOffline(t, camera);
  const parts = [];
  if (camera.width) parts.push(`${camera.width}×${camera.height}`);
  if (camera.state === 'live') parts.push(`${camera.fps.toFixed(1)} fps`, `${camera.viewers} viewer(s)`);
  if (camera.reconnects) parts.push(`${camera.reconnects} reconnect(s)`);
  if (camera.state === 'stalled' && camera.next_retry_in !== null) parts.push(`retry in ${Math.ceil(camera.next_retry_in)} s`);
  if (camera.error) parts.push(camera.error);
  t.detail.textContent = parts.join(' · ');
}

async function refresh() {
  try {
    const response = camrelaySession.checkAnswer(await fetch('/api/cameras', { cache: 'no-store' }));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { cameras } = await response.json();
    const seen = new Set(cameras.map(c => c.id));
    for (const [id, t] of tiles) if (!seen.has(id)) { t.tile.remove(); tiles.delete(id); }
    cameras.forEach(update);
    const live = cameras.filter(c => c.state === 'live').length;
    summary.textContent = `${cameras.length} camera(s), ${live} live`;
    if (!cameras.length) grid.replaceChildren(element('p', 'empty', 'No cameras configured.'));
  } catch (error) {
    summary.textContent = `service unreachable (${error.message}); retrying…`;
  }
}

refresh();
setInterval(refresh, 2000);

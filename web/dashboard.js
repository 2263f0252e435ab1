// Dashboard: a grid of every camera with a live tile, name, state, fps and
// viewers, and per camera: snapshot, stream, viewer page, fullscreen, RTSP;
// for admins start/stop, edit (editor.html) and record.
//
// Tiles are drawn from ONE /api/ws WebSocket (camfeed.js) whatever the number
// of cameras: each visible tile of a running camera subscribes at a modest
// rate (?fps=N, default 8; fullscreen: every frame); a tile scrolled out of
// view (IntersectionObserver), of a stopped or failed camera, or of a hidden
// tab unsubscribes. The camera list is polled (GET /api/cameras every 2 s), so
// cameras added or removed elsewhere appear and disappear; a removed camera's
// tile unsubscribes and frees its image.
//
// Each tile shows the camera's recording state (camera.recording: active,
// mode, file, bytes, since, until, error) and, for admins, a record button
// with a duration (POST /api/cameras/{id}/recording {"duration": N}, no body:
// until stopped) that turns into a stop button (DELETE) while recording.
//
// window.camrelayStats (for tests and bench/dashboard-load.mjs): per camera
// frames received and drawn, the size of the last frame drawn and
// performance.now() when that size first showed (Apply -> first new frame).
'use strict';

const grid = document.getElementById('cameras');
const summary = document.getElementById('summary');
const tiles = new Map();
// An idle on-demand camera is shown too: the tile's subscription is what starts it.
const running = new Set(['live', 'starting', 'stalled', 'reconnecting', 'idle']);
const durations = [['10', '10 s'], ['60', '1 min'], ['600', '10 min'], ['', 'until stopped']];
const tileFps = (() => {
  const n = Number(new URLSearchParams(location.search).get('fps'));
  return Number.isInteger(n) && n >= 0 && n <= 240 && new URLSearchParams(location.search).has('fps') ? n : 8;
})();
let isAdmin = false;
const stats = { cameras: {}, tileFps };
window.camrelayStats = stats;

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, className, onClick) {
  const b = element('button', className, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function cameraStats(id) {
  if (!stats.cameras[id]) stats.cameras[id] = { received: 0, drawn: 0, placeholders: 0, width: 0, height: 0, sizeSince: 0, lastDrawn: 0 };
  return stats.cameras[id];
}

const visibility = new IntersectionObserver(entries => {
  for (const entry of entries) {
    const t = tiles.get(entry.target.dataset.camera);
    if (!t) continue;
    t.visible = entry.isIntersecting;
    syncFeed(t);
  }
}, { rootMargin: '100px' });

function makeTile(camera) {
  const tile = element('section', 'tile');
  tile.dataset.camera = camera.id;
  const frame = element('div', 'frame');
  const meta = element('div', 'meta');
  const name = element('span', 'name');
  const state = element('span', 'state');
  meta.append(name, state);
  const detail = element('div', 'detail');
  const applyError = element('div', 'apply-error');
  applyError.hidden = true;
  const actions = element('div', 'detail actions');
  const snapshot = element('a', 'snapshot', 'snapshot');
  snapshot.href = camera.urls.snapshot;
  snapshot.download = `${camera.id}.jpg`;
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
  const t = { id: camera.id, tile, frame, name, state, detail, applyError, actions, img: null, sink: null,
              watcher: null, visible: false, running: false, cameraState: camera.state, adminBox: null };
  actions.append(button('fullscreen', 'fullscreen', () => toggleFullscreen(t)));
  t.record = makeRecordControls(camera);
  tile.append(frame, meta, detail, applyError, actions, t.record.box);
  grid.append(tile);
  if (isAdmin) addAdminControls(t);
  visibility.observe(tile);
  return t;
}

// Start/stop and edit: admins only (the API refuses the others anyway).
function addAdminControls(t) {
  if (t.adminBox) return;
  const box = element('span', 'admin');
  const toggle = button('stop', 'start-stop', () => startStop(t, toggle));
  const edit = element('a', 'edit', 'edit');
  edit.href = `/editor.html?camera=${encodeURIComponent(t.id)}`;
  box.append(toggle, edit);
  t.actions.append(box);
  t.adminBox = box;
  t.startStop = toggle;
  showStartStop(t);
}

function showStartStop(t) {
  if (!t.startStop) return;
  const stopped = t.cameraState === 'stopped' || t.cameraState === 'failed';
  t.startStop.textContent = stopped ? 'start' : 'stop';
}

async function startStop(t, b) {
  b.disabled = true;
  const action = b.textContent === 'start' ? 'start' : 'stop';
  try {
    const response = camrelaySession.checkAnswer(
      await fetch(`/api/cameras/${encodeURIComponent(t.id)}/${action}`, { method: 'POST' }));
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      t.applyError.hidden = false;
      t.applyError.textContent = body.message || `${action}: HTTP ${response.status}`;
    }
  } catch (error) {
    t.applyError.hidden = false;
    t.applyError.textContent = error.message;
  } finally {
    b.disabled = false;
    refresh();
  }
}

function toggleFullscreen(t) {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else t.frame.requestFullscreen().catch(() => {});
}

document.addEventListener('fullscreenchange', () => {
  for (const t of tiles.values())
    if (t.watcher) t.watcher.setFps(document.fullscreenElement === t.frame ? 0 : tileFps);
});
document.addEventListener('visibilitychange', () => { for (const t of tiles.values()) syncFeed(t); });

function makeRecordControls(camera) {
  const box = element('div', 'record');
  const state = element('span', 'rec-state', '');
  const error = element('span', 'rec-error', '');
  const duration = element('select', 'rec-duration');
  duration.title = 'How long to record';
  for (const [value, label] of durations) {
    const option = element('option', '', label);
    option.value = value;
    duration.append(option);
  }
  const recButton = element('button', 'rec-button', 'Record');
  recButton.type = 'button';
  const controls = { box, state, error, duration, button: recButton, active: false };
  recButton.addEventListener('click', () => toggleRecording(camera.id, controls));
  box.append(state);
  if (isAdmin) box.append(duration, recButton);
  box.append(error);
  box.hidden = true;  // until the camera JSON says recording exists
  return controls;
}

function addAdminControlsEverywhere() {
  for (const t of tiles.values()) {
    addAdminControls(t);
    const { box, duration, button: recButton, error } = t.record;
    if (recButton.isConnected) continue;
    box.insertBefore(duration, error);
    box.insertBefore(recButton, error);
  }
  document.getElementById('add-camera').hidden = false;
}

async function toggleRecording(id, controls) {
  controls.button.disabled = true;
  try {
    const url = `/api/cameras/${encodeURIComponent(id)}/recording`;
    const init = { method: controls.active ? 'DELETE' : 'POST' };
    if (!controls.active && controls.duration.value) {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify({ duration: Number(controls.duration.value) });
    }
    const response = camrelaySession.checkAnswer(await fetch(url, init));
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      controls.error.textContent = body.message || `HTTP ${response.status}`;
    }
  } catch (error) {
    controls.error.textContent = error.message;
  } finally {
    controls.button.disabled = false;
    refresh();
  }
}

function showRecording(t, camera) {
  const r = camera.recording;
  const c = t.record;
  c.box.hidden = !r;
  if (!r) return;
  c.active = Boolean(r.active);
  c.box.dataset.active = String(c.active);
  c.button.textContent = c.active ? 'Stop' : 'Record';
  c.duration.disabled = c.active;
  const parts = [];
  if (c.active) {
    parts.push('● recording');
    if (typeof r.since === 'number') parts.push(`${Math.max(0, Math.round(Date.now() / 1000 - r.since))} s`);
    if (typeof r.until === 'number') parts.push(`${Math.max(0, Math.round(r.until - Date.now() / 1000))} s left`);
    if (typeof r.bytes === 'number') parts.push(`${(r.bytes / 1e6).toFixed(1)} MB`);
  } else {
    parts.push(r.mode === 'always' ? 'not recording (always)' : 'not recording');
  }
  c.state.textContent = parts.join(' · ');
  c.error.textContent = r.error || '';
}

function onFrameDrawn(t, frame, img) {
  const s = cameraStats(t.id);
  s.drawn += 1;
  s.lastDrawn = performance.now();
  if (frame.placeholder) s.placeholders += 1;
  if (img.naturalWidth !== s.width || img.naturalHeight !== s.height) {
    s.width = img.naturalWidth;
    s.height = img.naturalHeight;
    s.sizeSince = s.lastDrawn;
  }
  t.tile.dataset.placeholder = String(frame.placeholder);
  t.tile.dataset.frames = String(s.drawn);
}

// Subscribed exactly while the camera runs, the tile is in view and the tab shows.
function syncFeed(t) {
  const want = t.running && t.visible && !document.hidden;
  if (want && !t.watcher) {
    t.watcher = camrelayFeed.watch(t.id, {
      fps: document.fullscreenElement === t.frame ? 0 : tileFps,
      onFrame: f => { cameraStats(t.id).received += 1; if (t.sink) t.sink.push(f); },
      onState: state => showState(t, state),
      onError: (code, message) => {
        t.detail.textContent = message;
        // The list knows the camera but the socket not yet (just added): let
        // the next refresh subscribe again.
        if (code === 'unknown_camera' && t.watcher) { t.watcher.stop(); t.watcher = null; }
      },
    });
  } else if (!want && t.watcher) {
    t.watcher.stop();
    t.watcher = null;
  }
}

function showStream(t, camera) {
  t.running = true;
  if (!t.img) {
    t.frame.replaceChildren();
    t.img = element('img');
    t.img.alt = camera.name;
    t.sink = new ImageSink(t.img, (f, img) => onFrameDrawn(t, f, img));
    t.frame.append(t.img);
  }
  syncFeed(t);
}

function showOffline(t, camera) {
  t.running = false;
  syncFeed(t);
  if (t.sink) t.sink.close();
  t.sink = null;
  t.img = null;
  const text = camera.state === 'failed' ? 'Camera failed' : `Camera ${camera.state}`;
  t.frame.replaceChildren(element('div', 'offline', text));
}

function showState(t, state) {
  t.cameraState = state;
  t.state.textContent = state;
  t.state.className = `state ${state}`;
  t.tile.dataset.state = state;
  showStartStop(t);
}

function update(camera) {
  let t = tiles.get(camera.id);
  if (!t) { t = makeTile(camera); tiles.set(camera.id, t); }
  t.name.textContent = camera.name;
  showState(t, camera.state);
  if (running.has(camera.state)) showStream(t, camera); else showOffline(t, camera);
  const parts = [];
  if (camera.width) parts.push(`${camera.width}×${camera.height}`);
  if (camera.state === 'live') parts.push(`${camera.fps.toFixed(1)} fps`, `${camera.viewers} viewer(s)`);
  if (camera.reconnects) parts.push(`${camera.reconnects} reconnect(s)`);
  if (camera.state === 'stalled' && camera.next_retry_in !== null) parts.push(`retry in ${Math.ceil(camera.next_retry_in)} s`);
  if (camera.error) parts.push(camera.error);
  t.detail.textContent = parts.join(' · ');
  // A hot apply that failed at run time: the last good pipeline still runs.
  const applyError = typeof camera.apply_error === 'string' ? camera.apply_error : '';
  t.applyError.hidden = !applyError;
  t.applyError.textContent = applyError ? `change not applied: ${applyError}` : '';
  showRecording(t, camera);
}

function removeTile(t) {
  visibility.unobserve(t.tile);
  t.running = false;
  syncFeed(t);
  if (t.sink) t.sink.close();
  t.tile.remove();
  tiles.delete(t.id);
  delete stats.cameras[t.id];
}

async function refresh() {
  try {
    const response = camrelaySession.checkAnswer(await fetch('/api/cameras', { cache: 'no-store' }));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { cameras } = await response.json();
    const seen = new Set(cameras.map(c => c.id));
    for (const t of [...tiles.values()]) if (!seen.has(t.id)) removeTile(t);
    grid.querySelector(':scope > p.empty')?.remove();
    cameras.forEach(update);
    const live = cameras.filter(c => c.state === 'live').length;
    summary.textContent = `${cameras.length} camera(s), ${live} live`;
    if (!cameras.length) grid.replaceChildren(element('p', 'empty', 'No cameras configured.'));
  } catch (error) {
    summary.textContent = `service unreachable (${error.message}); retrying…`;
  }
}

camrelayFeed.onConnection = (state, text) => {
  const c = document.getElementById('connection');
  c.dataset.state = state;
  c.textContent = state === 'open' ? '' : text;
};

// Who may record, start/stop and edit: admins (and everyone when auth is off, where the API says "admin").
fetch('/api/session', { cache: 'no-store' })
  .then(r => (r.ok ? r.json() : {}))
  .then(s => { isAdmin = s.role === 'admin'; if (isAdmin) addAdminControlsEverywhere(); })
  .catch(() => {});
refresh();
setInterval(refresh, 2000);

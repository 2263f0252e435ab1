// Dashboard: one tile per camera with its live MJPEG stream, name and state.
// The camera list is polled; a tile's <img> streams only while its camera is
// running (live, starting, or down and showing the service's "camera offline"
// picture while it reconnects), so stopped cameras hold no connection
// (browsers allow ~6 per host).
// Each tile shows the camera's recording state (camera.recording: active,
// mode, file, bytes, since, until, error) and, for admins, a record button
// with a duration (POST /api/cameras/{id}/recording {"duration": N}, no body:
// until stopped) that turns into a stop button (DELETE) while recording.
'use strict';

const grid = document.getElementById('cameras');
const summary = document.getElementById('summary');
const tiles = new Map();
// An idle on-demand camera is shown too: the tile's viewer is what starts it.
const running = new Set(['live', 'starting', 'stalled', 'reconnecting', 'idle']);
const durations = [['10', '10 s'], ['60', '1 min'], ['600', '10 min'], ['', 'until stopped']];
let isAdmin = false;

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
  const record = makeRecordControls(camera);
  tile.append(frame, meta, detail, actions, record.box);
  grid.append(tile);
  return { tile, frame, name, state, detail, img: null, record };
}

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
  const button = element('button', 'rec-button', 'Record');
  button.type = 'button';
  const controls = { box, state, error, duration, button, active: false };
  button.addEventListener('click', () => toggleRecording(camera.id, controls));
  box.append(state);
  if (isAdmin) box.append(duration, button);
  box.append(error);
  box.hidden = true;  // until the camera JSON says recording exists
  return controls;
}

function addRecordButtons() {
  for (const t of tiles.values()) {
    const { box, duration, button, error } = t.record;
    if (button.isConnected) continue;
    box.insertBefore(duration, error);
    box.insertBefore(button, error);
  }
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
  showRecording(t, camera);
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

// Who may record: admins (and everyone when auth is off, where the API says "admin").
fetch('/api/session', { cache: 'no-store' })
  .then(r => (r.ok ? r.json() : {}))
  .then(s => { isAdmin = s.role === 'admin'; if (isAdmin) addRecordButtons(); })
  .catch(() => {});
refresh();
setInterval(refresh, 2000);

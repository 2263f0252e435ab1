// WebSocket viewer: /viewer.html?camera=a[,b...] (or camera=a&camera=b).
// One /api/ws socket for every camera shown; binary frames (header + JPEG,
// see docs/api.md) are drawn on a canvas as they come. Per camera: fps,
// frame count, data rate, capture-to-display latency and state. When the
// socket drops (service restart) it reconnects by itself: first after 3 s,
// then doubling up to 30 s, reset once connected.
'use strict';

const params = new URLSearchParams(location.search);
const ids = params.getAll('camera').flatMap(v => v.split(',')).map(s => s.trim()).filter(Boolean);
const views = document.getElementById('views');
const connection = document.getElementById('connection');
const cameras = new Map();
let retryDelay = 3000;
let reconnects = 0;

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function makeView(id) {
  const tile = element('section', 'tile');
  tile.dataset.camera = id;
  const frame = element('div', 'frame');
  const canvas = element('canvas');
  const message = element('div', 'offline', 'waiting for frames…');
  frame.append(canvas, message);
  const meta = element('div', 'meta');
  const name = element('span', 'name', id);  // the camera's name once subscribed (showName)
  const state = element('span', 'state', 'connecting');
  meta.append(name, state);
  const stats = element('div', 'detail stats');
  tile.append(frame, meta, stats);
  views.append(tile);
  return { id, tile, canvas, message, name, state, stats, frames: 0, bytes: 0, arrivals: [], latencies: [],
           lastNumber: 0, drawing: false, pending: null };
}

// The name the camera's file gives it; the id stays as the tooltip (it is what the URL names).
function showName(view, name) {
  if (typeof name !== 'string' || !name) return;
  view.name.textContent = name;
  view.name.title = view.id;
}

// Header: "CRF1", header length, flags (1: offline placeholder), id length,
// reserved, frame number (u64 BE), capture time in µs since the epoch (u64 BE), id.
function parseFrame(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 24 || view.getUint32(0) !== 0x43524631) return null;  // "CRF1"
  const headerLength = view.getUint8(4);
  const idLength = view.getUint8(6);
  const id = new TextDecoder().decode(new Uint8Array(buffer, 24, idLength));
  return {
    id,
    placeholder: (view.getUint8(5) & 1) === 1,
    number: Number(view.getBigUint64(8)),
    captureMs: Number(view.getBigUint64(16)) / 1000,
    jpeg: new Blob([new Uint8Array(buffer, headerLength)], { type: 'image/jpeg' }),
    size: buffer.byteLength,
  };
}

// Draws the newest frame; frames arriving while one decodes replace each other.
async function draw(v) {
  if (v.drawing) return;
  v.drawing = true;
  while (v.pending) {
    const f = v.pending;
    v.pending = null;
    try {
      const bitmap = await createImageBitmap(f.jpeg);
      if (v.canvas.width !== bitmap.width) v.canvas.width = bitmap.width;
      if (v.canvas.height !== bitmap.height) v.canvas.height = bitmap.height;
      v.canvas.getContext('2d').drawImage(bitmap, 0, 0);
      bitmap.close();
      v.latencies.push(Date.now() - f.captureMs);
      if (v.latencies.length > 60) v.latencies.shift();
      v.canvas.dataset.frames = String(v.frames);
      v.message.hidden = true;
      v.tile.dataset.placeholder = String(f.placeholder);
    } catch (e) {
      v.message.hidden = false;
      v.message.textContent = `cannot decode a frame (${e.message})`;
    }
  }
  v.drawing = false;
}

function onFrame(f) {
  const v = cameras.get(f.id);
  if (!v) return;
  v.frames += 1;
  v.bytes += f.size;
  v.lastNumber = f.number;
  v.arrivals.push({ t: performance.now(), size: f.size });
  v.pending = f;
  draw(v);
}

function showState(v, state, error) {
  v.state.textContent = state;
  v.state.className = `state ${state}`;
  v.tile.dataset.state = state;
  if (state === 'stopped' || state === 'failed') {
    v.message.hidden = false;
    v.message.textContent = state === 'failed' ? `Camera failed: ${error || 'unknown error'}` : 'Camera stopped';
  } else if (state === 'stalled' || state === 'reconnecting') {
    v.message.hidden = false;
    v.message.textContent = `Camera offline (${state})${error ? ': ' + error : ''}`;
  }
}

function updateStats() {
  const now = performance.now();
  for (const v of cameras.values()) {
    v.arrivals = v.arrivals.filter(a => now - a.t <= 2000);
    const span = v.arrivals.length > 1 ? (v.arrivals.at(-1).t - v.arrivals[0].t) / 1000 : 0;
    const fps = span > 0 ? (v.arrivals.length - 1) / span : 0;
    const rate = v.arrivals.reduce((sum, a) => sum + a.size, 0) / 2 / 1024;
    const sorted = [...v.latencies].sort((a, b) => a - b);
    const latency = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
    v.stats.dataset.fps = fps.toFixed(1);
    v.stats.textContent = `${fps.toFixed(1)} fps · ${v.frames} frames · ${rate.toFixed(0)} KiB/s · ` +
      `latency ${latency === null ? '–' : latency.toFixed(0) + ' ms'} · #${v.lastNumber}`;
  }
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`);
  ws.binaryType = 'arraybuffer';
  setConnection('connecting', reconnects ? `reconnecting (attempt ${reconnects})…` : 'connecting…');
  ws.onopen = () => {
    retryDelay = 3000;
    setConnection('open', reconnects ? `connected (after ${reconnects} reconnect(s))` : 'connected');
    for (const id of cameras.keys()) ws.send(JSON.stringify({ type: 'subscribe', data: { camera: id } }));
  };
  ws.onmessage = event => {
    if (typeof event.data !== 'string') {
      const f = parseFrame(event.data);
      if (f) onFrame(f);
      return;
    }
    const m = JSON.parse(event.data);
    const v = m.data && cameras.get(m.data.camera);
    if (m.type === 'state' && v) showState(v, m.data.state, m.data.error);
    if (m.type === 'subscribed' && v) showName(v, m.data.name);
    if (m.type === 'error' && m.data.code === 'unknown_camera') {
      for (const view of cameras.values())
        if (m.data.message.includes(`"${view.id}"`)) {
          view.message.hidden = false;
          view.message.textContent = `No camera "${view.id}"`;
          showState(view, 'unknown');
        }
    }
  };
  ws.onclose = () => {
    camrelaySession.stillLoggedIn();  // a refused upgrade looks like a close: maybe the session ended
    reconnects += 1;
    setConnection('closed', `disconnected; retrying in ${Math.round(retryDelay / 1000)} s`);
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  };
}

if (!ids.length) {
  views.append(element('p', 'empty', 'Name the cameras to show: /viewer.html?camera=demo (several: camera=a,b).'));
  setConnection('idle', 'no camera chosen');
} else {
  for (const id of ids) cameras.set(id, makeView(id));
  setInterval(updateStats, 500);
  connect();
}

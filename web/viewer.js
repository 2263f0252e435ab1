// Viewer page: /viewer.html?camera=a[,b...] (or camera=a&camera=b)[&mode=...].
// Each camera's tile plays it one of four ways, chosen by the buttons under
// the picture and kept in the URL so that a link reopens it:
//   mjpeg  - /api/cameras/{id}/stream read by fetch() (viewer_mjpeg.js), drawn on a canvas
//   ws     - the page's one /api/ws socket for every camera (the default), drawn on a canvas
//   hls    - /api/cameras/{id}/hls/index.m3u8 in a <video> with hls.js (viewer_hls.js)
//   webrtc - WHEP, /api/cameras/{id}/whep, in a <video> (viewer_webrtc.js)
// mode=hls sets every camera; mode=a:hls,b:webrtc sets some (others: ws).
// Per camera one stats line for every mode: fps, frames, data rate and
// latency (what each latency means: the line under it, and docs/api.md
// "Viewer page"). The WebSocket reconnects by itself when it drops (service
// restart): first after 3 s, then doubling up to 30 s, reset once connected.
'use strict';

const MODES = { mjpeg: 'MJPEG', ws: 'WebSocket', hls: 'HLS', webrtc: 'WebRTC' };
const LATENCY_MEANS = {
  mjpeg: 'latency: now − the X-Timestamp (capture time) of the frame on screen',
  ws: 'latency: now − the capture time in the frame header, at display',
  hls: 'latency: now − the capture time of the picture on screen (#EXT-X-PROGRAM-DATE-TIME)',
  webrtc: 'latency ≈ RTT/2 + jitter buffer + decode, or capture → display once the browser maps the sender\'s clock',
};
const params = new URLSearchParams(location.search);
const ids = [...new Set(params.getAll('camera').flatMap(v => v.split(',')).map(s => s.trim()).filter(Boolean))];
const views = document.getElementById('views');
const connection = document.getElementById('connection');
const cameras = new Map();
let ws = null;
let wsOpen = false;
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

// mode=hls (every camera) and/or mode=a:hls,b:webrtc; unknown words are ignored.
function modesFromUrl() {
  const all = { default: 'ws' };
  for (const item of params.getAll('mode').flatMap(v => v.split(','))) {
    const colon = item.lastIndexOf(':');
    const camera = colon >= 0 ? item.slice(0, colon).trim() : '';
    const mode = item.slice(colon + 1).trim().toLowerCase();
    if (!(mode in MODES)) continue;
    if (camera) all[camera] = mode;
    else all.default = mode;
  }
  return all;
}

// The URL names every camera's mode: "mode=hls" when they agree, else per camera.
function modesToUrl() {
  const modes = [...cameras.values()].map(v => v.mode);
  const url = new URL(location.href);
  url.searchParams.delete('mode');
  if (modes.every(m => m === modes[0])) {
    if (modes[0] !== 'ws' || params.has('mode')) url.searchParams.set('mode', modes[0]);
  } else {
    url.searchParams.set('mode', [...cameras.values()].map(v => `${v.id}:${v.mode}`).join(','));
  }
  history.replaceState(null, '', url);
}

function makeView(id) {
  const tile = element('section', 'tile');
  tile.dataset.camera = id;
  const frame = element('div', 'frame');
  const canvas = element('canvas');
  const video = element('video');
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  const message = element('div', 'offline', 'waiting for frames…');
  frame.append(canvas, video, message);
  const meta = element('div', 'meta');
  const name = element('span', 'name', id);  // the camera's name once known (showName)
  const state = element('span', 'state', 'connecting');
  meta.append(name, state);
  const switcher = element('div', 'modes');
  switcher.setAttribute('role', 'group');
  switcher.setAttribute('aria-label', 'how to play this camera');
  const buttons = {};
  for (const [mode, label] of Object.entries(MODES)) {
    const button = element('button', '', label);
    button.type = 'button';
    button.dataset.mode = mode;
    button.addEventListener('click', () => {
      setMode(cameras.get(id), mode);
      modesToUrl();
    });
    buttons[mode] = button;
    switcher.append(button);
  }
  const stats = element('div', 'detail stats');
  const means = element('div', 'detail means');
  tile.append(frame, meta, switcher, stats, means);
  views.append(tile);
  return { id, tile, canvas, video, message, name, state, stats, means, buttons, mode: null, player: null,
           generation: 0, frames: 0, bytes: 0, arrivals: [], latencies: [], lastNumber: 0, drawing: false,
           pending: null, samples: [] };
}

// The name the camera's file gives it; the id stays as the tooltip (it is what the URL names).
function showName(view, name) {
  if (typeof name !== 'string' || !name) return;
  view.name.textContent = name;
  view.name.title = view.id;
}

function showMessage(view, text) {
  view.message.hidden = false;
  view.message.textContent = text;
}

// A mode that cannot play: the reason on the picture, the state says "error".
function showError(view, text) {
  showMessage(view, text);
  view.tile.dataset.error = text;
  view.state.textContent = 'error';
  view.state.className = 'state failed';
}

// Header: "CRF1", header length, flags (1: offline placeholder), id length,
// reserved, frame number (u64 BE), capture time in µs since the epoch (u64 BE), id.
function parseFrame(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 24 || view.getUint32(0) !== 0x43524631) return null;  // "CRF1"
  const headerLength = view.getUint8(4);
  const idLength = view.getUint8(6);
  if (headerLength < 24 + idLength || headerLength > buffer.byteLength) return null;
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
    const generation = v.generation;
    v.pending = null;
    try {
      const bitmap = await createImageBitmap(f.jpeg);
      if (generation !== v.generation) { bitmap.close(); continue; }   // the mode changed meanwhile
      if (v.canvas.width !== bitmap.width) v.canvas.width = bitmap.width;
      if (v.canvas.height !== bitmap.height) v.canvas.height = bitmap.height;
      v.canvas.getContext('2d').drawImage(bitmap, 0, 0);
      bitmap.close();
      if (f.captureMs !== null) v.latencies.push(Date.now() - f.captureMs);
      if (v.latencies.length > 60) v.latencies.shift();
      v.canvas.dataset.frames = String(v.frames);
      v.message.hidden = true;
      v.tile.dataset.placeholder = String(f.placeholder);
      if (v.mode === 'mjpeg') {   // no state messages on this path: the part's X-Camera-Offline says it
        const state = f.placeholder ? 'offline' : 'playing';
        if (v.state.textContent !== state) {
          v.state.textContent = state;
          v.state.className = `state ${f.placeholder ? 'stalled' : 'live'}`;
        }
      }
    } catch (e) {
      showMessage(v, `cannot decode a frame (${e.message})`);
    }
  }
  v.drawing = false;
}

// A JPEG of an MJPEG or WebSocket mode.
function onFrame(v, f) {
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
    showMessage(v, state === 'failed' ? `Camera failed: ${error || 'unknown error'}` : 'Camera stopped');
  } else if (state === 'stalled' || state === 'reconnecting') {
    showMessage(v, `Camera offline (${state})${error ? ': ' + error : ''}`);
  }
}

function wsSend(message) {
  if (wsOpen) ws.send(JSON.stringify(message));
}

// The players of each mode: start(view) -> {stop(), sample()?}.
const players = {
  ws: v => {
    wsSend({ type: 'subscribe', data: { camera: v.id } });
    return { stop: () => wsSend({ type: 'unsubscribe', data: { camera: v.id } }) };
  },
  mjpeg: v => {
    const generation = v.generation;
    return camrelayMjpeg.start(v.id, {
      frame: f => { if (generation === v.generation) onFrame(v, f); },
      error: text => { if (generation === v.generation) showError(v, text); },
    });
  },
  hls: v => camrelayHls.start(v.id, v.video, videoSink(v)),
  webrtc: v => camrelayWebrtc.start(v.id, v.video, videoSink(v)),
};

function videoSink(v) {
  const generation = v.generation;
  return {
    error: text => { if (generation === v.generation) showError(v, text); },
    playing: () => {
      if (generation !== v.generation) return;
      v.message.hidden = true;
      v.state.textContent = 'playing';
      v.state.className = 'state live';
    },
  };
}

function setMode(v, mode) {
  if (v.mode === mode && v.player) return;
  if (v.player) v.player.stop();
  v.player = null;
  v.generation += 1;
  v.mode = mode;
  v.frames = 0;
  v.bytes = 0;
  v.arrivals = [];
  v.latencies = [];
  v.samples = [];
  v.lastNumber = 0;
  v.pending = null;
  delete v.tile.dataset.error;
  v.tile.dataset.mode = mode;
  v.tile.dataset.kind = mode === 'hls' || mode === 'webrtc' ? 'video' : 'canvas';
  v.canvas.hidden = v.tile.dataset.kind !== 'canvas';
  v.video.hidden = v.tile.dataset.kind !== 'video';
  delete v.canvas.dataset.frames;
  v.stats.dataset.mode = mode;
  delete v.stats.dataset.latency;
  for (const [m, button] of Object.entries(v.buttons)) button.setAttribute('aria-pressed', String(m === mode));
  v.means.textContent = LATENCY_MEANS[mode];
  v.state.textContent = 'connecting';
  v.state.className = 'state';
  showMessage(v, mode === 'hls' ? 'loading the playlist…' : mode === 'webrtc' ? 'connecting (WHEP)…' : 'waiting for frames…');
  v.player = players[mode](v);
}

function stopAll() {
  for (const v of cameras.values()) {
    if (v.player) v.player.stop();
    v.player = null;
  }
}

function statsLine(v, fps, rate, latency, approx, tail) {
  v.stats.dataset.fps = fps.toFixed(1);
  if (latency !== null) v.stats.dataset.latency = latency.toFixed(0);
  else delete v.stats.dataset.latency;
  v.stats.dataset.frames = String(v.frames);
  v.stats.textContent = `${fps.toFixed(1)} fps · ${v.frames} frames · ${rate.toFixed(0)} KiB/s · ` +
    `latency ${latency === null ? '–' : (approx ? '≈' : '') + latency.toFixed(0) + ' ms'}${tail}`;
}

// MJPEG and WebSocket: counted here, as the JPEGs arrive.
function canvasStats(v, now) {
  v.arrivals = v.arrivals.filter(a => now - a.t <= 2000);
  const span = v.arrivals.length > 1 ? (v.arrivals.at(-1).t - v.arrivals[0].t) / 1000 : 0;
  const fps = span > 0 ? (v.arrivals.length - 1) / span : 0;
  const rate = v.arrivals.reduce((sum, a) => sum + a.size, 0) / 2 / 1024;
  const sorted = [...v.latencies].sort((a, b) => a - b);
  const latency = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  statsLine(v, fps, rate, latency, false, ` · #${v.lastNumber}`);
}

// HLS and WebRTC: the player's running totals; rates over the last 2 s.
async function videoStats(v, now) {
  const generation = v.generation;
  const s = await v.player.sample();
  if (!s || generation !== v.generation) return;
  v.samples.push({ t: now, frames: s.frames, bytes: s.bytes });
  v.samples = v.samples.filter(x => now - x.t <= 2100);
  const first = v.samples[0];
  const span = (now - first.t) / 1000;
  const fps = typeof s.fps === 'number' && s.fps > 0 ? s.fps : span > 0 ? (s.frames - first.frames) / span : 0;
  const rate = span > 0 ? (s.bytes - first.bytes) / span / 1024 : 0;
  v.frames = s.frames;
  if (s.how) v.means.textContent = `latency ≈ ${s.how}`;
  statsLine(v, fps, rate, s.latencyMs, s.approx, '');
}

function updateStats() {
  const now = performance.now();
  for (const v of cameras.values()) {
    if (!v.player) continue;
    if (v.mode === 'mjpeg' || v.mode === 'ws') canvasStats(v, now);
    else videoStats(v, now).catch(() => {});
  }
}

function connect() {
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`);
  ws.binaryType = 'arraybuffer';
  setConnection('connecting', reconnects ? `reconnecting (attempt ${reconnects})…` : 'connecting…');
  ws.onopen = () => {
    wsOpen = true;
    retryDelay = 3000;
    setConnection('open', reconnects ? `connected (after ${reconnects} reconnect(s))` : 'connected');
    for (const v of cameras.values()) if (v.mode === 'ws') wsSend({ type: 'subscribe', data: { camera: v.id } });
  };
  ws.onmessage = event => {
    if (typeof event.data !== 'string') {
      const f = parseFrame(event.data);
      const v = f && cameras.get(f.id);
      if (v && v.mode === 'ws') onFrame(v, f);
      return;
    }
    let m;
    try { m = JSON.parse(event.data); } catch (e) { return; }
    const v = m && m.data && cameras.get(m.data.camera);
    if (m.type === 'subscribed' && v) showName(v, m.data.name);
    if (!v || v.mode !== 'ws') {
      if (m.type === 'error' && m.data && m.data.code === 'unknown_camera' && typeof m.data.message === 'string')
        for (const view of cameras.values())
          if (view.mode === 'ws' && m.data.message.includes(`"${view.id}"`)) {
            showMessage(view, `No camera "${view.id}"`);
            showState(view, 'unknown');
          }
      return;
    }
    if (m.type === 'state') showState(v, m.data.state, m.data.error);
  };
  ws.onclose = () => {
    wsOpen = false;
    camrelaySession.stillLoggedIn();  // a refused upgrade looks like a close: maybe the session ended
    reconnects += 1;
    setConnection('closed', `disconnected; retrying in ${Math.round(retryDelay / 1000)} s`);
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  };
}

// The camera's name for modes other than WebSocket (whose subscription names it).
async function fetchName(v) {
  try {
    const response = await fetch(`/api/cameras/${encodeURIComponent(v.id)}`, { cache: 'no-store' });
    if (response.ok) showName(v, (await response.json()).name);
  } catch (e) { /* the mode's own request reports an unreachable service */ }
}

if (!ids.length) {
  views.append(element('p', 'empty', 'Name the cameras to show: /viewer.html?camera=demo (several: camera=a,b).'));
  setConnection('idle', 'no camera chosen');
} else {
  const modes = modesFromUrl();
  for (const id of ids) cameras.set(id, makeView(id));
  connect();
  for (const v of cameras.values()) {
    setMode(v, modes[v.id] || modes.default);
    if (v.mode !== 'ws') fetchName(v);
  }
  setInterval(updateStats, 500);
  // Leaving the page: close the peers (WHEP DELETE with keepalive) and streams;
  // back from the back/forward cache: play again.
  addEventListener('pagehide', stopAll);
  addEventListener('pageshow', event => {
    if (!event.persisted) return;
    for (const v of cameras.values()) {
      const mode = v.mode;
      v.mode = null;
      setMode(v, mode);
    }
  });
}

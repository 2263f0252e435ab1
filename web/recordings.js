// Recordings page: per camera, its timed captures as a strip of thumbnails and
// its recordings grouped by day (local time) with start, duration, size and
// whether the file is complete. Clicking a recording plays it in the <video>
// above (served with HTTP Range, so the browser seeks); admins get a delete
// button. ?camera=ID shows one camera. Data: GET /api/cameras,
// /api/recordings, /api/cameras/{id}/captures (docs/api.md).
'use strict';

const list = document.getElementById('cameras');
const summary = document.getElementById('summary');
const player = document.getElementById('player');
const playerTitle = document.getElementById('player-title');
const video = document.getElementById('video');
const only = new URLSearchParams(location.search).get('camera');
const maxThumbnails = 60;  // the newest captures; each is a lazy <img>
let isAdmin = false;
let durationRetries = 0;  // the service reads durations off its loop: null until known

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJson(url) {
  const response = camrelaySession.checkAnswer(await fetch(url, { cache: 'no-store' }));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function localDay(unixSec) {
  const d = new Date(unixSec * 1000);
  const pad = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function localTime(unixSec) {
  return new Date(unixSec * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function formatDuration(sec) {
  if (typeof sec !== 'number' || !isFinite(sec)) return '–';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

function formatSize(bytes) {
  if (typeof bytes !== 'number') return '–';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
  return `${bytes} B`;
}

function play(recording, row) {
  for (const r of document.querySelectorAll('.recording.playing')) r.classList.remove('playing');
  row.classList.add('playing');
  player.hidden = false;
  playerTitle.textContent = `${recording.camera} · ${localDay(recording.start)} ${localTime(recording.start)}` +
    (recording.complete === false ? ' · incomplete' : '');
  video.src = recording.url || `/api/recordings/${recording.id}`;
  video.play().catch(() => { /* autoplay may be refused: the controls still work */ });
}

async function remove(recording, row) {
  if (!confirm(`Delete the recording of ${localDay(recording.start)} ${localTime(recording.start)}?`)) return;
  const response = camrelaySession.checkAnswer(
    await fetch(recording.url || `/api/recordings/${recording.id}`, { method: 'DELETE' }));
  if (!response.ok && response.status !== 404) {
    summary.textContent = `delete failed: HTTP ${response.status}`;
    return;
  }
  if (video.src.endsWith(recording.url)) { video.removeAttribute('src'); video.load(); player.hidden = true; }
  row.remove();
}

function recordingRow(recording) {
  const row = element('li', 'recording');
  row.dataset.id = recording.id;
  row.recording = recording;
  const open = element('button', 'play');
  open.type = 'button';
  open.append(element('span', 'start', localTime(recording.start)),
              element('span', 'duration', formatDuration(recording.duration)),
              element('span', 'size', formatSize(recording.size)));
  if (recording.complete === false) {
    const flag = element('span', 'incomplete', 'incomplete');
    flag.title = 'Being written, or cut short by a crash: it still plays';
    open.append(flag);
  }
  open.addEventListener('click', () => play(recording, row));
  row.append(open);
  if (isAdmin) {
    const del = element('button', 'delete', 'Delete');
    del.type = 'button';
    del.addEventListener('click', () => remove(recording, row));
    row.append(del);
  }
  return row;
}

function captureStrip(captures) {
  const strip = element('div', 'captures');
  const newest = captures.slice().sort((a, b) => b.time - a.time).slice(0, maxThumbnails);
  for (const capture of newest) {
    const link = element('a', 'capture');
    link.href = capture.url;
    link.target = '_blank';
    link.rel = 'noopener';
    const img = element('img');
    img.loading = 'lazy';
    img.src = capture.url;
    img.alt = `capture ${localDay(capture.time)} ${localTime(capture.time)}`;
    img.title = `${localDay(capture.time)} ${localTime(capture.time)}`;
    link.append(img);
    strip.append(link);
  }
  return strip;
}

function cameraSection(camera, recordings, captures) {
  const section = element('section', 'camera-recordings');
  section.dataset.camera = camera.id;
  const title = element('h2', '', camera.name || camera.id);
  section.append(title);
  if (captures.length) {
    section.append(element('h3', '', `Captures (${captures.length})`), captureStrip(captures));
  }
  if (!recordings.length) {
    section.append(element('p', 'empty', 'No recordings.'));
    return section;
  }
  const byDay = new Map();
  for (const r of recordings.slice().sort((a, b) => b.start - a.start)) {
    const day = localDay(r.start);
    if (!byDay.has(day)) byDay.set(day, []);
    byDay.get(day).push(r);
  }
  for (const [day, items] of byDay) {
    const group = element('div', 'day');
    group.dataset.day = day;
    group.append(element('h3', '', `${day} (${items.length})`));
    const ul = element('ul');
    ul.append(...items.map(recordingRow));
    group.append(ul);
    section.append(group);
  }
  return section;
}

// Fills in the durations the first answer did not know yet, in place (a
// playing recording keeps playing), asking again at most 10 times.
async function refreshDurations() {
  try {
    const query = only ? `?camera=${encodeURIComponent(only)}` : '';
    const { recordings } = await getJson(`/api/recordings${query}`);
    const byId = new Map(recordings.map(r => [r.id, r]));
    let unknown = false;
    for (const row of document.querySelectorAll('li.recording')) {
      const r = byId.get(row.dataset.id);
      if (!r) continue;
      if (r.duration === null) unknown = true;
      row.recording.duration = r.duration;
      row.querySelector('.duration').textContent = formatDuration(r.duration);
    }
    if (unknown && ++durationRetries < 10) setTimeout(refreshDurations, 1000);
  } catch (error) {
    summary.textContent = `cannot load recordings (${error.message})`;
  }
}

async function load() {
  try {
    const session = await getJson('/api/session').catch(() => ({}));
    isAdmin = session.role === 'admin';
    const { cameras } = await getJson('/api/cameras');
    const shown = cameras.filter(c => !only || c.id === only);
    const query = only ? `?camera=${encodeURIComponent(only)}` : '';
    const { recordings } = await getJson(`/api/recordings${query}`);
    const captureLists = await Promise.all(shown.map(c =>
      getJson(`/api/cameras/${encodeURIComponent(c.id)}/captures`).then(b => b.captures || []).catch(() => [])));
    list.replaceChildren(...shown.map((camera, i) =>
      cameraSection(camera, recordings.filter(r => r.camera === camera.id), captureLists[i])));
    if (!shown.length) list.replaceChildren(element('p', 'empty', 'No cameras.'));
    summary.textContent = `${recordings.length} recording(s), ${captureLists.reduce((n, l) => n + l.length, 0)} capture(s)`;
    if (recordings.some(r => r.duration === null)) setTimeout(refreshDurations, 1000);
  } catch (error) {
    summary.textContent = `cannot load recordings (${error.message})`;
  }
}

load();

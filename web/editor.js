// Camera editor: /editor.html?camera=ID edits a camera, /editor.html makes a
// new one from a template. A page of its own rather than a dialog on the
// dashboard: it has a URL (the tile's "edit" link, bookmarks, the back
// button), room for the pipeline, the live preview and the graph side by
// side, and the dashboard stays the page viewers and admins share.
//
// Edit: GET /api/cameras/{id}/config (keys + ETag) fills the form; Apply sends
// only the keys that changed (PATCH, null removes a key) with If-Match, so keys
// the form does not show (record, encoder ...) stay as the file has them. A
// credential shows as *** and may stay so: the service puts the stored one back.
// Validate: POST /api/pipelines/validate. Errors go next to what they concern:
// bad_config's problems next to the field of their key, bad_pipeline and
// validate's error under the pipeline with the element at fault marked in a
// copy of the text; 412 says the camera changed elsewhere and offers a reload.
// Meanwhile the preview shows the camera live (the one /api/ws socket), so a
// rejected change visibly leaves the old stream playing.
// Everything the service or the user wrote is shown with textContent only.
'use strict';

const $ = id => document.getElementById(id);
const params = new URLSearchParams(location.search);
const cameraId = params.get('camera');
const form = $('form');
const fields = ['id', 'name', 'source', 'preset', 'width', 'height', 'framerate', 'quality', 'on-demand', 'enabled'];
const numeric = new Set(['width', 'height', 'quality']);
let etag = null;
let loaded = null;   // field values as loaded (edit mode)
let sinkState = null;

// Templates for new cameras. ip: the source is assembled from the fields below.
const templates = [
  { key: 'test', label: 'Test pattern', source: 'videotestsrc is-live=true pattern=ball', width: '640', height: '360', framerate: '15' },
  { key: 'usb-raw', label: 'USB camera (raw)', source: 'v4l2src device=/dev/video0 ! video/x-raw,width=1280,height=720' },
  { key: 'usb-mjpeg', label: 'USB camera (MJPEG)', source: 'v4l2src device=/dev/video0 ! image/jpeg,width=1280,height=720,framerate=30/1' },
  { key: 'pi', label: 'Raspberry Pi camera', source: 'libcamerasrc ! video/x-raw,width=1280,height=720' },
  { key: 'ip', label: 'IP camera (RTSP)', ip: true },
  { key: 'push', label: 'Pushed frames (publisher)', source: 'push' },
];

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function value(key) {
  const input = $(key);
  return input.type === 'checkbox' ? input.checked : input.value.trim();
}

function setValue(key, v) {
  const input = $(key);
  if (input.type === 'checkbox') input.checked = v; else input.value = v;
}

function clearErrors() {
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
  $('form-error').textContent = '';
  $('validate-result').textContent = '';
  $('source-view').hidden = true;
  $('reload').hidden = true;
}

function fieldError(key, message) {
  const box = form.querySelector(`.field-error[data-for="${CSS.escape(key)}"]`);
  if (box) { box.textContent = box.textContent ? `${box.textContent}\n${message}` : message; return; }
  $('form-error').textContent = $('form-error').textContent ? `${$('form-error').textContent}\n${message}` : message;
}

// Marks the element GStreamer blamed in a copy of the pipeline text and selects it
// in the textarea. GStreamer names instances ("videotestsrc0") that the text may
// only know by their factory name, so that is tried second.
function markElement(name) {
  const view = $('source-view');
  const text = $('source').value;
  view.hidden = true;
  if (!name) return;
  let at = text.indexOf(name);
  let length = name.length;
  if (at < 0) {
    const factory = name.replace(/\d+$/, '');
    if (factory && factory !== name) { at = text.indexOf(factory); length = factory.length; }
  }
  if (at < 0) return;
  const mark = element('mark', '', text.slice(at, at + length));
  view.replaceChildren(document.createTextNode(text.slice(0, at)), mark, document.createTextNode(text.slice(at + length)));
  view.hidden = false;
  view.dataset.element = name;
  $('source').setSelectionRange(at, at + length);
}

function pipelineError(message, elementName) {
  $('source-error').textContent = message;
  markElement(elementName);
}

// IP camera: rtsp://user:password@host/path with every part URL-encoded, and
// the characters gst-launch's parser would take for syntax escaped too.
function escapeForUrl(s, encode) {
  return encode(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function ipSource(redact) {
  const host = $('ip-host').value.trim();
  const path = $('ip-path').value.trim().replace(/^\/+/, '');
  const user = $('ip-user').value;
  const password = $('ip-password').value;
  let login = '';
  if (user || password) {
    login = escapeForUrl(user, encodeURIComponent);
    if (password) login += `:${redact ? '***' : escapeForUrl(password, encodeURIComponent)}`;
    login += '@';
  }
  return `rtspsrc location=rtsp://${login}${host}/${escapeForUrl(path, encodeURI)} protocols=tcp latency=200`;
}

function ipProblem() {
  const host = $('ip-host').value.trim();
  if (!host) return 'the camera\'s host is missing';
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) return 'the host is a name or address with an optional :port';
  return '';
}

function usingIpTemplate() {
  return !cameraId && $('template').value === 'ip';
}

function showIpSource() {
  if (usingIpTemplate()) $('source').value = ipSource(true);
}

function applyTemplate() {
  const t = templates.find(x => x.key === $('template').value);
  $('ip-fields').hidden = !t.ip;
  $('source').readOnly = Boolean(t.ip);
  for (const key of ['width', 'height', 'framerate']) setValue(key, t[key] || '');
  if (t.ip) showIpSource(); else $('source').value = t.source;
  if (!$('name').value || $('name').dataset.fromTemplate === 'true') {
    $('name').value = t.label;
    $('name').dataset.fromTemplate = 'true';
  }
  clearErrors();
}

// The JSON value for a key: numbers for numeric keys, booleans for the checkboxes.
function jsonValue(key, v) {
  if (typeof v === 'boolean') return v;
  if (numeric.has(key) && /^\d+$/.test(v)) return Number(v);
  return v;
}

function sourceForRequest() {
  return usingIpTemplate() ? ipSource(false) : $('source').value.trim();
}

async function readError(response) {
  const body = await response.json().catch(() => ({}));
  return body && typeof body === 'object' ? body : {};
}

async function validate() {
  clearErrors();
  const source = sourceForRequest();
  if (!source) return pipelineError('the pipeline is empty', '');
  $('validate').disabled = true;
  try {
    const response = camrelaySession.checkAnswer(await fetch('/api/pipelines/validate', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ source, probe: $('probe').checked }),
    }));
    const body = await readError(response);
    if (!response.ok) return pipelineError(String(body.message || `validate: HTTP ${response.status}`), '');
    if (!body.valid) return pipelineError(String(body.error || 'not valid'), String(body.element || ''));
    const plan = body.plan && typeof body.plan === 'object' ? body.plan : {};
    const lines = [`valid · ${plan.kind || '?'}`];
    if (plan.pipeline) lines.push(`effective pipeline: ${plan.pipeline}`);
    if (body.caps) lines.push(`caps: ${body.caps}`);
    $('validate-result').textContent = lines.join('\n');
  } catch (error) {
    $('form-error').textContent = error.message;
  } finally {
    $('validate').disabled = false;
  }
}

// 400s name the key (bad_config) or the pipeline (bad_pipeline).
function showRequestError(status, body) {
  if (status === 412 || body.error === 'etag_mismatch') {
    $('form-error').textContent = 'This camera was changed elsewhere: reload to see the current version (your edits here are lost on reload).';
    $('reload').hidden = false;
    return;
  }
  if (body.error === 'bad_pipeline') return pipelineError(String(body.message || 'bad pipeline'), String(body.element || ''));
  const problems = Array.isArray(body.problems) ? body.problems : [];
  if (body.error === 'bad_config' && problems.length) {
    for (const p of problems)
      if (p && typeof p === 'object') fieldError(String(p.key || ''), String(p.message || ''));
    return;
  }
  if (typeof body.key === 'string' && body.key) return fieldError(body.key, String(body.message || body.error));
  if (status === 409 && !cameraId) return fieldError('id', String(body.message || 'a camera with this id exists'));
  $('form-error').textContent = String(body.message || body.error || `HTTP ${status}`);
}

async function create() {
  const body = { id: value('id'), source: sourceForRequest() };
  if (usingIpTemplate()) {
    const problem = ipProblem();
    if (problem) return fieldError('source', problem);
  }
  for (const key of fields) {
    if (key === 'id' || key === 'source') continue;
    const v = value(key);
    if (v === '' ) continue;
    body[key] = jsonValue(key, v);
  }
  const response = camrelaySession.checkAnswer(await fetch('/api/cameras', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  }));
  if (response.status === 201) {
    location.assign(`/editor.html?camera=${encodeURIComponent(body.id)}&created=1`);
    return;
  }
  showRequestError(response.status, await readError(response));
}

async function update() {
  if (!loaded) { $('form-error').textContent = 'The camera\'s settings did not load: reload the page.'; return; }
  const patch = {};
  for (const key of fields) {
    if (key === 'id') continue;
    const v = value(key);
    if (v === loaded[key]) continue;
    patch[key] = v === '' ? null : jsonValue(key, v);
  }
  if (!Object.keys(patch).length) { $('validate-result').textContent = 'nothing changed'; return; }
  const response = camrelaySession.checkAnswer(await fetch(`/api/cameras/${encodeURIComponent(cameraId)}`, {
    method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': etag }, body: JSON.stringify(patch),
  }));
  if (response.ok) {
    etag = response.headers.get('ETag') || etag;
    // The file as it now is (a preset became keys; the ETag is the new one).
    await load().catch(error => { $('form-error').textContent = `applied, but reloading the settings failed: ${error.message}`; });
    $('validate-result').textContent = 'applied';
    pollCamera();
    return;
  }
  showRequestError(response.status, await readError(response));
}

async function apply(event) {
  event.preventDefault();
  clearErrors();
  $('apply').disabled = true;
  try {
    if (cameraId) await update(); else await create();
  } catch (error) {
    $('form-error').textContent = error.message;
  } finally {
    $('apply').disabled = false;
  }
}

async function remove() {
  if (!confirm(`Delete camera "${cameraId}"? Its file goes (a backup is kept); its recordings stay.`)) return;
  clearErrors();
  const headers = etag ? { 'If-Match': etag } : {};
  const response = camrelaySession.checkAnswer(await fetch(`/api/cameras/${encodeURIComponent(cameraId)}`, { method: 'DELETE', headers }));
  if (response.status === 204 || response.ok) { location.assign('/'); return; }
  showRequestError(response.status, await readError(response));
}

async function load() {
  const response = camrelaySession.checkAnswer(await fetch(`/api/cameras/${encodeURIComponent(cameraId)}/config`, { cache: 'no-store' }));
  const body = await readError(response);
  if (!response.ok) throw new Error(String(body.message || `HTTP ${response.status}`));
  etag = response.headers.get('ETag') || String(body.etag || '');
  const keys = body.keys && typeof body.keys === 'object' ? body.keys : {};
  const str = k => (typeof keys[k] === 'string' ? keys[k] : '');
  setValue('id', cameraId);
  for (const key of ['name', 'source', 'preset', 'width', 'height', 'framerate', 'quality']) setValue(key, str(key));
  setValue('on-demand', str('on-demand') === 'true');
  setValue('enabled', str('enabled') !== 'false');
  loaded = {};
  for (const key of fields) loaded[key] = value(key);
  $('title').textContent = `editing ${cameraId}`;
}

// The camera as the service runs it: state and a failed hot apply's error.
async function pollCamera() {
  try {
    const response = await fetch(`/api/cameras/${encodeURIComponent(cameraId)}`, { cache: 'no-store' });
    if (!response.ok) return;
    const camera = await response.json();
    $('preview-name').textContent = camera.name;
    showPreviewState(String(camera.state));
    const applyError = typeof camera.apply_error === 'string' ? camera.apply_error : '';
    $('preview-apply-error').hidden = !applyError;
    $('preview-apply-error').textContent = applyError ? `change not applied, the last good pipeline runs: ${applyError}` : '';
  } catch (error) { /* the next poll tries again */ }
}

function showPreviewState(state) {
  $('preview-state').textContent = state;
  $('preview-state').className = `state ${state}`;
  $('preview').dataset.state = state;
}

function startPreview() {
  $('preview').hidden = false;
  $('preview').dataset.camera = cameraId;
  const img = element('img');
  img.alt = cameraId;
  $('preview').querySelector('.frame').append(img);
  const sink = new ImageSink(img, () => { $('preview').dataset.frames = String(Number($('preview').dataset.frames || 0) + 1); });
  const watch = () => camrelayFeed.watch(cameraId, {
    fps: 10, onFrame: f => sink.push(f), onState: showPreviewState,
    // Just created, the socket may not know it yet: ask again shortly.
    onError: code => { if (code === 'unknown_camera') setTimeout(watch, 2000); },
  });
  watch();
  pollCamera();
  setInterval(pollCamera, 2000);
}

// Graphviz's SVG from the service, shown inline; anything that could run or
// load something is dropped first (it names elements and caps from the pipeline text).
function safeSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) throw new Error('the graph is not SVG');
  for (const bad of [...svg.querySelectorAll('script, foreignObject, iframe, embed, object, image, use, style')]) bad.remove();
  for (const e of [svg, ...svg.querySelectorAll('*')])
    for (const attr of [...e.attributes])
      if (/^on/i.test(attr.name) || (/href$/i.test(attr.name) && !attr.value.startsWith('#'))) e.removeAttribute(attr.name);
  return document.importNode(svg, true);
}

async function showGraph() {
  $('graph-error').textContent = '';
  const response = camrelaySession.checkAnswer(await fetch(`/api/cameras/${encodeURIComponent(cameraId)}/graph?format=svg`, { cache: 'no-store' }));
  if (!response.ok) {
    const body = await readError(response);
    $('graph-error').textContent = body.error === 'not_running' ? 'The camera runs no pipeline now (start it to see its graph).'
                                                                : String(body.message || `HTTP ${response.status}`);
    return;
  }
  try {
    $('graph').replaceChildren(safeSvg(await response.text()));
    $('graph').hidden = false;
  } catch (error) {
    $('graph-error').textContent = error.message;
  }
}

async function main() {
  const session = await fetch('/api/session', { cache: 'no-store' }).then(r => (r.ok ? r.json() : {})).catch(() => ({}));
  if (session.role !== 'admin') {
    $('notice').textContent = 'Only admins can edit cameras.';
    $('notice').hidden = false;
    for (const e of form.querySelectorAll('input, select, textarea, button')) e.disabled = true;
    $('title').textContent = cameraId ? `camera ${cameraId}` : 'new camera';
    return;
  }
  form.addEventListener('submit', apply);
  $('validate').addEventListener('click', validate);
  $('reload').addEventListener('click', () => location.reload());
  for (const id of ['ip-host', 'ip-path', 'ip-user', 'ip-password']) $(id).addEventListener('input', showIpSource);
  $('name').addEventListener('input', () => { $('name').dataset.fromTemplate = 'false'; });
  $('source').addEventListener('input', () => { $('source-view').hidden = true; });
  if (cameraId) {
    $('id').readOnly = true;
    setValue('id', cameraId);
    $('delete').hidden = false;
    $('delete').addEventListener('click', () => remove().catch(error => { $('form-error').textContent = error.message; }));
    $('graph-section').hidden = false;
    $('graph-dot').href = `/api/cameras/${encodeURIComponent(cameraId)}/graph?format=dot`;
    $('graph-load').addEventListener('click', () => showGraph().catch(error => { $('graph-error').textContent = error.message; }));
    try {
      await load();
    } catch (error) {
      $('form-error').textContent = `cannot load camera "${cameraId}": ${error.message}`;
      $('title').textContent = `camera ${cameraId}`;
    }
    startPreview();
  } else {
    $('title').textContent = 'new camera';
    $('apply').textContent = 'Create';
    $('template-box').hidden = false;
    for (const t of templates) {
      const option = element('option', '', t.label);
      option.value = t.key;
      $('template').append(option);
    }
    $('template').addEventListener('change', applyTemplate);
    applyTemplate();
  }
}

main();

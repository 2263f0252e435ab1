// Logging in and out in real headless Chromium, what a viewer may do, and what
// a page of another origin can do with the browser of a logged-in admin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera, hashPassword } from './service.mjs';

const cameras = { 'demo.conf': testCamera(320, 240, 30) };
const ADMIN = { user: 'boss', password: 'correct horse battery staple', role: 'admin' };
const VIEWER = { user: 'guest', password: 'just looking 123', role: 'viewer' };
const basicAdmin = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

let service;        // auth on, two users
let openService;    // auth off, one trusted other origin
let browser;
let foreign;        // the attacker's site: 127.0.0.1 on another port (same site, other origin)
let partner;        // a site listed in the open service's [server] allowed-origins

function authConfig(dir) {
  const data = join(dir, 'data');
  mkdirSync(data);
  return `[auth]\nenabled=true\n[paths]\ndata=${data}\n` +
         `[user:${ADMIN.user}]\nrole=admin\npassword=${hashPassword(ADMIN.password)}\n` +
         `[user:${VIEWER.user}]\nrole=viewer\npassword=${hashPassword(VIEWER.password)}\n`;
}

// What the other site's page does once loaded: ?service=URL names the target.
// Every attempt records what the page could see of the answer.
const attackPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>another site</title></head>
<body><iframe name="sink" hidden></iframe>
<form id="csrf" method="POST" target="sink"></form>
<script>
const service = new URLSearchParams(location.search).get('service');
async function attempt(run) {
  try { return await run(); } catch (error) { return { error: error.name + ': ' + error.message }; }
}
window.attack = (async () => {
  const r = {};
  r.read = await attempt(async () => {
    const response = await fetch(service + '/api/cameras');
    return { status: response.status, body: await response.text() };
  });
  r.readWithCookie = await attempt(async () => {
    const response = await fetch(service + '/api/cameras', { credentials: 'include' });
    return { status: response.status, body: await response.text() };
  });
  r.readNoCors = await attempt(async () => {
    const response = await fetch(service + '/api/cameras', { mode: 'no-cors', credentials: 'include' });
    return { type: response.type, status: response.status, body: await response.text() };
  });
  r.stop = await attempt(async () => {
    const response = await fetch(service + '/api/cameras/demo/stop',
                                 { method: 'POST', mode: 'no-cors', credentials: 'include' });
    return { type: response.type, status: response.status };
  });
  // The classic cross-site form post, into a hidden frame.
  r.form = await attempt(() => new Promise(resolve => {
    const sink = document.querySelector('iframe');
    sink.addEventListener('load', () => resolve({ loaded: true }), { once: true });
    const form = document.getElementById('csrf');
    form.action = service + '/api/cameras/demo/stop';
    form.submit();
  }));
  r.ws = await attempt(() => new Promise(resolve => {
    const ws = new WebSocket(service.replace(/^http/, 'ws') + '/api/ws');
    const timer = setTimeout(() => resolve({ outcome: 'no answer' }), 5000);
    ws.onopen = () => { clearTimeout(timer); ws.close(); resolve({ outcome: 'open' }); };
    ws.onerror = () => { clearTimeout(timer); resolve({ outcome: 'error' }); };
  }));
  return r;
})();
</script></body></html>`;

function startSite() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(attackPage);
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise(done => { server.closeAllConnections(); server.close(done); }),
  })));
}

before(async () => {
  foreign = await startSite();
  partner = await startSite();
  service = await startService(cameras, 0, { config: authConfig });
  openService = await startService(cameras, 0, {
    config: `[auth]\nenabled=false\n[server]\nallowed-origins=${partner.url}\n`,
  });
  browser = await chromium.launch(launchOptions);
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await openService?.stop();
  await foreign?.stop();
  await partner?.stop();
});

// Logged out, the login page's probe of /api/session answers 401: Chromium logs every 4xx answer.
const sessionProbe = /status of 401 .*\(http:\/\/127\.0\.0\.1:\d+\/api\/session\)$/;

// Console errors (CSP violations among them) and uncaught exceptions of a page.
function watchConsole(page) {
  const problems = [];
  page.on('console', m => {
    if (m.type() === 'error') problems.push(`console error at ${page.url()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', e => problems.push(`uncaught at ${page.url()}: ${e.message}`));
  return problems;
}

async function submitLogin(page, who, password = who.password) {
  await page.fill('#user', who.user);
  await page.fill('#password', password);
  await page.click('#submit');
}

async function cameraState(target, id = 'demo', headers = { Authorization: basicAdmin }) {
  const response = await fetch(`${target.url}/api/cameras/${id}`, { headers });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).state;
}

async function waitForLiveTile(page) {
  const tile = page.locator('section.tile[data-camera="demo"]');
  await tile.locator('.state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  await page.waitForFunction(() => {
    const i = document.querySelector('section.tile[data-camera="demo"] img');
    return i && i.complete && i.naturalWidth > 0;
  }, null, { timeout: 10000 });
  assert.deepEqual(await tile.locator('img').evaluate(i => [i.naturalWidth, i.naturalHeight]), [320, 240]);
}

// A fresh browser profile logged in through the form; the dashboard is showing.
async function loggedIn(who) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(`${service.url}/login.html`);
  await submitLogin(page, who);
  await page.waitForURL(`${service.url}/`);
  await page.locator('#session', { hasText: `${who.user} (${who.role})` }).waitFor({ timeout: 5000 });
  return { context, page, problems };
}

test('/ sends to the login page; a wrong password stays there with a message; the right one opens the dashboard', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(`${service.url}/`);
  const atLogin = new URL(page.url());
  assert.equal(`${atLogin.origin}${atLogin.pathname}`, `${service.url}/login.html`);
  assert.equal(atLogin.searchParams.get('next'), '/');
  await page.locator('#login').waitFor();

  await submitLogin(page, ADMIN, 'not the password');
  await page.locator('#message', { hasText: /\S/ }).waitFor({ timeout: 5000 });
  assert.match(await page.locator('#message').textContent(), /password|user|login/i);
  assert.equal(new URL(page.url()).pathname, '/login.html');
  assert.equal((await context.cookies(service.url)).length, 0, 'a failed login sets no cookie');

  await submitLogin(page, ADMIN);
  await page.waitForURL(`${service.url}/`, { timeout: 5000 });
  await waitForLiveTile(page);
  await page.locator('#session', { hasText: 'boss (admin)' }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#session #logout').textContent(), 'Log out');

  // The cookie is out of reach of page scripts and not sent with requests other sites start.
  assert.doesNotMatch(await page.evaluate(() => document.cookie), /camrelay_session/);
  const cookies = await context.cookies(service.url);
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  assert.equal(cookies[0].name, 'camrelay_session');
  assert.equal(cookies[0].httpOnly, true);
  assert.equal(cookies[0].sameSite, 'Strict');
  assert.equal(cookies[0].path, '/');
  assert.ok(cookies[0].value.length >= 16, 'a session id too long to guess');
  assert.deepEqual(problems.filter(p => !sessionProbe.test(p)), []);
  await context.close();
});

test('logging out goes to the login page, ends the session in the service, and / asks to log in again', async () => {
  const { context, page, problems } = await loggedIn(ADMIN);
  const [{ value: session }] = await context.cookies(service.url);
  const withCookie = { Cookie: `camrelay_session=${session}` };
  assert.equal(await cameraState(service, 'demo', withCookie), 'live', 'the session cookie opens the API');

  await page.click('#logout');
  await page.waitForURL(u => u.pathname === '/login.html', { timeout: 5000 });
  assert.equal(new URL(page.url()).searchParams.get('next'), '/');
  assert.equal((await context.cookies(service.url)).length, 0, 'the cookie is deleted');
  // Not only the browser forgot it: the service refuses the old session id too.
  const replay = await fetch(`${service.url}/api/cameras`, { headers: withCookie });
  assert.equal(replay.status, 401);

  await page.goto(`${service.url}/`);
  assert.equal(new URL(page.url()).pathname, '/login.html');
  const status = await page.evaluate(async () => (await fetch('/api/cameras', { cache: 'no-store' })).status);
  assert.equal(status, 401);
  // Only the 401 answers (the login page's probe and ours) show in the console.
  assert.deepEqual(problems.filter(p => !sessionProbe.test(p) && !/status of 401 .*\/api\/cameras\)$/.test(p)), []);
  await context.close();
});

test('a viewer sees the dashboard but cannot stop a camera', async () => {
  const { context, page, problems } = await loggedIn(VIEWER);
  await waitForLiveTile(page);
  const answer = await page.evaluate(async () => {
    const response = await fetch('/api/cameras/demo/stop', { method: 'POST', cache: 'no-store' });
    return { status: response.status, body: await response.json() };
  });
  assert.equal(answer.status, 403);
  assert.equal(answer.body.error, 'admin_only');
  await page.waitForTimeout(300);
  assert.equal(await cameraState(service), 'live');
  await waitForLiveTile(page);
  assert.equal(new URL(page.url()).pathname, '/', 'a 403 is not a reason to log in again');
  assert.deepEqual(problems.filter(p => !sessionProbe.test(p) && !/status of 403 .*\/api\/cameras\/demo\/stop\)$/.test(p)), []);
  await context.close();
});

// Runs the attack page of `site` against `target` in `context`; returns what it
// saw and the headers the browser sent with its stop requests (from DevTools:
// Playwright's request headers lack cookies when the answer is blocked, as
// cross-origin JSON answers to no-cors requests are).
async function attack(context, site, target) {
  const page = await context.newPage();
  const devtools = await context.newCDPSession(page);
  await devtools.send('Network.enable');
  const requests = new Map();
  const sentHeaders = new Map();
  devtools.on('Network.requestWillBeSent', e => requests.set(e.requestId, { url: e.request.url, type: e.type }));
  devtools.on('Network.requestWillBeSentExtraInfo', e => sentHeaders.set(e.requestId, e.headers));
  await page.goto(`${site.url}/?service=${encodeURIComponent(target.url)}`);
  const seen = await page.evaluate(() => window.attack);
  await page.waitForTimeout(200);
  const headers = [];
  for (const [id, { url, type }] of requests) {
    if (url !== `${target.url}/api/cameras/demo/stop`) continue;
    const sent = Object.fromEntries(Object.entries(sentHeaders.get(id) ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    headers.push({ type, ...sent });
  }
  await devtools.detach();
  await page.close();
  return { seen, headers };
}

test('a page of another origin on the same site cannot read the API, stop a camera or open a WebSocket, though the cookie goes along', async () => {
  const { context, page: dashboard } = await loggedIn(ADMIN);
  await waitForLiveTile(dashboard);
  const { seen, headers } = await attack(context, foreign, service);

  assert.match(seen.read.error ?? '', /TypeError/, JSON.stringify(seen.read));
  assert.match(seen.readWithCookie.error ?? '', /TypeError/, JSON.stringify(seen.readWithCookie));
  assert.deepEqual(seen.readNoCors, { type: 'opaque', status: 0, body: '' });
  assert.deepEqual(seen.stop, { type: 'opaque', status: 0 });
  assert.deepEqual(seen.form, { loaded: true });
  assert.deepEqual(seen.ws, { outcome: 'error' });
  // 127.0.0.1 on two ports is one site: SameSite=Strict did not hold the cookie
  // back, so it is the Origin check that refused these requests.
  assert.deepEqual(headers.map(h => h.type), ['Fetch', 'Document'], 'the fetch and the form post');
  for (const h of headers) {
    assert.match(h.cookie ?? '', /camrelay_session=/, JSON.stringify(h));
    assert.equal(h.origin, foreign.url);
  }
  await dashboard.waitForTimeout(300);
  assert.equal(await cameraState(service), 'live');
  await waitForLiveTile(dashboard);
  await context.close();
});

test('with authentication off, the Origin check alone keeps other pages out; an allowed origin gets in', async () => {
  const context = await browser.newContext();
  const refused = await attack(context, foreign, openService);
  assert.match(refused.seen.read.error ?? '', /TypeError/, JSON.stringify(refused.seen.read));
  assert.match(refused.seen.readWithCookie.error ?? '', /TypeError/, JSON.stringify(refused.seen.readWithCookie));
  assert.equal(refused.headers.length, 2, 'the fetch and the form post');
  for (const h of refused.headers) assert.equal(h.origin, foreign.url, JSON.stringify(h));
  assert.deepEqual(refused.seen.readNoCors, { type: 'opaque', status: 0, body: '' });
  assert.deepEqual(refused.seen.ws, { outcome: 'error' });
  await new Promise(resolve => setTimeout(resolve, 300));
  assert.equal(await cameraState(openService, 'demo', {}), 'live');

  // The same page from the origin in [server] allowed-origins: the test above can fail.
  const allowed = await attack(context, partner, openService);
  assert.equal(allowed.seen.read.status, 200, JSON.stringify(allowed.seen.read));
  assert.equal(JSON.parse(allowed.seen.read.body).cameras[0].id, 'demo');
  // Allowed origins call with a token or Basic header: cookies are never offered to them.
  assert.match(allowed.seen.readWithCookie.error ?? '', /TypeError/, JSON.stringify(allowed.seen.readWithCookie));
  assert.deepEqual(allowed.seen.ws, { outcome: 'open' });
  assert.equal(await cameraState(openService, 'demo', {}), 'stopped');
  await fetch(`${openService.url}/api/cameras/demo/start`, { method: 'POST' });
  await context.close();
});

test('the login page and the dashboard run under their CSP without console errors', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  const response = await page.goto(`${service.url}/login.html`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  await page.locator('#login').waitFor();
  // Give login.js its session probe; it answers 401 while logged out, a plain network status line.
  await page.waitForLoadState('networkidle');
  assert.deepEqual(problems.filter(p => !sessionProbe.test(p)), []);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'user', 'the script ran: autofocus on the user field');

  await submitLogin(page, ADMIN);
  await page.waitForURL(`${service.url}/`);
  await waitForLiveTile(page);
  await page.locator('#session', { hasText: 'boss (admin)' }).waitFor({ timeout: 5000 });
  await page.waitForTimeout(2500);  // one more poll of the camera list
  assert.deepEqual(problems.filter(p => !sessionProbe.test(p)), []);

  // The watcher does see CSP violations: an inline script is refused and reported.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true;';
    document.body.append(s);
  });
  assert.equal(await page.evaluate(() => window.inlineRan), undefined);
  await page.waitForTimeout(100);
  assert.ok(problems.some(p => /Content Security Policy/.test(p)), JSON.stringify(problems));
  await context.close();
});

test('?next= on the login page only leads to pages of this site', async () => {
  const cases = [
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['\\\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['/\t/evil.example', '/'],      // the URL parser drops tabs and newlines: "//evil.example"
    ['/\n/evil.example', '/'],
    [' //evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/viewer.html?camera=demo', '/viewer.html?camera=demo'],
  ];
  const landing = async (page, next) => {
    await page.waitForURL(u => u.pathname !== '/login.html' || u.origin !== service.url, { timeout: 5000 });
    const landed = new URL(page.url());
    assert.equal(landed.origin, service.url, `next=${JSON.stringify(next)} left the site for ${page.url()}`);
    return landed.pathname + landed.search;
  };
  for (const [next, expected] of cases) {
    const context = await browser.newContext();
    // Nothing leaves the machine: any other host answers with a marker page.
    await context.route(u => u.hostname !== '127.0.0.1', route => route.fulfill({ contentType: 'text/html', body: 'elsewhere' }));
    const page = await context.newPage();
    await page.goto(`${service.url}/login.html?next=${encodeURIComponent(next)}`);
    await submitLogin(page, ADMIN);
    assert.equal(await landing(page, next), expected, `next=${JSON.stringify(next)}`);
    // Logged in already, the login page leaves by itself: to the same places.
    await page.goto(`${service.url}/login.html?next=${encodeURIComponent(next)}`);
    assert.equal(await landing(page, next), expected, `logged in, next=${JSON.stringify(next)}`);
    await context.close();
  }
});

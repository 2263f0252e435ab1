// The camera editor (editor.html) in real headless Chromium against the real
// service: validate and apply a pipeline with a typo (GStreamer's error next to
// the text, the element marked, the old stream still playing on the dashboard),
// fix it (the new stream arrives), create a camera from the test-pattern
// template (it plays), the graph, ETag conflicts, bad keys next to their
// field, the IP camera template's URL-encoded login, delete with confirmation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera, screenshotPath, shots } from './service.mjs';

let service, browser;

before(async () => {
  service = await startService({
    'demo.conf': testCamera(320, 240, 15),
    'other.conf': testCamera(320, 240, 15).replace('name=Test pattern', 'name=Other camera'),
  });
  browser = await chromium.launch(launchOptions);
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

async function dashboardTile(context, id) {
  const page = await context.newPage();
  await page.goto(`${service.url}/`);
  await page.waitForFunction(i => window.camrelayStats?.cameras[i]?.drawn > 2, id, { timeout: 15000 });
  return page;
}

async function moving(page, selector, what) {
  const [a] = await shots(page, [selector]);
  await page.waitForTimeout(500);
  const [b] = await shots(page, [selector]);
  assert.notDeepEqual(a, b, `${what} should be moving`);
}

async function openEditor(context, id) {
  const page = await context.newPage();
  await page.goto(`${service.url}/editor.html${id ? `?camera=${id}` : ''}`);
  if (id) await page.waitForFunction(() => document.getElementById('source').value !== '', null, { timeout: 10000 });
  return page;
}

test('a typo in the pipeline shows GStreamer\'s error at the element while the old stream plays; the fix brings the new stream', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const dashboard = await dashboardTile(context, 'demo');
  const editor = await openEditor(context, 'demo');
  await editor.locator('#preview[data-state="live"]').waitFor({ timeout: 10000 });
  await editor.fill('#source', 'videotestsrcc is-live=true pattern=ball');

  await editor.click('#validate');
  const error = editor.locator('#source-error');
  await error.filter({ hasText: /videotestsrcc/ }).waitFor({ timeout: 10000 });
  assert.match(await error.textContent(), /no element "videotestsrcc"/);
  assert.equal(await editor.locator('#source-view mark').textContent(), 'videotestsrcc');

  await editor.fill('#source', 'videotestsrcc is-live=true pattern=ball');  // clears the marks
  await editor.click('#apply');
  await error.filter({ hasText: /videotestsrcc/ }).waitFor({ timeout: 10000 });
  assert.match(await error.textContent(), /no element "videotestsrcc"/);
  await editor.screenshot({ path: screenshotPath('editor-typo') });
  // Nothing changed: the camera keeps playing its old pipeline, on the dashboard and in the preview.
  await moving(dashboard, 'section.tile[data-camera="demo"] img', 'the dashboard tile');
  await moving(editor, '#preview img', 'the preview');
  const still = await (await fetch(`${service.url}/api/cameras/demo`)).json();
  assert.equal(still.state, 'live');
  assert.match(still.config.source, /^videotestsrc is-live/);

  // Fixed, with a new size so the new stream is told apart from the old one.
  await editor.fill('#source', 'videotestsrc is-live=true pattern=smpte');
  await editor.fill('#width', '352');
  await editor.fill('#height', '288');
  await editor.click('#validate');
  await editor.locator('#validate-result', { hasText: /^valid/ }).waitFor({ timeout: 10000 });
  assert.equal(await error.textContent(), '');
  await editor.click('#apply');
  await editor.locator('#validate-result', { hasText: 'applied' }).waitFor({ timeout: 10000 });
  await dashboard.waitForFunction(() => window.camrelayStats.cameras.demo?.width === 352, null, { timeout: 15000 });
  await moving(dashboard, 'section.tile[data-camera="demo"] img', 'the new stream');
  await dashboard.screenshot({ path: screenshotPath('editor-fixed-dashboard') });
  await context.close();
});

test('a camera created from the test-pattern template appears live on the dashboard', async () => {
  const context = await browser.newContext();
  const editor = await openEditor(context);
  await editor.locator('#template-box').waitFor({ state: 'visible', timeout: 5000 });
  await editor.selectOption('#template', 'test');
  assert.match(await editor.inputValue('#source'), /^videotestsrc /);
  await editor.fill('#id', 'pattern2');
  await editor.fill('#name', 'Second <b>pattern</b>');
  await editor.fill('#width', '320');
  await editor.fill('#height', '240');
  await editor.click('#apply');
  await editor.waitForURL(u => u.search.includes('camera=pattern2'), { timeout: 10000 });
  await editor.locator('#preview[data-state="live"]').waitFor({ timeout: 15000 });
  await editor.waitForFunction(() => Number(document.getElementById('preview').dataset.frames) > 2, null, { timeout: 10000 });
  const dashboard = await dashboardTile(context, 'pattern2');
  const tile = dashboard.locator('section.tile[data-camera="pattern2"]');
  // The name is text, never markup.
  assert.equal(await tile.locator('.name').textContent(), 'Second <b>pattern</b>');
  assert.equal(await tile.locator('.name b').count(), 0);
  await moving(dashboard, 'section.tile[data-camera="pattern2"] img', 'the new camera');
  await dashboard.screenshot({ path: screenshotPath('editor-created-dashboard') });
  await context.close();
});

test('the graph of the running pipeline renders as inline SVG with nodes, with a link to the DOT', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const editor = await openEditor(context, 'other');
  await editor.click('#graph-load');
  await editor.locator('#graph svg').waitFor({ timeout: 15000 });
  assert.ok(await editor.locator('#graph svg g.node').count() > 2, 'nodes in the graph');
  assert.match(await editor.locator('#graph svg').textContent(), /videotestsrc/);
  assert.equal(await editor.locator('#graph svg script').count(), 0);
  const dot = await editor.locator('#graph-dot').getAttribute('href');
  const answer = await fetch(`${service.url}${dot}`);
  assert.equal(answer.status, 200);
  assert.match(await answer.text(), /digraph/);
  await editor.screenshot({ path: screenshotPath('editor-graph') });
  await context.close();
});

test('a change made elsewhere meanwhile gets "changed elsewhere, reload"; a bad key is named next to its field', async () => {
  const context = await browser.newContext();
  const editor = await openEditor(context, 'other');
  const config = await fetch(`${service.url}/api/cameras/other/config`);
  const patched = await fetch(`${service.url}/api/cameras/other`, {
    method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': config.headers.get('ETag') },
    body: JSON.stringify({ name: 'Renamed elsewhere' }),
  });
  assert.equal(patched.status, 200, await patched.text());
  await editor.fill('#name', 'Renamed here');
  await editor.click('#apply');
  await editor.locator('#form-error', { hasText: /changed elsewhere/ }).waitFor({ timeout: 10000 });
  await editor.click('#reload');
  await editor.waitForFunction(() => document.getElementById('name').value === 'Renamed elsewhere', null, { timeout: 10000 });

  await editor.fill('#quality', '500');
  await editor.click('#apply');
  const quality = editor.locator('.field-error[data-for="quality"]');
  await quality.filter({ hasText: /quality/ }).waitFor({ timeout: 10000 });
  assert.equal(await editor.locator('#form-error').textContent(), '');

  // Rename: the display name only.
  await editor.fill('#quality', '');
  await editor.fill('#name', 'Renamed here');
  await editor.click('#apply');
  await editor.locator('#validate-result', { hasText: 'applied' }).waitFor({ timeout: 10000 });
  // The camera takes the new name once its new settings run (a hot apply).
  let name = '';
  for (let i = 0; i < 100 && name !== 'Renamed here'; i += 1) {
    name = (await (await fetch(`${service.url}/api/cameras/other`)).json()).name;
    if (name !== 'Renamed here') await new Promise(r => setTimeout(r, 100));
  }
  assert.equal(name, 'Renamed here');
  await context.close();
});

test('the IP camera template takes a password in a password field and URL-encodes the login', async () => {
  const context = await browser.newContext();
  const editor = await openEditor(context);
  await editor.selectOption('#template', 'ip');
  assert.equal(await editor.getAttribute('#ip-password', 'type'), 'password');
  await editor.fill('#ip-host', '192.0.2.7:554');
  await editor.fill('#ip-path', '/Streaming/Channels 101');
  await editor.fill('#ip-user', 'ad min');
  await editor.fill('#ip-password', 'p@ss:w/rd!');
  // The box shows the source with the password hidden; the request carries it encoded.
  assert.equal(await editor.inputValue('#source'), 'rtspsrc location=rtsp://ad%20min:***@192.0.2.7:554/Streaming/Channels%20101 protocols=tcp latency=200');
  assert.equal(await editor.evaluate(() => ipSource(false)),
               'rtspsrc location=rtsp://ad%20min:p%40ss%3Aw%2Frd%21@192.0.2.7:554/Streaming/Channels%20101 protocols=tcp latency=200');
  await editor.fill('#ip-host', 'bad host/x');
  await editor.fill('#id', 'ipcam');
  await editor.click('#apply');
  await editor.locator('#source-error', { hasText: /host/ }).waitFor({ timeout: 5000 });
  await context.close();
});

test('delete asks first; confirmed, the camera goes from the dashboard', async () => {
  const context = await browser.newContext();
  const created = await fetch(`${service.url}/api/cameras`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'doomed', name: 'Doomed', source: 'videotestsrc is-live=true', width: 160, height: 120 }),
  });
  assert.equal(created.status, 201, await created.text());
  const editor = await openEditor(context, 'doomed');
  let asked = '';
  editor.once('dialog', d => { asked = d.message(); d.dismiss(); });
  await editor.click('#delete');
  await editor.waitForTimeout(300);
  assert.match(asked, /Delete camera "doomed"/);
  assert.equal((await fetch(`${service.url}/api/cameras/doomed`)).status, 200, 'dismissed: still there');
  editor.once('dialog', d => d.accept());
  await editor.click('#delete');
  await editor.waitForURL(u => u.pathname === '/', { timeout: 10000 });
  await editor.locator('section.tile[data-camera="demo"]').waitFor({ timeout: 10000 });
  assert.equal(await editor.locator('section.tile[data-camera="doomed"]').count(), 0);
  assert.equal((await fetch(`${service.url}/api/cameras/doomed`)).status, 404);
  await context.close();
});

test('at 390 px the editor fits the width', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const editor = await openEditor(context, 'demo');
  const { scroll, client } = await editor.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `scrollWidth ${scroll} > clientWidth ${client}`);
  await editor.screenshot({ path: screenshotPath('editor-390px'), fullPage: true });
  await context.close();
});

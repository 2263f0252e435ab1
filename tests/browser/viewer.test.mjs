// The WebSocket viewer page in real headless Chromium: frames drawn on a
// canvas, live stats, state messages, reconnection after a service restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera } from './service.mjs';

const cameras = {
  'demo.conf': testCamera(320, 240, 30),
  'parked.conf': '[camera]\nname=Parked\nsource=videotestsrc is-live=true\nenabled=false\n',
};
let service, browser;

before(async () => {
  service = await startService(cameras);
  browser = await chromium.launch(launchOptions);
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

const canvasPixels = (page, id) => page.evaluate(camera => {
  const c = document.querySelector(`section.tile[data-camera="${camera}"] canvas`);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 97 === 0));
}, id);

test('the viewer draws changing frames with stats, and says when a camera is stopped', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/viewer.html?camera=demo,parked`);
  await page.waitForFunction(() => Number(document.querySelector('section[data-camera="demo"] canvas')?.dataset.frames) > 10,
                             null, { timeout: 10000 });
  const size = await page.locator('section[data-camera="demo"] canvas').evaluate(c => [c.width, c.height]);
  assert.deepEqual(size, [320, 240]);
  const first = await canvasPixels(page, 'demo');
  await page.waitForTimeout(300);
  assert.notDeepEqual(await canvasPixels(page, 'demo'), first, 'the picture should be moving');
  await page.waitForFunction(() => Number(document.querySelector('section[data-camera="demo"] .stats')?.dataset.fps) > 10,
                             null, { timeout: 5000 });
  const stats = await page.locator('section[data-camera="demo"] .stats').textContent();
  assert.match(stats, /fps · \d+ frames · \d+ KiB\/s · latency \d+ ms/);
  assert.equal(await page.locator('#connection').getAttribute('data-state'), 'open');
  await page.locator('section[data-camera="parked"] .offline', { hasText: 'Camera stopped' }).waitFor({ timeout: 5000 });
  // Names as on the dashboard (issue 13), the id as the tooltip.
  const parkedName = page.locator('section[data-camera="parked"] .name');
  await parkedName.filter({ hasText: 'Parked' }).waitFor({ timeout: 5000 });
  assert.equal(await parkedName.getAttribute('title'), 'parked');
  await page.close();
});

test('every page has an icon and loads without a console error (issue 13: /favicon.ico was 404)', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  // ERR_ABORTED: the next goto() cut a load short (the icon is fetched lazily); not a failure of the page.
  page.on('requestfailed', r => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', r => { if (r.status() >= 400) errors.push(`${r.url()}: ${r.status()}`); });
  for (const path of ['/', '/viewer.html?camera=demo', '/recordings.html', '/login.html']) {
    await page.goto(`${service.url}${path}`);
    await page.waitForLoadState('networkidle').catch(() => {});
    const icon = await page.evaluate(() => document.querySelector('link[rel="icon"]')?.href);
    const answer = await page.request.get(icon);
    assert.equal(answer.status(), 200, `${path}: icon ${icon}`);
    assert.match(answer.headers()['content-type'], /^image\//);
  }
  const ico = await page.request.get(`${service.url}/favicon.ico`);
  assert.equal(ico.status(), 200);
  assert.equal(ico.headers()['content-type'], 'image/vnd.microsoft.icon');
  assert.deepEqual([...(await ico.body()).subarray(0, 4)], [0, 0, 1, 0], 'an ICO header');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the viewer reconnects by itself when the service restarts', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/viewer.html?camera=demo`);
  const frames = () => page.evaluate(() => Number(document.querySelector('section[data-camera="demo"] canvas').dataset.frames || 0));
  await page.waitForFunction(() => Number(document.querySelector('section[data-camera="demo"] canvas')?.dataset.frames) > 5,
                             null, { timeout: 10000 });
  const port = service.port;
  await service.stop();
  await page.locator('#connection[data-state="closed"]', { hasText: 'retrying in 3 s' }).waitFor({ timeout: 5000 });
  service = await startService(cameras, port);
  const before = await frames();
  await page.locator('#connection[data-state="open"]', { hasText: 'after 1 reconnect' }).waitFor({ timeout: 10000 });
  await page.waitForFunction(n => Number(document.querySelector('section[data-camera="demo"] canvas').dataset.frames) > n + 10,
                             before, { timeout: 10000 });
  await page.close();
});

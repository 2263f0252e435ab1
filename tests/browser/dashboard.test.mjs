// The dashboard in real headless Chromium: live tiles play, failed cameras say
// why, cameras that are down show the service's "camera offline" picture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera } from './service.mjs';

let service, browser;

before(async () => {
  service = await startService({
    'demo.conf': testCamera(320, 240, 30),
    'broken.conf': '[camera]\nname=Broken camera\nsource=nosuchsrc\n',
    // Nothing listens on port 1: the camera is down from the start and keeps retrying.
    'gone.conf': '[camera]\nname=Gone camera\nsource=rtspsrc location=rtsp://127.0.0.1:1/cam protocols=tcp\n',
  });
  browser = await chromium.launch(launchOptions);
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

test('the dashboard shows the live camera as a moving MJPEG tile', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  const tile = page.locator('section.tile[data-camera="demo"]');
  await tile.locator('.state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  assert.equal(await tile.locator('.name').textContent(), 'Test pattern');
  const img = tile.locator('img');
  await page.waitForFunction(() => {
    const i = document.querySelector('section.tile[data-camera="demo"] img');
    return i && i.complete && i.naturalWidth > 0;
  }, null, { timeout: 10000 });
  const size = await img.evaluate(i => [i.naturalWidth, i.naturalHeight]);
  assert.deepEqual(size, [320, 240]);
  // The ball moves: two captures of the tile a moment apart differ.
  const first = await img.screenshot();
  await page.waitForTimeout(400);
  const second = await img.screenshot();
  assert.notDeepEqual(first, second, 'the stream should be changing');
  await page.screenshot({ path: process.env.SCREENSHOT_DIR ? `${process.env.SCREENSHOT_DIR}/dashboard.png` : '/tmp/camrelay-dashboard.png' });
  await page.close();
});

test('a failed camera shows its state and the reason, with no stream', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  const tile = page.locator('section.tile[data-camera="broken"]');
  await tile.locator('.state', { hasText: 'failed' }).waitFor({ timeout: 10000 });
  assert.equal(await tile.locator('img').count(), 0);
  assert.match(await tile.locator('.offline').textContent(), /Camera failed/);
  assert.match(await tile.locator('.detail').first().textContent(), /no element "nosuchsrc"/);
  assert.match(await page.locator('#summary').textContent(), /3 camera\(s\), 1 live/);
  await page.close();
});

test('stopping a camera from the API turns its tile offline, starting it plays again', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  const tile = page.locator('section.tile[data-camera="demo"]');
  await tile.locator('img').waitFor({ timeout: 10000 });
  await fetch(`${service.url}/api/cameras/demo/stop`, { method: 'POST' });
  await tile.locator('.offline', { hasText: 'Camera stopped' }).waitFor({ timeout: 10000 });
  await fetch(`${service.url}/api/cameras/demo/start`, { method: 'POST' });
  await tile.locator('img').waitFor({ timeout: 10000 });
  await page.close();
});

test('a camera that is down keeps its tile streaming the "camera offline" picture and says why', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  const tile = page.locator('section.tile[data-camera="gone"]');
  await tile.locator('.state', { hasText: /stalled|reconnecting/ }).waitFor({ timeout: 10000 });
  await page.waitForFunction(() => {
    const i = document.querySelector('section.tile[data-camera="gone"] img');
    return i && i.complete && i.naturalWidth > 0;
  }, null, { timeout: 10000 });
  // The placeholder is rendered by the service at its default size when the camera never showed one.
  assert.deepEqual(await tile.locator('img').evaluate(i => [i.naturalWidth, i.naturalHeight]), [640, 360]);
  assert.match(await tile.locator('.detail').first().textContent(), /rtspsrc\d+: /);
  assert.match(await tile.locator('a.rtsp').getAttribute('href'), /^rtsp:\/\/127\.0\.0\.1:\d+\/gone$/);
  await page.close();
});

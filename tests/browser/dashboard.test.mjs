// The dashboard in real headless Chromium: live tiles play (drawn from the one
// /api/ws WebSocket), failed cameras say why, cameras that are down show the
// service's "camera offline" picture; 12 cameras all move on at most 2
// connections; tiles out of view unsubscribe; cameras added and removed
// elsewhere appear and go; the phone-width layout does not scroll sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera, screenshotPath, getJsonFresh } from './service.mjs';

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

test('the dashboard shows the live camera as a moving tile', async () => {
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
  await page.screenshot({ path: screenshotPath('dashboard') });
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

test('the tile offers snapshot download, viewer, fullscreen, start/stop and edit to an admin (auth off)', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  const tile = page.locator('section.tile[data-camera="demo"]');
  await tile.locator('.state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  assert.equal(await tile.locator('a.snapshot').getAttribute('download'), 'demo.jpg');
  assert.equal(await tile.locator('a.viewer').getAttribute('href'), '/viewer.html?camera=demo');
  assert.equal(await tile.locator('a.edit').getAttribute('href'), '/editor.html?camera=demo');
  await page.locator('#add-camera').waitFor({ state: 'visible', timeout: 5000 });
  // The snapshot link really downloads a JPEG.
  const [download] = await Promise.all([page.waitForEvent('download'), tile.locator('a.snapshot').click()]);
  assert.equal(download.suggestedFilename(), 'demo.jpg');
  // Stop and start from the tile.
  await tile.locator('button.start-stop', { hasText: 'stop' }).click();
  await tile.locator('.offline', { hasText: 'Camera stopped' }).waitFor({ timeout: 10000 });
  await tile.locator('button.start-stop', { hasText: 'start' }).click();
  await tile.locator('.state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  await page.waitForFunction(() => Number(document.querySelector('section.tile[data-camera="demo"]')?.dataset.frames) > 0,
                             null, { timeout: 10000 });
  // Fullscreen shows the frame alone.
  await tile.locator('button.fullscreen').click();
  await page.waitForFunction(() => document.fullscreenElement?.classList.contains('frame'), null, { timeout: 5000 });
  await page.evaluate(() => document.exitFullscreen());
  await page.close();
});

// A digest of the pixels each camera's tile <img> shows (the blob URLs are
// same-origin, so the canvas is readable). While the next frame decodes,
// Chromium reports the <img> as not complete with naturalWidth 0 (the previous
// picture stays on screen), so each tile is read at a moment it is complete:
// polled for up to 3 s, which on a loaded machine can take a few tries.
function tilePixels(page, ids) {
  return page.evaluate(async list => {
    const read = img => {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(img, 0, 0);
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let a = 1, b = 0;  // Adler-32 over every pixel
      for (let i = 0; i < data.length; i += 1) { a = (a + data[i]) % 65521; b = (b + a) % 65521; }
      return `${canvas.width}x${canvas.height}:${b * 65536 + a}:${data.length}`;
    };
    const results = [];
    for (const id of list) {
      const deadline = performance.now() + 3000;
      let result;
      for (;;) {
        const tile = document.querySelector(`section.tile[data-camera="${id}"]`);
        const img = tile?.querySelector('img');
        if (img?.complete && img.naturalWidth) { result = read(img); break; }
        if (performance.now() > deadline) {
          // Say what the tile shows instead, so a failure explains itself.
          result = img ? `empty <img>: complete ${img.complete}, state ${tile.dataset.state}`
                       : `no <img>: state ${tile?.dataset.state}, frame "${tile?.querySelector('.frame')?.textContent}"`;
          break;
        }
        await new Promise(r => setTimeout(r, 5));
      }
      results.push(result);
    }
    return results;
  }, ids);
}

// 12 cameras, each 320x240: every tile moves while the page holds at most 2
// connections to the service. How we count: the service's own count of open
// client connections (/health http.connections; the service answers every
// request with Connection: close, so no idle keep-alive connection hides in
// it), sampled every 200 ms for 3 s from a connection of our own (minus 1),
// and Chromium's side through CDP: one WebSocket, no MJPEG stream request.
test('12 cameras all move on the dashboard over at most 2 connections', async () => {
  const cameras = {};
  for (let i = 1; i <= 12; i += 1)
    cameras[`cam${String(i).padStart(2, '0')}.conf`] = testCamera(320, 240, 10).replace('name=Test pattern', `name=Camera ${i}`);
  const many = await startService(cameras);
  const page = await browser.newPage({ viewport: { width: 1700, height: 1400 } });
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const sockets = [];
    const requests = [];
    cdp.on('Network.webSocketCreated', e => sockets.push(e.url));
    cdp.on('Network.requestWillBeSent', e => requests.push(e.request.url));
    await page.goto(`${many.url}/`);
    const ids = Object.keys(cameras).map(f => f.replace('.conf', ''));
    await page.waitForFunction(n => {
      const s = window.camrelayStats?.cameras || {};
      return Object.values(s).filter(c => c.drawn >= 3).length === n;
    }, ids.length, { timeout: 20000 });
    // The pixels each tile shows, read back through a canvas, twice.
    const first = await tilePixels(page, ids);
    await page.waitForTimeout(600);
    const second = await tilePixels(page, ids);
    for (let i = 0; i < ids.length; i += 1) {
      assert.match(first[i], /^320x240:/, `tile ${ids[i]} shows a picture`);
      assert.notEqual(first[i], second[i], `tile ${ids[i]} should be moving`);
    }
    let most = 0;
    for (let i = 0; i < 15; i += 1) {
      const health = await getJsonFresh(`${many.url}/health`);
      most = Math.max(most, health.http.connections - 1);
      await new Promise(r => setTimeout(r, 200));
    }
    assert.ok(most <= 2, `the page held ${most} connections`);
    assert.ok(most >= 1, 'the WebSocket is counted');
    assert.deepEqual(sockets.map(u => new URL(u).pathname), ['/api/ws']);
    assert.deepEqual(requests.filter(u => /\/stream\b/.test(u)), []);
    const sizes = await page.evaluate(() => Object.values(window.camrelayStats.cameras).map(c => `${c.width}x${c.height}`));
    assert.deepEqual([...new Set(sizes)], ['320x240']);
    await page.screenshot({ path: screenshotPath('dashboard-12-cameras') });

    // A small window shows a few tiles: the others unsubscribe and draw nothing.
    await page.setViewportSize({ width: 800, height: 400 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(800);
    const before = await page.evaluate(() => ({ ...Object.fromEntries(Object.entries(window.camrelayStats.cameras).map(([k, v]) => [k, v.received])) }));
    await page.waitForTimeout(1500);
    const after = await page.evaluate(() => Object.fromEntries(Object.entries(window.camrelayStats.cameras).map(([k, v]) => [k, v.received])));
    assert.ok(after.cam01 > before.cam01, 'the first tile, in view, keeps receiving');
    assert.equal(after.cam12, before.cam12, 'the last tile, out of view, receives nothing');
    // Scrolled into view it plays again.
    await page.locator('section.tile[data-camera="cam12"]').scrollIntoViewIfNeeded();
    await page.waitForFunction(n => window.camrelayStats.cameras.cam12.received > n, after.cam12, { timeout: 5000 });
  } finally {
    await page.close();
    await many.stop();
  }
});

test('cameras added and removed elsewhere appear and go; a removed tile stops cleanly', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  await page.locator('section.tile[data-camera="demo"] .state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  const created = await fetch(`${service.url}/api/cameras`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'extra', name: 'Extra camera', source: 'videotestsrc is-live=true pattern=smpte', width: 320, height: 240, framerate: 10 }),
  });
  assert.equal(created.status, 201, await created.text());
  const tile = page.locator('section.tile[data-camera="extra"]');
  await tile.locator('.state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  await page.waitForFunction(() => window.camrelayStats.cameras.extra?.drawn > 2, null, { timeout: 10000 });
  const removed = await fetch(`${service.url}/api/cameras/extra`, { method: 'DELETE' });
  assert.equal(removed.status, 204, await removed.text());
  await tile.waitFor({ state: 'detached', timeout: 10000 });
  assert.equal(await page.evaluate(() => window.camrelayStats.cameras.extra), undefined);
  assert.ok(!(await page.evaluate(() => camrelayFeed.watching())).includes('extra'), 'unsubscribed');
  await page.close();
});

test('at 390 px the dashboard fits the width: no horizontal scroll', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(`${service.url}/`);
  await page.locator('section.tile[data-camera="demo"] .state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  await page.locator('section.tile[data-camera="gone"] .state', { hasText: /stalled|reconnecting/ }).waitFor({ timeout: 10000 });
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `scrollWidth ${scroll} > clientWidth ${client}`);
  await page.screenshot({ path: screenshotPath('dashboard-390px'), fullPage: true });
  await page.close();
});

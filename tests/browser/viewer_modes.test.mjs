// The viewer page's four modes (issue 14) in real headless Chromium against the
// real binary: MJPEG (fetch + multipart parser), WebSocket, HLS (hls.js) and
// WebRTC (WHEP) play the same camera with fps and a numeric latency on screen;
// switching stops the previous mode (the MJPEG viewer and the WHEP peer are
// gone from the service's own figures); ?mode= reopens a mode; a failing mode
// shows the service's message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera, screenshotPath, getJsonFresh } from './service.mjs';
import { get as httpGet } from 'node:http';

const cameras = { 'demo.conf': testCamera(320, 240, 30) };
let service, browser;

before(async () => {
  service = await startService(cameras);
  browser = await chromium.launch({ ...launchOptions,
                                    args: [...launchOptions.args, '--autoplay-policy=no-user-gesture-required'] });
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

const tile = '#views section[data-camera="demo"]';

function getText(url) {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false, headers: { Connection: 'close' } }, response => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', chunk => { text += chunk; });
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

async function webrtcPeers() {
  const text = await getText(`${service.url}/metrics`);
  const m = text.match(/^camrelay_webrtc_peers\{camera="demo"\} (\d+)/m);
  return m ? Number(m[1]) : 0;
}

// Polls fn() until it returns what is wanted (deep equal), or fails with the last value.
async function until(fn, wanted, what, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (JSON.stringify(last) === JSON.stringify(wanted)) return;
    await new Promise(r => setTimeout(r, 200));
  }
  assert.deepEqual(last, wanted, what);
}

const canvasPixels = page => page.evaluate(sel => {
  const c = document.querySelector(`${sel} canvas`);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 97 === 0));
}, tile);

const statsOf = page => page.locator(`${tile} .stats`).evaluate(s => ({ ...s.dataset, text: s.textContent }));

async function newPage(width = 1280) {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  page.errors = errors;
  return page;
}

// A canvas mode: frames counted and drawn, the picture moves, a numeric latency.
async function expectCanvasPlays(page, mode) {
  assert.equal(await page.locator(`${tile} .modes button[data-mode="${mode}"]`).getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(sel => Number(document.querySelector(`${sel} canvas`)?.dataset.frames) > 10, tile,
                             { timeout: 10000 });
  assert.deepEqual(await page.locator(`${tile} canvas`).evaluate(c => [c.width, c.height, c.hidden]), [320, 240, false]);
  const first = await canvasPixels(page);
  await page.waitForTimeout(300);
  assert.notDeepEqual(await canvasPixels(page), first, `${mode}: the picture should be moving`);
  await page.waitForFunction(sel => Number(document.querySelector(`${sel} .stats`)?.dataset.fps) > 10 &&
                                    document.querySelector(`${sel} .stats`).dataset.latency !== undefined,
                             tile, { timeout: 5000 });
  const stats = await statsOf(page);
  assert.equal(stats.mode, mode);
  assert.match(stats.text, /^\d+\.\d fps · \d+ frames · \d+ KiB\/s · latency \d+ ms · #\d+$/);
  const latency = Number(stats.latency);
  assert.ok(latency >= 0 && latency < 1000, `${mode}: latency ${latency} ms on loopback`);
}

// A video mode: currentTime advances ≥ 2 s at the camera's size, a numeric latency.
async function expectVideoPlays(page, mode, latencySign) {
  assert.equal(await page.locator(`${tile} .modes button[data-mode="${mode}"]`).getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(sel => document.querySelector(`${sel} video`).currentTime > 0, tile, { timeout: 20000 });
  const start = await page.locator(`${tile} video`).evaluate(v => v.currentTime);
  await page.waitForFunction(([sel, t]) => document.querySelector(`${sel} video`).currentTime >= t + 2, [tile, start],
                             { timeout: 10000 });
  assert.deepEqual(await page.locator(`${tile} video`).evaluate(v => [v.videoWidth, v.videoHeight, v.hidden]),
                   [320, 240, false]);
  await page.waitForFunction(sel => document.querySelector(`${sel} .stats`)?.dataset.latency !== undefined &&
                                    Number(document.querySelector(`${sel} .stats`).dataset.fps) > 10,
                             tile, { timeout: 10000 });
  const stats = await statsOf(page);
  assert.equal(stats.mode, mode);
  assert.match(stats.text, new RegExp(`^\\d+\\.\\d fps · \\d+ frames · \\d+ KiB/s · latency ${latencySign}\\d+ ms$`));
  assert.ok(Number(stats.frames) > 30, `${mode}: ${stats.frames} frames decoded`);
  return Number(stats.latency);
}

test('MJPEG mode parses the multipart stream; switching to WebSocket ends the MJPEG request; ?mode= reopens', async () => {
  const page = await newPage();
  await page.goto(`${service.url}/viewer.html?camera=demo&mode=mjpeg`);
  await expectCanvasPlays(page, 'mjpeg');
  assert.match(await page.locator(`${tile} .means`).textContent(), /X-Timestamp/);
  const during = await getJsonFresh(`${service.url}/api/cameras/demo`);
  assert.deepEqual([during.mjpeg_viewers, during.ws_viewers], [1, 0]);
  await page.screenshot({ path: screenshotPath('viewer-mode-mjpeg') });

  await page.locator(`${tile} .modes button[data-mode="ws"]`).click();
  assert.match(page.url(), /[?&]mode=ws(&|$)/);
  await expectCanvasPlays(page, 'ws');
  await until(async () => { const c = await getJsonFresh(`${service.url}/api/cameras/demo`); return [c.mjpeg_viewers, c.ws_viewers]; },
              [0, 1], 'the MJPEG fetch is aborted, the WebSocket subscribed');

  await page.locator(`${tile} .modes button[data-mode="mjpeg"]`).click();
  await page.reload();
  await expectCanvasPlays(page, 'mjpeg');
  await until(async () => { const c = await getJsonFresh(`${service.url}/api/cameras/demo`); return [c.mjpeg_viewers, c.ws_viewers]; },
              [1, 0], 'reopened in MJPEG mode, unsubscribed from the WebSocket');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the MJPEG parser bounds a part and its headers', async () => {
  const page = await newPage();
  await page.goto(`${service.url}/viewer.html`);
  const results = await page.evaluate(() => {
    const enc = new TextEncoder();
    const run = (text, chunk = 7) => {
      const p = new camrelayMjpeg.Parser('b');
      const bytes = typeof text === 'string' ? enc.encode(text) : text;
      const parts = [];
      try {
        for (let i = 0; i < bytes.length; i += chunk) parts.push(...p.push(bytes.subarray(i, i + chunk)));
      } catch (e) { return { parts: parts.length, error: e.message }; }
      return { parts: parts.map(x => [x.headers.get('x-timestamp'), new TextDecoder().decode(x.body)]) };
    };
    return {
      good: run('--b\r\nContent-Length: 3\r\nX-Timestamp: 1.5\r\n\r\nabc\r\n--b\r\nContent-Length: 2\r\n\r\nxy\r\n--b\r\n'),
      noLength: run('--b\r\nX-Timestamp: 2\r\n\r\nhello\r\n--b\r\n'),
      hugeHead: run(`--b\r\nX: ${'a'.repeat(9000)}`, 1000),
      hugeLength: run('--b\r\nContent-Length: 999999999\r\n\r\n'),
      badLength: run('--b\r\nContent-Length: -1\r\n\r\n'),
      wrongLength: run('--b\r\nContent-Length: 1\r\n\r\nabc\r\n--b\r\n'),
    };
  });
  assert.deepEqual(results.good, { parts: [['1.5', 'abc'], [undefined, 'xy']] });
  assert.deepEqual(results.noLength, { parts: [['2', 'hello']] });
  assert.match(results.hugeHead.error, /headers exceed 8192 bytes/);
  assert.match(results.hugeLength.error, /exceeds 16777216/);
  assert.match(results.badLength.error, /bad Content-Length "-1"/);
  assert.match(results.wrongLength.error, /no boundary after a part/);
  await page.close();
});

test('HLS mode plays the camera in a <video> with the PROGRAM-DATE-TIME latency', async () => {
  const page = await newPage();
  await page.goto(`${service.url}/viewer.html?camera=demo&mode=hls`);
  const latency = await expectVideoPlays(page, 'hls', '');
  assert.ok(latency > 0 && latency < 30000, `HLS latency ${latency} ms`);
  assert.ok(await page.evaluate(() => typeof Hls !== 'undefined' && Hls.isSupported()), 'played through hls.js (MSE)');
  assert.match(await page.locator(`${tile} .means`).textContent(), /PROGRAM-DATE-TIME/);
  await page.screenshot({ path: screenshotPath('viewer-mode-hls') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('WebRTC mode plays through WHEP; switching away and leaving the page DELETE the peer', async () => {
  const page = await newPage();
  await page.goto(`${service.url}/viewer.html?camera=demo&mode=webrtc`);
  const latency = await expectVideoPlays(page, 'webrtc', '≈');
  assert.ok(latency >= 0 && latency < 1000, `WebRTC latency ${latency} ms on loopback`);
  assert.match(await page.locator(`${tile} .means`).textContent(), /^latency ≈ (RTT\/2 \+ jitter buffer \+ decode|capture → display)/);
  assert.equal(await webrtcPeers(), 1);
  await page.screenshot({ path: screenshotPath('viewer-mode-webrtc') });

  await page.locator(`${tile} .modes button[data-mode="mjpeg"]`).click();
  await until(webrtcPeers, 0, 'switching to MJPEG DELETEs the WHEP peer', 5000);
  await expectCanvasPlays(page, 'mjpeg');
  await until(async () => (await getJsonFresh(`${service.url}/api/cameras/demo`)).mjpeg_viewers, 1, 'one MJPEG viewer');

  await page.locator(`${tile} .modes button[data-mode="webrtc"]`).click();
  await until(webrtcPeers, 1, 'a new peer', 10000);
  await until(async () => (await getJsonFresh(`${service.url}/api/cameras/demo`)).mjpeg_viewers, 0, 'the MJPEG fetch aborted');
  await page.locator(`${tile} .state`, { hasText: 'playing' }).waitFor({ timeout: 10000 });   // the answer is in
  await page.goto('about:blank');   // pagehide: DELETE with keepalive
  await until(webrtcPeers, 0, 'leaving the page DELETEs the peer', 5000);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a mode that fails shows the service\'s message', async () => {
  const page = await newPage();
  await page.goto(`${service.url}/viewer.html?camera=nosuch&mode=webrtc`);
  const nosuch = '#views section[data-camera="nosuch"]';
  await page.locator(`${nosuch} .offline`, { hasText: 'WebRTC: 404: no camera "nosuch"' }).waitFor({ timeout: 10000 });
  assert.equal(await page.locator(`${nosuch} .state`).textContent(), 'error');
  await page.locator(`${nosuch} .modes button[data-mode="mjpeg"]`).click();
  await page.locator(`${nosuch} .offline`, { hasText: 'MJPEG: 404: no camera "nosuch"' }).waitFor({ timeout: 10000 });
  await page.locator(`${nosuch} .modes button[data-mode="hls"]`).click();
  await page.locator(`${nosuch} .offline`, { hasText: 'HLS: 404: no camera "nosuch"' }).waitFor({ timeout: 15000 });
  assert.match(page.url(), /mode=hls/);
  await page.close();
});

test('every mode looks right on a desktop and at 390 px', async () => {
  for (const width of [1280, 390]) {
    const page = await newPage(width);
    for (const mode of ['mjpeg', 'ws', 'hls', 'webrtc']) {
      await page.goto(`${service.url}/viewer.html?camera=demo&mode=${mode}`);
      await page.waitForFunction(sel => document.querySelector(`${sel} .stats`)?.dataset.latency !== undefined &&
                                        Number(document.querySelector(`${sel} .stats`).dataset.frames) > 60, tile,
                                 { timeout: 20000 });   // settled figures in the picture (2 s of frames)
      await page.screenshot({ path: screenshotPath(`viewer-${mode}-${width}`), fullPage: true });
      // Nothing wider than the screen: the mode buttons wrap, the stats line breaks.
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
                `${mode} at ${width} px scrolls sideways`);
    }
    await page.close();
  }
  await until(webrtcPeers, 0, 'no peer left behind', 5000);
});

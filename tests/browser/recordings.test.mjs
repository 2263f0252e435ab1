// Recording from the dashboard and playing it back on the recordings page, in
// real headless Chromium: the tile's record button starts a recording of the
// demo camera, its stop button ends it, the recordings page lists the file,
// its <video> plays (currentTime advances) and seeks (seeked fires at ~2 s),
// and the camera's timed captures show as decoded thumbnails. A second camera
// gets a file made by GStreamer (x264enc ! mp4mux) placed under its recordings
// folder, so the page's list, player and seeking are checked on their own too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startService, launchOptions, testCamera } from './service.mjs';

let service, browser, dataDir;

before(async () => {
  // The service's data dir (recordings, captures) is the test's own.
  dataDir = mkdtempSync(join(tmpdir(), 'camrelay-recordings-'));
  service = await startService({
    'demo.conf': `${testCamera(320, 240, 30)}[record]\nmode=manual\ncapture-interval=1\n`,
    'yard.conf': testCamera(320, 240, 30),
  }, 0, { args: ['--data', dataDir] });
  browser = await chromium.launch(launchOptions);
});

after(async () => {
  await browser?.close();
  await service?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// A 5 s H.264/MP4 file of the test pattern, named as the recorder names them, started an hour ago.
function placeRecording(camera) {
  const start = new Date(Date.now() - 3600 * 1000);
  const iso = start.toISOString();  // 2026-11-21T22:15:00.000Z
  const day = iso.slice(0, 10);
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const folder = join(dataDir, 'recordings', camera, day);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${camera}-${stamp}.mp4`);
  execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=150', 'pattern=ball', '!',
    'video/x-raw,width=320,height=240,framerate=30/1', '!', 'x264enc', 'key-int-max=30', 'tune=zerolatency', '!',
    'h264parse', '!', 'mp4mux', '!', 'filesink', `location=${file}`], { stdio: 'inherit' });
  assert.ok(statSync(file).size > 1000);
  return `${camera}/${day}/${camera}-${stamp}.mp4`;
}

// Plays the page's <video> and seeks it to 2 s; returns where seeked landed.
async function playAndSeek(page) {
  const video = page.locator('#video');
  await page.waitForFunction(() => document.getElementById('video').currentTime > 0.5, null, { timeout: 10000 });
  const before = await video.evaluate(v => v.currentTime);
  await page.waitForTimeout(500);
  assert.ok(await video.evaluate(v => v.currentTime) > before, 'currentTime should advance while playing');
  assert.deepEqual(await video.evaluate(v => [v.videoWidth, v.videoHeight]), [320, 240]);
  return video.evaluate(v => new Promise((resolve, reject) => {
    v.pause();
    const timer = setTimeout(() => reject(new Error(`no seeked event (readyState ${v.readyState})`)), 10000);
    v.addEventListener('seeked', () => { clearTimeout(timer); resolve(v.currentTime); }, { once: true });
    v.currentTime = 2;
  }));
}

test('a recording on disk is listed under its local day, plays and seeks in the page; captures show', async () => {
  const id = placeRecording('yard');
  const page = await browser.newPage();
  page.on('console', m => { if (m.type() === 'error') console.log(`page: ${m.text()}`); });
  await page.goto(`${service.url}/recordings.html`);
  const section = page.locator('section.camera-recordings[data-camera="yard"]');
  const row = section.locator(`li.recording[data-id="${id}"]`);
  await row.waitFor({ timeout: 10000 });
  const day = await row.evaluate(r => r.closest('.day').dataset.day);
  const start = new Date(Date.now() - 3600 * 1000);
  const localDay = `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, '0')}-${String(start.getDate()).padStart(2, '0')}`;
  assert.equal(day, localDay, 'grouped by the local day of its start');
  // The duration comes a moment later (the service reads it off its loop thread).
  await row.locator('.duration', { hasText: /^0:0[45]$/ }).waitFor({ timeout: 10000 });
  assert.match(await row.locator('.size').textContent(), /KB|MB/);
  await row.locator('button.play').click();
  assert.equal(await page.locator('#video').evaluate(v => new URL(v.src).pathname), `/api/recordings/${id}`);
  const seekedAt = await playAndSeek(page);
  assert.ok(Math.abs(seekedAt - 2) < 0.25, `seeked to ${seekedAt}`);

  const thumbnails = page.locator('section.camera-recordings[data-camera="demo"] .captures img');
  await thumbnails.first().waitFor({ timeout: 10000 });
  await thumbnails.first().scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const img = document.querySelector('section[data-camera="demo"] .captures img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  assert.deepEqual(await thumbnails.first().evaluate(i => [i.naturalWidth, i.naturalHeight]), [320, 240]);
  assert.match(await thumbnails.first().getAttribute('src'), /^\/api\/captures\/demo\/captures\/demo-\d{8}T\d{6}Z\.jpg$/);
  await page.close();
});

async function recordings() {
  const response = await fetch(`${service.url}/api/recordings?camera=demo`);
  assert.equal(response.status, 200);
  return (await response.json()).recordings;
}

test('a recording started and stopped on the dashboard tile is listed, plays and seeks; captures show', async () => {
  const page = await browser.newPage();
  page.on('console', m => { if (m.type() === 'error') console.log(`page: ${m.text()}`); });
  await page.goto(`${service.url}/`);
  const tile = page.locator('section.tile[data-camera="demo"]');
  await tile.locator('.state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  // Auth is off on loopback: the page is an admin's, with the record controls.
  const button = tile.locator('.record .rec-button');
  await button.waitFor({ timeout: 10000 });
  assert.equal(await button.textContent(), 'Record');
  assert.deepEqual(await tile.locator('.record .rec-duration option').allTextContents(),
                   ['10 s', '1 min', '10 min', 'until stopped']);
  await tile.locator('.record .rec-duration').selectOption({ label: 'until stopped' });
  await button.click();
  await tile.locator('.record[data-active="true"]').waitFor({ timeout: 5000 });
  assert.match(await tile.locator('.record .rec-state').textContent(), /recording/);
  assert.equal(await button.textContent(), 'Stop');
  await page.waitForTimeout(4500);
  await button.click();
  await tile.locator('.record[data-active="false"]').waitFor({ timeout: 10000 });
  assert.equal(await tile.locator('.record .rec-error').textContent(), '');

  // The finished file is in the API's list, complete.
  let listed = [];
  const settled = () => listed.length && listed.every(r => r.complete && r.duration !== null);
  for (let i = 0; i < 50 && !settled(); ++i) {
    listed = await recordings();
    if (!settled()) await page.waitForTimeout(200);
  }
  assert.equal(listed.length, 1, JSON.stringify(listed));
  assert.ok(listed[0].duration > 3 && listed[0].duration < 7, `duration ${listed[0].duration}`);

  await page.goto(`${service.url}/recordings.html`);
  const section = page.locator('section.camera-recordings[data-camera="demo"]');
  const row = section.locator('li.recording');
  await row.first().waitFor({ timeout: 10000 });
  assert.equal(await row.count(), 1);
  assert.equal(await row.getAttribute('data-id'), listed[0].id);
  await row.locator('.duration', { hasText: /^0:0[3-7]$/ }).waitFor({ timeout: 10000 });
  assert.equal(await row.locator('.incomplete').count(), 0);
  assert.equal(await row.locator('button.delete').count(), 1, 'admins get a delete button');

  // Play: the <video> loads the file from /api/recordings/<id>; its time advances; it seeks (Range requests).
  await row.locator('button.play').click();
  const video = page.locator('#video');
  assert.equal(await video.evaluate(v => new URL(v.src).pathname), `/api/recordings/${listed[0].id}`);
  const seekedAt = await playAndSeek(page);
  assert.ok(Math.abs(seekedAt - 2) < 0.25, `seeked to ${seekedAt}`);
  const duration = await video.evaluate(v => v.duration);
  assert.ok(duration > 3 && duration < 7, `<video> duration ${duration}`);

  // Captures: a strip of decoded thumbnails of the camera (320x240 JPEGs).
  const thumbnails = section.locator('.captures img');
  await thumbnails.first().waitFor({ timeout: 10000 });
  assert.ok(await thumbnails.count() >= 3, `captures: ${await thumbnails.count()}`);
  await thumbnails.first().scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const img = document.querySelector('section[data-camera="demo"] .captures img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  assert.deepEqual(await thumbnails.first().evaluate(i => [i.naturalWidth, i.naturalHeight]), [320, 240]);
  assert.match(await thumbnails.first().getAttribute('src'), /^\/api\/captures\/demo\/captures\/demo-\d{8}T\d{6}Z\.jpg$/);
  await page.screenshot({ path: process.env.SCREENSHOT_DIR ? `${process.env.SCREENSHOT_DIR}/recordings.png` : '/tmp/camrelay-recordings.png' });
  await page.close();
});

test('the dashboard header links to the recordings page', async () => {
  const page = await browser.newPage();
  await page.goto(`${service.url}/`);
  await page.locator('#recordings-link').click();
  await page.waitForURL(/\/recordings\.html$/);
  await page.locator('#summary', { hasText: /recording\(s\)/ }).waitFor({ timeout: 10000 });
  await page.close();
});

// The dashboard open in headless Chromium for a while (bench/run-dashboard.sh):
// the service's CPU (median of 1 s samples of /proc/PID/stat), frames drawn per
// camera per second in the page (window.camrelayStats, counted by dashboard.js
// when an <img> has decoded a frame), and the time from Apply (a PATCH of the
// camera's size, sent from the page) to the first frame of the new size drawn.
//   node bench/dashboard-load.mjs --url http://127.0.0.1:PORT --pid PID [--duration 30] [--fps N] [--applies 5] [--camera cam01]
// playwright-core comes from tests/browser/node_modules (tools/deps.sh test installs it).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const url = args.url;
const pid = Number(args.pid);
const duration = Number(args.duration || 30);
const applies = Number(args.applies ?? 5);
const camera = args.camera || 'cam01';
if (!url || !pid) throw new Error('usage: --url URL --pid PID [--duration S] [--fps N] [--applies N] [--camera ID]');

const hz = 100;  // CLK_TCK on Linux
const ticks = p => { const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const median = values => { const v = [...values].sort((a, b) => a - b); const n = v.length; return n ? (n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NaN; };
const sleep = ms => new Promise(r => setTimeout(r, ms));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 2000, height: 1700 } });
  await page.goto(`${url}/${args.fps !== undefined ? `?fps=${args.fps}` : ''}`);
  const cameras = await (await fetch(`${url}/api/cameras`)).json().then(j => j.cameras.map(c => c.id));
  await page.waitForFunction(n => Object.values(window.camrelayStats?.cameras || {}).filter(c => c.drawn > 2).length === n,
                             cameras.length, { timeout: 60000 });
  await sleep(2000);
  const drawn = (what = "drawn") => page.evaluate(w => Object.fromEntries(Object.entries(window.camrelayStats.cameras).map(([k, v]) => [k, v[w]])), what);
  const d0 = await drawn();
  const r0 = await drawn('received');
  const t0 = Date.now();
  const cpu = [];
  for (let i = 0; i < duration; i += 1) {
    const a = ticks(pid); const ta = Date.now();
    await sleep(1000);
    cpu.push(100 * (ticks(pid) - a) / hz / ((Date.now() - ta) / 1000));
  }
  const served = await (await fetch(`${url}/api/cameras`)).json().then(j => j.cameras.map(c => c.fps));
  const d1 = await drawn();
  const r1 = await drawn('received');
  const seconds = (Date.now() - t0) / 1000;
  const perCamera = cameras.map(id => (d1[id] - d0[id]) / seconds);
  const receivedPerCamera = cameras.map(id => (r1[id] - r0[id]) / seconds);
  console.log(`cameras=${cameras.length} tile_fps_asked=${await page.evaluate(() => window.camrelayStats.tileFps)} seconds=${seconds.toFixed(1)}`);
  console.log(`service_cpu_median=${median(cpu).toFixed(1)}% (samples=${cpu.length}, min=${Math.min(...cpu).toFixed(1)} max=${Math.max(...cpu).toFixed(1)})`);
  console.log(`camera_fps_at_the_service median=${median(served).toFixed(2)} min=${Math.min(...served).toFixed(2)} (what the pipelines made, /api/cameras fps)`);
  console.log(`received_fps_per_camera median=${median(receivedPerCamera).toFixed(2)} min=${Math.min(...receivedPerCamera).toFixed(2)}`);
  console.log(`drawn_fps_per_camera median=${median(perCamera).toFixed(2)} min=${Math.min(...perCamera).toFixed(2)} max=${Math.max(...perCamera).toFixed(2)}`);

  // Apply -> first new frame: the page PATCHes the camera's size with If-Match
  // and waits until a frame of the new size has been drawn in its tile.
  const times = [];
  for (let i = 0; i < applies; i += 1) {
    const [w, h] = i % 2 === 0 ? [352, 288] : [320, 240];
    const ms = await page.evaluate(async ({ id, w, h }) => {
      const config = await fetch(`/api/cameras/${id}/config`, { cache: 'no-store' });
      if (!config.ok) return `config: HTTP ${config.status}`;
      const start = performance.now();
      const answer = await fetch(`/api/cameras/${id}`, {
        method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': config.headers.get('ETag') },
        body: JSON.stringify({ width: w, height: h }),
      });
      if (!answer.ok) return `PATCH: HTTP ${answer.status} ${await answer.text()}`;
      const s = window.camrelayStats.cameras[id];
      for (let waited = 0; waited < 20000; waited += 10) {
        if (s.width === w && s.height === h && s.sizeSince >= start) return s.sizeSince - start;
        await new Promise(r => setTimeout(r, 10));
      }
      return 'no frame of the new size within 20 s';
    }, { id: camera, w, h });
    if (typeof ms !== 'number') { console.log(`apply_to_first_frame: ${ms}`); break; }
    times.push(ms);
    await sleep(1500);
  }
  if (times.length)
    console.log(`apply_to_first_frame_ms median=${median(times).toFixed(0)} min=${Math.min(...times).toFixed(0)} max=${Math.max(...times).toFixed(0)} (n=${times.length})`);
} finally {
  await browser.close();
}

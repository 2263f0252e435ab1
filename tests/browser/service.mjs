// Starts the real camrelay binary on a free loopback port with a temporary pipelines dir.
import { spawn, execFileSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// port: 0 for any free port, or a fixed one (to restart a service where a page expects it).
// options.config: a service config text (or dir => text, dir being the service's
// temporary directory, e.g. for [paths] data=), passed with --config;
// options.args: more command line arguments.
export async function startService(cameras, port = 0, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'camrelay-browser-'));
  const pipelines = join(dir, 'pipelines');
  mkdirSync(pipelines);
  for (const [name, text] of Object.entries(cameras)) writeFileSync(join(pipelines, name), text);
  const binary = process.env.CAMRELAY_BINARY;
  if (!binary) throw new Error('CAMRELAY_BINARY is not set (run with meson test)');
  const extra = [];
  if (options.config !== undefined) {
    const file = join(dir, 'camrelay.conf');
    writeFileSync(file, typeof options.config === 'function' ? options.config(dir) : options.config);
    extra.push('--config', file);
  }
  extra.push(...(options.args || []));
  const child = spawn(binary, ['--listen', '127.0.0.1', '--port', String(port), '--rtsp-port', '0', '--pipelines', pipelines,
                               ...extra],
                      { stdio: ['ignore', 'pipe', 'inherit'] });
  const bound = await new Promise((resolve, reject) => {
    let out = '';
    // 30 s: a loaded machine (parallel builds) can take long to start GStreamer;
    // a service that never says it listens is killed, so the test run can end.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`camrelay did not start within 30 s: ${out}`)); }, 30000);
    child.stdout.on('data', chunk => {
      out += chunk;
      const m = out.match(/listening on http:\/\/[^:]+:(\d+)\//);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', code => reject(new Error(`camrelay exited with ${code}: ${out}`)));
  });
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    async stop() {
      child.kill('SIGTERM');
      await new Promise(resolve => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The hash for password= in a [user:NAME] group, from the binary itself.
export function hashPassword(password) {
  const binary = process.env.CAMRELAY_BINARY;
  if (!binary) throw new Error('CAMRELAY_BINARY is not set (run with meson test)');
  return execFileSync(binary, ['--hash-password'], { input: `${password}\n`, encoding: 'utf8' }).trim();
}

export const launchOptions = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
};

export function testCamera(width, height, fps) {
  return `[camera]\nname=Test pattern\nsource=videotestsrc is-live=true pattern=ball\nwidth=${width}\nheight=${height}\nframerate=${fps}\n`;
}

// Where a test keeps its screenshots: $SCREENSHOT_DIR (meson sets it to
// build/meson-logs/browser-screenshots) or /tmp/camrelay-NAME.png.
export function screenshotPath(name) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return `/tmp/camrelay-${name}.png`;
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

// GET a JSON document on a connection of its own (no keep-alive pool), so
// /health's count of open client connections holds only this request beside
// the page's. The service answers every request with Connection: close anyway.
export function getJsonFresh(url) {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false, headers: { Connection: 'close' } }, response => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', chunk => { text += chunk; });
      response.on('end', () => {
        try { resolve(JSON.parse(text)); } catch (error) { reject(new Error(`${url}: ${error.message}: ${text}`)); }
      });
    });
    request.on('error', reject);
  });
}

// Pixels of each element (by selector) as PNG buffers.
export async function shots(page, selectors) {
  const out = [];
  for (const s of selectors) out.push(await page.locator(s).screenshot());
  return out;
}

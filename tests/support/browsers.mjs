// Opens pages of built sites in two engines, as testers see them: Chromium (through
// playwright-core, which drives Debian's chromium) and WebKit (Safari's engine: WebKitGTK's
// MiniBrowser, driven over W3C WebDriver by WebKitWebDriver under Xvfb). Each page is opened at
// phone (390x844 at 2x) and desktop (1280x800) sizes, light and dark, from a static server on
// 127.0.0.1, with every request to another origin refused. One second after opening a page it
// records what the page shows (see `facts` below) and every request the page made, then saves
// a full-page screenshot. The test (tests/it/browsers.rs) makes the assertions.
//
// Usage: node browsers.mjs '<job JSON>'; writes one JSON report to the file `job.report`
// (not to stdout: `process.exit` would cut a pipe's unflushed tail).
//   job = { engine: "chromium" | "webkit", mode: "pages" | "probe", mounts: { name: dir },
//           pages: ["name/", "name/apps/x/", ...], shots: dir, prefix: "chromium",
//           playwright, chromium, webdriver, minibrowser, wait_ms: 1000, report: file }
// "probe" mode opens one page that loads an image from another origin (127.0.0.2), once with
// the refusal in place and once without it (the control), to prove the refusal works.
//
// Other origins are refused in Chromium by page.route (anything that is not the site's origin
// is aborted and recorded), and in WebKit by the WebDriver `proxy` capability: every request
// goes to a local proxy that records it and answers 403, except 127.0.0.1 and localhost.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as httpServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';

const job = JSON.parse(process.argv[2]);
const waitMs = job.wait_ms ?? 1000;
const sizes = [
  { name: 'phone', width: 390, height: 844, scale: 2 },
  { name: 'desktop', width: 1280, height: 800, scale: 1 },
];
const schemes = ['light', 'dark'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`browsers.mjs: ${a.join(' ')}\n`);
const children = [];
const cleanups = [];
let exiting = false;
async function cleanup() {
  if (exiting) return;
  exiting = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  for (const f of cleanups.reverse()) {
    try { await f(); } catch { /* best effort */ }
  }
}
// Nothing may hang a test run: give up after five minutes.
const timeoutS = job.timeout_s ?? 300;
const watchdog = setTimeout(async () => {
  log(`timed out after ${timeoutS} s`);
  await cleanup();
  process.exit(3);
}, timeoutS * 1000);

// ---- what a page shows, evaluated in the page one second after opening ----
// (a function's source, so that both engines run the very same code)
function facts() {
  const hidden = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility !== 'visible' || Number(s.opacity) === 0 || s.contentVisibility === 'hidden') return true;
    }
    return false;
  };
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { width: Math.round(r.width * 10) / 10, height: Math.round(r.height * 10) / 10 };
  };
  const seen = (el) => {
    const b = box(el);
    return { ...b, hidden: hidden(el), visible: b.width > 0 && b.height > 0 && !hidden(el) };
  };
  const appOf = (el) => {
    const card = el.closest('.card.app');
    const link = card && card.querySelector('h2 a');
    return link ? link.getAttribute('href') : null;
  };
  const main = document.querySelector('main');
  const cut = [];
  for (const el of document.querySelectorAll('.scroll, table.history')) {
    if (el.scrollWidth > el.clientWidth + 1) cut.push({ tag: el.tagName.toLowerCase(), cls: el.className, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth });
  }
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    url: location.href,
    ready: document.readyState,
    title: document.title,
    viewport: { width: innerWidth, height: innerHeight, dpr: devicePixelRatio },
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
    background: getComputedStyle(document.body).backgroundColor,
    colour: getComputedStyle(document.body).color,
    main: main ? seen(main) : null,
    images: [...document.images].map((img) => ({
      src: img.currentSrc || img.src, cls: img.className, complete: img.complete,
      naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, app: appOf(img), ...seen(img),
    })),
    installs: [...document.querySelectorAll('a.install')].map((a) => ({
      href: a.getAttribute('href'), text: a.textContent.trim(), app: appOf(a), ...seen(a),
    })),
    warns: [...document.querySelectorAll('p.warn')].map((p) => ({ text: p.textContent.trim(), app: appOf(p), ...seen(p) })),
    cards: [...document.querySelectorAll('.card.app')].map((c) => appOf(c)),
    overflow: { scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth, cut },
    requests: [
      ...(nav ? [{ name: nav.name, type: 'navigation' }] : []),
      ...performance.getEntriesByType('resource').map((e) => ({ name: e.name, type: e.initiatorType })),
    ],
  };
}
const factsSource = `return (${facts.toString()})();`;

// ---- the site's server: static files from the mounts, on 127.0.0.1 ----
const types = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.svg': 'image/svg+xml',
  '.json': 'application/json', '.xml': 'application/xml', '.plist': 'application/xml',
  '.ico': 'image/x-icon', '.ipa': 'application/octet-stream', '.txt': 'text/plain',
};
function serveFiles(mounts, extra = {}) {
  const hits = [];
  const server = httpServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    hits.push(path);
    if (extra[path]) {
      res.writeHead(200, { 'content-type': extra[path].type });
      res.end(extra[path].body);
      return;
    }
    const [, mount, ...rest] = path.split('/');
    const root = mounts[mount];
    let file = root && normalize(join(root, ...rest));
    if (file && !file.startsWith(resolve(root))) file = null;
    try {
      if (file && statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return { server, hits };
}
function listen(server, host) {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, host, () => res(server.address().port));
  });
}

// ---- WebKit's refusal: a proxy that records every request and answers 403 ----
function refusingProxy() {
  const refused = [];
  const server = netServer((sock) => {
    sock.once('data', (d) => {
      const first = d.subarray(0, 300).toString('latin1').split('\r\n')[0];
      // An https request arrives as a TLS handshake (WebKitGTK speaks TLS to an sslProxy).
      refused.push(d[0] === 0x16 ? 'TLS connection (an https request)' : first);
      sock.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    sock.on('error', () => {});
  });
  return { server, refused };
}

// ---- Chromium ----
async function chromium(origin, pages, probe) {
  const { chromium: engine } = await import(resolve(job.playwright, 'index.mjs'));
  const browser = await engine.launch({
    executablePath: job.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
  const version = browser.version();
  const open = async (size, scheme, refuse) => {
    const context = await browser.newContext({
      viewport: { width: size.width, height: size.height }, deviceScaleFactor: size.scale, colorScheme: scheme,
    });
    const page = await context.newPage();
    const refused = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (!refuse || new URL(url).origin === origin) return route.continue();
      refused.push(url);
      return route.abort('blockedbyclient');
    });
    return { context, page, refused };
  };
  const view = async ({ page, refused }, rel, size, scheme) => {
    const url = origin + '/' + rel;
    refused.length = 0;
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load' });
    await sleep(Math.max(0, t0 + waitMs - Date.now()));
    const checkedAt = Date.now() - t0;
    const f = await page.evaluate(factsSource.replace(/^return /, ''));
    const shot = shotPath(rel, size, scheme);
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    const tookMs = Date.now() - t0;
    log(`chromium ${rel} ${size.name} ${scheme}: checked at ${checkedAt} ms, done at ${tookMs} ms`);
    return { page: rel, size: size.name, scheme, checked_at_ms: checkedAt, took_ms: tookMs, refused: [...refused], screenshot: shot, ...f };
  };
  if (probe) {
    const size = sizes[0];
    const out = {};
    for (const [key, refuse] of [['refused', true], ['control', false]]) {
      const tab = await open(size, 'light', refuse);
      const hits = farHits();
      out[key] = await view(tab, probe, size, 'light');
      out[key].far_hits = farHits() - hits;
      await tab.context.close();
    }
    return { version, probe: out };
  }
  // One view at a time: each page gets its second without other pages competing for the CPU.
  const views = [];
  for (const size of sizes) {
    for (const scheme of schemes) {
      const tab = await open(size, scheme, true);
      for (const rel of pages) views.push(await view(tab, rel, size, scheme));
      await tab.context.close();
    }
  }
  return { version, views };
}

// ---- WebKit ----
async function freePort() {
  const s = netServer();
  const port = await listen(s, '127.0.0.1');
  await new Promise((r) => s.close(r));
  return port;
}
async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '2600x2000x24', '-nolisten', 'tcp'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  children.push(xvfb);
  let err = '';
  xvfb.stderr.on('data', (d) => { err += d; });
  return new Promise((res, rej) => {
    xvfb.once('exit', (code) => rej(new Error(`Xvfb exited (${code}): ${err}`)));
    xvfb.stdio[3].once('data', (d) => res(':' + String(d).trim()));
  });
}
// The processes `pid` started (WebKitWebDriver's browser), from /proc.
function childrenOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}
// A WebKit session: its own WebKitWebDriver (one driver gives one session: after the first is
// deleted, WebKitGTK 2.50's driver never starts a browser for the next), with GDK_SCALE for
// the device scale and a private home for MiniBrowser. Now and then (about one start in ten
// on a loaded 2-core machine) the driver never hears back from the browser it started; such a
// start is given up after 20 s and made again, up to three times, each with a new home.
async function webkitSession(opts) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await webkitSessionOnce(opts, attempt);
    } catch (e) {
      if (!e.retry || attempt >= 3) throw e;
      log(`webkit session start ${attempt} failed (${e.message}); starting again`);
    }
  }
}
async function webkitSessionOnce({ display, home: shared, scale, dark, proxyPort }, attempt) {
  const home = mkdtempSync(join(shared, `session-${attempt}-`));
  mkdirSync(join(home, 'config/gtk-3.0'), { recursive: true });
  writeFileSync(join(home, 'config/gtk-3.0/gtk.css'), readFileSync(join(shared, 'config/gtk-3.0/gtk.css')));
  const port = await freePort();
  const env = { ...process.env, DISPLAY: display, GDK_BACKEND: 'x11', GDK_SCALE: String(scale),
    XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'),
    XDG_DATA_HOME: join(home, 'data'), HOME: home };
  delete env.WAYLAND_DISPLAY;
  const driver = spawn(job.webdriver, [`--port=${port}`, '--host=127.0.0.1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(driver);
  driver.stderr.on('data', (d) => log('WebKitWebDriver:', String(d).trim()));
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body, timeoutMs = 60_000) => {
    for (let attempt = 0; ; attempt++) {
      let r;
      try {
        r = await fetch(base + path, { method, headers: { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        // The driver is still starting.
        if (e.name !== 'TimeoutError' && attempt < 100 && driver.exitCode === null) { await sleep(100); continue; }
        const err = new Error(`WebDriver ${method} ${path}: ${e.message}`);
        err.timeout = e.name === 'TimeoutError';
        throw err;
      }
      const j = await r.json();
      if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(j.value)}`);
      return j.value;
    }
  };
  // Ends the driver and the browsers it started.
  const stop = async () => {
    const browsers = childrenOf(driver.pid);
    driver.kill('SIGTERM');
    await new Promise((r) => (driver.exitCode !== null || driver.signalCode !== null ? r() : driver.once('exit', r)));
    for (const pid of browsers) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    }
  };
  const caps = {
    browserName: 'MiniBrowser',
    // "normal": navigation returns at the load event ("eager" sometimes never returns in
    // WebKitGTK 2.50).
    pageLoadStrategy: 'normal',
    'webkitgtk:browserOptions': { binary: job.minibrowser, args: ['--automation', ...(dark ? ['--dark-mode'] : [])] },
  };
  if (proxyPort) {
    const proxy = `127.0.0.1:${proxyPort}`;
    caps.proxy = { proxyType: 'manual', httpProxy: proxy, sslProxy: proxy, noProxy: ['127.0.0.1', 'localhost'] };
  }
  const t0 = Date.now();
  let s;
  try {
    s = await call('POST', '/session', { capabilities: { alwaysMatch: caps } }, 20_000);
  } catch (e) {
    await stop();
    e.retry = e.timeout;
    throw e;
  }
  log(`webkit session (${scale}x, ${dark ? 'dark' : 'light'}) opened in ${Date.now() - t0} ms`);
  const S = (p) => `/session/${s.sessionId}${p}`;
  const exec = (script) => call('POST', S('/execute/sync'), { script, args: [] });
  const close = async () => {
    await call('DELETE', S(''));
    await stop();
  };
  return { call: (method, p, body) => call(method, S(p), body), exec, version: s.capabilities.browserVersion, close };
}
// Sizes the window so that the page's viewport is exactly width x height CSS pixels. The
// window's own bar takes some height (the user style sheet below keeps it narrow); the page
// learns of a resize a moment after the command returns, so this waits for it.
async function setViewport(session, width, height) {
  const inner = () => session.exec('return [innerWidth, innerHeight]');
  const settle = async (want) => {
    let last;
    for (let i = 0; i < 40; i++) {
      last = await inner();
      if (last[0] === want[0] && last[1] === want[1]) break;
      await sleep(50);
    }
    return last;
  };
  if (!session.chrome) {
    await session.call('POST', '/window/rect', { width, height });
    const [iw, ih] = await settle([width, height]);
    const rect = await session.call('GET', '/window/rect');
    session.chrome = [rect.width - iw, rect.height - ih];
  }
  await session.call('POST', '/window/rect', { width: width + session.chrome[0], height: height + session.chrome[1] });
  const [iw, ih] = await settle([width, height]);
  if (iw !== width || ih !== height) throw new Error(`WebKit viewport is ${iw}x${ih}, wanted ${width}x${height}`);
}
async function webkit(origin, pages, probe) {
  const home = mkdtempSync(join(tmpdir(), 'otasite-webkit-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  // MiniBrowser's window has a toolbar wider than a phone; a user style sheet for GTK makes it
  // tiny (it styles the browser's own widgets, not the page).
  mkdirSync(join(home, 'config/gtk-3.0'), { recursive: true });
  writeFileSync(join(home, 'config/gtk-3.0/gtk.css'),
    '* { font-size: 1px; padding: 0; margin: 0; min-width: 0; min-height: 0; border-width: 0; }\n');
  const display = await startXvfb();
  const proxy = refusingProxy();
  const proxyPort = await listen(proxy.server, '127.0.0.1');
  cleanups.push(() => proxy.server.close());
  let version;
  const view = async (session, rel, size, scheme) => {
    const url = origin + '/' + rel;
    const before = proxy.refused.length;
    await setViewport(session, size.width, size.height);
    const t0 = Date.now();
    await session.call('POST', '/url', { url });
    await sleep(Math.max(0, t0 + waitMs - Date.now()));
    const checkedAt = Date.now() - t0;
    const f = await session.exec(factsSource);
    const shot = shotPath(rel, size, scheme);
    if (shot) {
      // A full-page screenshot: the viewport made as tall as the page.
      const tall = await session.exec('return document.documentElement.scrollHeight');
      await setViewport(session, size.width, Math.max(size.height, tall));
      writeFileSync(shot, Buffer.from(await session.call('GET', '/screenshot'), 'base64'));
    }
    const tookMs = Date.now() - t0;
    log(`webkit ${rel} ${size.name} ${scheme}: checked at ${checkedAt} ms, done at ${tookMs} ms`);
    return { page: rel, size: size.name, scheme, checked_at_ms: checkedAt, took_ms: tookMs, refused: proxy.refused.slice(before), screenshot: shot, ...f };
  };
  if (probe) {
    const size = sizes[0];
    const out = {};
    for (const [key, refuse] of [['refused', true], ['control', false]]) {
      const session = await webkitSession({ display, home, scale: size.scale, dark: false, proxyPort: refuse ? proxyPort : null });
      version = session.version;
      const hits = farHits();
      out[key] = await view(session, probe, size, 'light');
      out[key].far_hits = farHits() - hits;
      await session.close();
    }
    return { version, probe: out };
  }
  const views = [];
  for (const size of sizes) {
    for (const scheme of schemes) {
      const session = await webkitSession({ display, home, scale: size.scale, dark: scheme === 'dark', proxyPort });
      version = session.version;
      for (const rel of pages) views.push(await view(session, rel, size, scheme));
      await session.close();
    }
  }
  return { version, views };
}

function shotPath(rel, size, scheme) {
  if (!job.shots) return null;
  mkdirSync(job.shots, { recursive: true });
  // "amp/" -> amp-index, "amp/apps/x/1.0-1/" -> amp-apps-x-1.0-1
  let name = rel.replace(/\/?index\.html$/, '').replace(/\/$/, '');
  if (!name.includes('/')) name += '/index';
  name = name.replace(/[^a-z0-9.]+/gi, '-');
  return join(job.shots, `${job.prefix || job.engine}-${name}-${size.name}-${scheme}.png`);
}

// ---- the run ----
let far = null;
const farHits = () => (far ? far.hits.length : 0);
let exitCode = 0;
try {
  const extra = {};
  let probe = null;
  if (job.mode === 'probe') {
    // Another origin that would answer: a server on 127.0.0.2 with a real PNG.
    const png = readFileSync(job.probe_png);
    far = serveFiles({}, { '/far.png': { type: 'image/png', body: png } });
    const farPort = await listen(far.server, '127.0.0.2');
    cleanups.push(() => new Promise((r) => far.server.close(r)));
    far.url = `http://127.0.0.2:${farPort}/far.png`;
    extra['/probe/'] = { type: 'text/html; charset=utf-8', body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>probe</title></head><body><main>
<p>An image from this origin, and one from another.</p>
<img id="near" src="/near.png" width="60" height="60" alt="near">
<img id="far" src="${far.url}" width="60" height="60" alt="far">
</main></body></html>` };
    extra['/near.png'] = { type: 'image/png', body: png };
    probe = 'probe/';
  }
  const site = serveFiles(job.mounts || {}, extra);
  const port = await listen(site.server, '127.0.0.1');
  cleanups.push(() => new Promise((r) => site.server.close(r)));
  const origin = `http://127.0.0.1:${port}`;
  const run = job.engine === 'webkit' ? webkit : chromium;
  const report = await run(origin, job.pages || [], probe);
  report.engine = job.engine;
  report.origin = origin;
  if (far) report.far_url = far.url;
  writeFileSync(job.report, JSON.stringify(report));
} catch (e) {
  log(e.stack || String(e));
  exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(exitCode);

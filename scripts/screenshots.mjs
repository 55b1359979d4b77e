// Screenshots of a built site in headless Chromium: the index, an app page and a release page,
// at phone and desktop widths, in light and dark mode. Scripts are off and nothing comes from
// the network, as when the AMP runtime cannot load, so what shows is the site's own HTML and CSS.
//
// Usage: node scripts/screenshots.mjs <playwright-core dir> <site output dir> <out dir> <page>...
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const [playwrightDir, siteDir, outDir, ...pages] = process.argv.slice(2);
const { chromium } = await import(resolve(playwrightDir, 'index.mjs'));
mkdirSync(outDir, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const sizes = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } };
try {
  for (const [sizeName, viewport] of Object.entries(sizes)) {
    for (const scheme of ['light', 'dark']) {
      const context = await browser.newContext({
        javaScriptEnabled: false, viewport, colorScheme: scheme,
        deviceScaleFactor: sizeName === 'phone' ? 2 : 1,
      });
      const page = await context.newPage();
      await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
      for (const rel of pages) {
        const name = rel.replace(/\/?index\.html$/, '').replace(/[^a-z0-9.]+/gi, '-') || 'index';
        await page.goto('file://' + resolve(siteDir, rel), { waitUntil: 'load' });
        const file = resolve(outDir, `${name}-${sizeName}-${scheme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(file);
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
}

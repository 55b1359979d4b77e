// Opens a page of a built site in headless Chromium with scripts off and no network (the pages
// need neither), saves a full-page screenshot, and prints what the browser decoded of each
// icon as JSON.
//
// Usage: node screenshot.mjs <playwright-core dir> <file:// URL> <out.png>
const [playwrightDir, url, out] = process.argv.slice(2);
const { chromium } = await import(`${playwrightDir}/index.mjs`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 420, height: 900 } });
  const page = await context.newPage();
  // Only the site's own files: nothing may come from the network.
  await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
  await page.goto(url, { waitUntil: 'load' });
  const icons = await page.$$eval('img.icon', (imgs) =>
    imgs.map((img) => ({ src: img.currentSrc, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight })));
  await page.screenshot({ path: out, fullPage: true });
  console.log(JSON.stringify({ icons }));
} finally {
  await browser.close();
}

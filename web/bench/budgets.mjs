// The web app's budgets (docs/web.md), measured against a running plaza:
// the initial JavaScript + CSS of the page gzipped, and first render on
// loopback in Debian's Chromium (median of 5 cold loads each).
//   node bench/budgets.mjs http://127.0.0.1:PORT
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const html = await (await fetch(`${base}/`)).text();
const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let raw = 0;
let gz = 0;
for (const r of new Set(refs)) {
  const body = Buffer.from(await (await fetch(base + r)).arrayBuffer());
  raw += body.length;
  gz += gzipSync(body, { level: 9 }).length;
}
const htmlGz = gzipSync(Buffer.from(html)).length;
console.log(`initial assets: ${refs.length} files, ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped (+ index.html ${(htmlGz / 1024).toFixed(1)} KiB)`);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [path, ready] of [['/', 'main h1'], ['/sign-in', 'form button[type=submit]']]) {
  const fcp = [];
  const shown = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t = Date.now();
    await page.goto(base + path);
    await page.waitForSelector(ready);
    shown.push(Date.now() - t);
    fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    await context.close();
  }
  console.log(`${path}: first contentful paint ${median(fcp).toFixed(0)} ms, content shown ${median(shown)} ms (median of 5 cold loads)`);
}
await browser.close();

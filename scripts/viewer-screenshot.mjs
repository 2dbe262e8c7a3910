#!/usr/bin/env node
/**
 * The README's screenshot of the viewer: profiles examples/shapes.js with the real
 * `heapscope run`, writes the page with `heapscope view --html`, opens it in headless
 * Chromium, selects the largest allocation site, and saves docs/viewer.png.
 *
 *   npm run build && node scripts/viewer-screenshot.mjs [--out docs/viewer.png]
 *
 * Fails (exit 1) if the page shows an error, throws, or requests anything.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = join(root, outArg >= 0 ? process.argv[outArg + 1] : 'docs/viewer.png');
const bin = join(root, 'bin', 'heapscope.js');

const dir = mkdtempSync(join(tmpdir(), 'heapscope-screenshot-'));
const browser = await launchChromium();
try {
  execFileSync(
    process.execPath,
    [bin, 'run', '-q', '--out-dir', dir, '--', 'node', 'examples/shapes.js'],
    {
      cwd: root,
      stdio: 'pipe',
    },
  );
  const profile = readdirSync(dir).find((f) => /^heapscope\.\d+\.json$/.test(f));
  if (!profile) throw new Error('heapscope run wrote no profile');
  const html = join(dir, 'shapes.html');
  execFileSync(process.execPath, [bin, 'view', join(dir, profile), '--html', html], {
    cwd: root,
    stdio: 'pipe',
  });

  const context = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 1400, height: 820 },
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(html).href) problems.push(`request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('html[data-rendered="true"]');
  // Show the file name as a user would have it, not the temporary one.
  await page.evaluate(
    `document.querySelector('.file-name').textContent = 'heapscope.${profile.split('.')[1]}.json'`,
  );
  await page.locator('.tree [data-id="1.1"] .fn').click();
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  if (problems.length) throw new Error(problems.join('\n'));
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

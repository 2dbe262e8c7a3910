// A Profiler's DHAT file opens in Valgrind's own viewer (dh_view.html, headless
// Chromium) with the file's totals at its root. The profile is taken in a child Node
// process: with playwright loaded, V8 takes tens of seconds to write a heap snapshot.
// Needs `npm run build` and Valgrind's viewer.

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { dhViewNumbers, findDhViewDir, launchBrowser, openInDhView } from '../helpers/browser.js';
import { NODE, ROOT, tempDir } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/profile-pairs.mjs', import.meta.url));
let browser: Browser | undefined;
const dir = tempDir('heapscope-profiler-viewer-');
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("opens in dh_view with the profile's totals", async () => {
  findDhViewDir();
  const file = join(dir, 'pairs.dhat.json');
  const r = spawnSync(NODE, [fixture, file], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const totals = JSON.parse(r.stdout) as {
    totalBytes: number;
    totalBlocks: number;
    endBytes: number;
  };
  expect(totals.totalBytes).toBeGreaterThan(20_000 * 40);
  browser = await launchBrowser();
  const shown = await openInDhView(browser, readFileSync(file, 'utf8'));
  expect(shown.error).toBeUndefined();
  expect(shown.text).toMatch(/makePairs \(test\/measure\/fixtures\/profile-pairs\.mjs:\d+:\d+\)/);
  const root = dhViewNumbers(shown.text);
  expect(root.totalBytes).toBe(totals.totalBytes);
  expect(root.totalBlocks).toBe(totals.totalBlocks);
  expect(root.endBytes).toBe(totals.endBytes);
});

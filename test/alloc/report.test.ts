/**
 * Profiles written by heapscope/alloc in a plain Node process (test/fixtures/alloc/
 * program.mjs, using the built library in dist/) open in `heapscope report` and in
 * Valgrind's dh_view with the figures the program is known to allocate.
 * Needs `npm run build` and Valgrind's viewer.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dhViewNumbers, findDhViewDir, launchBrowser, openInDhView } from '../helpers/browser.js';
import { heapscope, NODE, ROOT, readProfile, siteOf, tempDir } from '../helpers/heapscope.js';

const PROGRAM = 'test/fixtures/alloc/program.mjs';
const SOURCE = readFileSync(join(ROOT, PROGRAM), 'utf8').split('\n');

/** `fn (file:line:column)` of the call `callee` on the one line holding `code`. */
function frameAt(fn: string, code: string, callee: string): string {
  const line = SOURCE.findIndex((l) => l.includes(code));
  return `${fn} (${PROGRAM}:${line + 1}:${SOURCE[line]!.indexOf(callee) + 1})`;
}

let dir = '';
let browser: Browser | undefined;

beforeAll(() => {
  dir = tempDir('heapscope-alloc-');
  const r = spawnSync(NODE, [PROGRAM, dir], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an arena profile from a plain Node process', () => {
  it('has the known sites and figures', () => {
    const profile = readProfile(join(dir, 'arena.json'));
    const node = siteOf(profile, 'makeNode');
    expect(profile.frames[node.stack[0]!]).toBe(
      frameAt('makeNode', 'const p = heap.alloc(16);', 'alloc('),
    );
    // 1,000 nodes (t=1..1000), then 10 buffers (t=1001..1010): the peak is at t=1010,
    // before the first free; 500 nodes freed at t=1010 lived 1009..510 allocations.
    expect(node).toMatchObject({
      totalBytes: 16_000,
      totalBlocks: 1000,
      totalLifetimes: (1009 + 510) * 250 + (509 + 10) * 250,
      maxBytes: 16_000,
      peakBytes: 16_000,
      endBytes: 8000,
      endBlocks: 500,
      writeBytes: 4000,
      readBytes: 0,
      accesses: [-4, 1000, -12, 0],
    });
    expect(siteOf(profile, 'makeBuffer')).toMatchObject({
      totalBytes: 10_000,
      totalBlocks: 10,
      peakBytes: 10_000,
      endBytes: 10_000,
      accesses: [-1000, 0],
    });
  });

  it('opens in heapscope report', () => {
    const r = heapscope(['report', join(dir, 'arena.json')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Total:     25.4 KiB (26,000 bytes) in 1,010 blocks');
    expect(r.stdout).toContain('At t-end:  17.6 KiB (18,000 bytes) in 510 blocks');
    expect(r.stdout).toContain('Writes:    3.9 KiB (4,000 bytes)');
    expect(r.stdout).toContain(frameAt('makeNode', 'const p = heap.alloc(16);', 'alloc('));
    expect(r.stdout).toContain(frameAt('makeBuffer', 'return heap.alloc(1000);', 'alloc('));
  });

  it("opens in Valgrind's dh_view with the same root figures and access counts", async () => {
    findDhViewDir();
    browser = await launchBrowser();
    const shown = await openInDhView(browser, readFileSync(join(dir, 'arena.json'), 'utf8'));
    expect(shown.error).toBeUndefined();
    expect(dhViewNumbers(shown.text)).toEqual({
      totalBytes: 26_000,
      totalBlocks: 1010,
      peakBytes: 26_000,
      peakBlocks: 1010,
      endBytes: 18_000,
      endBlocks: 510,
    });
    expect(shown.sortOptions).toContain('Writes (bytes)');
    expect(shown.text).toContain('makeNode (test/fixtures/alloc/program.mjs:');
    // dh_view draws the decoded `acc` of makeNode's 16-byte blocks: 1,000 on bytes 0-3.
    expect(shown.text).toContain('[  0]  1000 〃 〃 〃 - - - - - - - - - - - - ');
  });
});

describe('a wasm heap profile from a plain Node process', () => {
  it('has the known site and figures, and opens in heapscope report and dh_view', async () => {
    const profile = readProfile(join(dir, 'wasm.json'));
    expect(profile.mode).toBe('wasm-heap');
    const node = siteOf(profile, 'newNode');
    expect(profile.frames[node.stack[0]!]).toBe(
      frameAt('newNode', 'const node = m.malloc(16);', 'malloc('),
    );
    expect(node).toMatchObject({
      totalBytes: 3200,
      totalBlocks: 200,
      peakBytes: 3200,
      endBytes: 1600,
      endBlocks: 100,
    });
    const r = heapscope(['report', join(dir, 'wasm.json')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Total:     3.1 KiB (3,200 bytes) in 200 blocks');
    expect(r.stdout).toMatch(/note: Only allocations made through the tracked exports/);
    browser ??= await launchBrowser();
    const shown = await openInDhView(browser, readFileSync(join(dir, 'wasm.json'), 'utf8'));
    expect(shown.error).toBeUndefined();
    expect(dhViewNumbers(shown.text)).toMatchObject({ totalBytes: 3200, endBlocks: 100 });
  });
});

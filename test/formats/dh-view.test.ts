// Every DHAT fixture, the same files after a readDhat → writeDhat round trip, and a
// profile written by `heapscope run` open in Valgrind's own viewer (dh_view.html, in
// headless Chromium) without an error, and the root figures it shows (Total, At t-gmax,
// At t-end) are the sums over the file's program points, computed here from the JSON.
// Needs `npm run build` (runs bin/heapscope.js) and Valgrind's viewer installed.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adHocEvent, Profiler } from '../../dist/index.js';
import { readDhat, writeDhat } from '../../src/formats/dhat.js';
import { dhViewNumbers, findDhViewDir, launchBrowser, openInDhView } from '../helpers/browser.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url), 'utf8');

const FIXTURES = [
  'valgrind-3.19/valgrind-heap.json',
  'valgrind-3.19/valgrind-ad-hoc.json',
  'valgrind-3.19/valgrind-copy.json',
  'dhat-rs/dhat-rs-heap.json',
];

/** 20,000 `{a, b}` objects made in `makePairs`, every 20th kept in a global array. */
const PROGRAM = `
globalThis.kept = [];
function makePairs(n) {
  for (let i = 0; i < n; i++) {
    const pair = { a: i, b: i + 1 };
    if (i % 20 === 0) globalThis.kept.push(pair);
  }
}
makePairs(20000);
`;

interface RawPP {
  tb: number;
  tbk: number;
  gb?: number;
  gbk?: number;
  eb?: number;
  ebk?: number;
}

/** The root figures dh_view should show: sums over the file's pps, straight from the JSON. */
function expectedRoot(text: string) {
  const d = JSON.parse(text) as { bklt: boolean; pps: RawPP[] };
  const sum = (f: (pp: RawPP) => number | undefined) =>
    d.pps.reduce((a, pp) => a + (f(pp) ?? Number.NaN), 0);
  return {
    totalBytes: sum((pp) => pp.tb),
    totalBlocks: sum((pp) => pp.tbk),
    ...(d.bklt
      ? {
          peakBytes: sum((pp) => pp.gb),
          peakBlocks: sum((pp) => pp.gbk),
          endBytes: sum((pp) => pp.eb),
          endBlocks: sum((pp) => pp.ebk),
        }
      : {}),
  };
}

let browser: Browser;
let workDir = '';
let heapscopeProfile = '';

beforeAll(async () => {
  findDhViewDir(); // fails the file at once, with instructions, when Valgrind's viewer is missing
  const bin = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
  const t0 = performance.now();
  browser = await launchBrowser();
  console.log(`browser launch: ${Math.round(performance.now() - t0)} ms`);
  workDir = mkdtempSync(join(tmpdir(), 'heapscope-dh-view-test-'));
  writeFileSync(join(workDir, 'prog.js'), PROGRAM);
  execFileSync(
    process.execPath,
    ['bin/heapscope.js', 'run', '-q', '--out-dir', workDir, '--', 'node', join(workDir, 'prog.js')],
    { cwd: root, stdio: 'pipe' },
  );
  const written = readdirSync(workDir).filter((f) => /^heapscope\.\d+\.json$/.test(f));
  expect(written, 'profiles written by heapscope run').toHaveLength(1);
  heapscopeProfile = readFileSync(join(workDir, written[0]!), 'utf8');
});

afterAll(async () => {
  await browser?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function checkOpens(text: string) {
  const shown = await openInDhView(browser, text);
  expect(shown.error).toBeUndefined();
  // dh_view names the units in its menu: bytes, or the file's own (`bsu`, `bksu`).
  const d = JSON.parse(text);
  expect(shown.sortOptions.slice(0, 2)).toEqual([
    `Total (${d.bsu ?? 'bytes'})`,
    `Total (${d.bksu ?? 'blocks'})`,
  ]);
  expect(dhViewNumbers(shown.text)).toEqual(expectedRoot(text));
  return shown;
}

describe.each(FIXTURES)('%s', (path) => {
  it('opens in dh_view with the root figures of its program points', async () => {
    await checkOpens(fixture(path));
  });

  it('shows the same after readDhat → writeDhat', async () => {
    const text = fixture(path);
    const original = await openInDhView(browser, text);
    const shown = await openInDhView(browser, writeDhat(readDhat(text)));
    expect(shown.error).toBeUndefined();
    expect(shown.sortOptions).toEqual(original.sortOptions);
    expect(shown.text).toBe(original.text);
  });
});

describe('a profile written by heapscope run', () => {
  it('opens in dh_view with the root figures of its program points', async () => {
    const shown = await checkOpens(heapscopeProfile);
    expect(shown.text).toContain('makePairs');
    // The workload alone is 20,000 objects, 1,000 of them live at the end.
    const root = dhViewNumbers(shown.text);
    expect(root.totalBlocks).toBeGreaterThanOrEqual(20_000);
    expect(root.endBlocks).toBeGreaterThanOrEqual(1000);
  });

  it('shows no NaN figures except the average lifetime, which V8 does not record', async () => {
    // heapscope leaves DHAT's `tl` (total lifetimes) out rather than invent it; dh_view
    // then prints "avg lifetime NaN" on each node, and nothing else may be NaN.
    const shown = await openInDhView(browser, heapscopeProfile);
    const nanLines = shown.text.split('\n').filter((l) => l.includes('NaN'));
    expect(nanLines.length).toBeGreaterThan(0);
    for (const l of nanLines)
      expect(l).toMatch(/^[\s│├└─▼▶]*Total: .*, avg lifetime NaN µs \(NaN% of program duration\)$/);
  });

  it('shows at least as many bytes live at t-gmax as at t-end', async () => {
    const root = dhViewNumbers((await openInDhView(browser, heapscopeProfile)).text);
    expect(root.peakBytes).toBeGreaterThanOrEqual(root.endBytes!);
  });
});

describe('a profile written by Profiler in ad-hoc mode', () => {
  function cacheMiss(key: number): void {
    adHocEvent(key % 3);
  }

  it('opens in dh_view with the root figures of its program points, in units and events', async () => {
    const profiler = Profiler.start({ mode: 'ad-hoc', file: join(workDir, 'ad-hoc.json') });
    for (let i = 0; i < 300; i++) cacheMiss(i); // 100 events each of weight 0, 1 and 2
    adHocEvent(1000);
    const { file } = await profiler.stop();
    const text = readFileSync(file, 'utf8');
    const shown = await checkOpens(text);
    expect(shown.text).toContain('cacheMiss');
    expect(dhViewNumbers(shown.text)).toEqual({ totalBytes: 1300, totalBlocks: 301 });
  });
});

describe("dh_view's own checks, which readDhat mirrors", () => {
  const heap = () => JSON.parse(fixture('valgrind-3.19/valgrind-heap.json'));

  it('rejects a version-1 file', async () => {
    const shown = await openInDhView(browser, JSON.stringify({ ...heap(), dhatFileVersion: 1 }));
    expect(shown.error).toMatch(/version number 1, expected version number 2/);
  });

  it('rejects two program points with the same stack', async () => {
    const d = heap();
    d.pps.push({ ...d.pps[0] });
    expect((await openInDhView(browser, JSON.stringify(d))).error).toMatch(/repeated location/);
  });

  it('rejects a file with lifetimes but no "tg"', async () => {
    const { tg: _tg, ...d } = heap();
    expect((await openInDhView(browser, JSON.stringify(d))).error).toMatch(/missing a field: tg/);
  });

  it('shows an error for truncated text', async () => {
    const text = fixture('valgrind-3.19/valgrind-heap.json');
    expect((await openInDhView(browser, text.slice(0, 500))).error).toMatch(/JSON/);
  });
});

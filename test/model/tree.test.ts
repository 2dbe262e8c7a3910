// The program-point tree (src/model/tree.ts) against Valgrind's own viewer: for every
// DHAT fixture, a random profile built to exercise every radix-tree case, and a profile
// from `heapscope run`, the text dh_view renders under each of its sort metrics (in
// headless Chromium) equals, character for character, the text heapscope's viewer
// builds from the same tree (src/viewer/app/dhtext.ts): same nodes, same order, same
// folding into "[N insignificant]", same numbers. Plus hand-made trees with figures
// worked out by hand, and the callers-first direction.
// Needs `npm run build` (runs bin/heapscope.js) and Valgrind's viewer installed.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDhat } from '../../src/formats/dhat.js';
import { availableSortMetrics, dhViewEnables, SORT_METRICS } from '../../src/model/metrics.js';
import type { Profile } from '../../src/model/profile.js';
import {
  arrangeTree,
  buildTree,
  decodeAccesses,
  pathFrames,
  pointsUnder,
  type ShownNode,
  type TreeNode,
} from '../../src/model/tree.js';
import { dhViewText } from '../../src/viewer/app/dhtext.js';
import { makeFormat } from '../../src/viewer/app/format.js';
import { findDhViewDir, launchBrowser } from '../helpers/browser.js';
import { dhViewTextsBySort } from '../helpers/dh-view-sorts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url), 'utf8');

const FIXTURES = [
  'valgrind-3.19/valgrind-heap.json',
  'valgrind-3.19/valgrind-ad-hoc.json',
  'valgrind-3.19/valgrind-copy.json',
  'dhat-rs/dhat-rs-heap.json',
];

/** A tiny deterministic PRNG (mulberry32), so the random profile is the same every run. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * DHAT JSON with `n` program points whose stacks are drawn from 7 frames, 1 to 6 deep:
 * shared prefixes, stacks that are prefixes of others (empty leaves), splits inside runs.
 * Sizes are skewed so that many nodes fall under the 1% and 0.5% thresholds; reads and
 * writes include zeros and high counts; some sites are tiny and short-lived.
 */
function randomDhat(n: number, seed: number): string {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const seen = new Set<string>();
  const pps: object[] = [];
  while (pps.length < n) {
    const fs = Array.from({ length: int(1, 6) }, () => int(1, 7));
    const key = fs.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const tbk = Math.max(1, Math.floor(1000 * r() ** 4));
    const avg = r() < 0.3 ? int(1, 16) : int(17, 5000);
    const tb = tbk * avg;
    const ebk = int(0, tbk);
    const gbk = int(0, tbk);
    const accLen = int(0, 3);
    pps.push({
      tb,
      tbk,
      tl: tbk * (r() < 0.3 ? int(1, 400) : int(600, 100000)),
      mb: Math.max(ebk, gbk) * avg,
      mbk: Math.max(ebk, gbk),
      gb: gbk * avg,
      gbk,
      eb: ebk * avg,
      ebk,
      rb: r() < 0.2 ? 0 : Math.floor(tb * r() * (r() < 0.1 ? 3000 : 2)),
      wb: r() < 0.2 ? 0 : Math.floor(tb * r() * 2),
      ...(accLen > 0
        ? {
            acc:
              r() < 0.5
                ? [-accLen, int(0, 3)]
                : Array.from({ length: accLen }, () => int(0, 70000) % 65536),
          }
        : {}),
      fs,
    });
  }
  return JSON.stringify({
    dhatFileVersion: 2,
    mode: 'heap',
    verb: 'Allocated',
    bklt: true,
    bkacc: true,
    tu: 'instrs',
    Mtu: 'Minstr',
    tuth: 500,
    cmd: './random <script>',
    pid: 42,
    te: 1_000_000,
    tg: 400_000,
    pps,
    ftbl: [
      '[root]',
      ...Array.from({ length: 7 }, (_, i) => `0x${(i + 1) * 16}: f${i + 1} (r.c:${i + 1})`),
    ],
  });
}

/** Hand-written DHAT JSON: stacks as frame names, figures [tb, tbk, gb, gbk, eb, ebk]. */
function dhat(points: [string[], number[]][]): Profile {
  const ftbl = ['[root]'];
  const idx = (f: string) => {
    const i = ftbl.indexOf(f);
    return i >= 0 ? i : ftbl.push(f) - 1;
  };
  const pps = points.map(([frames, [tb, tbk, gb, gbk, eb, ebk]]) => ({
    tb,
    tbk,
    mb: gb,
    mbk: gbk,
    gb,
    gbk,
    eb,
    ebk,
    fs: frames.map(idx),
  }));
  return readDhat({
    dhatFileVersion: 2,
    mode: 'heap',
    verb: 'Allocated',
    bklt: true,
    bkacc: false,
    tu: 'µs',
    Mtu: 's',
    tuth: 10,
    cmd: 'test',
    pid: 1,
    te: 100,
    tg: 50,
    pps,
    ftbl,
  });
}

/** A tree as `frames:totalBytes[kids]`, frames by name, kids in tree order. */
function shape(p: Profile, t: TreeNode): string {
  const own = t.frames.map((f) => p.frames[f]).join('') || '-';
  const kids = t.children ? `[${t.children.map((k) => shape(p, k)).join(',')}]` : '';
  return `${own}:${t.figures.totalBytes}${kids}`;
}

describe('buildTree: the radix tree of dh_view', () => {
  // dh_view's own comments: abcd:20-[] + abef:10 => ab:30-[cd:20-[], ef:10-[]], ...
  it('splits inside a run, after a run, and for prefixes', () => {
    const p = dhat([
      [
        ['a', 'b', 'c', 'd'],
        [20, 2, 0, 0, 0, 0],
      ],
      [
        ['a', 'b', 'e', 'f'],
        [10, 1, 0, 0, 0, 0],
      ],
      [
        ['a', 'b'],
        [5, 1, 0, 0, 0, 0],
      ],
      [
        ['a', 'b', 'c', 'd', 'g'],
        [7, 1, 0, 0, 0, 0],
      ],
      [['x'], [1, 1, 0, 0, 0, 0]],
    ]);
    const t = buildTree(p);
    expect(shape(p, t.root)).toBe('[root]:43[ab:42[cd:27[-:20,g:7],ef:10,-:5],x:1]');
    expect(t.programPoints).toBe(5);
  });

  it('keeps the whole first stack in the root when every stack shares it', () => {
    const p = dhat([
      [
        ['a', 'b'],
        [8, 1, 0, 0, 0, 0],
      ],
    ]);
    const t = buildTree(p);
    expect(shape(p, t.root)).toBe('[root]ab:8');
    expect(t.root.kind).toBe('leaf');
    expect(t.root.pp).toBe(0);
  });

  it('sums every figure over the program points below each node; leaves keep their max', () => {
    const p = dhat([
      [
        ['m', 'a'],
        [100, 10, 40, 4, 20, 2],
      ],
      [
        ['m', 'b'],
        [50, 5, 10, 1, 0, 0],
      ],
      [['n'], [7, 7, 7, 7, 7, 7]],
    ]);
    const t = buildTree(p);
    const m = t.root.children!.find((k) => p.frames[k.frames[0]!] === 'm')!;
    expect(m.kind).toBe('internal');
    expect(m.maxBytes).toBeUndefined();
    expect(m.figures).toMatchObject({
      totalBytes: 150,
      totalBlocks: 15,
      peakBytes: 50,
      peakBlocks: 5,
      endBytes: 20,
      endBlocks: 2,
    });
    expect(Number.isNaN(m.figures.readBytes)).toBe(true); // no accesses in this file
    expect(t.root.figures.totalBytes).toBe(157);
    const a = m.children![0]!;
    expect([a.maxBytes, a.maxBlocks, a.pp]).toEqual([40, 4, 0]);
    expect(pointsUnder(m).sort()).toEqual([0, 1]);
  });

  it('builds the callers-first tree from reversed stacks, allocation sites at the leaves', () => {
    // Stacks are allocation site first: [alloc1, main] is alloc1 called from main.
    const p = dhat([
      [
        ['alloc1', 'main'],
        [10, 1, 0, 0, 0, 0],
      ],
      [
        ['alloc2', 'main'],
        [20, 1, 0, 0, 0, 0],
      ],
      [
        ['alloc1', 'other'],
        [5, 1, 0, 0, 0, 0],
      ],
    ]);
    expect(shape(p, buildTree(p).root)).toBe('[root]:35[alloc1:15[main:10,other:5],alloc2main:20]');
    expect(shape(p, buildTree(p, { direction: 'callers' }).root)).toBe(
      '[root]:35[main:30[alloc1:10,alloc2:20],otheralloc1:5]',
    );
  });

  it('builds from a subset of program points', () => {
    const p = dhat([
      [['a'], [1, 1, 0, 0, 0, 0]],
      [['b'], [2, 1, 0, 0, 0, 0]],
      [['c'], [4, 1, 0, 0, 0, 0]],
    ]);
    const t = buildTree(p, { points: [2, 0] });
    expect(shape(p, t.root)).toBe('[root]:5[c:4,a:1]');
    expect(t.programPoints).toBe(2);
  });

  it('rejects a repeated stack, as dh_view does', () => {
    const p = dhat([
      [
        ['a', 'b'],
        [1, 1, 0, 0, 0, 0],
      ],
      [['a'], [1, 1, 0, 0, 0, 0]],
    ]);
    const twice = { ...p, programPoints: [...p.programPoints, p.programPoints[1]!] };
    expect(() => buildTree(twice)).toThrow(/repeated location/);
  });

  it('decodes run-length encoded access counts, 0xffff as infinity', () => {
    expect(decodeAccesses([-3, 7, 1, 0xffff])).toEqual([7, 7, 7, 1, Number.POSITIVE_INFINITY]);
  });
});

describe('arrangeTree: significance, folding, order', () => {
  const p = dhat([
    [['big'], [900, 1, 0, 0, 0, 0]],
    [['mid'], [95, 100, 0, 0, 0, 0]],
    [['small1'], [3, 1, 0, 0, 0, 0]],
    [['small2'], [2, 1, 0, 0, 0, 0]],
  ]);
  const bytes = SORT_METRICS.find((m) => m.id === 'total-bytes')!;
  const blocks = SORT_METRICS.find((m) => m.id === 'total-blocks')!;
  const label = (s: ShownNode) =>
    s.node.kind === 'aggregate' ? `[${s.folded} insignificant]` : p.frames[s.node.frames[0]!];

  it('folds siblings under 1% of the root into one node, sorted by the metric', () => {
    const shown = arrangeTree(buildTree(p), bytes, p);
    // 1% of 1,000 bytes is 10: small1 (3) and small2 (2) fold into one aggregate of 5.
    expect(shown.children!.map(label)).toEqual(['big', 'mid', '[2 insignificant]']);
    expect(shown.children!.map((c) => c.id)).toEqual(['1.1', '1.2', '1.3']);
    expect(shown.children![2]!.node.figures.totalBytes).toBe(5);
    expect(shown.children![2]!.sig).toBe('none');
    expect(shown.children!.map((c) => c.of)).toEqual([3, 3, 3]);
    expect(shown.children![0]!.percent).toBeCloseTo(90, 10);
  });

  it('orders by blocks, then by bytes', () => {
    const shown = arrangeTree(buildTree(p), blocks, p);
    // 103 blocks: mid has 100; the three 1-block sites are each 0.97% (< 1%): folded.
    expect(shown.children!.map(label)).toEqual(['mid', '[3 insignificant]']);
  });

  it('shows every node when folding is off', () => {
    const shown = arrangeTree(buildTree(p), bytes, p, { fold: false });
    expect(shown.children!.map(label)).toEqual(['big', 'mid', 'small1', 'small2']);
    expect(shown.children![3]!.sig).toBe('none');
  });

  it('gives the path of frames from the root', () => {
    const q = dhat([
      [
        ['a', 'b', 'c'],
        [1, 1, 0, 0, 0, 0],
      ],
      [
        ['a', 'b', 'd'],
        [1, 1, 0, 0, 0, 0],
      ],
    ]);
    const shown = arrangeTree(buildTree(q), bytes, q);
    const leaf = shown.children![0]!;
    expect(pathFrames(leaf).map((f) => q.frames[f])).toEqual(['a', 'b', 'c']);
  });

  it('offers the metrics a file carries', () => {
    const ids = (prof: Profile) => availableSortMetrics(prof).map((m) => m.id);
    expect(ids(readDhat(fixture('valgrind-3.19/valgrind-copy.json')))).toEqual([
      'total-bytes',
      'total-blocks',
      'total-blocks-tiny',
    ]);
    expect(ids(readDhat(fixture('dhat-rs/dhat-rs-heap.json')))).toEqual([
      'total-bytes',
      'total-blocks',
      'total-blocks-tiny',
      'total-blocks-short-lived',
      'peak-bytes',
      'end-bytes',
      'peak-blocks',
      'end-blocks',
    ]);
    expect(ids(readDhat(fixture('valgrind-3.19/valgrind-heap.json')))).toHaveLength(
      SORT_METRICS.length,
    );
  });
});

describe("the same text as Valgrind's dh_view, under each of its sort metrics", () => {
  let browser: Browser;
  let workDir = '';
  let heapscopeProfile = '';

  beforeAll(async () => {
    findDhViewDir();
    const bin = join(root, 'dist', 'cli', 'main.js');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
    browser = await launchBrowser();
    workDir = mkdtempSync(join(tmpdir(), 'heapscope-tree-test-'));
    writeFileSync(
      join(workDir, 'prog.js'),
      `globalThis.kept = [];
       function pairs(n) { for (let i = 0; i < n; i++) { const o = { a: i }; if (i % 10 === 0) kept.push(o); } }
       function strings(n) { let s = ''; for (let i = 0; i < n; i++) s += String(i); return s.length; }
       pairs(5000); strings(2000);`,
    );
    execFileSync(
      process.execPath,
      [
        'bin/heapscope.js',
        'run',
        '-q',
        '--out-dir',
        workDir,
        '--',
        'node',
        join(workDir, 'prog.js'),
      ],
      { cwd: root, stdio: 'pipe' },
    );
    const written = readdirSync(workDir).filter((f) => /^heapscope\.\d+\.json$/.test(f));
    heapscopeProfile = readFileSync(join(workDir, written[0]!), 'utf8');
  });

  afterAll(async () => {
    await browser?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function compare(text: string) {
    const profile = readDhat(text);
    const shownByDhView = await dhViewTextsBySort(browser, text);
    const ours = SORT_METRICS.filter((m) => m.inDhView && dhViewEnables(m, profile));
    expect(shownByDhView.map((s) => s.label)).toEqual(
      ours.map((m) => m.label(profile.units?.bytes ?? 'bytes', profile.units?.blocks ?? 'blocks')),
    );
    const tree = buildTree(profile);
    const fmt = makeFormat(profile, 'en-US');
    const tuth = profile.shortLivedThreshold ?? Number.NaN;
    ours.forEach((metric, i) => {
      const arranged = arrangeTree(tree, metric, profile);
      const text = dhViewText({ profile, root: arranged, metric, fmt, nanLifetimes: true }, tuth);
      expect(text, metric.id).toBe(shownByDhView[i]!.text);
    });
    return shownByDhView.length;
  }

  it.each(FIXTURES)('%s', async (path) => {
    expect(await compare(fixture(path))).toBeGreaterThanOrEqual(3);
  });

  it('a random profile of 300 program points with shared and prefix stacks', async () => {
    const text = randomDhat(300, 7);
    const t = buildTree(readDhat(text));
    // The random stacks reach every case: empty leaves and runs of several frames.
    const nodes: TreeNode[] = [];
    const walk = (n: TreeNode) => {
      nodes.push(n);
      n.children?.forEach(walk);
    };
    walk(t.root);
    expect(nodes.some((n) => n.frames.length === 0)).toBe(true);
    expect(nodes.some((n) => n !== t.root && n.frames.length > 1)).toBe(true);
    expect(await compare(text)).toBe(14);
  });

  it('a profile written by heapscope run', async () => {
    expect(await compare(heapscopeProfile)).toBe(6);
  });
});

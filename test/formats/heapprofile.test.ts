// Chrome's .heapprofile: a file from `node --heap-prof` (a real producer) is detected and
// read, with its sampling interval inferred and its figures within the sampler's bound;
// block counts are worked out the way V8 made them; what heapscope writes has the shape
// DevTools reads (head → callFrame, selfSize, id, children) and reads back unchanged.
// (speedscope's own importer reads it too: see speedscope.test.ts.)

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDhat, writeDhat } from '../../src/formats/dhat.js';
import {
  estimateBlocks,
  inferSampleInterval,
  narrowSizes,
  readHeapProfile,
  scaledCount,
  writeHeapProfile,
  writeHeapProfileParts,
} from '../../src/formats/heapprofile.js';
import { convertProfileFile, readProfileFile } from '../../src/formats/index.js';
import { totals } from '../../src/model/metrics.js';
import { type Profile, stackFrames } from '../../src/model/profile.js';
import { NODE, siteOf, sitesOf, tempDir, workload } from '../helpers/heapscope.js';
import { manySitesProfile } from '../helpers/many-sites.js';

const fixture = (path: string) =>
  readDhat(readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url), 'utf8'));

const sites = (p: Profile) =>
  p.programPoints
    .map((pp) => ({
      frames: stackFrames(p, pp),
      figures: [pp.totalBytes, pp.totalBlocks, pp.endBytes, pp.endBlocks],
    }))
    .sort((a, b) => a.frames.join().localeCompare(b.frames.join()));

describe('a profile written by node --heap-prof', () => {
  const M = 250_000;
  const INTERVAL = 4096;
  const dir = tempDir();
  const r = spawnSync(
    NODE,
    [
      '--heap-prof',
      `--heap-prof-interval=${INTERVAL}`,
      `--heap-prof-dir=${dir}`,
      workload('sampled.js'),
      '0',
      `${M}`,
    ],
    { encoding: 'utf8' },
  );
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.heapprofile')) ?? 'none');

  it('is detected and read, its interval inferred from its samples', async () => {
    expect(r.status, r.stderr).toBe(0);
    const { profile, format } = await readProfileFile(file);
    expect(format).toBe('heapprofile');
    expect(profile.heapscope?.sampleInterval).toBe(INTERVAL);
    expect(profile.heapscope?.capture).toBe('sampled');
    expect(profile.heapscope?.notes?.join()).toMatch(/inferred from the samples/);
  });

  it("estimates the retained site's bytes and objects within 5 standard deviations", async () => {
    // All M Pairs (40 bytes) are alive when --heap-prof stops: see test/capture/sampled.test.ts
    // for the bound, sd ≈ sqrt(B·I).
    const { profile } = await readProfileFile(file);
    const pp = siteOf(profile, 'retain');
    const p = 1 - Math.exp(-40 / INTERVAL);
    const c = Math.round(1 / p);
    const sd = Math.sqrt(M * p * (1 - p));
    expect(Math.abs(pp.totalBytes - 40 * M)).toBeLessThanOrEqual(5 * 40 * c * sd + 64 * 1024);
    expect(Math.abs(pp.totalBlocks - M)).toBeLessThanOrEqual(5 * c * sd + 64);
  });
});

describe('positions V8 writes below -1', () => {
  // vitest compiles its modules with a negative column offset: V8's sampling profiler then
  // writes columns such as -209 (seen in vitest's forks under `heapscope run --sample`).
  const profileWith = (lineNumber: number, columnNumber: number) => ({
    head: {
      callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 },
      selfSize: 0,
      id: 1,
      children: [
        {
          callFrame: { functionName: 'wrapped', url: '/p/w.test.mjs', lineNumber, columnNumber },
          selfSize: 4096,
          id: 2,
          children: [],
        },
      ],
    },
    samples: [{ size: 64, nodeId: 2, ordinal: 1 }],
  });

  it('reads a negative column as no column, with the site and its bytes', () => {
    const profile = readHeapProfile(profileWith(0, -209));
    const site = siteOf(profile, 'wrapped');
    expect(stackFrames(profile, site)[0]).toBe('wrapped (/p/w.test.mjs:1)');
    expect(site.totalBytes).toBe(4096);
  });

  it('refuses a position below an int32', () => {
    expect(() => readHeapProfile(profileWith(0, -(2 ** 31) - 1))).toThrow(
      /"callFrame.columnNumber" is -2147483649; wants a whole number >= -2\^31/,
    );
  });
});

describe('built-in functions in the stack', () => {
  // Every Node's sampler puts V8's built-ins in the stack as a bare name with no script
  // (scriptId 0); the allocation tracker names them `Array.prototype.push (native)`.
  const node = (id: number, functionName: string, url: string, children: unknown[] = []) => ({
    callFrame: {
      functionName,
      url,
      scriptId: url ? 7 : 0,
      lineNumber: url ? 4 : -1,
      columnNumber: url ? 2 : -1,
    },
    selfSize: children.length ? 0 : 640,
    id,
    children,
  });
  const profile = readHeapProfile({
    head: node(1, '(root)', '', [
      node(2, 'grow', '/p/grow.js', [node(3, 'push', '')]),
      node(4, '(garbage collector)', ''),
    ]),
    samples: [
      { size: 640, nodeId: 3, ordinal: 1 },
      { size: 640, nodeId: 4, ordinal: 2 },
    ],
  });

  it('names a built-in as V8 does, under the function that called it', () => {
    const site = sitesOf(profile, 'push')[0]!;
    expect(stackFrames(profile, site).slice(0, 2)).toEqual([
      'push (native)',
      'grow (/p/grow.js:5:3)',
    ]);
    expect(site.totalBytes).toBe(640);
  });

  it("keeps V8's own nodes by their name", () => {
    expect(sitesOf(profile, '(garbage collector)')).toHaveLength(1);
    expect(profile.frames).not.toContain('(garbage collector) (native)');
  });
});

describe('block counts from sample sizes', () => {
  const intervals = fc.constantFrom(1024, 4096, 32768, 524288);
  const objectSize = fc.integer({ min: 1, max: 512 }).map((k) => 8 * k);

  it("keeps the true object size among the candidates, and with it gives V8's own count", () => {
    fc.assert(
      fc.property(
        intervals,
        fc.array(fc.tuple(objectSize, fc.integer({ min: 1, max: 3000 })), {
          minLength: 1,
          maxLength: 3,
        }),
        (interval, drawn) => {
          // What V8 makes of n samples of s bytes at one node: sample size s·round(1/p),
          // selfSize Σ s·round(n/p). Sizes that give one sample size are merged, as in V8.
          const bySample = new Map<number, { s: number; n: number }>();
          for (const [s, n] of drawn) {
            const S = s * scaledCount(s, 1, interval);
            if (!bySample.has(S)) bySample.set(S, { s, n });
          }
          const groups = new Map([...bySample].map(([S, { n }]) => [S, n]));
          const selfSize = [...bySample.values()].reduce(
            (a, { s, n }) => a + s * scaledCount(s, n, interval),
            0,
          );
          const sizes = narrowSizes(selfSize, groups, interval);
          for (const [S, { s }] of bySample) expect(sizes.get(S)).toContain(s);
          const prior = new Map([...bySample.values()].map(({ s }) => [s, 1]));
          const truth = [...bySample.values()].reduce(
            (a, { s, n }) => a + scaledCount(s, n, interval),
            0,
          );
          expect(estimateBlocks(groups, sizes, interval, prior).blocks).toBe(truth);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('pins down the size of a node sampled more than a few times at one size', () => {
    // At 32 KiB, 32-, 40- and 80-byte objects all give samples of 32,800 bytes; the
    // node's selfSize tells them apart.
    for (const s of [32, 40, 80]) {
      const n = 1187;
      const selfSize = s * scaledCount(s, n, 32768);
      expect(narrowSizes(selfSize, new Map([[32800, n]]), 32768).get(32800)).toEqual([s]);
    }
  });

  it('infers the interval as the largest power of two under the smallest sample', () => {
    expect(inferSampleInterval([{ size: 32800 }, { size: 70000 }])).toBe(32768);
    expect(inferSampleInterval([{ size: 524_320 }])).toBe(524_288);
    expect(inferSampleInterval([])).toBeUndefined();
  });
});

describe('what writeHeapProfile writes', () => {
  const HEAP = fixture('valgrind-3.19/valgrind-heap.json');
  const json = JSON.parse(writeHeapProfile(HEAP));

  it('has the shape DevTools reads: nodes with a callFrame, selfSize, a unique id and children', () => {
    const ids = new Set<number>();
    let self = 0;
    const visit = (node: Record<string, unknown>) => {
      const cf = node.callFrame as Record<string, unknown>;
      expect(typeof cf.functionName).toBe('string');
      expect(typeof cf.url).toBe('string');
      expect(Number.isInteger(cf.lineNumber)).toBe(true);
      expect(Number.isInteger(cf.columnNumber)).toBe(true);
      expect(typeof cf.scriptId).toBe('string');
      expect(Number.isInteger(node.id)).toBe(true);
      expect(ids.has(node.id as number)).toBe(false);
      ids.add(node.id as number);
      expect(typeof node.selfSize).toBe('number');
      self += node.selfSize as number;
      expect(Array.isArray(node.children)).toBe(true);
      for (const c of node.children as Record<string, unknown>[]) visit(c);
    };
    visit(json.head);
    expect(json.head.callFrame.functionName).toBe('(root)');
    expect(self).toBe(HEAP.programPoints.reduce((a, pp) => a + pp.totalBytes, 0));
    for (const s of json.samples) expect(ids.has(s.nodeId)).toBe(true);
  });

  it.each([['valgrind-3.19/valgrind-heap.json'], ['dhat-rs/dhat-rs-heap.json']])(
    'reads back unchanged (%s), the end taken as the peak',
    (path) => {
      const p = fixture(path);
      const back = readHeapProfile(writeHeapProfile(p));
      expect(sites(back)).toEqual(sites(p));
      expect(back.cmd).toBe(p.cmd);
      expect(back.mode).toBe(p.mode);
      for (const pp of back.programPoints) expect(pp.peakBytes).toBe(pp.endBytes);
      // Valgrind's and dhat-rs's profiles carry no heapscope meta, and gain none.
      expect(back.heapscope).toBeUndefined();
    },
  );

  it("keeps heapscope's meta: an exact profile stays exact, with no interval", () => {
    const p = fixture('valgrind-3.19/valgrind-heap.json');
    const exact: Profile = {
      ...p,
      heapscope: { version: 1, capture: 'exact', exact: { total: true, end: true, peak: false } },
    };
    const back = readHeapProfile(writeHeapProfile(exact));
    expect(back.heapscope).toMatchObject({ capture: 'exact', exact: { total: true, end: true } });
    expect(back.heapscope?.sampleInterval).toBeUndefined();
  });

  it('holds live bytes in the tree when asked (end-bytes)', () => {
    const end = JSON.parse(writeHeapProfile(HEAP, { metric: 'end' }));
    let self = 0;
    const visit = (n: { selfSize: number; children: unknown[] }) => {
      self += n.selfSize;
      for (const c of n.children) visit(c as typeof n);
    };
    visit(end.head);
    expect(self).toBe(HEAP.programPoints.reduce((a, pp) => a + (pp.endBytes ?? 0), 0));
    expect(sites(readHeapProfile(end))).toEqual(sites(HEAP));
  });
});

describe('a .heapprofile written in parts', () => {
  const N = 6000;
  const build = () => manySitesProfile(N);

  it('reads back from its file with every site and exact totals', async () => {
    const p = build();
    expect([...writeHeapProfileParts(p)].length).toBeGreaterThan(1);
    const dir = tempDir();
    const input = join(dir, 'generated.json');
    const output = join(dir, 'generated.heapprofile');
    writeFileSync(input, writeDhat(p));
    const r = await convertProfileFile(input, output, 'heapprofile');
    const text = readFileSync(output, 'utf8');
    expect(r.bytesWritten).toBe(Buffer.byteLength(text));
    expect(readdirSync(dir).sort()).toEqual(['generated.heapprofile', 'generated.json']);

    // Figures known by construction: Σ 32·(i+1), Σ (i+1), and the kept share.
    let endBlocks = 0;
    for (let i = 0; i < N; i++) endBlocks += i % 5;
    const want = {
      totalBytes: (32 * N * (N + 1)) / 2,
      totalBlocks: (N * (N + 1)) / 2,
      endBytes: 32 * endBlocks,
      endBlocks,
    };
    // The tree DevTools draws: its self sizes add up to the total, one node per frame
    // of each distinct stack prefix (main, 40 callers, N sites) below the root.
    const json = JSON.parse(text);
    let nodes = 0;
    let self = 0;
    const todo = [json.head];
    while (todo.length > 0) {
      const n = todo.pop();
      nodes++;
      self += n.selfSize;
      todo.push(...n.children);
    }
    expect(nodes).toBe(1 + 1 + 40 + N);
    expect(self).toBe(want.totalBytes);

    const back = (await readProfileFile(output)).profile;
    const t = totals(back);
    expect({
      totalBytes: t.totalBytes,
      totalBlocks: t.totalBlocks,
      endBytes: t.endBytes,
      endBlocks: t.endBlocks,
    }).toEqual(want);
    expect(sites(back)).toEqual(sites(p));
  });
});

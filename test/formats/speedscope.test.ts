// speedscope, the app itself (its npm package's browser bundle, in headless Chromium),
// opens what heapscope writes: its own JSON format, pprof and .heapprofile. For each, the
// importer speedscope picked, no error, and its sandwich view: the total and self weight
// it sums per frame, compared with sums over the profile's program points.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDhat, writeDhat } from '../../src/formats/dhat.js';
import { writeHeapProfile } from '../../src/formats/heapprofile.js';
import { convertProfileFile } from '../../src/formats/index.js';
import { writePprof } from '../../src/formats/pprof.js';
import { writeSpeedscope, writeSpeedscopeParts } from '../../src/formats/speedscope.js';
import { parseFrameForExport } from '../../src/model/frame.js';
import type { MetricKey } from '../../src/model/metrics.js';
import type { Profile } from '../../src/model/profile.js';
import { launchBrowser } from '../helpers/browser.js';
import { heapscope, readProfile, tempDir, workload } from '../helpers/heapscope.js';
import { manySitesProfile } from '../helpers/many-sites.js';
import { openInSpeedscope, type SandwichRow, speedscopeBytes } from '../helpers/speedscope.js';

const HEAP = readDhat(
  readFileSync(
    new URL('../fixtures/dhat/valgrind-3.19/valgrind-heap.json', import.meta.url),
    'utf8',
  ),
);

afterAll(async () => {
  await (await launchBrowser()).close();
});

/** Per frame: the metric summed over program points whose stack holds it (once), and where it is the site. */
function expectedRows(p: Profile, key: MetricKey): { name: string; total: number; self: number }[] {
  const rows = new Map<number, { name: string; total: number; self: number }>();
  for (const pp of p.programPoints) {
    const v = pp[key] ?? 0;
    if (v <= 0) continue;
    for (const f of new Set(pp.stack)) {
      const row = rows.get(f) ?? {
        name: parseFrameForExport(p.frames[f]!).name,
        total: 0,
        self: 0,
      };
      row.total += v;
      if (f === pp.stack[0]) row.self += v;
      rows.set(f, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.total - b.total);
}

const count = (cell: string) => Number(/^[\d,]+/.exec(cell)![0].replace(/,/g, ''));

function sortRows<T extends { name: string; total: number }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.name.localeCompare(b.name) || a.total - b.total);
}

/** Bytes as speedscope prints them (two decimals of KB, MB...): equal up to that rounding. */
function expectBytesRows(rows: SandwichRow[], expected: ReturnType<typeof expectedRows>) {
  const got = rows
    .map((r) => ({ name: r.name, total: speedscopeBytes(r.total), self: speedscopeBytes(r.self) }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.total.bytes - b.total.bytes);
  expect(got.map((r) => r.name)).toEqual(expected.map((r) => r.name));
  got.forEach((r, i) => {
    const e = expected[i]!;
    expect(Math.abs(r.total.bytes - e.total)).toBeLessThanOrEqual(r.total.rounding + 1e-9);
    expect(Math.abs(r.self.bytes - e.self)).toBeLessThanOrEqual(r.self.rounding + 1e-9);
  });
}

describe('speedscope JSON', () => {
  it('is imported by speedscope as its own format, one profile per metric, block counts exact', async () => {
    const text = writeSpeedscope(HEAP, { exporter: 'heapscope test' });
    const r = await openInSpeedscope(await launchBrowser(), 'heap.speedscope.json', text);
    expect(r.errors).toEqual([]);
    expect(r.importer).toBe('Importing as speedscope json file');
    expect(r.title).toBe(`${HEAP.cmd} (pid ${HEAP.pid}) - speedscope`);
    expect(r.header).toBe(`Total bytes (1/${JSON.parse(text).profiles.length})`);
    expectBytesRows(r.rows, expectedRows(HEAP, 'totalBytes'));

    const blocks = writeSpeedscope(HEAP, { metrics: ['total-blocks'] });
    const b = await openInSpeedscope(await launchBrowser(), 'heap.speedscope.json', blocks);
    expect(b.errors).toEqual([]);
    const got = sortRows(
      b.rows.map((row) => ({ name: row.name, total: count(row.total), self: count(row.self) })),
    );
    expect(got).toEqual(expectedRows(HEAP, 'totalBlocks'));
  });
});

describe('a sampled heapscope profile', () => {
  it('is shown by speedscope with its JavaScript functions and estimated bytes', async () => {
    const dir = tempDir();
    const out = join(dir, 'sampled.json');
    const run = heapscope([
      'run',
      '--sample',
      '4096',
      '-q',
      '-o',
      out,
      '--',
      '{NODE}',
      workload('sampled.js'),
      '200000',
      '50000',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const profile = readProfile(out);
    const text = writeSpeedscope(profile, { metrics: ['total-bytes'] });
    expect(JSON.parse(text).profiles[0].name).toBe('Total bytes (estimated)');
    const r = await openInSpeedscope(await launchBrowser(), 'sampled.speedscope.json', text);
    expect(r.errors).toEqual([]);
    expect(r.importer).toBe('Importing as speedscope json file');
    expect(r.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['churn', 'retain']));
    expectBytesRows(r.rows, expectedRows(profile, 'totalBytes'));
  });
});

describe('pprof', () => {
  it("is imported by speedscope's pprof importer, showing alloc_space", async () => {
    const r = await openInSpeedscope(await launchBrowser(), 'heap.pb.gz', writePprof(HEAP));
    expect(r.errors).toEqual([]);
    expect(r.importer).toBe('Importing as protobuf encoded pprof file');
    expectBytesRows(r.rows, expectedRows(HEAP, 'totalBytes'));
  });
});

describe('.heapprofile', () => {
  it("is imported by speedscope's Chrome heap profile importer", async () => {
    const r = await openInSpeedscope(
      await launchBrowser(),
      'heap.heapprofile',
      writeHeapProfile(HEAP),
    );
    expect(r.errors).toEqual([]);
    expect(r.importer).toBe('Importing as Chrome Heap Profile');
    // speedscope adds the tree's "(root)" node as a frame of every stack.
    const rows = r.rows.filter((row) => row.name !== '(root)');
    expectBytesRows(rows, expectedRows(HEAP, 'totalBytes'));
  });
});

describe('speedscope JSON written in parts', () => {
  // manySitesProfile: the sites of i mod 5 = 0 keep nothing, so they are no sample of
  // the at-end and peak profiles.
  const N = 6000;
  const build = () => manySitesProfile(N);

  it('is written to its file with every frame, sample and exact weight', async () => {
    const p = build();
    expect([...writeSpeedscopeParts(p)].length).toBeGreaterThan(1);
    const dir = tempDir();
    const input = join(dir, 'generated.json');
    const output = join(dir, 'generated.speedscope.json');
    writeFileSync(input, writeDhat(p));
    const r = await convertProfileFile(input, output, 'speedscope', { exporter: 'heapscope test' });
    const text = readFileSync(output, 'utf8');
    expect(r.bytesWritten).toBe(Buffer.byteLength(text));
    expect(readdirSync(dir).sort()).toEqual(['generated.json', 'generated.speedscope.json']);
    expect(text).toBe(writeSpeedscope(p, { exporter: 'heapscope test' }));

    // Figures known by construction.
    let endBlocks = 0;
    for (let i = 0; i < N; i++) endBlocks += i % 5;
    const want: Record<string, { samples: number; total: number }> = {
      'Total bytes': { samples: N, total: (32 * N * (N + 1)) / 2 },
      'Total blocks': { samples: N, total: (N * (N + 1)) / 2 },
      'At t-gmax bytes': { samples: N - N / 5, total: 32 * endBlocks },
      'At t-gmax blocks': { samples: N - N / 5, total: endBlocks },
      'At t-end bytes': { samples: N - N / 5, total: 32 * endBlocks },
      'At t-end blocks': { samples: N - N / 5, total: endBlocks },
    };
    const json = JSON.parse(text) as {
      shared: { frames: { name: string; file?: string; line?: number; col?: number }[] };
      profiles: {
        name: string;
        unit: string;
        endValue: number;
        samples: number[][];
        weights: number[];
      }[];
      exporter: string;
    };
    expect(json.exporter).toBe('heapscope test');
    const frames = json.shared.frames;
    // The root, main, 40 callers and N sites, each once.
    expect(frames.length).toBe(1 + 1 + 40 + N);
    const got: Record<string, { samples: number; total: number }> = {};
    for (const prof of json.profiles) {
      expect(prof.samples.length).toBe(prof.weights.length);
      const sum = prof.weights.reduce((a, b) => a + b, 0);
      expect(prof.endValue).toBe(sum);
      got[prof.name] = { samples: prof.samples.length, total: sum };
    }
    expect(got).toEqual(want);

    // Each sample of total bytes: main, its caller, its site, weighted as site i.
    const total = json.profiles.find((x) => x.name === 'Total bytes')!;
    expect(total.unit).toBe('bytes');
    total.samples.forEach((stack, k) => {
      const [outer, caller, site] = stack.map((f) => frames[f]!);
      const i = Number(site!.name.slice('site'.length));
      expect(outer).toEqual({ name: 'main', file: 'app.js', line: 1, col: 1 });
      expect(caller).toEqual({
        name: `caller${i % 40}`,
        file: 'app.js',
        line: 10 + (i % 40),
        col: 3,
      });
      expect(site).toEqual({ name: `site${i}`, file: `lib/s${i % 7}.js`, line: i + 1, col: 5 });
      expect(total.weights[k]).toBe(32 * (i + 1));
    });
    expect(new Set(total.samples.map((s) => s[2])).size).toBe(N);
  });
});

// diffProfiles on profiles with known contents (built with ProfileBuilder) and on the
// real DHAT fixtures: every delta is computed by hand from the figures put in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDhat } from '../../src/formats/dhat.js';
import { ProfileBuilder, type ProgramPointInput } from '../../src/model/builder.js';
import { type DiffRow, diffProfiles } from '../../src/model/diff.js';
import type { Profile } from '../../src/model/profile.js';
import { ROOT } from '../helpers/heapscope.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

const HEADER = NODE_HEAP_HEADER;

type Site = [frames: string[], total: number, blocks: number, peak: number, end: number];

function profile(sites: Site[], header: Partial<typeof HEADER> = {}): Profile {
  const b = new ProfileBuilder({ ...HEADER, ...header });
  for (const [frames, total, blocks, peak, end] of sites) {
    const pp: ProgramPointInput = {
      frames,
      totalBytes: total,
      totalBlocks: blocks,
      totalLifetimes: blocks * 10,
      maxBytes: peak,
      maxBlocks: Math.min(blocks, 1),
      peakBytes: peak,
      peakBlocks: peak > 0 ? 1 : 0,
      endBytes: end,
      endBlocks: end > 0 ? 1 : 0,
    };
    b.add(pp);
  }
  return b.build();
}

const rowAt = (rows: DiffRow[], frame: string) => {
  const found = rows.filter((r) => r.frames[0] === frame);
  if (found.length !== 1) throw new Error(`expected one row at ${frame}, found ${found.length}`);
  return found[0]!;
};

const A = ['makeA (app.js:3:15)', 'main (app.js:20:1)'];
const B = ['makeB (app.js:8:15)', 'main (app.js:20:1)'];
const C = ['makeC (app.js:12:15)', 'main (app.js:20:1)'];
const D = ['makeD (app.js:16:15)', 'main (app.js:20:1)'];

describe('diffProfiles on profiles with known contents', () => {
  const base = profile([
    [A, 1000, 10, 400, 100],
    [B, 500, 5, 0, 0],
    [C, 300, 3, 300, 300],
  ]);
  const head = profile([
    [A, 2000, 20, 800, 200],
    [B, 500, 5, 0, 0],
    [D, 700, 7, 0, 64],
  ]);
  const d = diffProfiles(base, head);

  it('gives exact totals for every metric both have', () => {
    expect(d.metrics.map((m) => m.key)).toEqual([
      'totalBytes',
      'totalBlocks',
      'peakBytes',
      'peakBlocks',
      'endBytes',
      'endBlocks',
      'maxBytes',
      'maxBlocks',
      'totalLifetimes',
    ]);
    expect(d.totals.totalBytes).toMatchObject({ base: 1800, head: 3200, delta: 1400 });
    expect(d.totals.totalBlocks).toMatchObject({ base: 18, head: 32, delta: 14 });
    expect(d.totals.peakBytes).toMatchObject({ base: 700, head: 800, delta: 100 });
    expect(d.totals.endBytes).toMatchObject({ base: 400, head: 264, delta: -136 });
    expect(d.totals.totalLifetimes).toMatchObject({ base: 180, head: 320, delta: 140 });
    // A site's own maximum is no profile total.
    expect(d.totals.maxBytes).toBeUndefined();
    expect(d.totals.totalBytes!.ratio).toBeCloseTo(3200 / 1800, 12);
  });

  it('gives exact per-site deltas and marks new and vanished sites', () => {
    const a = rowAt(d.rows, A[0]!);
    expect(a).toMatchObject({ status: 'changed', match: 'exact', fuzzy: false, significant: true });
    expect(a.values.totalBytes).toMatchObject({ base: 1000, head: 2000, delta: 1000, ratio: 2 });
    expect(a.values.totalBlocks).toMatchObject({ base: 10, head: 20, delta: 10, ratio: 2 });
    expect(a.values.peakBytes).toMatchObject({ delta: 400, ratio: 2 });
    expect(a.values.endBytes).toMatchObject({ delta: 100, ratio: 2 });
    const b = rowAt(d.rows, B[0]!);
    expect(b).toMatchObject({ status: 'unchanged', significant: false });
    expect(Object.values(b.values).every((v) => v!.delta === 0)).toBe(true);
    const c = rowAt(d.rows, C[0]!);
    expect(c).toMatchObject({ status: 'vanished', match: 'none', sites: { base: 1, head: 0 } });
    expect(c.values.totalBytes).toMatchObject({ base: 300, head: 0, delta: -300, ratio: 0 });
    expect(c.values.endBytes).toMatchObject({ delta: -300 });
    const n = rowAt(d.rows, D[0]!);
    expect(n).toMatchObject({ status: 'new', match: 'none', sites: { base: 0, head: 1 } });
    expect(n.values.totalBytes).toMatchObject({ base: 0, head: 700, delta: 700, ratio: null });
    expect(d.counts).toEqual({ changed: 1, unchanged: 1, new: 1, vanished: 1, fuzzy: 0 });
  });

  it('sorts rows by the size of the change of the sort metric', () => {
    expect(d.rows.map((r) => r.frames[0])).toEqual([A[0], D[0], C[0], B[0]]);
    const byEnd = diffProfiles(base, head, { sort: 'end-bytes' });
    expect(byEnd.sortedBy.key).toBe('endBytes');
    // |−300| (C) > |+100| (A) > |+64| (D); B did not change at all.
    expect(byEnd.rows.map((r) => r.frames[0])).toEqual([C[0], A[0], D[0], B[0]]);
  });

  it('returns new data and leaves its inputs alone', () => {
    const before = JSON.stringify([base, head]);
    const again = diffProfiles(base, head);
    again.rows[0]!.frames.push('changed by the caller');
    expect(JSON.stringify([base, head])).toBe(before);
    expect(diffProfiles(base, head)).toEqual(d);
  });

  it('compares only the metrics both profiles have, and says so', () => {
    const plain = profile([[A, 1000, 10, 0, 0]], {});
    const noLifetimes = new ProfileBuilder({ ...HEADER, hasLifetimes: false });
    noLifetimes.add({ frames: A, totalBytes: 1500, totalBlocks: 15 });
    const r = diffProfiles(plain, noLifetimes.build());
    expect(r.metrics.map((m) => m.key)).toEqual(['totalBytes', 'totalBlocks']);
    expect(r.warnings.join('\n')).toContain('only the base has peak-bytes');
    expect(r.rows[0]!.values.totalBytes).toMatchObject({ delta: 500, ratio: 1.5 });
    expect(() => diffProfiles(plain, noLifetimes.build(), { sort: 'end-bytes' })).toThrow(
      /cannot sort by "end-bytes"/,
    );
  });
});

describe('matching sites whose code moved', () => {
  const base = profile([
    [A, 1000, 10, 0, 0],
    [B, 500, 5, 0, 0],
  ]);

  it('matches shifted lines by function and file, and says the match is fuzzy', () => {
    // Three lines were inserted at the top of app.js: every position moved.
    const shifted = profile([
      [['makeA (app.js:6:15)', 'main (app.js:23:1)'], 1000, 10, 0, 0],
      [['makeB (app.js:11:15)', 'main (app.js:23:1)'], 600, 6, 0, 0],
    ]);
    const d = diffProfiles(base, shifted);
    expect(d.counts).toEqual({ changed: 1, unchanged: 1, new: 0, vanished: 0, fuzzy: 2 });
    const a = rowAt(d.rows, 'makeA (app.js:6:15)');
    expect(a).toMatchObject({ match: 'moved', fuzzy: true, status: 'unchanged' });
    expect(a.baseFrames).toEqual(A);
    const b = rowAt(d.rows, 'makeB (app.js:11:15)');
    expect(b).toMatchObject({ match: 'moved', fuzzy: true, status: 'changed' });
    expect(b.values.totalBytes).toMatchObject({ delta: 100 });
  });

  it('matches a renamed file by the sequence of function names when it is unique', () => {
    const renamed = profile([
      [['makeA (src/alloc.js:4:15)', 'main (src/alloc.js:30:1)'], 1000, 10, 0, 0],
      [['makeB (src/alloc.js:9:15)', 'main (src/alloc.js:30:1)'], 250, 2, 0, 0],
    ]);
    const d = diffProfiles(base, renamed);
    expect(d.rows.every((r) => r.match === 'renamed' && r.fuzzy)).toBe(true);
    const b = rowAt(d.rows, 'makeB (src/alloc.js:9:15)');
    expect(b.baseFrames).toEqual(B);
    expect(b.values.totalBytes).toMatchObject({ base: 500, head: 250, delta: -250, ratio: 0.5 });
    expect(d.counts.new + d.counts.vanished).toBe(0);
  });

  it('does not match by names alone when the names are not unique or say nothing', () => {
    const b2 = profile([
      [['(anonymous) (a.js:3:5)', 'run (a.js:1:1)'], 100, 1, 0, 0],
      [['(anonymous) (a.js:9:5)'], 100, 1, 0, 0],
    ]);
    // The same name sequence twice in the head, and an anonymous-only stack.
    const h2 = profile([
      [['(anonymous) (b.js:3:5)', 'run (b.js:1:1)'], 100, 1, 0, 0],
      [['(anonymous) (c.js:3:5)', 'run (c.js:1:1)'], 100, 1, 0, 0],
      [['(anonymous) (b.js:9:5)'], 100, 1, 0, 0],
    ]);
    const d = diffProfiles(b2, h2);
    expect(d.counts).toMatchObject({ new: 3, vanished: 2, fuzzy: 0 });
  });

  it('pairs anonymous functions of a file in source order when their lines shifted', () => {
    const b3 = profile([
      [['(anonymous) (a.js:3:5)'], 100, 1, 0, 0],
      [['(anonymous) (a.js:7:5)'], 200, 2, 0, 0],
    ]);
    const h3 = profile([
      [['(anonymous) (a.js:5:5)'], 100, 1, 0, 0],
      [['(anonymous) (a.js:9:5)'], 400, 4, 0, 0],
    ]);
    const d = diffProfiles(b3, h3);
    const second = rowAt(d.rows, '(anonymous) (a.js:9:5)');
    expect(second).toMatchObject({ match: 'moved', baseFrames: ['(anonymous) (a.js:7:5)'] });
    expect(second.values.totalBytes).toMatchObject({ delta: 200, ratio: 2 });
    expect(rowAt(d.rows, '(anonymous) (a.js:5:5)').status).toBe('unchanged');
  });

  it('matches exactly only, when asked', () => {
    const shifted = profile([[['makeA (app.js:6:15)', 'main (app.js:23:1)'], 1000, 10, 0, 0]]);
    const d = diffProfiles(base, shifted, { fuzzy: false });
    expect(d.counts).toMatchObject({ new: 1, vanished: 2, fuzzy: 0 });
  });
});

describe('several runs a side', () => {
  const runs = (values: number[]) => values.map((v) => profile([[A, v, 1, 0, 0]]));

  it('takes means, reports the spread and calls a change significant only beyond it', () => {
    const d = diffProfiles(runs([100, 110, 105]), runs([120, 120, 120]));
    const a = d.rows[0]!;
    expect(a.values.totalBytes).toMatchObject({
      base: 105,
      head: 120,
      delta: 15,
      baseRange: [100, 110],
      headRange: [120, 120],
      significant: true,
    });
    expect(d.base.runs).toBe(3);
    const noise = diffProfiles(runs([100, 110, 105]), runs([108, 104, 106]));
    expect(noise.rows[0]!.values.totalBytes).toMatchObject({ delta: 1, significant: false });
    expect(noise.rows[0]!.status).toBe('unchanged');
    expect(noise.totals.totalBytes!.significant).toBe(false);
    // Exactly the spread is not beyond it.
    const edge = diffProfiles(runs([100, 110]), runs([115, 115]));
    expect(edge.rows[0]!.values.totalBytes).toMatchObject({ delta: 10, significant: false });
  });

  it('counts a site missing from some runs as 0 there', () => {
    const withC = profile([
      [A, 100, 1, 0, 0],
      [C, 60, 1, 0, 0],
    ]);
    const d = diffProfiles([profile([[A, 100, 1, 0, 0]]), withC], [withC, withC]);
    const c = rowAt(d.rows, C[0]!);
    expect(c.values.totalBytes).toMatchObject({ base: 30, head: 60, baseRange: [0, 60] });
    expect(c.significant).toBe(false);
  });

  it('does not call a site new when it shows in some head runs only, within the spread', () => {
    const withD = profile([
      [A, 100, 1, 0, 0],
      [D, 56, 1, 0, 0],
    ]);
    const once = diffProfiles(runs([100, 100]), [withD, profile([[A, 100, 1, 0, 0]])]);
    expect(rowAt(once.rows, D[0]!)).toMatchObject({
      status: 'unchanged',
      match: 'none',
      sites: { base: 0, head: 1 },
      values: { totalBytes: { base: 0, head: 28, headRange: [0, 56], significant: false } },
    });
    const always = diffProfiles(runs([100, 100]), [withD, withD]);
    expect(rowAt(always.rows, D[0]!)).toMatchObject({ status: 'new', significant: true });
  });
});

describe('diffProfiles on real DHAT files', () => {
  const fixture = (p: string) =>
    readDhat(readFileSync(join(ROOT, 'test', 'fixtures', 'dhat', p), 'utf8'));
  const valgrind = fixture('valgrind-3.19/valgrind-heap.json');
  const dhatRs = fixture('dhat-rs/dhat-rs-heap.json');

  it('finds no change between a Valgrind profile and itself', () => {
    const d = diffProfiles(valgrind, valgrind);
    expect(d.counts).toEqual({ changed: 0, unchanged: 5, new: 0, vanished: 0, fuzzy: 0 });
    expect(d.metrics.map((m) => m.name)).toContain('reads');
    expect(d.totals.totalBytes).toMatchObject({ base: 96_368, head: 96_368, delta: 0 });
  });

  it('matches a rebuilt Valgrind program by source position when the code addresses changed', () => {
    // The same program rebuilt: every code address moved by 0x40; make_buf allocates twice as much.
    const rebuilt: Profile = {
      ...valgrind,
      frames: valgrind.frames.map((f) =>
        f.replace(
          /^0x([0-9A-F]+):/,
          (_m, hex: string) => `0x${(parseInt(hex, 16) + 0x40).toString(16).toUpperCase()}:`,
        ),
      ),
      programPoints: valgrind.programPoints.map((pp, i) =>
        i === 0 ? { ...pp, totalBytes: pp.totalBytes * 2, totalBlocks: pp.totalBlocks * 2 } : pp,
      ),
    };
    const d = diffProfiles(valgrind, rebuilt);
    expect(d.counts).toEqual({ changed: 1, unchanged: 4, new: 0, vanished: 0, fuzzy: 0 });
    expect(d.rows.every((r) => r.match === 'address')).toBe(true);
    const top = d.rows[0]!;
    expect(top.frames[1]).toBe('0x1091E0: make_buf (prog.c:8)');
    // make_buf: 1,000 × 64 B in the fixture, 2,000 × 64 B after.
    expect(top.values.totalBytes).toMatchObject({ base: 64_000, head: 128_000, delta: 64_000 });
    expect(top.values.totalBlocks).toMatchObject({ delta: 1000 });
    expect(d.totals.totalBytes).toMatchObject({ base: 96_368, head: 160_368 });
  });

  it('diffs dhat-rs against Valgrind: common metrics only, with warnings', () => {
    const d = diffProfiles(dhatRs, valgrind);
    // dhat-rs counts time in µs and has no access data; Valgrind counts instructions.
    expect(d.metrics.map((m) => m.name)).not.toContain('lifetimes');
    expect(d.metrics.map((m) => m.name)).not.toContain('reads');
    expect(d.counts).toMatchObject({ new: 5, vanished: 3 });
    // 1,024 + 13 + 64 B in dhat-rs; 96,368 B in Valgrind's.
    expect(d.totals.totalBytes).toMatchObject({ base: 1101, head: 96_368, delta: 95_267 });
    expect(d.warnings.join('\n')).toMatch(/mode "rust-heap", the head "heap"/);
  });
});

describe('diffProfiles with top: only the rows a top-N report shows', () => {
  // 40 sites: site i grows by i × 8 bytes (site 0 not at all); 10 more sites only in the
  // head (new, 4 bytes each) and the base's 5 last sites grow by 0 bytes but in blocks.
  const siteFrames = (i: number) => [`make${i} (app.js:${i + 1}:1)`, 'main (app.js:99:1)'];
  const sites = (grow: boolean): Site[] =>
    Array.from(
      { length: 40 },
      (_, i): Site => [
        siteFrames(i),
        1000 + (grow ? i * 8 : 0),
        10 + (grow && i >= 35 ? 1 : 0),
        0,
        0,
      ],
    );
  const base = profile(sites(false));
  const head = profile([
    ...sites(true),
    ...Array.from({ length: 10 }, (_, i): Site => [[`fresh${i} (new.js:1:1)`], 4, 1, 0, 0]),
  ]);
  const full = diffProfiles(base, head);
  const top = diffProfiles(base, head, { top: 5 });

  it('keeps the first rows of the full order, and counts every row', () => {
    expect(top.rows).toEqual(full.rows.slice(0, 5));
    expect(top.rows.map((r) => r.frames[0])).toEqual(
      [39, 38, 37, 36, 35].map((i) => siteFrames(i)[0]),
    );
    expect(top.counts).toEqual(full.counts);
    expect(top.counts).toEqual({ changed: 39, unchanged: 1, new: 10, vanished: 0, fuzzy: 0 });
    expect(top.totals).toEqual(full.totals);
  });

  it('says how many rows changed in the sort metric and how many within the spread', () => {
    // Sites 1..39 grow in bytes, the 10 new sites have 4 bytes: 49.
    expect(full.changes).toBe(49);
    expect(top.changes).toBe(49);
    expect(full.quiet).toBe(0);
  });

  it('keeps the rows whose sort metric changed even when other rows come first', () => {
    // By end bytes nothing changed; the order is by significance, then other metrics.
    const byEnd = diffProfiles(base, head, { top: 3, sort: 'end-bytes' });
    expect(byEnd.changes).toBe(0);
    expect(byEnd.rows).toEqual(diffProfiles(base, head, { sort: 'end-bytes' }).rows.slice(0, 3));
  });
});

/**
 * `heapscope run` against workloads whose allocations are known. V8 makes the bytes and
 * blocks of JavaScript values exact; it also charges its own metadata (feedback
 * vectors, code, hidden classes) created while a function runs to that function's
 * site, which heapscope cannot split from the totals. Those add a few dozen blocks:
 * the bounds below (METADATA_BLOCKS, METADATA_BYTES) are that allowance, and nothing else.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../src/model/profile.js';
import {
  endOfType,
  heapscope,
  MEMENTO_BYTES,
  readProfile,
  siteOf,
  tempDir,
  WITHOUT_HELPER,
  workload,
} from '../helpers/heapscope.js';

const METADATA_BLOCKS = 128;
const METADATA_BYTES = 256 * 1024;
/** x64 Node without pointer compression: map, properties, elements + 2 in-object fields. */
const PAIR_BYTES = 5 * 8;

function expectTotalsNear(
  actual: { totalBytes: number; totalBlocks: number },
  blocks: number,
  bytes: number,
  literals = 0,
) {
  expect(actual.totalBlocks).toBeGreaterThanOrEqual(blocks);
  expect(actual.totalBlocks).toBeLessThanOrEqual(blocks + METADATA_BLOCKS);
  expect(actual.totalBytes).toBeGreaterThanOrEqual(bytes);
  expect(actual.totalBytes).toBeLessThanOrEqual(bytes + literals * MEMENTO_BYTES + METADATA_BYTES);
}

describe('objects of one shape', () => {
  const N = 100_000;
  const K = 1_000;
  let profile: Profile;
  let stderr: string;
  beforeAll(() => {
    const dir = tempDir();
    const out = join(dir, 'objects.json');
    const r = heapscope(['run', '-o', out, '--', '{NODE}', workload('objects.js'), `${N}`, `${K}`]);
    expect(r.status, r.stderr).toBe(0);
    stderr = r.stderr;
    profile = readProfile(out);
  });

  it('counts every allocation at the allocating function, though it is hot and optimized', () => {
    const pp = siteOf(profile, 'makePair');
    // Up to one memento per object: with background compiles slowed down, all 100,000
    // of makePair's carried one.
    expectTotalsNear(pp, N, N * PAIR_BYTES, N);
  });

  it('has the caller below the allocating function, with 1-based positions', () => {
    const pp = siteOf(profile, 'makePair');
    const frames = pp.stack.map((i) => profile.frames[i]);
    expect(frames[0]).toBe('makePair (test/fixtures/workloads/objects.js:6:18)');
    expect(frames[1]).toBe('run (test/fixtures/workloads/objects.js:10:13)');
  });

  it('counts the K reachable objects live at the end, exactly', () => {
    const pp = siteOf(profile, 'makePair');
    // One more object lives at the site: the literal's boilerplate V8 keeps for `{ a, b }`.
    expect(endOfType(pp, 'object')).toEqual([K * PAIR_BYTES, K]);
    expect(pp.endBlocks).toBe(K);
  });

  it('records the command, the pid and an estimate of the peak, labelled as such', () => {
    expect(profile.cmd).toContain('objects.js');
    expect(profile.pid).toBeGreaterThan(0);
    // Without the helper live-at-end is labelled a lower bound (inspector-run.ts).
    expect(profile.heapscope?.exact).toEqual({ total: true, end: !WITHOUT_HELPER, peak: false });
    expect(profile.peakTime).toBeLessThanOrEqual(profile.endTime);
    expect(stderr).toMatch(/At t-gmax: .*\[estimate/);
    // The peak holds at least what the end holds, and no site more than it allocated.
    const sum = (f: (pp: (typeof profile.programPoints)[number]) => number) =>
      profile.programPoints.reduce((a, pp) => a + f(pp), 0);
    expect(sum((pp) => pp.peakBytes!)).toBeGreaterThanOrEqual(sum((pp) => pp.endBytes!));
    for (const pp of profile.programPoints)
      expect(pp.peakBytes!).toBeLessThanOrEqual(pp.totalBytes);
  });

  it("leaves the target's stderr alone (no V8 flag errors, no messages)", () => {
    expect(stderr).not.toMatch(/Error|flag|Warning/);
  });

  it('keeps heapscope out of the profile', () => {
    // heapscope's frames map back to its sources (src/capture/*.cts) or stay in dist/.
    const own = profile.frames.filter((f) =>
      /\b(src|dist)\/(capture|native|measure)\/[\w-]+\.c?[jt]s\b|heapscope\/dist/.test(f),
    );
    expect(own).toEqual([]);
  });
});

describe('arrays, strings and class instances', () => {
  const N = 20_000;
  const K = 500;
  let profile: Profile;
  beforeAll(() => {
    const out = join(tempDir(), 'shapes.json');
    const r = heapscope([
      'run',
      '-q',
      '-o',
      out,
      '--',
      '{NODE}',
      workload('shapes.js'),
      `${N}`,
      `${K}`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    profile = readProfile(out);
  });

  it('arrays: a JSArray and its elements store per literal', () => {
    const pp = siteOf(profile, 'makeTriple');
    // JSArray: map, properties, elements, length; FixedArray: map, length, 3 elements.
    // Newer V8s allocate both in one event from the literal builtin: bytes are exact
    // either way, blocks count events (N to 2N).
    const bytes = N * (4 * 8 + 5 * 8);
    expect(pp.totalBytes).toBeGreaterThanOrEqual(bytes);
    expect(pp.totalBytes).toBeLessThanOrEqual(bytes + N * MEMENTO_BYTES + METADATA_BYTES);
    expect(pp.totalBlocks).toBeGreaterThanOrEqual(N);
    expect(pp.totalBlocks).toBeLessThanOrEqual(2 * N + METADATA_BLOCKS);
    expect(endOfType(pp, 'object')).toEqual([K * 4 * 8, K]);
    expect(endOfType(pp, 'array')).toEqual([K * 5 * 8, K]);
  });

  it('strings: the number string, the flat short join, and the cons string of a template', () => {
    const pp = siteOf(profile, 'makeLabel');
    // `row ${i}` is short, so V8 copies it flat; adding ' of the table' makes a cons string.
    // Sequential one-byte string: map, hash, length (16 bytes) + characters, padded to 8.
    const seq = (chars: number) => 16 + Math.ceil(chars / 8) * 8;
    const cons = 4 * 8;
    expectTotalsNear(pp, 3 * N, N * (seq(5) + seq(9) + cons));
    expect(endOfType(pp, 'concatenated string')).toEqual([K * cons, K]);
    // The number string is garbage: the flat copy does not refer to it.
    expect(endOfType(pp, 'string')).toEqual([K * seq(9), K]);
  });

  it('class instances: charged to the function that says `new`', () => {
    const pp = siteOf(profile, 'makeWidget');
    // map, properties, elements + 3 fields
    expectTotalsNear(pp, N, N * 6 * 8);
    expect(endOfType(pp, 'object')).toEqual([K * 6 * 8, K]);
  });
});

describe('the peak', () => {
  it('is estimated at the spike: the spike site holds most of t-gmax, within the sampling error', () => {
    if (WITHOUT_HELPER) return expectEndAsPeak();
    const out = join(tempDir(), 'spike.json');
    const r = heapscope(['run', '-q', '-o', out, '--', '{NODE}', workload('spike.js')]);
    expect(r.status, r.stderr).toBe(0);
    const profile = readProfile(out);
    expect(profile.heapscope?.peak?.method).toBe('sampled-at-peak');
    expect(profile.heapscope?.exact.peak).toBe(false);
    expect(profile.peakTime).toBeLessThan(profile.endTime);
    const spike = siteOf(profile, 'buildSpike');
    // 500,000 objects of 40 bytes. Samples every 32 KiB on average: ~610 samples, so a
    // Poisson error of ~4%; 25% leaves room for garbage a minor GC had not yet freed.
    const trueBytes = 500_000 * PAIR_BYTES;
    expect(spike.peakBytes).toBeGreaterThan(trueBytes * 0.75);
    expect(spike.peakBytes).toBeLessThanOrEqual(spike.totalBytes);
    for (const pp of profile.programPoints) {
      expect(pp.peakBytes!).toBeLessThanOrEqual(pp.totalBytes);
      expect(pp.peakBytes!).toBeLessThanOrEqual(spike.peakBytes!);
    }
    expect(endOfType(siteOf(profile, 'keepFew'), 'object')[1]).toBe(1_000 + 1); // + `out`
    expect(spike.endBytes).toBe(0);
  });

  it('carries the heap over time: used bytes after each GC, the spike among them', () => {
    if (WITHOUT_HELPER) return expectEndAsPeak();
    const out = join(tempDir(), 'spike-timeline.json');
    const r = heapscope(['run', '-q', '-o', out, '--', '{NODE}', workload('spike.js')]);
    expect(r.status, r.stderr).toBe(0);
    const profile = readProfile(out);
    const timeline = profile.heapscope?.timeline ?? [];
    expect(timeline.length).toBeGreaterThan(1);
    for (let i = 1; i < timeline.length; i++) {
      expect(timeline[i]!.t).toBeGreaterThanOrEqual(timeline[i - 1]!.t);
    }
    expect(timeline.at(-1)!.t).toBeLessThanOrEqual(profile.endTime);
    // The spike's 500,000 objects are live across the GCs that happen while they are made.
    expect(Math.max(...timeline.map((p) => p.bytes))).toBeGreaterThan(500_000 * PAIR_BYTES);
  });
});

/**
 * Without the native helper nothing samples the heap at its peak, and no GC callback
 * records the heap over time: the end is the peak, labelled so, and the notes say both;
 * live-at-end is labelled a lower bound (the figures below are still exact in practice).
 */
function expectEndAsPeak() {
  const out = join(tempDir(), 'spike.json');
  const r = heapscope(['run', '-q', '-o', out, '--', '{NODE}', workload('spike.js')]);
  expect(r.status, r.stderr).toBe(0);
  const profile = readProfile(out);
  expect(profile.heapscope?.peak?.method).toBe('end-as-peak');
  expect(profile.heapscope?.exact).toEqual({ total: true, end: false, peak: false });
  expect(profile.heapscope?.timeline).toBeUndefined();
  expect(profile.heapscope?.notes?.join('\n')).toMatch(
    /without heapscope's native helper.*no live-at-peak sample.*no heap timeline/,
  );
  // The spike's 500,000 objects and their array (8 bytes a slot): all counted in total,
  // none live at the end.
  const spike = siteOf(profile, 'buildSpike');
  expectTotalsNear(spike, 500_000, 500_000 * (PAIR_BYTES + 8), 500_000);
  expect(spike.endBytes).toBe(0);
  expect(endOfType(siteOf(profile, 'keepFew'), 'object')[1]).toBe(1_000 + 1); // + `out`
}

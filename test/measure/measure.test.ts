// measure() and measureSync() against workloads whose sizes V8's object layout fixes
// (x64, no pointer compression, as Node ships): an `{a, b}` object is 40 bytes (map,
// properties, elements, two fields), a JSArray 32, a FixedArray of n slots 16 + 8n.
// What V8 *allocates* for a literal depends on the tier running it: unoptimized code
// puts a 16-byte AllocationMemento behind each literal object (56 bytes), optimized
// code does not, and on a busy machine the optimized code may not be ready yet when a
// measured call runs. Allocation counts are therefore checked on class instances
// (`new Pair`: 40 bytes in every tier); retained bytes, which mementos never reach, on
// literals. Needs `npm run build` (imports dist/, where the native helper loads).

import { describe, expect, it } from 'vitest';
import { HeapscopeStateError, measure, measureSync, Profiler } from '../../dist/index.js';

const OBJECT = 40;
const JS_ARRAY = 32;
const fixedArray = (n: number) => 16 + 8 * n;

/** N `{a, b}` objects in a preallocated array: retained N × 40 + 32 + 16 + 8N. */
function buildPairs(n: number): { a: number; b: number }[] {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = { a: i, b: i };
  return a;
}
const pairsBytes = (n: number) => n * OBJECT + JS_ARRAY + fixedArray(n);

class Pair {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {}
}

/** N `Pair`s in a preallocated array: allocated N × 40 + 32 + 16 + 8N in every tier. */
function buildInstances(n: number): Pair[] {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = new Pair(i, i);
  return a;
}

/** N `Pair`s written into a ring of 1024 slots that exists before: N × 40 allocated. */
const ring = new Array(1024).fill(null);
function churn(n: number): void {
  for (let i = 0; i < n; i++) ring[i & 1023] = new Pair(i, i);
}

describe('cheap mode', () => {
  it('retains exactly the bytes of a structure of known size', async () => {
    const n = 100_000;
    // A fresh worker's first heap measurements see V8 settle (caches aged out, the
    // function's allocation site and feedback reaching their final state): two unread ones.
    for (let i = 0; i < 2; i++) measureSync(() => buildPairs(n), { warmup: 3 });
    const results: number[] = [];
    for (let i = 0; i < 6; i++) {
      const m = measureSync(() => buildPairs(n), { warmup: 3 });
      results.push(m.retainedBytes);
      expect(m.value).toHaveLength(n);
    }
    // V8 may do housekeeping of its own during a call (feedback allocated while the
    // function tiers up, optimized code installed from a background thread with its
    // metadata, its own data dropped): exact in most calls, and within 256 KB in every
    // one. Seen: +160 KB once in CI, -90 KB once in 40 runs of this file on a busy
    // machine (±2 KB is common), always in the same call of the six.
    expect(
      results.filter((r) => r === pairsBytes(n)).length,
      String(results),
    ).toBeGreaterThanOrEqual(4);
    for (const r of results) {
      expect(Math.abs(r - pairsBytes(n)), String(results)).toBeLessThan(256 * 1024);
    }
  });

  it('counts allocated bytes within 2% (garbage included, across GCs)', async () => {
    churn(10_000);
    for (const n of [1_000_000, 3_000_000]) {
      const m = await measure(() => churn(n), { warmup: 1 });
      expect(m.gcCount).toBeGreaterThan(0);
      expect(Math.abs(m.allocatedBytes / (n * OBJECT) - 1)).toBeLessThan(0.02);
      // Garbage is not retained: of 40–120 MB churned, nothing but what V8 may keep of
      // its own meanwhile (optimized code installed from a background thread: ~160 KB).
      expect(m.retainedBytes).toBeLessThan(256 * 1024);
    }
    const m = await measure(() => buildInstances(100_000), { warmup: 2 });
    expect(Math.abs(m.allocatedBytes / pairsBytes(100_000) - 1)).toBeLessThan(0.02);
  });

  it('does not count its own work: an empty function allocates ~0', () => {
    const figures: number[] = [];
    for (let i = 0; i < 300; i++) {
      figures.push(measureSync(() => {}, { retained: false }).allocatedBytes);
    }
    const zero = figures.filter((f) => f === 0).length;
    const small = figures.filter((f) => Math.abs(f) <= 1024).length;
    // Stated bound: 0 in at least 90% of calls, within 1 KB in 99%; the rare call
    // during which V8 installs code it compiled in the background counts that too.
    expect(zero / figures.length).toBeGreaterThan(0.9);
    expect(small / figures.length).toBeGreaterThanOrEqual(0.99);
    // A call during which V8 installs optimized code from a background thread counts
    // that code (~160 KB seen once); whatever it counts, heapscope's own work is not in it.
    for (const f of figures) expect(f).toBeGreaterThan(-1024);
  });

  it('bounds the peak from above and sees garbage go', async () => {
    const n = 100_000;
    const m = await measure(
      () => {
        const tmp = buildPairs(n);
        return tmp.length;
      },
      { warmup: 1 },
    );
    // The 4.8 MB built and dropped is not retained (V8's own code installs aside).
    expect(m.retainedBytes).toBeLessThan(256 * 1024);
    // The bound is also at most the bytes allocated, whose stated error is 1 KB.
    expect(m.peakBytesUpperBound).toBeGreaterThanOrEqual(pairsBytes(n) - 1024);
    expect(m.peakBytesUpperBound).toBeLessThanOrEqual(m.allocatedBytes);
  });

  it('reports external memory retained by the call', async () => {
    const kept: Buffer[] = [];
    const m = await measure(() => {
      kept.push(Buffer.alloc(1 << 20));
    });
    expect(m.externalBytes).toBe(1 << 20);
    kept.length = 0;
  });

  it('measures async functions, including what they allocate after an await', async () => {
    const n = 200_000;
    const fn = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return buildInstances(n);
    };
    await measure(fn);
    const retained: number[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await measure(fn);
      expect(m.value).toHaveLength(n);
      // Everything allocated after the await is counted: never less than the structure.
      expect(m.allocatedBytes).toBeGreaterThanOrEqual(pairsBytes(n) * 0.99);
      // While the function awaits, the test runner runs too and is counted (a documented
      // hazard of async measurements): seen up to +282 KB (+2.9%) on a busy machine, so
      // the bound above is 1 MB; what it leaves reachable is collected before the end.
      expect(m.allocatedBytes).toBeLessThan(pairsBytes(n) + 1024 * 1024);
      retained.push(m.retainedBytes - pairsBytes(n));
    }
    // Retained: exact but for V8's housekeeping and the test runner's work during the
    // await, which a call can meet (with compiles slowed down on a loaded machine: -235
    // KB and -182 KB in two calls of three). The closest of five calls is checked: a
    // wrong figure would be off in every one.
    const closest = Math.min(...retained.map(Math.abs));
    expect(closest, String(retained)).toBeLessThan(16 * 1024);
  });

  it('gives per-operation figures with warm-up and spread', async () => {
    let i = 0;
    const m = await measure(
      () => {
        ring[i++ & 1023] = new Pair(i, i);
      },
      { iterations: 100_000 },
    );
    expect(m.iterations).toBe(100_000);
    expect(m.batches).toBe(10);
    expect(m.warmup).toBe(10_000);
    expect(m.allocatedBytesPerOp).toBeCloseTo(OBJECT, 0);
    expect(m.allocatedBytesPerOpSpread.min).toBeLessThanOrEqual(m.allocatedBytesPerOp);
    expect(m.allocatedBytesPerOpSpread.max).toBeGreaterThanOrEqual(m.allocatedBytesPerOp);
    // 100,000 calls retain nothing (the ring existed before); V8's housekeeping over the
    // whole run (code compiled in the background, its metadata) stays far under 4 B a call.
    expect(Math.abs(m.retainedBytesPerOp)).toBeLessThan(4);
  });

  it('takes the loop cost of async iterations off', async () => {
    let j = 0;
    const bare = await measure(async () => {}, { iterations: 2_000 });
    const withObject = await measure(
      async () => {
        ring[j++ & 1023] = { a: j, b: j };
      },
      { iterations: 2_000 },
    );
    // What remains of an empty async function is its own promise; one more object per
    // call costs one object more (40 bytes; 56 with the memento unoptimized code puts
    // behind a literal).
    expect(bare.allocatedBytesPerOp).toBeGreaterThan(0);
    const extra = withObject.allocatedBytesPerOp - bare.allocatedBytesPerOp;
    expect(extra).toBeGreaterThan(OBJECT - 1);
    expect(extra).toBeLessThan(OBJECT + 16 + 1);
  });

  it('measureSync refuses async functions', () => {
    expect(() => measureSync(async () => {})).toThrow(/synchronous/);
  });
});

describe('exact mode', () => {
  it('counts the objects of a structure exactly, with their site', async () => {
    const n = 10_000;
    // Class instances: a literal made by unoptimized code is one 56-byte allocation
    // (the object and V8's 16-byte memento), and heapscope makes V8 drop optimized
    // code before a tracked region, so the count would depend on how soon V8
    // re-optimizes (seen: 48 + 64n with background compiles slowed down).
    const m = await measure(() => buildInstances(n), { exact: true, warmup: 2 });
    // JS values: n objects, the JSArray and its backing store.
    if (m.profile.heapscope?.exact.end === false) {
      // Without the native helper, when the inspector's heap-stats timer ran in the region
      // (ids handed out, moves no longer followed), retained figures are estimates, and
      // the profile says so.
      expect(process.env.HEAPSCOPE_NATIVE).toBe('0');
      expect(m.profile.heapscope.notes?.join('\n')).toMatch(/handed out heap-object ids \d+ times/);
    } else {
      expect(m.retainedBytes).toBe(pairsBytes(n));
      expect(m.retainedBlocks).toBe(n + 2);
    }
    // Allocated: the same objects (one event for the array and its store) plus V8's
    // metadata charged to the measured functions as V8 recompiles them (stated bound:
    // 10–150 KB).
    expect(m.allocatedBytes).toBeGreaterThanOrEqual(pairsBytes(n));
    expect(m.allocatedBytes).toBeLessThan(pairsBytes(n) + 150 * 1024);
    expect(m.allocatedBlocks).toBeGreaterThanOrEqual(n + 1);
    expect(m.allocatedBlocks).toBeLessThan(n + 64);
    const top = m.sites[0]!;
    expect(top.stack[0]).toMatch(/^buildInstances \(test\/measure\/measure\.test\.ts:\d+:\d+\)$/);
    expect(top.retainedBytes).toBe(pairsBytes(n));
    // The tracker saw what the GC counters saw. Code V8 installs from a background
    // thread during a call is not a tracked allocation: a call that catches one is not
    // a miss of the tracker, so the check gets three calls.
    const untracked = [m.untrackedBytes];
    while (untracked.length < 3 && untracked.at(-1)! >= 4096) {
      untracked.push((await measure(() => buildInstances(n), { exact: true })).untrackedBytes);
    }
    expect(untracked.at(-1), String(untracked)).toBeLessThan(4096);
    // heapscope's frames and the test runner's are cut off below the measured function.
    for (const s of m.sites) {
      expect(s.stack.join('\n')).not.toMatch(/dist\/measure|vitest/);
    }
  });

  it('finds no allocation at all in an empty function', async () => {
    for (let i = 0; i < 2; i++) {
      const m = await measure(() => {}, { exact: true });
      expect(m.allocatedBytes).toBe(0);
      expect(m.allocatedBlocks).toBe(0);
      expect(m.sites).toEqual([]);
    }
  });

  it('follows an async function across its awaits', async () => {
    const m = await measure(
      async () => {
        await new Promise((r) => setTimeout(r, 1));
        return buildPairs(1000);
      },
      { exact: true },
    );
    const site = m.sites.find((s) => s.stack[0]!.startsWith('buildPairs'));
    expect(site?.retainedBytes).toBe(pairsBytes(1000));
  });

  it('gives exact per-operation figures', async () => {
    let i = 0;
    const m = await measure(
      () => {
        ring[i++ & 1023] = { a: i, b: i };
      },
      { iterations: 5_000, exact: true },
    );
    expect(m.allocatedBlocksPerOp).toBeGreaterThanOrEqual(1);
    expect(m.allocatedBlocksPerOp).toBeLessThan(1.01);
    expect(m.allocatedBytesPerOp).toBeGreaterThanOrEqual(OBJECT);
    // V8's metadata (recompiled code) spread over the calls: at most 150 KB.
    expect(m.allocatedBytesPerOp).toBeLessThan(OBJECT + (150 * 1024) / 5_000);
  });

  it('shares the allocation tracker with Profiler, one at a time', async () => {
    if (process.env.HEAPSCOPE_NATIVE === '0') {
      // Without the native helper Profiler refuses to start, and says why; exact mode works.
      expect(() => Profiler.start({ file: '/dev/null', peakSampleInterval: 0 })).toThrow(
        /Profiler needs the native helper/,
      );
      expect((await measure(() => 1, { exact: true })).allocatedBytes).toBe(0);
      return;
    }
    const prof = Profiler.start({ file: '/dev/null', peakSampleInterval: 0 });
    try {
      await expect(measure(() => 1, { exact: true })).rejects.toThrow(HeapscopeStateError);
      await expect(measure(() => 1, { exact: true })).rejects.toThrow(
        /Profiler is already tracking/,
      );
    } finally {
      await prof.stop().catch(() => undefined);
    }
    expect((await measure(() => 1, { exact: true })).allocatedBytes).toBe(0);
  });
});

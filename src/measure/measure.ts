// measure(): the figures of one call, or per operation over many calls.

import type { Profile } from '../model/profile.js';
import {
  type ExactFigures,
  heapscopeTrackedBatch,
  heapscopeTrackedBatchAsync,
  runExact,
} from './exact.js';
import { ledger } from './ledger.js';
import {
  calibrateAsync,
  isThenable,
  type RegionFigures,
  type RegionRun,
  runInRegion,
} from './region.js';
import type { Site } from './sites.js';

export interface MeasureOptions {
  /**
   * Track every allocation (V8's allocation tracker, through heapscope's native helper)
   * instead of counting bytes from GC statistics: adds exact block counts and
   * per-site figures, at 10–150× the run time plus a heap snapshot at the end.
   */
  exact?: boolean;
  /** Calls to make before measuring, e.g. to compile the function (default 0; with `iterations`, N/10 up to 10,000). */
  warmup?: number;
  /**
   * Measure retained bytes and the peak (default true): two full GCs before and two after
   * the call, a few ms on a small heap, tens of ms on a large one. With `false`, only
   * allocated bytes, GCs and external growth are measured (µs), and `retainedBytes` and
   * `peakBytesUpperBound` are NaN. Cheap mode only.
   */
  retained?: boolean;
}

export interface PerOpOptions extends MeasureOptions {
  /** Calls to measure; figures are then per call ("per op"). */
  iterations: number;
  /** Batches the calls are measured in, for the spread (default 10, at most `iterations`). */
  batches?: number;
}

/** Figures of one measured call. Byte counts are of V8's heap unless named external. */
export interface Measurement<T = unknown> {
  mode: 'cheap' | 'exact';
  /** What the function returned (awaited, for an async function). */
  value: T;
  /**
   * Bytes allocated during the call, freed or not. Cheap mode: from GC statistics,
   * within ±0.5% of what GCs freed meanwhile, plus 1 KB (0 for an empty function in ≥ 90% of calls); exact mode:
   * the sum over `sites`, exact, V8's metadata charged to your functions included.
   */
  allocatedBytes: number;
  /**
   * Bytes the call left reachable, its return value included. Cheap mode: growth of the
   * heap (code spaces left out) between full GCs before and after the call, exact to
   * the byte when V8 did no housekeeping of its own meanwhile (a function's first
   * calls allocate its feedback: use `warmup`); exact mode: JavaScript values allocated
   * during the call and still reachable, V8's metadata left out. NaN with `retained: false`.
   */
  retainedBytes: number;
  /**
   * An upper bound of the call's peak heap use above the start: the largest used heap
   * seen just before a GC or at the end, garbage included. The true peak lies between
   * `retainedBytes` and this.
   */
  peakBytesUpperBound: number;
  /** GCs during the call (minor and major), not counting heapscope's own. */
  gcCount: number;
  /**
   * Growth of external memory (ArrayBuffer and Buffer contents, outside the JS heap):
   * between the GCs around the call (cheap mode) or over the call (exact mode).
   */
  externalBytes: number;
  /** True when the native helper is missing and a GC could have been misplaced (see docs). */
  approximate: boolean;
}

/** The figures of exact mode in addition to the common ones. */
export interface ExactMeasurement<T = unknown> extends Measurement<T> {
  mode: 'exact';
  /** Allocation events: one per object, except where optimized code folded several. */
  allocatedBlocks: number;
  /** Objects behind `retainedBytes`. */
  retainedBlocks: number;
  /** Where the call allocated, largest first, heapscope's frames removed. */
  sites: Site[];
  /** The call as a DHAT profile (write it with `writeDhat`, view it with `heapscope report`). */
  profile: Profile;
  /**
   * Cross-check: bytes the GC statistics counted in the call beyond what the tracker
   * saw (0 when it saw as much). V8's tracker can miss objects that code optimized
   * before tracking started allocates (heapscope drops optimized code first, which
   * catches most); a few hundred bytes are measuring noise, more means `sites` are
   * incomplete.
   */
  untrackedBytes: number;
}

/** Spread of a per-operation figure over the batches. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Figures per call over many calls. */
export interface PerOpMeasurement {
  mode: 'cheap' | 'exact';
  iterations: number;
  warmup: number;
  batches: number;
  /** Bytes allocated per call: median over the batches (cheap) or total / iterations (exact). */
  allocatedBytesPerOp: number;
  /** Spread of bytes per call over the batches (exact mode: one batch). */
  allocatedBytesPerOpSpread: Spread;
  /** Growth of the used heap over all measured calls (between full GCs) per call; return values are dropped. */
  retainedBytesPerOp: number;
  /** GCs over all measured calls. */
  gcCount: number;
  /** Exact mode: allocation events per call. */
  allocatedBlocksPerOp?: number;
  /** Exact mode: sites over all measured calls. */
  sites?: Site[];
  profile?: Profile;
  /** Exact mode: GC-counted bytes per call beyond what the tracker saw (see ExactMeasurement). */
  untrackedBytesPerOp?: number;
  approximate: boolean;
}

function checkCount(name: string, n: number, min: number): number {
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`heapscope: ${name} must be an integer ≥ ${min}, got ${n}`);
  }
  return n;
}

function cheapMeasurement<T>(run: RegionRun<T, undefined>): Measurement<T> {
  const f = run.figures;
  return {
    mode: 'cheap',
    value: run.value,
    allocatedBytes: f.allocatedBytes,
    retainedBytes: f.retainedBytes ?? Number.NaN,
    peakBytesUpperBound: f.peakBytesUpperBound ?? Number.NaN,
    gcCount: f.gcCount,
    externalBytes: f.externalBytes,
    approximate: f.approximate,
  };
}

function exactMeasurement<T>(run: RegionRun<T, ExactFigures>): ExactMeasurement<T> {
  const f: RegionFigures = run.figures;
  const x = run.extra;
  return {
    mode: 'exact',
    value: run.value,
    allocatedBytes: x.allocatedBytes,
    allocatedBlocks: x.allocatedBlocks,
    retainedBytes: x.retainedBytes,
    retainedBlocks: x.retainedBlocks,
    peakBytesUpperBound: f.peakBytesUpperBound ?? 0,
    gcCount: f.gcCount,
    externalBytes: f.externalBytes,
    approximate: f.approximate,
    sites: x.sites,
    profile: x.profile,
    untrackedBytes: Math.max(0, f.allocatedBytes - x.allocatedBytes),
  };
}

/** `value` or the value of a promise, then `k`; stays synchronous for plain values. */
function then<A, B>(value: A | Promise<A>, k: (a: A) => B): B | Promise<B> {
  return isThenable(value) ? (value as Promise<A>).then(k) : k(value as A);
}

function warmUp(fn: () => unknown, n: number): void | Promise<void> {
  for (let i = 0; i < n; i++) {
    const v = fn();
    if (isThenable(v))
      return (async () => {
        await v;
        for (let j = i + 1; j < n; j++) await fn();
      })();
  }
}

/** The core of measure() and measureSync(): synchronous as long as `fn` is. */
export function measureOnce<T>(
  fn: () => T,
  options: MeasureOptions = {},
): Measurement<Awaited<T>> | Promise<Measurement<Awaited<T>>> {
  const warmup = checkCount('warmup', options.warmup ?? 0, 0);
  type Result = Measurement<Awaited<T>> | Promise<Measurement<Awaited<T>>>;
  return then(warmUp(fn, warmup), (): Result => {
    if (options.exact) {
      // Exact mode also collects garbage around the region, for peakBytesUpperBound.
      const run = runExact(fn, { collectsGarbage: true });
      return then(run as RegionRun<Awaited<T>, ExactFigures>, exactMeasurement);
    }
    const run = runInRegion(fn, options.retained !== false);
    return then(run as RegionRun<Awaited<T>, undefined>, cheapMeasurement);
  }) as Result;
}

/** Calls `fn` `n` times (cheap mode; exact mode has its own, see exact.ts). */
function heapscopeBatch(fn: () => unknown, n: number): void {
  for (let i = 0; i < n; i++) fn();
}

async function heapscopeBatchAsync(fn: () => unknown, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await fn();
}

const RESOLVED = Promise.resolve();
const NOOP_ASYNC = (): Promise<void> => RESOLVED;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Per-operation figures: warm-up calls, then `batches` batches in one region that
 * collects garbage around them all (retained bytes), each batch its own nested region
 * (allocated bytes per call and their spread). heapscope's loop costs nothing for a
 * synchronous function; for an async one, the cost of its `await` is measured on an
 * already resolved promise and taken off.
 */
export async function measurePerOp(
  fn: () => unknown,
  options: PerOpOptions,
): Promise<PerOpMeasurement> {
  const iterations = checkCount('iterations', options.iterations, 1);
  const warmup = checkCount(
    'warmup',
    options.warmup ?? Math.min(10_000, Math.max(1, Math.floor(iterations / 10))),
    0,
  );
  const probe = fn();
  const isAsync = isThenable(probe);
  if (isAsync) await probe;
  if (warmup > 1) {
    if (isAsync) await heapscopeBatchAsync(fn, warmup - 1);
    else heapscopeBatch(fn, warmup - 1);
  }
  if (options.exact) {
    const run = await runExact(
      isAsync
        ? () => heapscopeTrackedBatchAsync(fn, iterations)
        : () => heapscopeTrackedBatch(fn, iterations),
      { collectsGarbage: true },
    );
    const x = run.extra;
    const perOp = x.allocatedBytes / iterations;
    return {
      mode: 'exact',
      iterations,
      warmup,
      batches: 1,
      allocatedBytesPerOp: perOp,
      allocatedBytesPerOpSpread: { median: perOp, min: perOp, max: perOp },
      retainedBytesPerOp: x.retainedBytes / iterations,
      gcCount: run.figures.gcCount,
      allocatedBlocksPerOp: x.allocatedBlocks / iterations,
      untrackedBytesPerOp: Math.max(0, run.figures.allocatedBytes - x.allocatedBytes) / iterations,
      sites: x.sites,
      profile: x.profile,
      approximate: run.figures.approximate,
    };
  }
  const batches = Math.min(iterations, checkCount('batches', options.batches ?? 10, 1));
  const sizes = Array.from(
    { length: batches },
    (_, b) => Math.floor(((b + 1) * iterations) / batches) - Math.floor((b * iterations) / batches),
  );
  // The loop's own cost: nothing for a synchronous function (a counted loop allocates
  // nothing; calibrating it on another function only makes V8 recompile the loop). For
  // an async one, our `await` per call: measured on an already resolved promise, per
  // batch size, median of three runs.
  const overhead = new Map<number, number>();
  for (const n of new Set(sizes)) {
    if (!isAsync) {
      overhead.set(n, 0);
      continue;
    }
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const cal = (await runInRegion(
        () => heapscopeBatchAsync(NOOP_ASYNC, n),
        false,
      )) as RegionRun<void>;
      runs.push(cal.figures.allocatedBytes);
    }
    overhead.set(n, median(runs));
  }
  const perBatch = new Float64Array(batches);
  const outer = async () => {
    for (let b = 0; b < batches; b++) {
      const n = sizes[b]!;
      const run = isAsync
        ? ((await runInRegion(() => heapscopeBatchAsync(fn, n), false)) as RegionRun<void>)
        : (runInRegion(() => heapscopeBatch(fn, n), false) as RegionRun<void>);
      perBatch[b] = (run.figures.allocatedBytes - overhead.get(n)!) / n;
    }
  };
  const whole = (await runInRegion(outer, true)) as RegionRun<void>;
  return {
    mode: 'cheap',
    iterations,
    warmup,
    batches,
    allocatedBytesPerOp: median([...perBatch]),
    allocatedBytesPerOpSpread: {
      median: median([...perBatch]),
      min: Math.min(...perBatch),
      max: Math.max(...perBatch),
    },
    retainedBytesPerOp: (whole.figures.retainedBytes ?? 0) / iterations,
    gcCount: whole.figures.gcCount,
    approximate: whole.figures.approximate,
  };
}

/**
 * Measures one call of `fn` (sync or async): bytes allocated, retained, peak, GCs and
 * external memory; `{ exact: true }` adds block counts and allocation sites;
 * `{ iterations: N }` gives figures per call over N calls.
 */
export function measure<T>(
  fn: () => T,
  options: MeasureOptions & { exact: true; iterations?: undefined },
): Promise<ExactMeasurement<Awaited<T>>>;
export function measure<T>(
  fn: () => T,
  options?: MeasureOptions & { iterations?: undefined },
): Promise<Measurement<Awaited<T>>>;
export function measure(fn: () => unknown, options: PerOpOptions): Promise<PerOpMeasurement>;
export async function measure(
  fn: () => unknown,
  options: MeasureOptions & { iterations?: number; batches?: number } = {},
): Promise<Measurement | PerOpMeasurement> {
  // The async constant is measured once per process, outside any region.
  if (!ledger.isOpen) await calibrateAsync();
  // Let the caller reach its `await` before the region starts: its own bookkeeping
  // for awaiting this promise must not land in the region.
  await undefined;
  if (options.iterations !== undefined) {
    return measurePerOp(fn, options as PerOpOptions);
  }
  return measureOnce(fn, options);
}

/**
 * measure() for a synchronous function, returning synchronously (no promise). Throws
 * a TypeError if `fn` returns a promise.
 */
export function measureSync<T>(
  fn: () => T,
  options: MeasureOptions & { exact: true },
): ExactMeasurement<T>;
export function measureSync<T>(fn: () => T, options?: MeasureOptions): Measurement<T>;
export function measureSync<T>(fn: () => T, options: MeasureOptions = {}): Measurement<T> {
  return measureOnce(() => heapscopeSyncGuard(fn), options) as Measurement<T>;
}

/** Calls a function that must be synchronous (a heapscope frame that calls the program). */
export function heapscopeSyncGuard<T>(fn: () => T): T {
  const v = fn();
  if (isThenable(v)) {
    throw new TypeError('heapscope: got a promise from a function that must be synchronous');
  }
  return v;
}

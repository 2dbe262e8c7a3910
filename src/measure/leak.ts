// checkLeak(): does a function leave memory behind on every call?
//
// The statistics, chosen not to be flaky either way:
//
// 1. Warm-up calls first: V8 compiles and optimizes the function, allocates its
//    feedback and caches — one-off growth that is not a leak.
// 2. Then `iterations` calls in `checkpoints` equal intervals. At each checkpoint the
//    heap is settled (two full GCs) and the used heap read: h0, h1, … hK. The growth
//    rate of interval k is (hk − hk−1) / calls in it.
// 3. Leaking when the rate is at least `thresholdBytes` per call in ≥ 80% of the
//    intervals and over the whole run: a leak grows in every interval, V8's own
//    housekeeping (code, feedback, a cache trimmed) shows up in one or two.
//    Each height is first lowered to the lowest one after it: a reading that caught
//    something in flight (an async function's pending work) is not growth.
// 4. Growth in steps (over the threshold overall, but not in most intervals: e.g. a
//    Map whose table doubles now and then, or one-off housekeeping) gets a
//    confirmation run in three phases of 2, 4 and 8 times as many calls: a leak keeps
//    growing (at least half the threshold per call) in the last, longest phase and one
//    other; V8's one-off housekeeping is over by then. A Map that doubles grows in
//    each phase, since each at least doubles the number of calls so far.
// 5. The heap's "no" is trusted only when its rises from one reading to the next add up
//    to less than the threshold per call (half of it in a confirmation run): without its
//    falls it would have grown less than a leak does. A heap that rose that much and
//    fell back let go of something meanwhile (V8 drops data of its own, caches, feedback,
//    metadata of code no longer run, megabytes at a time), and the fall may hide a leak:
//    the exact step decides. Seen with V8's background compiles slowed down by 200 ms:
//    falls of 2–4 MB within a check, and a leak of one 40-byte object per call missed in
//    up to 6 of 15 checks when only growth went to the exact step.
// 6. Growth found either way is checked in exact mode (with the native helper; see
//    leak-exact.ts): as many calls again as ran so far, a snapshot, twice as many, a
//    second snapshot, V8's allocation tracker on. The JavaScript values made in those
//    calls must keep growing between the two snapshots, by at least half the threshold
//    per call. Growth that is not the program's values (V8 compiling and installing
//    code, its feedback and metadata, more of it on a loaded machine) leaves none; what
//    a call leaves in flight (a server's last request, the newest entries of a bounded
//    cache) is in both snapshots and cancels out. Seen without this step: a clean
//    function flagged in 7 of 60 checks with V8's background compiles slowed down by
//    200 ms, three checks at a time; a clean express server over a keep-alive socket
//    flagged at default settings, its heap growing by hundreds of bytes per request in
//    every interval with no JavaScript value left behind (bench/leak-server.mjs).
//
// `bytesPerIteration` is the median interval rate (consistent growth), the overall
// rate (confirmed steps), or the exact step's figure (growth hidden by a fall). Sites come from the exact step: where the growth between its
// two snapshots is kept, charged to the code that keeps it (an array's `push`, a Map's
// `set`), Node's internal frames and V8's built-ins above the program's first one set aside. Without the
// exact step (`verify: false`, no native helper) they come from an exact-mode run of a
// few more calls: the objects allocated there and still reachable at its end, by stack.

import type { Profile } from '../model/profile.js';
import {
  type ExactFigures,
  heapscopeTrackedBatch,
  heapscopeTrackedBatchAsync,
  runExact,
} from './exact.js';
import { programHeapUsed } from './heap-spaces.js';
import { type LeakSpan, leakSpan } from './leak-exact.js';
import { isThenable, type RegionRun, settleHeap } from './region.js';
import type { Site } from './sites.js';
import { HeapscopeStateError } from './state.js';

export interface LeakOptions {
  /** Calls measured (default 50). */
  iterations?: number;
  /** Calls before measuring (default: max(5, iterations / 5)). */
  warmup?: number;
  /** Intervals the calls are split into (default 10, at most `iterations`). */
  checkpoints?: number;
  /** Growth per call below which nothing is reported (default 16 bytes: the smallest object). */
  thresholdBytes?: number;
  /** Find the allocation sites of the growth when leaking (default true; needs the native helper). */
  sites?: boolean;
  /**
   * Calls in the exact-mode run that finds the sites when the exact step did not run
   * (default min(iterations, 20)).
   */
  siteIterations?: number;
  /**
   * Check growth in exact mode, three times as many calls again as ran so far (default
   * true where the native helper loads; see step 6 above). Tracked calls are slower:
   * `false` skips the check for costly functions, and the heap's verdict stands.
   */
  verify?: boolean;
}

export interface LeakResult {
  leaking: boolean;
  /** Bytes left reachable per call (see the statistics above); 0 when not leaking and below threshold. */
  bytesPerIteration: number;
  iterations: number;
  warmup: number;
  thresholdBytes: number;
  /** Used heap after each checkpoint's GCs, minus the first: [0, h1 − h0, …]. */
  growth: number[];
  /** Per interval: bytes per call. */
  intervalRates: number[];
  /** Share of intervals at or above the threshold. */
  consistency: number;
  /**
   * The confirmation run, when growth came in steps: calls in all, bytes per call over
   * them, and per phase (2, 4 and 8 times `iterations` calls).
   */
  confirmation: { iterations: number; bytesPerIteration: number; phaseRates: number[] } | undefined;
  /**
   * The exact step (6 above), when the heap grew (or rose and fell back, 5 above) and it
   * ran: calls between its two snapshots, and the growth of the JavaScript values they
   * made, per call.
   */
  exact: { iterations: number; bytesPerIteration: number } | undefined;
  /**
   * Where the growth is kept, user code first, then most bytes first. From the exact
   * step: `retainedBytes`/`retainedBlocks` are the growth charged to the site between its
   * two snapshots, `stack` the code that keeps it, allocating frame first, Node's
   * internal frames and V8's built-ins (`push`) above the program's first set aside. Without it: the sites of an
   * exact run with bytes still reachable at its end.
   */
  sites: Site[];
  /** The exact run as a DHAT profile (when sites were looked for). */
  profile: Profile | undefined;
  /** Why sites are missing, if they are. */
  sitesError: string | undefined;
}

function count(name: string, n: number, min: number): number {
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`heapscope: ${name} must be an integer ≥ ${min}, got ${n}`);
  }
  return n;
}

/** Each element replaced by the smallest from it to the end. */
function suffixMinimum(xs: readonly number[]): number[] {
  const out = [...xs];
  for (let i = out.length - 2; i >= 0; i--) out[i] = Math.min(out[i]!, out[i + 1]!);
  return out;
}

/** The sum of every rise from one reading to the next (falls left out). */
function rises(xs: readonly number[]): number {
  let sum = 0;
  for (let i = 1; i < xs.length; i++) sum += Math.max(0, xs[i]! - xs[i - 1]!);
  return sum;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Calls `fn` `n` times (the exact-mode run for the sites has its own, see exact.ts). */
function heapscopeBatch(fn: () => unknown, n: number): void {
  for (let i = 0; i < n; i++) fn();
}

async function heapscopeBatchAsync(fn: () => unknown, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await fn();
}

/** The program's heap (code spaces left out: V8 compiling the function is not a leak), settled. */
function settledUsed(): number {
  settleHeap();
  return programHeapUsed();
}

/** A sequence of steps that stays synchronous while every step is. */
type Step = () => void | Promise<void>;
function runSteps(steps: Step[]): void | Promise<void> {
  for (let i = 0; i < steps.length; i++) {
    const r = steps[i]!();
    if (isThenable(r)) {
      return (async () => {
        await r;
        for (let j = i + 1; j < steps.length; j++) await steps[j]!();
      })();
    }
  }
}

/** checkLeak's core: synchronous when `fn` is (for matchers that must not return a promise). */
export function checkLeakCore(
  fn: () => unknown,
  options: LeakOptions = {},
): LeakResult | Promise<LeakResult> {
  const iterations = count('iterations', options.iterations ?? 50, 2);
  const warmup = count('warmup', options.warmup ?? Math.max(5, Math.floor(iterations / 5)), 0);
  const k = Math.min(iterations, count('checkpoints', options.checkpoints ?? 10, 2));
  const threshold = options.thresholdBytes ?? 16;
  if (!(threshold > 0))
    throw new RangeError(`heapscope: thresholdBytes must be > 0, got ${threshold}`);
  const sizes = Array.from(
    { length: k },
    (_, i) => Math.floor(((i + 1) * iterations) / k) - Math.floor((i * iterations) / k),
  );
  const heights = [0.5, ...sizes.map(() => 0.5), 0.5].fill(0);
  let isAsync = false;
  const batch = (n: number): void | Promise<void> => {
    if (n === 0) return;
    if (isAsync) return heapscopeBatchAsync(fn, n);
    // The first call tells whether fn is async; the rest of the batch follows suit.
    const first = fn();
    if (isThenable(first)) {
      isAsync = true;
      return (async () => {
        await first;
        await heapscopeBatchAsync(fn, n - 1);
      })();
    }
    heapscopeBatch(fn, n - 1);
  };
  /**
   * Async functions leave work in flight (timers, promise jobs, the event loop's own
   * records): let it finish, one turn of the event loop, before a checkpoint.
   */
  const drained = (): void | Promise<void> =>
    isAsync ? new Promise<void>((resolve) => setImmediate(resolve)) : undefined;
  // Warm-up in a few batches with checkpoints between, so that heapscope's own code has
  // run its course (compiled, feedback allocated) before the first real checkpoint.
  const warmSizes = [0, 1, 2].map(
    (i) => Math.floor(((i + 1) * warmup) / 3) - Math.floor((i * warmup) / 3),
  );
  const steps: Step[] = [];
  for (const n of warmSizes) {
    steps.push(() => batch(n));
    steps.push(drained);
    steps.push(() => {
      heights[0] = settledUsed();
    });
  }
  sizes.forEach((n, i) => {
    steps.push(() => batch(n));
    steps.push(drained);
    steps.push(() => {
      heights[i + 1] = settledUsed();
    });
  });
  const done = runSteps(steps);
  return isThenable(done) ? done.then(() => decide()) : decide();

  function decide(): LeakResult | Promise<LeakResult> {
    // A reading that caught something in flight (higher than a later one) does not
    // count: each height is the lowest from there on. A leak only grows; a transient
    // bump disappears.
    const low = suffixMinimum(heights.slice(0, k + 1));
    const rates = sizes.map((n, i) => (low[i + 1]! - low[i]!) / n);
    const overall = (low[k]! - low[0]!) / iterations;
    const consistency = rates.filter((r) => r >= threshold).length / k;
    const growth = heights.slice(0, k + 1).map((h) => h - heights[0]!);
    const base = {
      iterations,
      warmup,
      thresholdBytes: threshold,
      growth,
      intervalRates: rates,
      consistency,
    };
    if (consistency >= 0.8 && overall >= threshold) {
      const result = {
        ...base,
        leaking: true,
        bytesPerIteration: median(rates),
        confirmation: undefined,
        exact: undefined,
      };
      if (options.verify === false) return withSites(result);
      return verified(result, warmup + iterations);
    }
    if (overall < threshold) {
      const no = {
        ...base,
        leaking: false,
        bytesPerIteration: 0,
        confirmation: undefined,
        exact: undefined,
      };
      // The heap rose by the threshold per call, counting every interval's rise, and fell
      // back (5 above): the fall may hide a leak. The exact step decides.
      if (options.verify !== false && rises(heights.slice(0, k + 1)) >= threshold * iterations) {
        return verified(no, warmup + iterations);
      }
      return finish(no);
    }
    // Growth in steps: confirm over three longer phases (2, 4 and 8 times as many calls).
    const phases = [2 * iterations, 4 * iterations, 8 * iterations];
    const confirmHeights = [low[k]!, 0, 0, 0];
    const confirm: Step[] = [];
    phases.forEach((n, p) => {
      confirm.push(
        () => batch(n),
        drained,
        () => {
          confirmHeights[p + 1] = settledUsed();
        },
      );
    });
    // The last reading twice, after one more turn: it has no later one to correct it.
    confirm.push(drained, () => {
      confirmHeights[3] = Math.min(confirmHeights[3]!, settledUsed());
    });
    const decideConfirmed = () => {
      const c = suffixMinimum(confirmHeights);
      const phaseRates = phases.map((n, p) => (c[p + 1]! - c[p]!) / n);
      const total = phases.reduce((a, n) => a + n, 0);
      const grew = phaseRates.filter((r) => r >= threshold / 2).length;
      // A leak keeps growing, up to the longest, last phase; V8's one-off housekeeping
      // is done long before it.
      const leaking = phaseRates[2]! >= threshold / 2 && grew >= 2;
      const result = {
        ...base,
        leaking,
        bytesPerIteration: leaking ? (c[3]! - low[0]!) / (iterations + total) : 0,
        confirmation: {
          iterations: total,
          bytesPerIteration: (c[3]! - c[0]!) / total,
          phaseRates,
        },
        exact: undefined,
      };
      if (options.verify === false) return leaking ? withSites(result) : finish(result);
      // As above: a confirmation whose heap rose by half the threshold per call but fell
      // back does not rule the leak out.
      if (!leaking && rises(confirmHeights) < (threshold / 2) * total) return finish(result);
      return verified(result, warmup + iterations + total);
    };
    const r = runSteps(confirm);
    return isThenable(r) ? r.then(decideConfirmed) : decideConfirmed();
  }

  type Partial = Omit<LeakResult, 'sites' | 'profile' | 'sitesError'>;

  /** `n` calls of `fn` in one tracked region. Throws where exact mode cannot run. */
  function trackedCalls(n: number): ReturnType<typeof runExact<unknown>> {
    return runExact(
      isAsync ? () => heapscopeTrackedBatchAsync(fn, n) : () => heapscopeTrackedBatch(fn, n),
    );
  }

  /**
   * Step 6, after `calls` calls: the exact step decides, and gives the sites. Where exact
   * mode cannot run (no native helper, the tracker in use) the heap's verdict (`p`) stands.
   */
  function verified(p: Partial, calls: number): LeakResult | Promise<LeakResult> {
    // Only a tracker that cannot start (no native helper, in use) leaves the heap's
    // verdict standing; the function's own errors go to the caller.
    const fallBack = (e: unknown) => {
      if (e instanceof HeapscopeStateError) return p.leaking ? withSites(p) : finish(p);
      throw e;
    };
    let span: LeakSpan | Promise<LeakSpan>;
    try {
      span = leakSpan(fn, isAsync, calls);
    } catch (e) {
      return fallBack(e);
    }
    const decideExact = (s: LeakSpan): LeakResult => {
      const leaking = s.bytesPerIteration >= threshold / 2;
      const exact = { iterations: s.iterations, bytesPerIteration: s.bytesPerIteration };
      if (!leaking) return finish({ ...p, leaking, bytesPerIteration: 0, exact });
      // Growth the heap hid behind V8's own falls: the exact step's figure.
      const found = p.leaking
        ? { ...p, exact }
        : { ...p, leaking, bytesPerIteration: s.bytesPerIteration, exact };
      if (options.sites === false) return finish(found);
      return { ...found, sites: s.sites, profile: s.profile, sitesError: undefined };
    };
    return isThenable(span) ? span.then(decideExact, fallBack) : decideExact(span);
  }

  function finish(p: Partial): LeakResult {
    return { ...p, sites: [], profile: undefined, sitesError: undefined };
  }

  function withSites(p: Partial): LeakResult | Promise<LeakResult> {
    if (options.sites === false) return finish(p);
    const n = count('siteIterations', options.siteIterations ?? Math.min(iterations, 20), 1);
    let run: ReturnType<typeof runExact<unknown>>;
    try {
      run = trackedCalls(n);
    } catch (e) {
      return { ...p, sites: [], profile: undefined, sitesError: (e as Error).message };
    }
    const build = (r: RegionRun<unknown, ExactFigures>): LeakResult => ({
      ...p,
      sites: r.extra.sites
        .filter((s) => s.retainedBytes > 0)
        .sort((a, b) => b.retainedBytes - a.retainedBytes),
      profile: r.extra.profile,
      sitesError: undefined,
    });
    return isThenable(run)
      ? (run as Promise<RegionRun<unknown, ExactFigures>>).then(build, (e) => ({
          ...p,
          sites: [],
          profile: undefined,
          sitesError: (e as Error).message,
        }))
      : build(run as RegionRun<unknown, ExactFigures>);
  }
}

/**
 * Calls `fn` many times and tells whether it leaks: memory that stays reachable after
 * every call. Sync or async `fn`. See the module comment for the statistics.
 */
export async function checkLeak(fn: () => unknown, options: LeakOptions = {}): Promise<LeakResult> {
  await undefined;
  return checkLeakCore(fn, options);
}

// A measured region in cheap mode: the span between two ledger readings in which only
// the measured function runs.
//
//   enter: sample ─ [gc ─ read retained baseline] ─ mark ══ fn() ══ sample ─ [gc ─ read] ─ mark :exit
//          └──────── bookkeeping block ─────────┘          └──── bookkeeping block ────┘
//
// Everything heapscope does happens inside a bookkeeping block (dhat-rs's IgnoreAllocs):
// a block starts with `ledger.sample()` and ends with `ledger.mark()`, and its bytes are
// added to a process-wide total of bookkeeping bytes. A region subtracts from its span
// the growth of that total while it was open, so a group nested in another, or measured
// while another is open, never shows the other's bookkeeping. What does leak out of a
// block is constant: the part of a reading that follows its measurement, and the code
// between the mark and the call of `fn`. That constant (`K`) is measured on an empty
// function when a session opens, with this very code, and subtracted.
//
// Numbers live in arrays of doubles allocated before the region's first reading, so that
// no bookkeeping object is created inside the span or survives into the retained figure.

import * as v8 from 'node:v8';
import { collectGarbage, forcedGcCount } from './gc.js';
import { programHeapUsed } from './heap-spaces.js';
import { type GcListener, ledger, R_ALLOCATED, R_EXTERNAL, R_GC, R_USED } from './ledger.js';

// Slots of a region's numbers.
const ENTRY = 0; // reading that opens the entry block (4 slots)
const START = 4; // reading that ends the entry block: the span starts here
const END = 8; // reading that ends the span and opens the exit block
const EXIT = 12; // reading that ends the exit block
const BASE_USED = 16; // program heap used after the entry GC
const BASE_EXTERNAL = 17;
const FINAL_USED = 18; // program heap used after the exit GC
const FINAL_EXTERNAL = 19;
const OWN_AT_START = 20; // bookkeeping total when the span started
const OWN_AT_END = 21;
const FORCED_AT_START = 22; // GCs heapscope forced, when the span started
const FORCED_AT_END = 23;
const PEAK_USED = 24; // largest used heap seen just before a GC in the span
const GCS = 25; // GCs in the span
const CALIBRATION = 27; // K subtracted from this region
const SLOTS = 28;

// Process-wide bookkeeping totals.
const OWN_BYTES = 0;
const K_SYNC = 1;
const K_ASYNC = 2;
const K_ASYNC_KNOWN = 3;
const own = [0.5, 0.5, 0.5, 0.5].fill(0);
/** Scratch reading for the start of the entry block, before the region's arrays exist. */
const scratch = [0.5, 0.5, 0.5, 0.5].fill(0);

/** Which code path ran between the region's readings (they leak different constants). */
export type RegionKind = 'sync' | 'async';

/**
 * Numbers in an on-heap array of doubles: storing never allocates, and (unlike a
 * Float64Array over 64 bytes) it has no external backing store, whose lazy release
 * would show in the external-memory figure of the next region.
 */
export function doubles(n: number): number[] {
  return Array.from({ length: n }, () => 0.5).fill(0);
}

export class Region implements GcListener {
  readonly f = doubles(SLOTS);
  /** GC index range of the span; no GC belongs to it until the span starts. */
  readonly span = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  collectsGarbage: boolean;

  constructor(collectsGarbage: boolean) {
    this.collectsGarbage = collectsGarbage;
  }

  onGc(usedBefore: number): void {
    this.f[GCS]!++;
    if (usedBefore > this.f[PEAK_USED]!) this.f[PEAK_USED] = usedBefore;
  }
}

/** The figures of a finished region. */
export interface RegionFigures {
  /** Bytes allocated in the span, bookkeeping removed. */
  allocatedBytes: number;
  /** GCs during the span, not counting the ones heapscope forced for nested regions. */
  gcCount: number;
  /** Growth of the used heap from the entry GC to the exit GC (when the region collects garbage). */
  retainedBytes: number | undefined;
  /** Growth of external memory over the same two GCs (or over the span without them). */
  externalBytes: number;
  /**
   * Upper bound of the peak live bytes above the start: the smaller of the fullest used
   * heap seen (just before a GC, or at the end) above the settled start, and the bytes
   * allocated.
   */
  peakBytesUpperBound: number | undefined;
  /** Whether a GC could have been misplaced (no native helper). */
  approximate: boolean;
}

/**
 * Opens the bookkeeping block that starts a region and returns the region. The caller
 * runs the measured code right after this returns, and then calls `exitRegion`.
 */
export function enterRegion(
  collectsGarbage: boolean,
  beforeStart?: (arg: unknown) => void,
  atEntry?: (arg: unknown) => void,
  arg?: unknown,
): Region {
  const opened = ledger.open();
  if (opened) calibrate();
  ledger.sample(scratch, 0);
  atEntry?.(arg);
  const r = new Region(collectsGarbage);
  for (let i = 0; i < 4; i++) r.f[ENTRY + i] = scratch[i]!;
  if (collectsGarbage) {
    settleHeap();
    const hs = heapNow();
    r.f[BASE_USED] = hs[0]!;
    r.f[BASE_EXTERNAL] = hs[1]!;
  }
  beforeStart?.(arg);
  r.f[FORCED_AT_START] = forcedGcCount();
  ledger.addListener(r);
  ledger.mark(r.f, START);
  r.span[0] = r.f[START + R_GC]!;
  own[OWN_BYTES] =
    own[OWN_BYTES]! + (r.f[START + R_ALLOCATED]! - r.f[ENTRY + R_ALLOCATED]!) + own[K_SYNC]!;
  r.f[OWN_AT_START] = own[OWN_BYTES]!;
  return r;
}

/**
 * Closes the span of `r` and its exit block; returns `value` with the figures. The
 * result is built inside the block: nothing heapscope allocates after it may land in a
 * region that is still open.
 */
export function exitRegion<T, X = undefined>(
  r: Region,
  kind: RegionKind,
  value: T,
  afterEnd?: (arg: unknown) => X,
  onFigures?: (figures: RegionFigures, arg: unknown, kind: RegionKind) => void,
  arg?: unknown,
): RegionRun<T, X> {
  ledger.sample(r.f, END, r);
  r.f[OWN_AT_END] = own[OWN_BYTES]!;
  r.f[FORCED_AT_END] = forcedGcCount();
  ledger.removeListener(r);
  if (r.collectsGarbage) {
    settleHeap();
    const hs = heapNow();
    r.f[FINAL_USED] = hs[0]!;
    r.f[FINAL_EXTERNAL] = hs[1]!;
  }
  r.f[CALIBRATION] = kind === 'sync' ? own[K_SYNC]! : own[K_ASYNC]!;
  let extra: X | undefined;
  try {
    extra = afterEnd?.(arg);
  } catch (e) {
    closeBlock(r);
    throw e;
  }
  const run: RegionRun<T, X> = { value, figures: figuresOf(r), extra: extra as X };
  try {
    onFigures?.(run.figures, arg, kind);
  } finally {
    closeBlock(r);
  }
  return run;
}

/**
 * Ends the exit block: adds its bytes to the bookkeeping total, so that regions still
 * open do not count them. Nothing may allocate after this until the caller returns.
 */
function closeBlock(r: Region): void {
  ledger.mark(r.f, EXIT);
  own[OWN_BYTES] =
    own[OWN_BYTES]! + (r.f[EXIT + R_ALLOCATED]! - r.f[END + R_ALLOCATED]!) + own[K_SYNC]!;
  ledger.close();
}

const peekReading = [0.5, 0.5, 0.5, 0.5].fill(0);

/**
 * The figures of a region that is still open, so far (a bookkeeping block of its own,
 * which the region will not count). Retained bytes are not available.
 */
export function peekRegion(r: Region): {
  allocatedBytes: number;
  gcCount: number;
  usedBytes: number;
} {
  ledger.sample(peekReading, 0);
  const f = r.f;
  const allocatedBytes =
    peekReading[R_ALLOCATED]! -
    f[START + R_ALLOCATED]! -
    (own[OWN_BYTES]! - f[OWN_AT_START]!) -
    own[K_SYNC]!;
  const result = {
    allocatedBytes,
    gcCount: Math.max(0, f[GCS]! - (forcedGcCount() - f[FORCED_AT_START]!)),
    usedBytes: peekReading[R_USED]!,
  };
  const before = peekReading[R_ALLOCATED]!;
  ledger.mark(peekReading, 0);
  own[OWN_BYTES] = own[OWN_BYTES]! + (peekReading[R_ALLOCATED]! - before) + own[K_SYNC]!;
  return result;
}

function figuresOf(r: Region): RegionFigures {
  const f = r.f;
  const span = f[END + R_ALLOCATED]! - f[START + R_ALLOCATED]!;
  const ownInside = f[OWN_AT_END]! - f[OWN_AT_START]!;
  const gcs = f[GCS]! - (f[FORCED_AT_END]! - f[FORCED_AT_START]!);
  const gc = r.collectsGarbage;
  return {
    allocatedBytes: span - ownInside - f[CALIBRATION]!,
    gcCount: Math.max(0, gcs),
    retainedBytes: gc ? f[FINAL_USED]! - f[BASE_USED]! : undefined,
    externalBytes: gc
      ? f[FINAL_EXTERNAL]! - f[BASE_EXTERNAL]!
      : f[END + R_EXTERNAL]! - f[START + R_EXTERNAL]!,
    // The heap above the settled start, at the fullest moments seen, bounds the peak;
    // so does what was allocated: no more can have been live at once.
    peakBytesUpperBound: gc
      ? Math.max(
          0,
          Math.min(
            Math.max(f[PEAK_USED]!, f[END + R_USED]!) - f[BASE_USED]!,
            span - ownInside - f[CALIBRATION]!,
          ),
        )
      : undefined,
    approximate: !ledger.exactGcCounts,
  };
}

/**
 * Two full GCs: the second collects what the first only released (weak references,
 * objects kept for one more cycle by V8's own caches) and waits for the first one's
 * sweeping, including the freeing of external backing stores, to finish.
 */
export function settleHeap(): void {
  collectGarbage();
  collectGarbage();
}

/** [program heap used, external memory]. */
function heapNow(): [number, number] {
  const program = programHeapUsed();
  return [program, v8.getHeapStatistics().external_memory];
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** The result of running a function in a region. */
export interface RegionRun<T, X = undefined> {
  value: T;
  figures: RegionFigures;
  /** What the region's `afterEnd` hook returned. */
  extra: X;
}

/**
 * Work done inside a region's bookkeeping blocks (e.g. switching allocation tracking).
 * Each hook gets the `arg` given to runInRegion, so that callers can pass constant
 * hooks and allocate no closure in a region around theirs.
 */
export interface RegionHooks<X> {
  /** Runs first in the entry block, before the entry GC. */
  atEntry?: (arg: unknown) => void;
  /** Runs after the entry GC, just before the span starts. */
  beforeStart?: (arg: unknown) => void;
  /** Runs just after the span ends, before the exit GC; its result is the run's `extra`. */
  afterEnd?: (arg: unknown) => X;
  /** Runs last in the exit block, with the figures (e.g. to add them to a group's record). */
  onFigures?: (figures: RegionFigures, arg: unknown, kind: RegionKind) => void;
}

const NO_HOOKS: RegionHooks<undefined> = {};

/**
 * Runs `fn` in a region. Returns synchronously when `fn` does; when it returns a
 * promise, returns a promise that settles after the region closes.
 */
export function runInRegion<T, X = undefined>(
  fn: () => T,
  collectsGarbage: boolean,
  hooks: RegionHooks<X> = NO_HOOKS as RegionHooks<X>,
  arg?: unknown,
): RegionRun<T, X> | Promise<RegionRun<Awaited<T>, X>> {
  const r = enterRegion(collectsGarbage, hooks.beforeStart, hooks.atEntry, arg);
  let value: T;
  try {
    value = fn();
  } catch (e) {
    exitRegion(r, 'sync', undefined, hooks.afterEnd, hooks.onFigures, arg);
    throw e;
  }
  if (isThenable(value)) return finishAsync(value as PromiseLike<Awaited<T>>, r, hooks, arg);
  return exitRegion(r, 'sync', value, hooks.afterEnd, hooks.onFigures, arg);
}

async function finishAsync<T, X>(
  p: PromiseLike<T>,
  r: Region,
  hooks: RegionHooks<X>,
  arg: unknown,
): Promise<RegionRun<T, X>> {
  let value: T;
  try {
    value = await p;
  } catch (e) {
    exitRegion(r, 'async', undefined, hooks.afterEnd, hooks.onFigures, arg);
    throw e;
  }
  return exitRegion(r, 'async', value, hooks.afterEnd, hooks.onFigures, arg);
}

export { isThenable };

const NOOP = (): void => {};
const RESOLVED = Promise.resolve();
const NOOP_ASYNC = (): Promise<void> => RESOLVED;

/**
 * Measures the constant that leaks out of the bookkeeping blocks into a sync span, on
 * an empty function, with the region code itself (run when a session opens).
 */
let warmedUp = false;
const warmups: (() => void)[] = [];

/**
 * Registers code to run once per process before the first region, when nothing is
 * measured yet: heapscope's code paths, compiled there instead of in a measured region.
 */
export function registerWarmup(fn: () => void): void {
  warmups.push(fn);
}

function calibrate(): void {
  if (!warmedUp) {
    // The first run of each heapscope function compiles it; its bytecode (and feedback)
    // would show as retained in the first region that collects garbage. Run those
    // paths once, unmeasured, per process.
    warmedUp = true;
    own[K_SYNC] = 0;
    // V8 gives a function its feedback vector after a few calls: make those calls
    // here (cheap regions, and the readings of regions that collect garbage).
    for (let i = 0; i < 24; i++) runInRegion(NOOP, false);
    for (let i = 0; i < 12; i++) heapNow();
    for (let i = 0; i < 2; i++) runInRegion(NOOP, true);
    for (const w of warmups) w();
    // V8 ages some of its data at each full GC (bytecode of functions not run lately,
    // compilation caches) and drops it after a few: age what exists now, so that the
    // first regions do not see it go.
    for (let i = 0; i < 3; i++) settleHeap();
  }
  own[K_SYNC] = 0;
  const runs = [0, 0, 0];
  for (let i = 0; i < runs.length; i++) {
    const run = runInRegion(NOOP, false) as RegionRun<void>;
    runs[i] = run.figures.allocatedBytes;
  }
  runs.sort((a, b) => a - b);
  own[K_SYNC] = runs[1]!;
}

/**
 * The async constant (our `await` of the function's promise) is measured once, on a
 * function returning an already resolved promise. Call it inside a bookkeeping block
 * with no region listening, e.g. before a session's first region.
 */
export async function calibrateAsync(): Promise<void> {
  if (own[K_ASYNC_KNOWN]) return;
  own[K_ASYNC] = 0;
  const runs = [0, 0, 0];
  for (let i = 0; i < runs.length; i++) {
    const run = (await runInRegion(NOOP_ASYNC, false)) as RegionRun<void>;
    runs[i] = run.figures.allocatedBytes;
  }
  runs.sort((a, b) => a - b);
  own[K_ASYNC] = runs[1]!;
  own[K_ASYNC_KNOWN] = 1;
}

/** The constants in use, for tests and the docs. */
export function calibration(): { sync: number; async: number | undefined } {
  return { sync: own[K_SYNC]!, async: own[K_ASYNC_KNOWN] ? own[K_ASYNC]! : undefined };
}

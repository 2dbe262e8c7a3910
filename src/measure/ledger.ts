// Cheap GC accounting: how many bytes were allocated between two moments, from V8's
// heap statistics alone (the spaces that hold the program's data: heap-spaces.ts).
//
// Between two GCs the used heap only grows, by exactly what was allocated; a GC
// removes (before − after). So with A(t) = used(t) + Σ (before − after) over every GC
// before t, the bytes allocated between t1 and t2 are A(t2) − A(t1). The Σ comes from
// `v8.GCProfiler` (one record per GC, with the used heap before and after); the GC
// count that places a reading between two records comes from the native helper's GC
// callbacks.
//
// A profiler only yields its records when stopped, so each reading hands over to a
// fresh one: the new profiler starts before the old one stops, and records both hold
// are told apart by their GC index. Readings come in two kinds, so that the hand-over's
// own allocations always fall inside heapscope's bookkeeping, never in a measured span:
//
//   sample()  read first, then hand over   (starts a bookkeeping block)
//   mark()    hand over first, then read   (ends a bookkeeping block)
//
// With the native helper a reading is retried when a GC slipped in between its parts;
// without it (no prebuilt binary for this platform) a GC inside a window of about a
// kilobyte of allocation can be misplaced: documented in index.ts.
//
// Numbers live in arrays of doubles so that updating them never allocates.

import * as v8 from 'node:v8';
import type { NativeAddon } from '../native/addon.js';
import { addonOrUndefined } from '../native/addon.js';
import { programHeapUsed, programUsedOf } from './heap-spaces.js';
import { switchOffPretenuring } from './pretenuring.js';

/** GC types that collect memory; the profiler also reports marking steps, which do not. */
const COLLECTING = [
  'Scavenge',
  'MarkSweepCompact',
  'MinorMarkCompact',
  'MinorMarkSweep',
  'MinorMarkSweepCompact',
];

interface SpaceJson {
  spaceName: string;
  spaceUsedSize: number;
}

interface GcRecordJson {
  gcType: string;
  beforeGC: { heapSpaceStatistics: SpaceJson[] };
  afterGC: { heapSpaceStatistics: SpaceJson[] };
}

/**
 * Something measured over a span of the ledger's readings (a region): told about
 * every GC inside the span once the reading that follows the GC has been taken.
 * `span[0]` is the GC index of the reading that opened the span, `span[1]` of the one
 * that closed it (Infinity while open); array slots, so setting them never allocates.
 */
export interface GcListener {
  readonly span: number[];
  onGc(usedBefore: number): void;
}

// Ledger state, by slot.
const CUM = 0; // Σ (before − after) over the records received
const LAST = 1; // GC index of the last record received
const BASE = 2; // GC index at which the running profiler started
const ORIGIN = 3; // `used` when the session opened (keeps A small)
const TRIES = 4; // retries, for tests and diagnostics
// The last record received, for de-duplication without GC counts: its type (index in
// COLLECTING, -1 before any) and used heap before and after. Numbers, not a string key:
// one made after a region's baseline reading would be live at its final one (208 bytes).
const LAST_TYPE = 5;
const LAST_BEFORE = 6;
const LAST_AFTER = 7;

class Ledger {
  private readonly state = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5].fill(0);
  private profiler: v8.GCProfiler | undefined;
  private addon: NativeAddon | undefined;
  private depth = 0;
  private readonly listeners: (GcListener | undefined)[] = new Array(64);
  private listenerCount = 0;
  /** Whether a GC may have been misplaced (no native helper and a GC in a reading's window). */
  approximate = false;

  get exactGcCounts(): boolean {
    return this.addon !== undefined;
  }

  get isOpen(): boolean {
    return this.depth > 0;
  }

  /** Opens a session (nested calls share it); GC callbacks of the native helper go on. */
  open(): boolean {
    this.depth++;
    if (this.depth > 1) return false;
    this.addon = addonOrUndefined();
    // Installs GC counting only (no allocation tracking); a no-op when already on.
    this.addon?.startTracking(false);
    this.state.fill(0);
    this.approximate = false;
    this.state[LAST_TYPE] = -1;
    this.state[LAST] = this.gcIndexNow();
    this.startProfiler();
    this.state[ORIGIN] = programHeapUsed();
    return true;
  }

  close(): void {
    if (this.depth === 0) return;
    this.depth--;
    if (this.depth > 0) return;
    this.profiler?.stop();
    this.profiler = undefined;
    this.listenerCount = 0;
    this.listeners.fill(undefined);
  }

  /** Re-installs GC counting after someone stopped the native helper's tracking. */
  reinstallGcCounting(): void {
    if (this.depth > 0) this.addon?.startTracking(false);
  }

  addListener(l: GcListener): void {
    if (this.listenerCount === this.listeners.length) this.listeners.push(undefined);
    this.listeners[this.listenerCount++] = l;
  }

  removeListener(l: GcListener): void {
    const i = this.listeners.indexOf(l);
    if (i < 0 || i >= this.listenerCount) return;
    this.listeners[i] = this.listeners[this.listenerCount - 1];
    this.listeners[--this.listenerCount] = undefined;
  }

  /** Open listeners other than `except` (in no particular order). */
  forEachListener(except: GcListener | undefined, fn: (l: GcListener) => void): void {
    for (let i = 0; i < this.listenerCount; i++) {
      const l = this.listeners[i]!;
      if (l !== except) fn(l);
    }
  }

  /** Temporarily hides every listener (for calibration runs inside a bookkeeping block). */
  hideListeners(): (GcListener | undefined)[] {
    const saved = this.listeners.slice(0, this.listenerCount);
    this.listenerCount = 0;
    return saved;
  }

  restoreListeners(saved: (GcListener | undefined)[]): void {
    for (const l of saved) if (l) this.addListener(l);
  }

  /**
   * Reads first, then hands over: the start of a bookkeeping block. Writes the reading
   * into `out` at `at` (used, external, gcIndex, allocated).
   */
  sample(out: number[], at: number, closing?: GcListener): void {
    let used = 0;
    let external = 0;
    let index = 0;
    for (;;) {
      const before = this.gcIndexNow();
      const program = programHeapUsed();
      const ext = v8.getHeapStatistics().external_memory;
      const after = this.gcIndexNow();
      if (before === after || !this.addon) {
        used = program;
        external = ext;
        index = before;
        break;
      }
      this.state[TRIES]++;
    }
    if (closing) closing.span[1] = this.addon ? index : Number.POSITIVE_INFINITY;
    const cumBefore = this.handOver(this.addon ? index : Number.POSITIVE_INFINITY);
    if (!this.addon) index = this.state[LAST]!;
    out[at] = used;
    out[at + 1] = external;
    out[at + 2] = index;
    out[at + 3] = used - this.state[ORIGIN]! + cumBefore;
  }

  /** Hands over first, then reads: the end of a bookkeeping block. */
  mark(out: number[], at: number): void {
    for (;;) {
      this.handOver(Number.POSITIVE_INFINITY);
      const before = this.gcIndexNow();
      const program = programHeapUsed();
      const external = v8.getHeapStatistics().external_memory;
      const after = this.gcIndexNow();
      if (!this.addon || (before === after && before === this.state[LAST])) {
        out[at] = program;
        out[at + 1] = external;
        out[at + 2] = this.state[LAST]!;
        out[at + 3] = program - this.state[ORIGIN]! + this.state[CUM]!;
        return;
      }
      this.state[TRIES]++;
    }
  }

  get retries(): number {
    return this.state[TRIES]!;
  }

  private gcIndexNow(): number {
    if (!this.addon) return this.state[LAST]!;
    const s = this.addon.gcStats();
    return s.scavenges + s.markCompacts;
  }

  private startProfiler(): void {
    for (;;) {
      const p = new v8.GCProfiler();
      const before = this.gcIndexNow();
      p.start();
      const after = this.gcIndexNow();
      if (before === after || !this.addon) {
        this.profiler = p;
        this.state[BASE] = this.addon ? before : this.state[LAST]!;
        return;
      }
      p.stop();
      this.state[TRIES]++;
    }
  }

  /**
   * Starts a new profiler, stops the old one and takes in its records. Returns Σ
   * (before − after) over every GC with index ≤ `upTo` (all received so far when
   * `upTo` is Infinity), as it was before records past `upTo` were added.
   */
  private handOver(upTo: number): number {
    const old = this.profiler!;
    const oldBase = this.state[BASE]!;
    this.startProfiler();
    const data = old.stop() as unknown as { statistics: GcRecordJson[] };
    // Without GC counts the old profiler's records all follow the last one received (but
    // a duplicate of it, skipped below): `oldBase` was read before the records that the
    // hand-over that started this profiler took in, and would skip as many new ones.
    let index = this.addon ? oldBase : this.state[LAST]!;
    let cumUpTo = this.state[CUM]!;
    let skipDuplicate = !this.addon && this.state[LAST_TYPE]! >= 0;
    for (const r of data.statistics) {
      const type = COLLECTING.indexOf(r.gcType);
      if (type < 0) continue;
      const usedBefore = programUsedOf(r.beforeGC.heapSpaceStatistics);
      const usedAfter = programUsedOf(r.afterGC.heapSpaceStatistics);
      if (!this.addon) {
        // No GC counts: the previous profiler's last record may open this one too.
        const duplicate =
          skipDuplicate &&
          type === this.state[LAST_TYPE] &&
          usedBefore === this.state[LAST_BEFORE] &&
          usedAfter === this.state[LAST_AFTER];
        skipDuplicate = false;
        if (duplicate) continue;
        this.state[LAST_TYPE] = type;
        this.state[LAST_BEFORE] = usedBefore;
        this.state[LAST_AFTER] = usedAfter;
      }
      index++;
      if (index <= this.state[LAST]!) continue; // already received from the previous profiler
      this.state[LAST] = index;
      this.state[CUM] = this.state[CUM]! + (usedBefore - usedAfter);
      if (index <= upTo) cumUpTo = this.state[CUM]!;
      for (let i = 0; i < this.listenerCount; i++) {
        const l = this.listeners[i]!;
        if (index > l.span[0]! && index <= l.span[1]!) l.onGc(usedBefore);
      }
    }
    // Without the native helper's count, a GC in the few hundred bytes between a
    // sample's reading and this hand-over cannot be placed: it is counted before it.
    return cumUpTo;
  }
}

// As early as heapscope is loaded: V8 keeps the decisions it made for sites created
// before the switch (on Node 20, code tenured that way is counted wrong in cheap mode).
switchOffPretenuring();

/** The process-wide ledger (one per thread: module state is per isolate). */
export const ledger = new Ledger();

/** Slots of a reading written by `sample` / `mark`. */
export const R_USED = 0;
export const R_EXTERNAL = 1;
export const R_GC = 2;
export const R_ALLOCATED = 3;
export const READING_SLOTS = 4;

// HeapStats: heap figures on demand, like dhat-rs's `HeapStats::get()`.

import * as v8 from 'node:v8';
import { profilerRegion } from './profiler.js';
import { peekRegion, settleHeap } from './region.js';

export interface HeapStatsOptions {
  /** Collect garbage first (two full GCs), so that `currBytes` is live bytes, exactly. */
  gc?: boolean;
}

/** Figures since a Profiler started (cheap counters; the Profiler's file has the exact ones). */
export interface SinceProfilerStart {
  /** Bytes allocated since Profiler.start(), from GC statistics (±0.5%). */
  totalBytes: number;
  /** GCs since Profiler.start(), heapscope's own not counted. */
  gcCount: number;
}

/** A snapshot of this thread's heap figures (see `HeapStats.get()`). */
export class HeapStats {
  /**
   * Bytes of the JavaScript heap in use: live objects plus garbage not collected yet,
   * unless taken with `{ gc: true }`, when it is the live bytes exactly.
   */
  readonly currBytes: number;
  /** Bytes of external memory (ArrayBuffer and Buffer contents) V8 knows of. */
  readonly externalBytes: number;
  /** Bytes V8 has reserved for the heap (used or not). */
  readonly heapSizeBytes: number;
  /** The heap's size limit (`--max-old-space-size` and the young generation). */
  readonly heapLimitBytes: number;
  /** Whether garbage was collected first, i.e. `currBytes` counts live objects only. */
  readonly collected: boolean;
  /** Present while a Profiler runs. */
  readonly sinceProfilerStart: SinceProfilerStart | undefined;

  private constructor(collected: boolean) {
    const region = profilerRegion();
    const since = region ? peekRegion(region) : undefined;
    if (collected) settleHeap();
    const hs = v8.getHeapStatistics();
    this.currBytes = hs.used_heap_size;
    this.externalBytes = hs.external_memory;
    this.heapSizeBytes = hs.total_heap_size;
    this.heapLimitBytes = hs.heap_size_limit;
    this.collected = collected;
    this.sinceProfilerStart = since
      ? { totalBytes: since.allocatedBytes, gcCount: since.gcCount }
      : undefined;
  }

  /** The figures now. With a Profiler running, also what was allocated since it started. */
  static get(options: HeapStatsOptions = {}): HeapStats {
    return new HeapStats(options.gc === true);
  }
}

// Loader for the native helper (native/heapscope.cc), CommonJS so that the
// capture agent (agent.cts → agent.cjs) can use it; addon.ts re-exports it
// for ESM code. One prebuilt binary per Node ABI ships in
// prebuilds/<platform>-<arch>/heapscope.abi<process.versions.modules>.node;
// this file compiles to dist/native/load.cjs, two levels below the
// package root (src/native/ when run from source: also two levels).

import { existsSync } from 'node:fs';
import path from 'node:path';

/** GC accounting kept by the addon since `startTracking()` (or `startPeakSampling()`). */
export interface NativeGcStats {
  /** Minor GCs (scavenges; minor mark-sweeps on V8s that use them). */
  scavenges: number;
  /** Full mark-compact GCs (including the one each snapshot performs). */
  markCompacts: number;
  /**
   * Max `used_heap_size` right after any GC. After a scavenge old-space garbage
   * is still counted, so this is an estimate; see `peakLiveAfterMarkCompact`.
   */
  peakLiveAfterGc: number;
  /** When `peakLiveAfterGc` was seen, µs since tracking started (monotonic). */
  peakLiveAfterGcTimeUs: number;
  /** Max `used_heap_size` right after a mark-compact: a lower bound on peak live bytes. */
  peakLiveAfterMarkCompact: number;
  peakLiveAfterMarkCompactTimeUs: number;
  /** Max `used_heap_size` right before any GC: an upper bound on peak live bytes. */
  peakUsedBeforeGc: number;
  /** Max external (ArrayBuffer/Buffer backing store) bytes seen after a GC. */
  peakExternal: number;
  /** External bytes at the time of `peakLiveAfterGc`. */
  externalAtPeak: number;
  /** µs since tracking started (0 if it never started). */
  nowUs: number;
  /**
   * Snapshot object id of an object made right after tracking began: objects with
   * smaller ids existed before tracking, and V8 leaves their allocation trace stale.
   */
  firstTrackedObjectId: number;
  /** Whether `StartTrackingHeapObjects(true)` is active. */
  trackingAllocations: boolean;
}

/** The functions the native helper exports. All are synchronous and per-isolate. */
export interface NativeAddon {
  /**
   * Installs GC prologue/epilogue accounting and, unless `trackAllocations` is
   * false, calls `HeapProfiler::StartTrackingHeapObjects(true)`. No timer: the
   * process exits normally.
   */
  startTracking(trackAllocations?: boolean): void;
  /** Stops allocation tracking (its trace data is dropped) and GC accounting. */
  stopTracking(): void;
  gcStats(): NativeGcStats;
  /**
   * Takes a heap snapshot (a full GC) and writes it as JSON to `path` through
   * `path.tmp-<pid>` + fsync + rename, without using the JS heap. Works in
   * `process.on('exit')`, also in a worker. Throws an Error with the errno text.
   */
  writeSnapshot(path: string): void;
  /**
   * Starts V8's sampling heap profiler (live objects only; default interval
   * 32768 bytes, stack depth 64) and, each time the heap used after a
   * mark-compact (or, with `onMinorGc`, after any GC) reaches a new maximum,
   * keeps the sampled allocation tree in native memory. The tree is read at
   * the next JS stack check after that GC (an API interrupt: never inside the
   * GC), or by `peakSampleJson()` if no JS ran since. Without `onMinorGc` a
   * program that never needs a mark-compact gets no sample (until the one a
   * snapshot performs).
   */
  startPeakSampling(intervalBytes?: number, stackDepth?: number, onMinorGc?: boolean): void;
  stopPeakSampling(): void;
  /** JSON of the tree kept at the peak (see `NativePeakSample`), or '' if none. */
  peakSampleJson(): string;
  /**
   * The heap-object id of a value: its node's `id` in heap snapshots. 0 until a snapshot
   * (or `startTracking`) has handed out ids; a snapshot then finds the value by id.
   */
  objectId(value: unknown): number;
  /** Heap used after each GC since tracking began, flat: [µs, bytes, µs, bytes, ...]. */
  gcTimeline(): number[];
  readonly version: string;
}

/** A node of the tree in `peakSampleJson()`. `line`/`column` are 1-based; 0 = unknown. */
export interface NativePeakSampleNode {
  name: string;
  url: string;
  scriptId: number;
  line: number;
  column: number;
  allocations: { size: number; count: number }[];
  selfSize: number;
  selfCount: number;
  children: NativePeakSampleNode[];
}

export interface NativePeakSample {
  sampleInterval: number;
  usedAfterGc: number;
  peakTimeUs: number;
  captureTimeUs: number;
  /** The kind of GC after which the new maximum was seen. */
  gcType: 'minor' | 'major';
  /** GCs (minor + major) counted up to and including that one. */
  gcCount: number;
  head: NativePeakSampleNode;
}

export type NativeLoadResult = { addon: NativeAddon } | { error: string };

/** The package root: two levels above this file (dist/native or src/native). */
export function packageRoot(): string {
  return path.resolve(__dirname, '..', '..');
}

/** The prebuilt binary for this Node, whether or not it exists. */
export function nativeBinaryPath(): string {
  return path.join(
    packageRoot(),
    'prebuilds',
    `${process.platform}-${process.arch}`,
    `heapscope.abi${process.versions.modules}.node`,
  );
}

// One load per module instance (i.e. per isolate: workers get their own).
let cached: NativeLoadResult | undefined;

/**
 * Loads the native helper for this Node ABI. Never throws: `{ error }` says
 * why it is unavailable, so callers can fall back to the inspector route.
 * `HEAPSCOPE_NATIVE=0` disables it.
 */
export function loadNative(): NativeLoadResult {
  if (cached) return cached;
  cached = load();
  return cached;
}

function load(): NativeLoadResult {
  const where = `Node ${process.version} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}`;
  if (process.env.HEAPSCOPE_NATIVE === '0') {
    return { error: `heapscope: native helper disabled by HEAPSCOPE_NATIVE=0 (${where})` };
  }
  const file = nativeBinaryPath();
  if (!existsSync(file)) {
    return {
      error:
        `heapscope: no native helper for ${where}; expected ${file}. ` +
        'Falling back to the inspector; run `npm run build:native` in a heapscope checkout to build one.',
    };
  }
  try {
    const addon = require(file) as NativeAddon;
    if (typeof addon?.startTracking !== 'function' || typeof addon.writeSnapshot !== 'function') {
      return { error: `heapscope: native helper ${file} does not export the expected functions` };
    }
    return { addon };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { error: `heapscope: cannot load native helper for ${where} from ${file}: ${msg}` };
  }
}

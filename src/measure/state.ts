// Who owns V8's allocation tracker. There is one per thread, and starting it twice
// would mix two regions' allocations, so heapscope hands it to one user at a time:
//
//   Ready ──acquireTracker(owner)──▶ Running(owner) ──releaseTracker()──▶ Ready
//
// Owners are a Profiler or an exact-mode measurement. A second acquire while Running
// throws, naming the owner. (dhat-rs keeps its Phase behind a mutex; JavaScript runs
// one thread per isolate, and this module is per isolate, so a variable suffices.)

import { createRequire } from 'node:module';
import type { NativeAddon } from '../native/addon.js';
import { loadNative } from '../native/addon.js';
import {
  inspectorRegionTracker,
  inspectorSync,
  nativeRegionTracker,
  type RegionTracker,
} from './region-tracker.js';

export type TrackerOwner = 'Profiler' | 'measure({ exact: true })' | 'checkLeak';

let running: TrackerOwner | undefined;

/** Error thrown when heapscope's tracking is misused (already running, not available...). */
export class HeapscopeStateError extends Error {
  override name = 'HeapscopeStateError';
}

/** Takes the allocation tracker for `owner`; throws when it is busy or unavailable. */
export function acquireTracker(owner: TrackerOwner): NativeAddon {
  if (running) {
    throw new HeapscopeStateError(
      `heapscope: ${owner} cannot start: ${running} is already tracking allocations in this thread (one at a time; stop it first)`,
    );
  }
  const loaded = loadNative();
  if ('error' in loaded) {
    throw new HeapscopeStateError(
      `${loaded.error}\nheapscope: ${owner} needs the native helper; cheap mode (the default) works without it`,
    );
  }
  if (loaded.addon.gcStats().trackingAllocations) {
    throw new HeapscopeStateError(
      `heapscope: ${owner} cannot start: V8's allocation tracker is already on in this thread (is the process running under \`heapscope run\`?); use cheap mode here`,
    );
  }
  running = owner;
  guardSessions();
  return loaded.addon;
}

/**
 * Takes the allocation tracker for `owner` by whichever route this thread has: the native
 * helper, or an inspector session where the helper is missing (region-tracker.ts).
 */
export function acquireRegionTracker(owner: TrackerOwner): RegionTracker {
  const loaded = loadNative();
  if ('addon' in loaded) return nativeRegionTracker(acquireTracker(owner));
  if (running) {
    throw new HeapscopeStateError(
      `heapscope: ${owner} cannot start: ${running} is already tracking allocations in this thread (one at a time; stop it first)`,
    );
  }
  const sync = inspectorSync();
  const byNode =
    process.execArgv.includes('--track-heap-objects') ||
    (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes('--track-heap-objects');
  if (sync.trackerInUse.by || byNode) {
    throw new HeapscopeStateError(
      `heapscope: ${owner} cannot start: V8's allocation tracker is already on in this thread (${sync.trackerInUse.by ?? 'node --track-heap-objects'}); use cheap mode here`,
    );
  }
  running = owner;
  guardSessions();
  return inspectorRegionTracker();
}

/**
 * While a measurement tracks, the program's own inspector sessions may not stop V8's
 * tracker by closing (capture/inspector-guard.cts; once per thread).
 */
function guardSessions(): void {
  guardModule().guardInspectorSessions(
    () => running !== undefined,
    inspectorSync().isSharedSession,
  );
}

function guardModule(): typeof import('../capture/inspector-guard.cjs') {
  return createRequire(import.meta.url)(
    '../capture/inspector-guard.cjs',
  ) as typeof import('../capture/inspector-guard.cjs');
}

export function releaseTracker(): void {
  running = undefined;
  guardModule().releaseHeldSessions();
}

/** The current owner of the tracker, if any. */
export function trackerOwner(): TrackerOwner | undefined {
  return running;
}

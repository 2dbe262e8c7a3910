// V8's allocation tracker for one in-process region (exact mode), by either route: the
// native helper, or, where it is missing, an inspector session in this thread.
//
// The inspector route differs in one way that matters: while tracking, V8's inspector
// runs a 50 ms timer that collects garbage and hands out heap-object ids, and V8 stops
// following the moves of objects with ids. A region that does not give the event loop a
// turn (any synchronous one, and most short ones) sees no tick and is as exact as with
// the helper; `stop()` says how many ticks there were, and the profile says what that
// means. Closing an inspector session turns V8's tracker off, whoever started it: the
// thread's one session (inspector-sync.cts) stays open.

import { renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as v8 from 'node:v8';
import type { NativeAddon } from '../native/addon.js';

type InspectorSync = typeof import('../capture/inspector-sync.cjs');
type InspectorSession = import('node:inspector').Session;

export interface RegionTracker {
  readonly route: 'native' | 'inspector';
  /** Starts tracking; returns the heap-object id of the first object made after. */
  start(): number;
  /** A heap snapshot, allocation traces included, to `path` (from C++, not through the JS heap). */
  writeSnapshot(path: string): void;
  /** Stops tracking; `statsTicks`: how often the inspector's timer handed out ids meanwhile. */
  stop(): { statsTicks: number };
}

/** heapscope's in-thread inspector helpers (dist/capture/inspector-sync.cjs). */
export function inspectorSync(): InspectorSync {
  return createRequire(import.meta.url)('../capture/inspector-sync.cjs') as InspectorSync;
}

/** `v8.writeHeapSnapshot` to exactly `path` (it may pick its own name), through a rename. */
export function writeSnapshotWithV8(path: string): void {
  renameSync(v8.writeHeapSnapshot(`${path}.tmp`), path);
}

export function nativeRegionTracker(addon: NativeAddon): RegionTracker {
  return {
    route: 'native',
    start() {
      addon.startTracking(true);
      return addon.gcStats().firstTrackedObjectId;
    },
    writeSnapshot: (path) => addon.writeSnapshot(path),
    stop() {
      addon.stopTracking();
      return { statsTicks: 0 };
    },
  };
}

export function inspectorRegionTracker(): RegionTracker {
  const sync = inspectorSync();
  const session: InspectorSession = sync.sharedSession();
  let ticks = 0;
  const onTick = () => {
    ticks++;
  };
  return {
    route: 'inspector',
    start() {
      session.on('HeapProfiler.lastSeenObjectId', onTick);
      return sync.startTrackingFromHere(session);
    },
    writeSnapshot: writeSnapshotWithV8,
    stop() {
      sync.stopTracking(session);
      session.off('HeapProfiler.lastSeenObjectId', onTick);
      return { statsTicks: ticks };
    },
  };
}

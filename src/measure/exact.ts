// Exact mode: V8's allocation tracker on for the region only.
//
// Tracking starts at the start of the span, so the tracker's trace tree holds nothing
// but the region's allocations: no baseline snapshot is needed. At the end of the span
// one heap snapshot (written by the native helper straight to a temporary file) carries
// that tree (exact bytes and counts per stack, collected objects included) and the live
// objects with the stack that allocated each. It is read with the streaming reader and
// cut down to the program's part (sites.ts). All of it runs inside the region's
// bookkeeping blocks, so a cheap-mode region around this one does not count it.

import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import * as inspector from 'node:inspector';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFrameFormatter, scriptPath } from '../capture/frames.js';
import { collectSourceMapUrls } from '../capture/source-map-urls.cjs';
import { type HeapSnapshot, HeapSnapshotParser } from '../formats/heapsnapshot/index.js';
import { profileFromTrackedSnapshot } from '../formats/tracked-snapshot.js';
import type { RawLocation } from '../model/frame.js';
import type { Profile } from '../model/profile.js';
import { thisCommandLine } from '../util/command-line.js';
import { ledger } from './ledger.js';
import { type RegionHooks, type RegionRun, runInRegion } from './region.js';
import { type FrameRoles, programProfile, type Site, sitesOf } from './sites.js';
import { acquireRegionTracker, releaseTracker } from './state.js';

/** heapscope's measuring code: frames from this directory are trimmed from stacks. */
const OWN_DIR = dirname(fileURLToPath(import.meta.url)) + sep;

/** Functions that call the region's measured function: stacks are cut below them. */
export const INVOKERS: ReadonlySet<string> = new Set([
  'heapscopeTrackedCall',
  'heapscopeTrackedBatch',
  'heapscopeTrackedBatchAsync',
]);

/** heapscope functions that call the program's code (invokers, and regions nested in it). */
export const CALLS_PROGRAM: ReadonlySet<string> = new Set([
  ...INVOKERS,
  'runInRegion',
  'heapscopeSyncGuard',
]);

export function isOwnLocation(loc: RawLocation): boolean {
  const p = scriptPath(loc.scriptName);
  return p?.startsWith(OWN_DIR) === true;
}

/** The exact figures of a tracked region. */
export interface ExactFigures {
  /** Bytes allocated by the program in the region: every object, V8's metadata charged to its frames included. */
  allocatedBytes: number;
  /** Allocation events (objects; optimized code may fold several into one). */
  allocatedBlocks: number;
  /** Bytes of JavaScript values allocated in the region and reachable at its end (V8's metadata left out). */
  retainedBytes: number;
  retainedBlocks: number;
  /** Allocation sites, largest first. */
  sites: Site[];
  /** The region as a DHAT-model profile (write it with `writeDhat`). */
  profile: Profile;
}

let snapshotSeq = 0;

/**
 * A frame formatter (relative paths, source-mapped positions) that also records which
 * frames are heapscope's, for `programProfile`.
 */
export function frameRoles(cwd: string = process.cwd()): {
  formatFrame: (loc: RawLocation) => string;
  roles: FrameRoles;
} {
  const format = createFrameFormatter(cwd, collectSourceMapUrls());
  const roles = { own: new Set<string>(), callsProgram: new Set<string>(), cut: new Set<string>() };
  const formatFrame = (loc: RawLocation) => {
    const frame = format(loc);
    if (isOwnLocation(loc)) {
      roles.own.add(frame);
      if (CALLS_PROGRAM.has(loc.functionName)) roles.callsProgram.add(frame);
      if (INVOKERS.has(loc.functionName)) roles.cut.add(frame);
    }
    return frame;
  };
  return { formatFrame, roles };
}

/**
 * Makes V8 drop all optimized code. Code that V8 optimized before the allocation
 * tracker started allocates past it (seen on Node 20 and 26: a hot function's objects
 * went uncounted); code compiled while it runs is seen. V8 offers one way to
 * deoptimize everything from outside: switching precise coverage on (through the
 * inspector, synchronous in-thread). Side effects, for the rest of the process: V8
 * stops flushing bytecode, and functions get their feedback vectors now.
 */
export function deoptimizeAll(): void {
  try {
    const session = new inspector.Session();
    session.connect();
    try {
      session.post('Profiler.enable');
      session.post('Profiler.startPreciseCoverage', { callCount: false, detailed: false });
      session.post('Profiler.stopPreciseCoverage');
      session.post('Profiler.disable');
    } finally {
      session.disconnect();
    }
  } catch {
    // No inspector in this build of Node: optimized code may go uncounted.
  }
}

/** Reads a heap snapshot file synchronously (inside a region nothing may await). */
export function readSnapshotSync(path: string): HeapSnapshot {
  const fd = openSync(path, 'r');
  try {
    const parser = new HeapSnapshotParser();
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      parser.write(buf.subarray(0, n));
    }
    return parser.end();
  } finally {
    closeSync(fd);
  }
}

export interface ExactOptions {
  /** Command line recorded in the profile (default: this process's). */
  cmd?: string;
  /** Directory for the temporary snapshot (default: the OS's). */
  tempDir?: string;
  /** Collect garbage around the region too, for the cheap figures' peak (default false). */
  collectsGarbage?: boolean;
}

/** Builds the exact figures from the snapshot taken at the end of a tracked region. */
function figuresFromSnapshot(
  path: string,
  firstTrackedObjectId: number,
  startHr: bigint,
  cmd: string,
  how: { route: 'native' | 'inspector'; statsTicks: number },
): ExactFigures {
  const snap = readSnapshotSync(path);
  const cwd = process.cwd();
  const { formatFrame, roles } = frameRoles(cwd);
  const full = profileFromTrackedSnapshot(snap, {
    cmd,
    pid: process.pid,
    endTimeUs: Number((process.hrtime.bigint() - startHr) / 1000n),
    firstTrackedObjectId,
    formatFrame,
    // The inspector session's own messages are parsed in this heap, under its frames.
    ...(how.route === 'inspector'
      ? { isOwnFrame: (loc: RawLocation) => loc.scriptName === 'node:inspector' }
      : {}),
    endExact: how.statsTicks === 0,
    meta: {
      node: process.version,
      v8: process.versions.v8,
      cwd,
      notes: [
        'a region measured in-process by heapscope (measure / Profiler): allocations of the region only',
        'frame positions are those of the function (V8 records no allocating line)',
        'blocks are allocation events: optimized code may allocate several objects in one event; bytes stay exact',
        ...regionRouteNotes(how),
      ],
    },
  });
  const profile = programProfile(full, roles);
  let allocatedBytes = 0;
  let allocatedBlocks = 0;
  let retainedBytes = 0;
  let retainedBlocks = 0;
  for (const pp of profile.programPoints) {
    allocatedBytes += pp.totalBytes;
    allocatedBlocks += pp.totalBlocks;
    retainedBytes += pp.endBytes ?? 0;
    retainedBlocks += pp.endBlocks ?? 0;
  }
  return {
    allocatedBytes,
    allocatedBlocks,
    retainedBytes,
    retainedBlocks,
    sites: sitesOf(profile),
    profile,
  };
}

/** What the route without the native helper changes in a region's figures. */
function regionRouteNotes(how: { route: 'native' | 'inspector'; statsTicks: number }): string[] {
  if (how.route === 'native') return [];
  return [
    how.statsTicks === 0
      ? "measured without heapscope's native helper, through an in-thread inspector session: its 50 ms heap-stats timer did not run in the region, so retained figures are exact"
      : `measured without heapscope's native helper, through an in-thread inspector session whose 50 ms heap-stats timer handed out heap-object ids ${how.statsTicks} times in the region: objects that moved after that may be missing from retained figures (a lower bound); allocated figures stay exact`,
  ];
}

// The invokers: V8 must never inline the measured function into them, or its
// allocations would be charged to heapscope's frame (and dropped as heapscope's own).
// Each is called with several throwaway functions when this module loads, so that its
// call site is megamorphic: V8 does not inline a call site that has seen many targets.

/** Calls the measured function; stacks of the region are cut below this frame. */
function heapscopeTrackedCall<T>(fn: () => T): T {
  return fn();
}

/** Calls `fn` `n` times inside a tracked region (see `runExact`). */
export function heapscopeTrackedBatch(fn: () => unknown, n: number): void {
  for (let i = 0; i < n; i++) fn();
}

export async function heapscopeTrackedBatchAsync(fn: () => unknown, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await fn();
}

/** Throwaway functions, each a distinct call target. */
const TARGETS: (() => unknown)[] = [() => 1, () => 2, () => 3, () => 4, () => 5, () => 6];

/**
 * Makes the call sites of functions that call the program's code megamorphic (see
 * above). V8 records call targets only once a function has its feedback vector, which
 * it allocates after a few calls: hence the rounds.
 */
export function preventInlining(call: (fn: () => unknown) => unknown): void {
  for (let round = 0; round < 4; round++) for (const t of TARGETS) call(t);
}

preventInlining(heapscopeTrackedCall);
preventInlining((fn) => heapscopeTrackedBatch(fn, 1));
preventInlining((fn) => void heapscopeTrackedBatchAsync(fn, 1));

/**
 * Runs `fn` in a tracked region (inside a cheap-mode region, whose GC count and
 * external bytes come along). Synchronous when `fn` is.
 */
export function runExact<T>(
  fn: () => T,
  options: ExactOptions = {},
): RegionRun<T, ExactFigures> | Promise<RegionRun<Awaited<T>, ExactFigures>> {
  const tracker = acquireRegionTracker('measure({ exact: true })');
  const path = join(
    options.tempDir ?? tmpdir(),
    `heapscope-${process.pid}-${++snapshotSeq}.heapsnapshot`,
  );
  const cmd = options.cmd ?? thisCommandLine();
  const state = { first: 0, startHr: 0n };
  const call = () => heapscopeTrackedCall(fn);
  const hooks: RegionHooks<ExactFigures> = {
    beforeStart: () => {
      deoptimizeAll();
      state.startHr = process.hrtime.bigint();
      state.first = tracker.start();
    },
    afterEnd: () => {
      let statsTicks = 0;
      try {
        tracker.writeSnapshot(path);
      } finally {
        statsTicks = tracker.stop().statsTicks;
        ledger.reinstallGcCounting();
        releaseTracker();
      }
      try {
        return figuresFromSnapshot(path, state.first, state.startHr, cmd, {
          route: tracker.route,
          statsTicks,
        });
      } finally {
        rmSync(path, { force: true });
      }
    },
  };
  try {
    return runInRegion(call, options.collectsGarbage ?? false, hooks);
  } catch (e) {
    releaseTracker();
    throw e;
  }
}

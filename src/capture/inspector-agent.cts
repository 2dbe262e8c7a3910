/**
 * The capture agent's exact mode without the native helper: only what Node ships.
 * agent.cts calls `startWithoutHelper` when no helper loads (another platform, a Node
 * without a prebuild, `HEAPSCOPE_NATIVE=0`, `heapscope run --no-native`).
 *
 * Where V8's allocation tracker comes from, by thread:
 *
 * - **The main thread of a process started by `heapscope run --no-native`**: Node's
 *   own `--track-heap-objects` option (heapscope puts it in NODE_OPTIONS), which calls
 *   `StartTrackingHeapObjects(true)` as Node creates the isolate. No inspector, no
 *   timer: the same tracker as the helper's, started earlier (Node's start-up is in
 *   the profile, under `node:internal` frames).
 * - **Worker threads, and processes whose NODE_OPTIONS lack the option**: the
 *   inspector's `HeapProfiler.startTrackingHeapObjects`, through a session in the
 *   thread itself. V8's inspector then runs a 50 ms timer that keeps the thread alive
 *   and, on each tick, collects garbage and hands out heap-object ids; V8 stops
 *   following the moves of objects with ids, so live objects that moved after a tick
 *   can lose their site. The agent counts the ticks (a run without any has live-at-end
 *   as exact as the helper's) and, when the thread has nothing left to do but that
 *   timer, ends the capture there so that the thread ends as it would have.
 *
 * Lifecycle, one per thread:
 *
 *   idle ──start──▶ tracking ──'exit' / fatal signal / nothing left but the timer──▶ writing ──▶ done
 *
 * The end-of-run snapshot is written by `v8.writeHeapSnapshot` (from C++ straight to
 * the file, like the helper's); GC counts and heap sizes come from `v8.GCProfiler`.
 * Files and their order are those of agent.cts; `<id>.meta.json` adds `backend`.
 */
import { existsSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';
import { finishAtEnd } from './end-hooks.cjs';
import { announceEnding, runFacts, writeMetaFile } from './ending.cjs';
import { guardInspectorSessions } from './inspector-guard.cjs';
import {
  type InspectorSession,
  isSharedSession,
  sharedSession,
  startTrackingFromHere,
  stopTracking,
  trackerInUse,
} from './inspector-sync.cjs';
import { abandoned, ancestorPids, removeOwnFiles, watchOwner } from './owner.cjs';
import type { SampledAgentContext } from './sampled-agent.cjs';
import { honestStackFlags } from './v8-flags.cjs';
import { yieldCpuToProfiledParent } from './yield-cpu.cjs';

/** What agent.cts hands over (the sampled agent's context: one way of doing each thing). */
export type AgentContext = SampledAgentContext;

type Phase = 'idle' | 'tracking' | 'writing' | 'done';

/** Which tracker a thread runs: Node's option, or the inspector's (see above). */
export type TrackerSource = 'node-option' | 'inspector';

/** How often a thread tracked through the inspector looks whether it has work left. */
const IDLE_CHECK_MS = 10;

interface GcProfilerLike {
  start(): void;
  stop(): { statistics?: GcStat[] } | undefined;
}
interface GcStat {
  gcType: string;
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number; externalMemory?: number } };
}

/** GC figures in the shape of the helper's `gcStats()` (the fields heapscope reads). */
function gcFigures(stats: GcStat[]) {
  let scavenges = 0;
  let markCompacts = 0;
  let peakLiveAfterGc = 0;
  let peakUsedBeforeGc = 0;
  let peakLiveAfterMarkCompact = 0;
  for (const s of stats) {
    const full = s.gcType === 'MarkSweepCompact';
    if (full) markCompacts++;
    else if (s.gcType === 'Scavenge' || s.gcType === 'MinorMarkSweep') scavenges++;
    const after = s.afterGC.heapStatistics.usedHeapSize;
    peakLiveAfterGc = Math.max(peakLiveAfterGc, after);
    if (full) peakLiveAfterMarkCompact = Math.max(peakLiveAfterMarkCompact, after);
    peakUsedBeforeGc = Math.max(peakUsedBeforeGc, s.beforeGC.heapStatistics.usedHeapSize);
  }
  return { scavenges, markCompacts, peakLiveAfterGc, peakLiveAfterMarkCompact, peakUsedBeforeGc };
}

/** Whether Node started this thread's tracker itself (`--track-heap-objects`, main thread only). */
export function trackedByNode(): boolean {
  if (!isMainThread) return false;
  const has = (args: readonly string[]) => args.includes('--track-heap-objects');
  return has(process.execArgv) || has((process.env.NODE_OPTIONS ?? '').split(/\s+/));
}

/**
 * Starts exact capture in this thread without the helper. Throws when it cannot
 * (agent.cts then reports the thread unprofiled).
 */
export function startWithoutHelper(ctx: AgentContext): void {
  const base = join(ctx.dir, ctx.id);
  const source: TrackerSource = trackedByNode() ? 'node-option' : 'inspector';
  const state = {
    phase: 'idle' as Phase,
    startedAt: Date.now(),
    startHr: 0n,
    // Set where the inspector starts the tracker. Node's option starts it as Node creates
    // the isolate: only the objects of V8's and Node's start-up snapshots are older, and
    // no id marks that moment without a heap walk, so none is left out.
    firstTrackedObjectId: 0,
    ticks: 0,
    session: undefined as InspectorSession | undefined,
    gcProfiler: undefined as GcProfilerLike | undefined,
    idleTimer: undefined as NodeJS.Timeout | undefined,
  };
  ctx.writeJsonAtomic(`${base}.started.json`, {
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    argv: ctx.commandLine(),
    ...(isMainThread ? { ancestors: ancestorPids() } : {}),
  });
  for (const flag of honestStackFlags(Number.parseInt(process.versions.v8, 10))) {
    v8.setFlagsFromString(flag);
  }

  /** Ends the tracker (and the inspector's timer, so that the thread can end). */
  const stopTracker = () => {
    if (state.idleTimer) clearInterval(state.idleTimer);
    if (state.session) stopTracking(state.session);
    state.session = undefined;
    trackerInUse.by = undefined;
  };

  const finish = (reason: string, exitCode: number | undefined) => {
    if (state.phase !== 'tracking') return;
    if (!existsSync(ctx.dir) || abandoned(ctx.dir)) {
      // heapscope has returned (`--no-wait`) or died: nobody collects this profile.
      state.phase = 'done';
      stopTracker();
      state.gcProfiler?.stop();
      return;
    }
    state.phase = 'writing';
    announceEnding(ctx.dir, ctx.id, reason, exitCode);
    yieldCpuToProfiledParent(ctx.dir);
    if (state.idleTimer) clearInterval(state.idleTimer);
    const file = `${base}.heapsnapshot`;
    try {
      const written = v8.writeHeapSnapshot(`${file}.tmp`);
      renameSync(written, file);
    } catch (e) {
      writeSync(2, `heapscope: could not write the heap snapshot of ${ctx.id}: ${e}\n`);
      state.phase = 'done';
      return;
    }
    const endUs = Number((process.hrtime.bigint() - state.startHr) / 1000n);
    stopTracker();
    const stats = state.gcProfiler?.stop()?.statistics ?? [];
    const heap = v8.getHeapStatistics();
    writeMetaFile(base, ctx.id, {
      ...runFacts(ctx.commandLine(), state.startedAt, endUs, reason),
      exitCode,
      gc: { ...gcFigures(stats), firstTrackedObjectId: state.firstTrackedObjectId },
      heapAtEnd: { used: heap.used_heap_size, external: heap.external_memory },
      sourceMapUrls: ctx.collectSourceMapUrls(),
      peakSample: null,
      backend: { tracker: source, statsTicks: state.ticks },
    });
    state.phase = 'done';
    // heapscope died while this was written: no snapshot stays behind.
    if (abandoned(ctx.dir)) removeOwnFiles(ctx.dir);
  };

  finishAtEnd(ctx.dir, ctx.id, ctx.fatalSignals, finish);

  const session = sharedSession();
  guardInspectorSessions(() => state.phase === 'tracking', isSharedSession);
  state.startHr = process.hrtime.bigint();
  if (source === 'inspector') {
    session.on('HeapProfiler.lastSeenObjectId', () => {
      state.ticks++;
    });
    // Objects older than the probe's id existed before tracking (a worker's bootstrap,
    // all of Node's start-up): left out of live-at-end, since one the GC moves into the
    // place of a dead tracked object takes that object's stack.
    state.firstTrackedObjectId = startTrackingFromHere(session);
    // The inspector's timer keeps the thread alive: when nothing else does, the program
    // is done, and the capture ends so that the thread can end too.
    const checkIdle = () => {
      if (process.getActiveResourcesInfo().length === 0) finish('idle', undefined);
    };
    // First right after the thread's first turn of work (a worker's script runs in one
    // callback of its event loop, and the check phase follows it before the next timers
    // phase, where the inspector's first tick may be due), then every few milliseconds.
    setImmediate(checkIdle).unref();
    state.idleTimer = setInterval(checkIdle, IDLE_CHECK_MS);
    state.idleTimer.unref();
  }
  if (source === 'inspector') state.session = session;
  const GCProfiler = (v8 as unknown as { GCProfiler?: new () => GcProfilerLike }).GCProfiler;
  if (GCProfiler) {
    state.gcProfiler = new GCProfiler();
    state.gcProfiler.start();
  }
  trackerInUse.by = 'heapscope run';
  state.phase = 'tracking';
  if (isMainThread) {
    watchOwner(ctx.dir, (end) => {
      if (state.phase === 'tracking') {
        state.phase = 'done';
        stopTracker();
        state.gcProfiler?.stop();
      }
      if (!end) return;
      removeOwnFiles(ctx.dir);
      process.kill(process.pid, 'SIGTERM');
    });
  }
}

/**
 * The capture agent: preloaded (`--require`, through NODE_OPTIONS) into every Node
 * process and worker thread that `heapscope run` starts. `--require` rather than
 * `--import`, because only `--require` preloads also run in worker threads.
 *
 * Lifecycle, one per thread:
 *
 *   idle ──start()──▶ tracking ──'exit' / fatal signal──▶ writing ──▶ done
 *
 * Everything the agent needs at the end (paths, listeners) is allocated before
 * tracking starts, so none of its own allocations reach the profile. At the end it
 * writes a heap snapshot (the native helper serialises it straight to disk from C++)
 * and a small JSON file of facts about the run; the heavy reading happens in the
 * heapscope process, never in the target's heap.
 *
 * Files in the session directory ($HEAPSCOPE_DIR), per thread, `<id>` = `<pid>.<threadId>`:
 *   <id>.started.json   written at start (tells heapscope a profile is owed)
 *   <id>.heapsnapshot   the end-of-run snapshot, with allocation traces
 *   <id>.meta.json      written last: its presence means the snapshot is whole
 * With `--snapshot-signal`, heap snapshots on SIGUSR2 go to the output directory.
 */
import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import * as workerThreads from 'node:worker_threads';
import { isMainThread, threadId } from 'node:worker_threads';
import { loadNative, type NativeAddon } from '../native/load.cjs';
import { finishAtEnd } from './end-hooks.cjs';
import { announceEnding, runFacts, writeJsonAtomic, writeMetaFile } from './ending.cjs';
import { startWithoutHelper } from './inspector-agent.cjs';
import { guardInspectorSessions } from './inspector-guard.cjs';
import { abandoned, ancestorPids, removeOwnFiles, watchOwner } from './owner.cjs';
import { installParentSide } from './parent-side.cjs';
import { type SampledAgentContext, startSampled } from './sampled-agent.cjs';
import { collectSourceMapUrls } from './source-map-urls.cjs';
import { honestStackFlags } from './v8-flags.cjs';
import { yieldCpuToProfiledParent } from './yield-cpu.cjs';

type Phase = 'idle' | 'tracking' | 'writing' | 'done';

interface AgentState {
  phase: Phase;
  dir: string;
  id: string;
  addon: NativeAddon;
  startedAt: number;
  startHr: bigint;
}

const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function commandLine(): string[] {
  return [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
}

function finish(state: AgentState, reason: string, exitCode: number | undefined): void {
  if (state.phase !== 'tracking') return;
  if (!existsSync(state.dir) || abandoned(state.dir)) {
    // heapscope has returned (`--no-wait`) or died: nobody collects this profile.
    stopUnprofiled(state);
    return;
  }
  state.phase = 'writing';
  announceEnding(state.dir, state.id, reason, exitCode);
  yieldCpuToProfiledParent(state.dir);
  const base = join(state.dir, state.id);
  // Taken first: the sampler holds its samples through global handles, which would show
  // in the snapshot as holders of objects that nothing else keeps.
  const peakSample = state.addon.peakSampleJson() || null;
  state.addon.stopPeakSampling();
  try {
    state.addon.writeSnapshot(`${base}.heapsnapshot`);
  } catch (e) {
    writeSync(2, `heapscope: could not write the heap snapshot of ${state.id}: ${e}\n`);
    state.phase = 'done';
    return;
  }
  const endUs = Number((process.hrtime.bigint() - state.startHr) / 1000n);
  state.addon.stopTracking();
  const gc = state.addon.gcStats();
  const timeline = state.addon.gcTimeline();
  const heap = v8.getHeapStatistics();
  writeMetaFile(base, state.id, {
    ...runFacts(commandLine(), state.startedAt, endUs, reason),
    exitCode,
    gc,
    heapAtEnd: { used: heap.used_heap_size, external: heap.external_memory },
    sourceMapUrls: collectSourceMapUrls(),
    peakSample,
    timeline,
  });
  state.phase = 'done';
  // heapscope died while this was written: no snapshot stays behind.
  if (abandoned(state.dir)) removeOwnFiles(state.dir);
}

function stopUnprofiled(state: AgentState): void {
  state.phase = 'done';
  state.addon.stopPeakSampling();
  state.addon.stopTracking();
}

/**
 * Threads that run a loader's machinery, not the program: Node's module-hooks thread
 * (loaders registered with `module.register`, like tsx's), which `isInternalThread`
 * marks where Node sets it and which has no parentPort (every Worker the program makes
 * has one); and the worker behind esbuild's synchronous API (`transformSync`, which tsx
 * calls when its cache misses), which only relays messages to esbuild's own process and
 * which esbuild itself marks with its version in `workerData`. Profiling them would give
 * one process several profiles, each thread's allocations being the loader's.
 */
function isLoaderThread(): boolean {
  if (isMainThread) return false;
  if ((workerThreads as { isInternalThread?: boolean }).isInternalThread === true) return true;
  if (workerThreads.parentPort === null) return true;
  const data = workerThreads.workerData as { esbuildVersion?: unknown; workerPort?: unknown };
  return typeof data?.esbuildVersion === 'string' && data.workerPort !== undefined;
}

function start(): void {
  const dir = process.env.HEAPSCOPE_DIR;
  if (!dir || isLoaderThread()) return;
  const id = `${process.pid}.${threadId}`;
  installParentSide(dir);
  // What the sampled mode and exact mode without the helper are handed.
  const context: SampledAgentContext = {
    dir,
    id,
    commandLine,
    collectSourceMapUrls,
    writeJsonAtomic,
    fatalSignals: FATAL_SIGNALS,
  };
  if (process.env.HEAPSCOPE_SAMPLE) {
    // `heapscope run --sample`: V8's sampling heap profiler, no allocation tracking.
    startSampled(context);
    return;
  }
  const loaded = loadNative();
  if ('error' in loaded) {
    // Only what Node ships (inspector-agent.cts); a failure there leaves the thread unprofiled.
    try {
      startWithoutHelper(context);
    } catch (e) {
      const error = `${loaded.error}; without it: ${e instanceof Error ? e.message : String(e)}`;
      if (isMainThread)
        writeSync(2, `${error}\nheapscope: process ${process.pid} runs unprofiled.\n`);
      writeJsonAtomic(join(dir, `${id}.started.json`), { pid: process.pid, threadId, error });
    }
    return;
  }
  const state: AgentState = {
    phase: 'idle',
    dir,
    id,
    addon: loaded.addon,
    startedAt: Date.now(),
    startHr: 0n,
  };
  writeJsonAtomic(join(dir, `${id}.started.json`), {
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    argv: commandLine(),
    ...(isMainThread ? { ancestors: ancestorPids() } : {}),
  });
  for (const flag of honestStackFlags(Number.parseInt(process.versions.v8, 10))) {
    v8.setFlagsFromString(flag);
  }

  finishAtEnd(dir, id, FATAL_SIGNALS, (reason, exitCode) => finish(state, reason, exitCode));
  const signalDir = process.env.HEAPSCOPE_SNAPSHOT_SIGNAL;
  if (isMainThread && signalDir) snapshotsOnSignal(state, signalDir);
  guardInspectorSessions(() => state.phase === 'tracking');
  state.startHr = process.hrtime.bigint();
  const interval = Number(process.env.HEAPSCOPE_PEAK_SAMPLE ?? '0');
  // After minor GCs too: a short-lived peak may be gone before the next full GC.
  if (interval > 0) state.addon.startPeakSampling(interval, 64, true);
  state.addon.startTracking();
  state.phase = 'tracking';
  if (isMainThread) {
    watchOwner(dir, (end) => {
      if (state.phase === 'tracking') stopUnprofiled(state);
      if (!end) return;
      removeOwnFiles(dir);
      process.kill(process.pid, 'SIGTERM');
    });
  }
}

/**
 * `heapscope run --snapshot-signal`: each SIGUSR2 writes a heap snapshot with allocation
 * traces to `dir` (`heapscope.<pid>-<n>.heapsnapshot`) while tracking goes on, for
 * `heapscope snapshot a b`. Objects new in a later snapshot keep their allocation site;
 * those an earlier one saw may lose it when the GC moves them (V8 stops following an
 * object's site once it has an id), in the snapshots and in the end-of-run profile.
 */
function snapshotsOnSignal(state: AgentState, dir: string): void {
  let n = 0;
  process.on('SIGUSR2', () => {
    if (state.phase !== 'tracking') return;
    const path = join(dir, `heapscope.${process.pid}-${++n}.heapsnapshot`);
    try {
      state.addon.writeSnapshot(path);
      writeSync(2, `heapscope: wrote ${path}\n`);
    } catch (e) {
      writeSync(2, `heapscope: could not write ${path}: ${e}\n`);
    }
  });
}

// The agent must never break the program it measures: a session directory that is gone
// (a process that outlived `heapscope run`) or any other failure leaves it unprofiled.
try {
  start();
} catch (e) {
  writeSync(
    2,
    `heapscope: process ${process.pid} runs unprofiled: ${e instanceof Error ? e.message : String(e)}\n`,
  );
}

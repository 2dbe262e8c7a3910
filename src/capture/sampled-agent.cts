/**
 * The capture agent's sampled mode (`heapscope run --sample`): V8's sampling heap
 * profiler instead of allocation tracking, for programs that must keep their speed.
 * agent.cts calls `startSampled` when $HEAPSCOPE_SAMPLE holds an interval in bytes.
 *
 * Lifecycle, one per thread:
 *
 *   idle ──start──▶ sampling ──SIGUSR2──▶ sampling (a part written)
 *                     │
 *                     └──'exit' / fatal signal / $HEAPSCOPE_DURATION_MS──▶ writing ──▶ done
 *
 * The sampler keeps one sample per `interval` bytes allocated on average, collected
 * objects included (`includeObjectsCollectedByMajorGC/MinorGC`), so it estimates what
 * each site allocated in total. Two ways to run it:
 *
 * - Node 26+: `v8.startHeapProfile()`, whose samples say whether their object is still
 *   alive (`isLive`) and how many objects they stand for. Stopped with `forceGC`, so
 *   "alive" means reachable: live at the end per site, estimated.
 * - Older Node: `HeapProfiler.startSampling` through an in-thread inspector session
 *   (no timer, nothing keeps the process alive). Totals only: V8 before 14 does not
 *   tell which samples are still alive.
 *
 * Nothing here turns V8's optimizations off (unlike exact mode): inlined functions are
 * charged to their caller. The agent's own allocations after sampling starts are
 * sampled under its own frames, and heapscope drops those subtrees when it reads the
 * profile.
 *
 * Files in the session directory, `<id>` = `<pid>.<threadId>`:
 *   <id>.started.json             written at start, with `mode: 'sampled'`
 *   <id>.part<n>.heapprofile      the profile so far, on the n-th SIGUSR2 (main thread)
 *   <id>.part<n>.meta.json        written after it
 *   <id>.end.heapprofile          the final profile (exit, fatal signal, or duration)
 *   <id>.end.meta.json            written last: its presence means the profile is whole
 */
import { existsSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';
import { loadNative, type NativeAddon } from '../native/load.cjs';
import { finishAtEnd } from './end-hooks.cjs';
import { announceEnding, runFacts } from './ending.cjs';
import { abandoned, ancestorPids, removeOwnFiles, watchOwner } from './owner.cjs';

/** What agent.cts hands over, so both modes share one way of doing each. */
export interface SampledAgentContext {
  dir: string;
  id: string;
  commandLine(): string[];
  collectSourceMapUrls(): Record<string, string>;
  writeJsonAtomic(path: string, value: unknown): void;
  fatalSignals: readonly NodeJS.Signals[];
}

type Phase = 'idle' | 'sampling' | 'writing' | 'done';

interface Sampler {
  readonly backend: 'v8.startHeapProfile' | 'inspector';
  /**
   * Script id → URL of every script loaded since sampling began, where V8 forgets them:
   * V8 11 (Node 20) names a sampled function's script only while the script is alive, and
   * a module whose functions nothing holds is collected before the profile is read.
   */
  readonly scriptUrls?: Record<string, string>;
  /** Whether the final profile's samples say which objects are alive. */
  readonly live: boolean;
  /** The profile so far, sampling goes on. */
  snapshot(): string;
  /** The final profile; sampling stops. */
  stop(): string;
}

interface HeapProfileHandle {
  stop(): string;
}
type StartHeapProfile = (options: {
  sampleInterval: number;
  stackDepth: number;
  forceGC: boolean;
  includeObjectsCollectedByMajorGC: boolean;
  includeObjectsCollectedByMinorGC: boolean;
}) => HeapProfileHandle;

/** V8's inspector samples at most this deep; the v8 API is asked for the same. */
const STACK_DEPTH = 128;

type InspectorSession = import('node:inspector').Session;

function connectInspector(): InspectorSession {
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  return session;
}

/** Posts a command to a same-thread session: the reply comes before `post` returns. */
function postSync<T>(session: InspectorSession, method: string, params?: object): T {
  let reply: { error: Error | null; result?: T } | undefined;
  session.post(method, params ?? {}, (error, result) => {
    reply = { error, result: result as T };
  });
  if (!reply) throw new Error(`heapscope: ${method} did not answer synchronously`);
  if (reply.error) throw reply.error;
  return reply.result as T;
}

function inspectorSnapshot(session: InspectorSession, method: string): string {
  const { profile } = postSync<{ profile: unknown }>(session, method);
  return JSON.stringify(profile);
}

function startSampler(interval: number): Sampler {
  const start = (v8 as unknown as { startHeapProfile?: StartHeapProfile }).startHeapProfile;
  if (typeof start === 'function') {
    const handle = start({
      sampleInterval: interval,
      stackDepth: STACK_DEPTH,
      forceGC: true,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    let session: InspectorSession | undefined;
    return {
      backend: 'v8.startHeapProfile',
      live: true,
      // The handle can only stop; the inspector reads the same sampler without stopping it.
      snapshot: () => {
        session ??= connectInspector();
        return inspectorSnapshot(session, 'HeapProfiler.getSamplingProfile');
      },
      stop: () => {
        const json = handle.stop();
        session?.disconnect();
        return json;
      },
    };
  }
  const session = connectInspector();
  // V8 before 12 leaves the URL out of the sampling profile's frames: the script list
  // fills it in. It is read when a profile is taken, not kept up to date during the run:
  // an enabled debugger would slow the program (every compiled script reported).
  // Scripts collected before then (short-lived eval code) keep no URL.
  let scriptUrls: Record<string, string> | undefined;
  let readScriptUrls = () => {};
  if (Number.parseInt(process.versions.v8, 10) < 12) {
    const urls: Record<string, string> = {};
    session.on('Debugger.scriptParsed', (m) => {
      const p = m.params as { scriptId: string; url: string };
      if (p.url) urls[p.scriptId] = p.url;
    });
    // In the same thread, `enable` reports every live script before it returns.
    readScriptUrls = () => {
      postSync(session, 'Debugger.enable');
      postSync(session, 'Debugger.disable');
    };
    scriptUrls = urls;
  }
  postSync(session, 'HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    backend: 'inspector',
    live: false,
    ...(scriptUrls ? { scriptUrls } : {}),
    snapshot: () => {
      readScriptUrls();
      return inspectorSnapshot(session, 'HeapProfiler.getSamplingProfile');
    },
    stop: () => {
      readScriptUrls();
      const json = inspectorSnapshot(session, 'HeapProfiler.stopSampling');
      session.disconnect();
      return json;
    },
  };
}

function writeTextAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Starts sampled capture in this thread. Never throws: a failure is reported in started.json. */
export function startSampled(ctx: SampledAgentContext): void {
  const interval = Number(process.env.HEAPSCOPE_SAMPLE);
  const durationMs = Number(process.env.HEAPSCOPE_DURATION_MS ?? '0');
  const startedPath = join(ctx.dir, `${ctx.id}.started.json`);
  const base = join(ctx.dir, ctx.id);
  if (!Number.isInteger(interval) || interval < 1) {
    ctx.writeJsonAtomic(startedPath, {
      pid: process.pid,
      threadId,
      error: `heapscope: bad sampling interval "${process.env.HEAPSCOPE_SAMPLE}"`,
    });
    return;
  }
  // GC counts come from the native helper where there is one; sampling does not need it.
  const loaded = loadNative();
  const addon: NativeAddon | undefined = 'addon' in loaded ? loaded.addon : undefined;
  const state = {
    phase: 'idle' as Phase,
    parts: 0,
    startedAt: Date.now(),
    startHr: process.hrtime.bigint(),
    sampler: undefined as Sampler | undefined,
  };
  const facts = (reason: string) => ({
    ...runFacts(
      ctx.commandLine(),
      state.startedAt,
      Number((process.hrtime.bigint() - state.startHr) / 1000n),
      reason,
    ),
    sampleInterval: interval,
    backend: state.sampler!.backend,
    ...(state.sampler!.scriptUrls ? { scriptUrls: state.sampler!.scriptUrls } : {}),
  });

  const writePart = () => {
    if (state.phase !== 'sampling') return;
    const n = ++state.parts;
    try {
      writeTextAtomic(`${base}.part${n}.heapprofile`, state.sampler!.snapshot());
    } catch (e) {
      writeSync(2, `heapscope: could not write the profile so far of ${ctx.id}: ${e}\n`);
      return;
    }
    ctx.writeJsonAtomic(`${base}.part${n}.meta.json`, {
      ...facts('SIGUSR2'),
      kind: 'part',
      seq: n,
      live: false,
      ...(addon ? { gc: addon.gcStats() } : {}),
      sourceMapUrls: ctx.collectSourceMapUrls(),
    });
  };

  const stopUnprofiled = () => {
    state.phase = 'done';
    try {
      state.sampler!.stop();
    } catch {}
    addon?.stopTracking();
    process.removeListener('SIGUSR2', writePart);
  };

  const finish = (reason: string, exitCode: number | undefined) => {
    if (state.phase !== 'sampling') return;
    if (!existsSync(ctx.dir) || abandoned(ctx.dir)) {
      // heapscope has returned (`--no-wait`) or died: nobody collects this profile.
      stopUnprofiled();
      return;
    }
    state.phase = 'writing';
    announceEnding(ctx.dir, ctx.id, reason, exitCode);
    let json: string;
    try {
      json = state.sampler!.stop();
      writeTextAtomic(`${base}.end.heapprofile`, json);
    } catch (e) {
      writeSync(2, `heapscope: could not write the sampled profile of ${ctx.id}: ${e}\n`);
      state.phase = 'done';
      return;
    }
    const gc = addon?.gcStats();
    addon?.stopTracking();
    // After the sampler's forced GC (Node 26), used bytes are the live heap.
    const heap = state.sampler!.live ? v8.getHeapStatistics() : undefined;
    ctx.writeJsonAtomic(`${base}.end.meta.json`, {
      ...facts(reason),
      kind: 'end',
      exitCode,
      live: state.sampler!.live,
      ...(gc ? { gc } : {}),
      ...(heap ? { heapAtEnd: { used: heap.used_heap_size, external: heap.external_memory } } : {}),
      sourceMapUrls: ctx.collectSourceMapUrls(),
    });
    state.phase = 'done';
    // From here on SIGUSR2 means to the program what it meant before heapscope came.
    process.removeListener('SIGUSR2', writePart);
    // heapscope died while this was written: no profile stays behind.
    if (abandoned(ctx.dir)) removeOwnFiles(ctx.dir);
  };

  if (isMainThread) process.on('SIGUSR2', writePart);
  finishAtEnd(ctx.dir, ctx.id, ctx.fatalSignals, finish);
  const timer =
    durationMs > 0 ? setTimeout(() => finish('duration', undefined), durationMs) : undefined;
  timer?.unref();

  addon?.startTracking(false);
  state.startHr = process.hrtime.bigint();
  try {
    state.sampler = startSampler(interval);
  } catch (e) {
    writeSync(2, `heapscope: could not start the sampling heap profiler in ${ctx.id}: ${e}\n`);
    ctx.writeJsonAtomic(startedPath, {
      pid: process.pid,
      threadId,
      error: `could not start V8's sampling heap profiler: ${e instanceof Error ? e.message : String(e)}`,
    });
    addon?.stopTracking();
    return;
  }
  state.phase = 'sampling';
  if (isMainThread) {
    watchOwner(ctx.dir, (end) => {
      if (state.phase === 'sampling') stopUnprofiled();
      if (!end) return;
      removeOwnFiles(ctx.dir);
      process.kill(process.pid, 'SIGTERM');
    });
  }
  // Written last: `heapscope run` forwards SIGUSR2 once this file exists, and the signal
  // must find its handler set (without one it would end the program).
  ctx.writeJsonAtomic(startedPath, {
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    argv: ctx.commandLine(),
    mode: 'sampled',
    signals: isMainThread,
    ...(isMainThread ? { ancestors: ancestorPids() } : {}),
  });
}

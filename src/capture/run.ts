/**
 * `heapscope run`: runs a command with the capture agent preloaded into every Node
 * process and worker thread it starts, then turns each thread's end-of-run snapshot
 * into a DHAT profile.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDhat } from '../formats/dhat.js';
import { readHeapSnapshot } from '../formats/heapsnapshot/index.js';
import { profileFromTrackedSnapshot } from '../formats/tracked-snapshot.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DEFAULT_PEAK_SAMPLE_INTERVAL } from './defaults.js';
import { createFrameFormatter } from './frames.js';
import { withoutHelperFacts } from './inspector-run.js';
import { peakFromSample } from './peak-sample.js';
import { chooseRoute, routeEnv } from './route.js';
import { startSampledSession } from './sampled-run.js';
import { createSession } from './session-dir.js';
import {
  commandOf,
  type MissingProfile,
  noProfileReason,
  OWN_SCRIPTS,
  readJson,
  type StartedFile,
  type WrittenProfile,
} from './session-files.js';
import { type RunningProcess, stillRunning, waitForProcesses } from './wait.js';

export type { MissingProfile, WrittenProfile } from './session-files.js';

const AGENT_PATH = fileURLToPath(new URL('./agent.cjs', import.meta.url));

export interface RunOptions {
  /** Directory for the profiles (default: the working directory). */
  outDir?: string;
  /** File name for the main process's profile, instead of `heapscope.<pid>.json`. */
  outFile?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Sampling interval (bytes) of the live-at-peak estimate (default 32768); 0 turns it off. */
  peakSampleInterval?: number;
  /** Keep each end-of-run heap snapshot beside its profile (`heapscope.<pid>.heapsnapshot`). */
  keepSnapshots?: boolean;
  /**
   * Where the command's standard output and error go (default: this process's own, as
   * if the command ran without heapscope). Its standard input stays this process's.
   */
  output?: NodeJS.WritableStream;
  /**
   * Exact mode: the command's main Node process writes a heap snapshot with allocation
   * traces into `outDir` on each SIGUSR2 (`heapscope.<pid>-<n>.heapsnapshot`); SIGUSR2 to
   * heapscope is passed on to it.
   */
  snapshotSignal?: boolean;
  /** Called while a snapshot is read (bytes read, total bytes). */
  onProgress?: (label: string, done: number, total: number) => void;
  /**
   * Sampled mode (sampled-run.ts): V8's sampling heap profiler with one sample per this
   * many bytes on average, instead of allocation tracking. Figures become estimates.
   */
  sample?: number;
  /** Sampled mode: each thread writes its profile this long after it started, then stops sampling. */
  durationMs?: number;
  /** Sampled mode: called as each profile is written, while the command may still run. */
  onProfile?: (profile: WrittenProfile) => void;
  /**
   * false: capture without the native helper even where it loads (inspector-agent.cts).
   * Default: the helper where it loads, the route without it elsewhere.
   */
  native?: boolean;
  /**
   * Whether to wait, after the command's process ended, for the other profiled processes
   * it started (detached ones included) to end (wait.ts); default true.
   */
  wait?: boolean;
  /** Called once when that wait goes on for a while, with the processes waited for. */
  onWaiting?: (running: RunningProcess[]) => void;
}

export interface RunResult {
  /** The command's exit code; 128+N when it was ended by signal N. */
  exitCode: number;
  signal?: string;
  profiles: WrittenProfile[];
  missing: MissingProfile[];
  /** Why the native helper was not used, when it was not. */
  withoutHelper?: string;
  /** With `wait: false`: profiled processes that still ran when heapscope returned. */
  running: RunningProcess[];
}

interface MetaFile {
  pid: number;
  ppid: number;
  threadId: number;
  isMainThread: boolean;
  argv: string[];
  cwd: string;
  node: string;
  v8: string;
  startedAt: number;
  endUs: number;
  reason: string;
  exitCode?: number;
  gc: {
    scavenges: number;
    markCompacts: number;
    peakLiveAfterGc: number;
    peakLiveAfterGcTimeUs: number;
    peakUsedBeforeGc: number;
    firstTrackedObjectId?: number;
  };
  heapAtEnd: { used: number; external?: number };
  sourceMapUrls: Record<string, string>;
  peakSample: string | null;
  /** [µs, bytes, µs, bytes, ...]: heap used after each GC. */
  timeline?: number[];
  /** Set by the agent that ran without the native helper (inspector-agent.cts). */
  backend?: { tracker: 'node-option' | 'inspector'; statsTicks: number };
}

function timelineOf(flat: number[]): { t: number; bytes: number }[] {
  const points: { t: number; bytes: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) points.push({ t: flat[i]!, bytes: flat[i + 1]! });
  return points;
}

function nodeOptionsWithAgent(existing: string | undefined): string {
  const quoted = `"${AGENT_PATH.replace(/(["\\])/g, '\\$1')}"`;
  return [existing, `--require ${quoted}`].filter(Boolean).join(' ');
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal) return 128 + (osConstants.signals[signal] ?? 0);
  return 1;
}

/** Runs `command` profiled and writes one DHAT profile per Node process and worker thread. */
export async function runProfiled(
  command: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  if (command.length === 0) throw new Error('no command given');
  const cwd = options.cwd ?? process.cwd();
  const outDir = resolve(cwd, options.outDir ?? '.');
  await fs.mkdir(outDir, { recursive: true });
  const session = await createSession();
  try {
    const baseEnv = options.env ?? process.env;
    const route = chooseRoute(options.native, baseEnv);
    const env = {
      ...baseEnv,
      HEAPSCOPE_DIR: session,
      HEAPSCOPE_OWNER: String(process.pid),
      HEAPSCOPE_PEAK_SAMPLE: String(options.peakSampleInterval ?? DEFAULT_PEAK_SAMPLE_INTERVAL),
      HEAPSCOPE_SAMPLE: options.sample ? String(options.sample) : '',
      HEAPSCOPE_DURATION_MS: String(options.durationMs ?? 0),
      HEAPSCOPE_SNAPSHOT_SIGNAL: options.snapshotSignal && !options.sample ? outDir : '',
      ...routeEnv(route, !options.sample, nodeOptionsWithAgent(baseEnv.NODE_OPTIONS)),
    };
    const withoutHelper = route.native ? {} : { withoutHelper: route.reason ?? 'no native helper' };
    const sampled = options.sample
      ? startSampledSession({
          session,
          outDir,
          outFile: options.outFile ? resolve(cwd, options.outFile) : undefined,
          command,
          onProfile: options.onProfile,
        })
      : undefined;
    const usr2 = !sampled && options.snapshotSignal ? passUsr2(session) : undefined;
    const { code, signal, pid } = await spawnAndWait(
      command,
      cwd,
      env,
      sampled ?? usr2,
      options.output,
    ).catch(async (e: unknown) => {
      usr2?.detach();
      await sampled?.finish().catch(() => undefined);
      throw e;
    });
    usr2?.detach();
    const exitCode = exitCodeOf(code, signal);
    const running = options.wait === false ? await stillRunning(session) : [];
    if (options.wait !== false) await waitForProcesses(session, options.onWaiting);
    const left = new Set(running.map((r) => r.pid));
    if (sampled) {
      const { profiles, missing } = await sampled.finish(signal ?? undefined);
      return {
        exitCode,
        ...(signal ? { signal } : {}),
        ...withoutHelper,
        profiles,
        missing: missing.filter((m) => !left.has(m.pid)),
        running,
      };
    }
    const collected = await collectProfiles(session, {
      rootPid: pid,
      command,
      cwd,
      outDir,
      outFile: options.outFile ? resolve(cwd, options.outFile) : undefined,
      keepSnapshots: options.keepSnapshots ?? false,
      onProgress: options.onProgress,
      left,
      ...(signal ? { rootSignal: signal } : {}),
    });
    return { exitCode, ...(signal ? { signal } : {}), ...withoutHelper, ...collected, running };
  } finally {
    await fs.rm(session, { recursive: true, force: true });
  }
}

/**
 * Passes SIGUSR2 on to the command when it is a profiled Node process (anything else, a
 * shell or npm, would die of it).
 */
function passUsr2(session: string): { attach(child: ChildProcess): void; detach(): void } {
  let onUsr2: (() => void) | undefined;
  return {
    attach(child) {
      onUsr2 = () => {
        if (existsSync(join(session, `${child.pid}.0.started.json`))) child.kill('SIGUSR2');
      };
      process.on('SIGUSR2', onUsr2);
    },
    detach() {
      if (onUsr2) process.removeListener('SIGUSR2', onUsr2);
    },
  };
}

function spawnAndWait(
  command: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  watcher?: { attach(child: ChildProcess): void },
  output?: NodeJS.WritableStream,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; pid: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd,
      env,
      stdio: output ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    });
    if (output) {
      child.stdout?.pipe(output, { end: false });
      child.stderr?.pipe(output, { end: false });
    }
    if (watcher) child.once('spawn', () => watcher.attach(child));
    const forward = (sig: NodeJS.Signals) => () => {
      child.kill(sig);
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map(
      (sig) => [sig, forward(sig)] as const,
    );
    for (const [sig, h] of handlers) process.on(sig, h);
    const cleanup = () => {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        e.code === 'ENOENT'
          ? new Error(`command not found: ${command[0]}`)
          : new Error(`could not start ${command[0]}: ${e.message}`),
      );
    });
    // With its output piped, once all of it has been passed on.
    child.on(output ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      resolvePromise({ code, signal, pid: child.pid ?? -1 });
    });
  });
}

interface CollectOptions {
  rootPid: number;
  command: readonly string[];
  cwd: string;
  outDir: string;
  outFile?: string;
  keepSnapshots: boolean;
  onProgress?: RunOptions['onProgress'];
  /** Processes left running (`wait: false`): neither profiled nor missing. */
  left: ReadonlySet<number>;
  /** The signal that ended the command's own process. */
  rootSignal?: string;
}

/** Why a written snapshot gave no profile, in words for the user. */
function unreadableReason(e: unknown): string {
  const message = (e as Error).message;
  if (/no allocation traces/.test(message)) {
    return (
      "V8's allocation tracker was stopped during the run: an inspector client heapscope " +
      'cannot see (DevTools or a debugger attached through --inspect) detached, which stops ' +
      'it for the whole thread; profile without the debugger attached'
    );
  }
  return `its profile could not be read: ${message}`;
}

async function collectProfiles(
  session: string,
  opts: CollectOptions,
): Promise<{ profiles: WrittenProfile[]; missing: MissingProfile[] }> {
  const names = await fs.readdir(session);
  const ids = names
    .filter((n) => n.endsWith('.started.json'))
    .map((n) => n.slice(0, -'.started.json'.length));
  const profiles: WrittenProfile[] = [];
  const missing: MissingProfile[] = [];
  const started: { id: string; info: StartedFile; meta?: MetaFile }[] = [];
  for (const id of ids) {
    const info = await readJson<StartedFile>(join(session, `${id}.started.json`));
    if (!info) continue;
    const meta = await readJson<MetaFile>(join(session, `${id}.meta.json`));
    started.push({ id, info, ...(meta ? { meta } : {}) });
  }
  started.sort((a, b) => (a.meta?.startedAt ?? 0) - (b.meta?.startedAt ?? 0));
  const hasRoot = started.some((s) => s.info.pid === opts.rootPid && s.info.threadId === 0);
  for (const { id, info, meta } of started) {
    if (opts.left.has(info.pid)) continue;
    const isMain = hasRoot
      ? info.pid === opts.rootPid && info.threadId === 0
      : profiles.length === 0 && info.threadId === 0 && meta !== undefined;
    const cmd = commandOf(
      { pid: opts.rootPid, command: opts.command },
      info.pid,
      info.threadId,
      info.argv ?? [],
    );
    const snapshotPath = join(session, `${id}.heapsnapshot`);
    if (info.error) {
      missing.push({ pid: info.pid, threadId: info.threadId, cmd, reason: info.error });
      continue;
    }
    if (!meta || !existsSync(snapshotPath)) {
      missing.push({
        pid: info.pid,
        threadId: info.threadId,
        cmd,
        reason: await noProfileReason(
          session,
          info.pid,
          info.threadId,
          info.pid === opts.rootPid && info.threadId === 0 ? opts.rootSignal : undefined,
        ),
      });
      continue;
    }
    try {
      const snap = await readHeapSnapshot(snapshotPath, {
        onProgress: opts.onProgress
          ? (done, total) => opts.onProgress!(`reading snapshot of ${id}`, done, total)
          : undefined,
      });
      const formatFrame = createFrameFormatter(meta.cwd, meta.sourceMapUrls);
      const route = meta.backend ? withoutHelperFacts(meta.backend) : undefined;
      const isOwnFrame = (loc: { scriptName: string }) =>
        OWN_SCRIPTS.some((s) => loc.scriptName.endsWith(s)) || route?.isOwnFrame(loc) === true;
      const peak = meta.peakSample ? peakFromSample(meta.peakSample, isOwnFrame) : undefined;
      const profile = profileFromTrackedSnapshot(snap, {
        cmd,
        pid: meta.pid,
        endTimeUs: meta.endUs,
        firstTrackedObjectId: meta.gc.firstTrackedObjectId,
        ...(route ? { endExact: route.endExact } : {}),
        formatFrame,
        isOwnFrame,
        ...(peak ? { peak } : {}),
        meta: {
          node: meta.node,
          v8: meta.v8,
          threadId: meta.threadId,
          parentPid: meta.ppid,
          cwd: meta.cwd,
          gc: { scavenges: meta.gc.scavenges, markCompacts: meta.gc.markCompacts },
          heapAtEnd: meta.heapAtEnd,
          ...(meta.timeline?.length ? { timeline: timelineOf(meta.timeline) } : {}),
          peak: {
            method: peak ? peak.method : 'end-as-peak',
            liveAfterGcBytes: meta.gc.peakLiveAfterGc,
            usedBeforeGcBytes: meta.gc.peakUsedBeforeGc,
            note: peak
              ? 'live bytes per site at t-gmax are estimated by V8 sampling heap profiler at the largest post-GC heap'
              : 'no measurement during the run: live bytes at the end are shown as the peak',
          },
          notes: [
            'frame positions are those of the function (V8 records no allocating line)',
            'blocks are allocation events: optimized code may allocate several objects in one event; bytes stay exact',
            ...(route?.notes ?? []),
          ],
        },
      });
      const fileName = meta.threadId
        ? `heapscope.${meta.pid}.${meta.threadId}.json`
        : `heapscope.${meta.pid}.json`;
      const path = isMain && opts.outFile ? opts.outFile : join(opts.outDir, fileName);
      await writeFileAtomic(path, writeDhat(profile));
      if (opts.keepSnapshots) {
        await fs.copyFile(snapshotPath, `${path.replace(/\.json$/, '')}.heapsnapshot`);
      }
      profiles.push({
        path,
        pid: meta.pid,
        threadId: meta.threadId,
        cmd,
        isMain,
        profile,
        ...(info.ancestors ? { ancestors: info.ancestors } : {}),
      });
    } catch (e) {
      // One process's unreadable profile costs that profile, not the others or the exit code.
      missing.push({ pid: info.pid, threadId: info.threadId, cmd, reason: unreadableReason(e) });
    }
  }
  return { profiles, missing };
}

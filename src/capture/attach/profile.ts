/**
 * `heapscope attach <pid>`'s sampled profile: attach, sample a window, detach, and write
 * each thread's profile as a DHAT file, named as `run` names them
 * (`heapscope.<pid>.json`, `heapscope.<pid>.<threadId>.json` for worker threads).
 * The profiles are converted after heapscope has left the target.
 */
import { join } from 'node:path';
import { writeDhat } from '../../formats/dhat.js';
import type { Profile } from '../../model/profile.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { MissingProfile, WrittenProfile } from '../run.js';
import { convertSampledProfile, type SampledProfileFacts } from '../sampled-convert.js';
import { shellJoin } from '../session-files.js';
import { type AttachedInspector, attachInspector, type DetachResult } from './inspector.js';
import {
  type SampleWindowOptions,
  type ScriptInfo,
  sampleWindow,
  type WindowEnd,
} from './sample.js';

export interface AttachSampleOptions {
  /** Bytes between samples on average. */
  interval: number;
  /** Length of the window; without it, until `signal` aborts or the target exits. */
  durationMs?: number;
  signal?: AbortSignal;
  outDir: string;
  /** File for the main thread's profile. */
  outFile?: string;
  /** Profile worker threads too (default true). */
  workers?: boolean;
  /** Called when sampling runs: the window has begun. */
  onStarted?: (inspector: AttachedInspector) => void;
  /** The live view: the main thread's profile so far every `everyMs`. */
  live?: { everyMs: number; onFrame: (frame: LiveFrame) => void };
}

/** One redraw of the live view. */
export interface LiveFrame {
  elapsedMs: number;
  /** The main thread's JavaScript heap: used and reserved bytes. */
  heap: { used: number; total: number };
  /** The sampled profile of the window so far (main thread). */
  profile: Profile;
}

export interface AttachSampleResult {
  pid: number;
  cmd: string;
  /** Where the inspector listened, and whether it was open before heapscope came. */
  inspector: { host: string; port: number; wasOpen: boolean };
  end: WindowEnd;
  profiles: WrittenProfile[];
  missing: MissingProfile[];
  detach: DetachResult;
}

const END_NOTES: Record<WindowEnd, string> = {
  duration: 'the window ended after its --duration; the program went on',
  interrupted: 'the window ended when heapscope was interrupted; the program went on',
  'target exiting':
    'the program ended during the window: the profile holds what was sampled until then',
  'connection lost': 'the connection to the program was lost',
};

/** Attaches to `pid`, samples its allocations for one window, and writes the profiles. */
export async function attachAndSample(
  pid: number,
  options: AttachSampleOptions,
): Promise<AttachSampleResult> {
  const inspector = await attachInspector(pid);
  let window: Awaited<ReturnType<typeof sampleWindow>>;
  let detach: DetachResult;
  const startedAt = new Date();
  try {
    window = await sampleWindow(inspector.connection, {
      interval: options.interval,
      ...(options.durationMs !== undefined ? { durationMs: options.durationMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      exiting: inspector.exiting,
      workers: options.workers !== false,
      onStarted: () => options.onStarted?.(inspector),
      ...(options.live ? { tick: liveTicks(inspector, options.interval, options.live) } : {}),
    });
  } finally {
    detach = await inspector.detach();
  }
  const { target } = inspector;
  const cmd = shellJoin(target.argv);
  const notes = [
    `attached to the running process at ${startedAt.toISOString()}: allocations of that window only`,
    END_NOTES[window.end],
    'no live-at-end figures: the inspector does not say which samples are still alive',
  ];
  const profiles: WrittenProfile[] = [];
  for (const t of window.threads) {
    const facts = factsOf(inspector, t.threadId, options.interval, t.endUs, t, notes);
    const threadCmd = facts.cmd;
    const profile = convertSampledProfile(t.profile, facts);
    const stem = t.threadId ? `heapscope.${pid}.${t.threadId}` : `heapscope.${pid}`;
    const path =
      !t.threadId && options.outFile ? options.outFile : join(options.outDir, `${stem}.json`);
    await writeFileAtomic(path, writeDhat(profile));
    profiles.push({
      path,
      pid,
      threadId: t.threadId,
      cmd: threadCmd,
      isMain: !t.threadId,
      profile,
    });
  }
  const missing: MissingProfile[] = [];
  if (window.mainMissing) missing.push({ pid, threadId: 0, cmd, reason: window.mainMissing });
  for (const w of window.workers) {
    if (w.missing) {
      missing.push({
        pid,
        threadId: w.threadId,
        cmd: `${cmd} [worker thread ${w.threadId}]`,
        reason: w.missing,
      });
    }
  }
  return {
    pid,
    cmd,
    inspector: { host: inspector.host, port: inspector.port, wasOpen: inspector.wasOpen },
    end: window.end,
    profiles,
    missing,
    detach,
  };
}

/** The facts of a profile of `inspector`'s target, for `convertSampledProfile`. */
function factsOf(
  inspector: AttachedInspector,
  threadId: number,
  interval: number,
  endUs: number,
  scripts: ScriptInfo,
  notes: string[],
): SampledProfileFacts {
  const cmd = shellJoin(inspector.target.argv);
  return {
    pid: inspector.target.pid,
    threadId,
    cmd: threadId ? `${cmd} [worker thread ${threadId}]` : cmd,
    cwd: inspector.target.cwd,
    node: inspector.node,
    v8: inspector.v8,
    endUs,
    sampleInterval: interval,
    live: false,
    sourceMapUrls: scripts.sourceMapUrls,
    scriptUrls: scripts.scriptUrls,
    notes,
  };
}

function liveTicks(
  inspector: AttachedInspector,
  interval: number,
  live: NonNullable<AttachSampleOptions['live']>,
): NonNullable<SampleWindowOptions['tick']> {
  return {
    everyMs: live.everyMs,
    scriptUrls: Number.parseInt(inspector.v8, 10) < 12,
    onTick: (t) => {
      const profile = convertSampledProfile(
        t.profile,
        factsOf(inspector, 0, interval, t.elapsedUs, t, ['the window so far']),
      );
      live.onFrame({ elapsedMs: t.elapsedUs / 1000, heap: t.heap, profile });
    },
  };
}

/**
 * `heapscope attach <pid>`'s sampled profile: attach, sample a window, detach, and write
 * each thread's profile as a DHAT file, named as `run` names them
 * (`heapscope.<pid>.json`, `heapscope.<pid>.<threadId>.json` for worker threads).
 * The profiles are converted after heapscope has left the target.
 */
import { join } from 'node:path';
import { writeDhat } from '../../formats/dhat.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { MissingProfile, WrittenProfile } from '../run.js';
import { convertSampledProfile } from '../sampled-convert.js';
import { shellJoin } from '../session-files.js';
import { type AttachedInspector, attachInspector, type DetachResult } from './inspector.js';
import { sampleWindow, type WindowEnd } from './sample.js';

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
    });
  } finally {
    detach = await inspector.detach();
  }
  const { target } = inspector;
  const cmd = shellJoin(target.argv);
  const profiles: WrittenProfile[] = [];
  for (const t of window.threads) {
    const threadCmd = t.threadId ? `${cmd} [worker thread ${t.threadId}]` : cmd;
    const profile = convertSampledProfile(t.profile, {
      pid,
      threadId: t.threadId,
      cmd: threadCmd,
      cwd: target.cwd,
      node: inspector.node,
      v8: inspector.v8,
      endUs: t.endUs,
      sampleInterval: options.interval,
      live: false,
      sourceMapUrls: t.sourceMapUrls,
      scriptUrls: t.scriptUrls,
      notes: [
        `attached to the running process at ${startedAt.toISOString()}: allocations of that window only`,
        END_NOTES[window.end],
        'no live-at-end figures: the inspector does not say which samples are still alive',
      ],
    });
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

/**
 * A window of V8's sampling heap profiler in an attached process: started in the main
 * thread and (through `NodeWorker`) in each worker thread, stopped when the window ends
 * (its duration, the caller's abort, the target beginning to exit, or the connection
 * lost), and read back as V8's `.heapprofile` JSON per thread.
 *
 * Collected objects are included (`includeObjectsCollectedByMajorGC/MinorGC`), so the
 * figures estimate what each site allocated in the window, as in `run --sample`. The
 * inspector's samples do not say which objects are still alive (Node 26's
 * `v8.startHeapProfile` does, but only inside the process), so attach gives totals only.
 */
import type { CdpChannel, CdpConnection } from './cdp.js';

export interface ScriptInfo {
  /** Script id → URL (V8 before 12 leaves URLs out of the profile's frames). */
  scriptUrls: Record<string, string>;
  /** Script URL → its sourceMappingURL. */
  sourceMapUrls: Record<string, string>;
}

export interface ThreadProfile extends ScriptInfo {
  /** 0 for the main thread. */
  threadId: number;
  title: string;
  /** V8's sampling profile (`.heapprofile` shape). */
  profile: unknown;
  /** Time from the start of sampling to the profile, in µs. */
  endUs: number;
}

export interface WorkerSeen {
  threadId: number;
  title: string;
  url: string;
  /** Why it has no profile, when it has none. */
  missing?: string;
}

export type WindowEnd = 'duration' | 'interrupted' | 'target exiting' | 'connection lost';

export interface SampleWindowResult {
  end: WindowEnd;
  threads: ThreadProfile[];
  workers: WorkerSeen[];
  /** Why the main thread has no profile, when it has none. */
  mainMissing?: string;
}

export interface SampleWindowOptions {
  /** Bytes between samples on average. */
  interval: number;
  /** Length of the window; without it, until `signal` aborts (or the target exits). */
  durationMs?: number;
  signal?: AbortSignal;
  /** Resolves when the target begins to exit. */
  exiting: Promise<void>;
  /** Profile worker threads too (default true). */
  workers?: boolean;
  /** Called once sampling runs in the main thread. */
  onStarted?: () => void;
  /** The live view: the main thread's profile so far, every `everyMs`, until the window ends. */
  tick?: {
    everyMs: number;
    /** Read the script list at each tick (V8 before 12 leaves URLs out of the frames). */
    scriptUrls: boolean;
    onTick: (tick: SampleTick) => void | Promise<void>;
  };
}

/** What the live view gets every few seconds. */
export interface SampleTick extends ScriptInfo {
  /** Since sampling began, in µs. */
  elapsedUs: number;
  /** V8's sampling profile so far (main thread). */
  profile: unknown;
  /** The main thread's JavaScript heap (`Runtime.getHeapUsage`): used and reserved bytes. */
  heap: { used: number; total: number };
}

interface WorkerState {
  info: WorkerSeen;
  channel: CdpChannel;
  started: Promise<boolean>;
}

/** Starts V8's sampler on one thread. */
export function startSampling(channel: CdpChannel, interval: number): Promise<unknown> {
  return channel.post('HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

/** Script URLs and source map URLs of one thread: `Debugger.enable` reports every script. */
export async function readScripts(channel: CdpChannel): Promise<ScriptInfo> {
  const scriptUrls: Record<string, string> = {};
  const sourceMapUrls: Record<string, string> = {};
  const off = channel.on('Debugger.scriptParsed', (p) => {
    if (p.url) scriptUrls[p.scriptId] = p.url;
    if (p.url && p.sourceMapURL && !String(p.url).startsWith('node:')) {
      sourceMapUrls[p.url] = p.sourceMapURL;
    }
  });
  try {
    // The events of `enable` all come before its answer.
    await channel.post('Debugger.enable');
    await channel.post('Debugger.disable');
  } finally {
    off();
  }
  return { scriptUrls, sourceMapUrls };
}

/** Stops the sampler of one thread and reads its profile and scripts. */
export async function stopSampling(
  channel: CdpChannel,
): Promise<{ profile: unknown } & ScriptInfo> {
  const scripts = await readScripts(channel);
  const { profile } = await channel.post<{ profile: unknown }>('HeapProfiler.stopSampling');
  return { profile, ...scripts };
}

function windowEnd(options: SampleWindowOptions, connection: CdpConnection): Promise<WindowEnd> {
  const ends: Promise<WindowEnd>[] = [
    options.exiting.then(() => 'target exiting' as const),
    connection.closed.then(() => 'connection lost' as const),
  ];
  if (options.durationMs !== undefined) {
    ends.push(
      new Promise((r) => {
        const t = setTimeout(() => r('duration'), options.durationMs);
        options.signal?.addEventListener('abort', () => clearTimeout(t), { once: true });
      }),
    );
  }
  if (options.signal) {
    const signal = options.signal;
    ends.push(
      new Promise((r) => {
        if (signal.aborted) r('interrupted');
        else signal.addEventListener('abort', () => r('interrupted'), { once: true });
      }),
    );
  }
  return Promise.race(ends);
}

/** Samples the target's allocations for one window. */
export async function sampleWindow(
  connection: CdpConnection,
  options: SampleWindowOptions,
): Promise<SampleWindowResult> {
  const workers = new Map<string, WorkerState>();
  const withWorkers = options.workers !== false;
  const offAttached = connection.on('NodeWorker.attachedToWorker', (p) => {
    const info: WorkerSeen = {
      threadId: Number(p.workerInfo.workerId),
      title: p.workerInfo.title,
      url: p.workerInfo.url,
    };
    const channel = connection.worker(p.sessionId);
    const started = startSampling(channel, options.interval).then(
      () => true,
      (e) => {
        info.missing = `its sampler could not start: ${(e as Error).message}`;
        return false;
      },
    );
    workers.set(p.sessionId, { info, channel, started });
  });
  const start = process.hrtime.bigint();
  const elapsedUs = () => Number((process.hrtime.bigint() - start) / 1000n);
  await startSampling(connection, options.interval);
  options.onStarted?.();
  if (withWorkers) {
    await connection.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  }
  const ending = windowEnd(options, connection);
  const ticking = options.tick ? tickUntil(connection, ending, options.tick, elapsedUs) : undefined;
  const end = await ending;
  await ticking;
  offAttached();

  const threads: ThreadProfile[] = [];
  let mainMissing: string | undefined;
  if (end === 'connection lost') {
    mainMissing =
      'the connection to the inspector was lost (the target was killed?): V8 keeps the samples in the target';
  } else {
    try {
      const main = await stopSampling(connection);
      threads.push({ threadId: 0, title: 'main thread', endUs: elapsedUs(), ...main });
    } catch (e) {
      mainMissing = `its profile could not be read: ${(e as Error).message}`;
    }
  }
  for (const w of workers.values()) {
    if (!(await w.started)) continue;
    if (w.channel.isClosed) {
      w.info.missing ??=
        'the thread ended during the window: its samples ended with it (V8 keeps them in the thread)';
      continue;
    }
    try {
      const r = await stopSampling(w.channel);
      threads.push({ threadId: w.info.threadId, title: w.info.title, endUs: elapsedUs(), ...r });
    } catch (e) {
      w.info.missing ??= w.channel.isClosed
        ? 'the thread ended before its profile was read'
        : `its profile could not be read: ${(e as Error).message}`;
    }
  }
  if (withWorkers && !connection.isClosed) {
    await connection.post('NodeWorker.disable').catch(() => {});
  }
  return {
    end,
    threads,
    workers: [...workers.values()].map((w) => w.info),
    ...(mainMissing ? { mainMissing } : {}),
  };
}

/** Calls `tick.onTick` every `tick.everyMs` until `ending` settles; a failed read skips a tick. */
async function tickUntil(
  connection: CdpConnection,
  ending: Promise<WindowEnd>,
  tick: NonNullable<SampleWindowOptions['tick']>,
  elapsedUs: () => number,
): Promise<void> {
  let ended = false;
  void ending.then(() => {
    ended = true;
  });
  // Source maps are read once; script URLs at each tick where the frames lack them.
  let scripts: ScriptInfo = { scriptUrls: {}, sourceMapUrls: {} };
  let needScripts = true;
  while (!ended) {
    await Promise.race([new Promise((r) => setTimeout(r, tick.everyMs)), ending]);
    if (ended) break;
    try {
      if (needScripts) {
        scripts = await readScripts(connection);
        needScripts = tick.scriptUrls;
      }
      const [{ profile }, heap] = await Promise.all([
        connection.post<{ profile: unknown }>('HeapProfiler.getSamplingProfile'),
        connection.post<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage'),
      ]);
      if (ended) break;
      await tick.onTick({
        elapsedUs: elapsedUs(),
        profile,
        heap: { used: heap.usedSize, total: heap.totalSize },
        ...scripts,
      });
    } catch {
      // The target is going (the window ends with it) or was busy: the next tick tries again.
    }
  }
}

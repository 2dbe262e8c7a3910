/**
 * How a profiled process or thread tells the rest of the run that it is ending, how
 * its parent asks a worker thread to write its profile before `worker.terminate()`, and
 * what every profile's meta file begins with. Shared by both capture modes (agent.cts,
 * sampled-agent.cts) and the parent side (parent-side.cts). Everything goes through small
 * files in the session directory: no message reaches the program's own channels.
 *
 * Files, `<id>` = `<pid>.<threadId>`:
 *   <id>.ending.json    written as the thread starts writing its profile: its program
 *                       has ended (how: `reason`, `exitCode`), heapscope's work goes on
 *   <id>.ended-by.json  written by the parent when it ended the thread or process before
 *                       its profile was written: the cause heapscope observed
 *   <id>.finish         written by a worker thread's parent before `terminate()`: the
 *                       thread is asked to write its profile now
 *
 * A thread that waits in the event loop looks for its `.finish` file every
 * FINISH_POLL_MS (an unref'd timer: a stat call). Not a BroadcastChannel: on Node 22 and
 * later the first message event of a thread loads Node's fetch implementation (undici)
 * to make its MessageEvent, which took a vitest worker on Node 26 over a second, past
 * ANSWER_MS. A thread blocked in `Atomics.wait` (piscina's idle workers wait for the
 * next task that way) runs no event loop: the agent makes its `Atomics.wait` wait in
 * slices of FINISH_POLL_MS and look for the file between them. A slice that ends early
 * returns what V8 returned (`'ok'`, `'not-equal'`), so the usual protocol (change the
 * value, then notify) behaves as before; a notify that changes nothing and comes between
 * two slices is not seen until the value changes or the timeout passes.
 */
import { existsSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';

export interface EndingFile {
  /** 'exit', a signal name ('SIGTERM'), 'terminate()', 'duration'. */
  reason: string;
  /** The exit code the program ended with, when it ended by exiting. */
  exitCode?: number;
  /** Date.now() when the program ended. */
  at: number;
}

/** What the parent saw when it ended a child before the child's profile was written. */
export type EndedByFile =
  | {
      kind: 'signal';
      parentPid: number;
      /** Signals the parent sent, in order, with Date.now() of each. */
      signals: { signal: string; at: number }[];
    }
  | {
      /** The process ended by a signal nobody here sent (a crash, V8's abort, the OOM killer). */
      kind: 'died';
      parentPid: number;
      signal: string;
    }
  | {
      kind: 'terminate';
      parentPid: number;
      /** How long the parent waited for the thread to start writing its profile. */
      waitedMs: number;
      /** Whether the thread started writing before it was terminated. */
      answered: boolean;
    };

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

/**
 * What every profile's meta file begins with, in this order: the process and thread, the
 * command line, when the capture started (Date.now()), how long it ran (µs), why it ended.
 */
export function runFacts(argv: string[], startedAt: number, endUs: number, reason: string) {
  return {
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    isMainThread,
    argv,
    cwd: process.cwd(),
    node: process.version,
    v8: process.versions.v8,
    startedAt,
    endUs,
    reason,
  };
}

/** Exact mode's `<base>.meta.json`, written last. A failure is said on stderr, never thrown. */
export function writeMetaFile(base: string, id: string, meta: Record<string, unknown>): void {
  try {
    writeJsonAtomic(`${base}.meta.json`, meta);
  } catch (e) {
    writeSync(2, `heapscope: could not write the profile data of ${id}: ${e}\n`);
  }
}

export const endingPath = (dir: string, id: string) => join(dir, `${id}.ending.json`);
export const endedByPath = (dir: string, id: string) => join(dir, `${id}.ended-by.json`);
export const finishPath = (dir: string, id: string) => join(dir, `${id}.finish`);

/**
 * How often a worker thread looks for a finish request: its event loop's timer, and the
 * longest single wait of its `Atomics.wait` between looks.
 */
export const FINISH_POLL_MS = 50;

/** Whether the profile of `<id>` is whole (exact mode's meta file or sampled mode's end). */
export function profileWritten(dir: string, id: string): boolean {
  return existsSync(join(dir, `${id}.meta.json`)) || existsSync(join(dir, `${id}.end.meta.json`));
}

/** Said by a thread as it starts writing its profile. Never throws. */
export function announceEnding(
  dir: string,
  id: string,
  reason: string,
  exitCode: number | undefined,
): void {
  try {
    const value: EndingFile = {
      reason,
      at: Date.now(),
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
    writeJsonAtomic(endingPath(dir, id), value);
  } catch {
    // The profile itself says more if it cannot be written either.
  }
}

/**
 * In a worker thread: calls `onRequest` (once) when the thread's parent is about to
 * terminate it. The timer does not keep the thread alive; it is made before tracking
 * starts.
 */
export function listenForFinishRequest(dir: string, id: string, onRequest: () => void): void {
  let asked = false;
  const request = finishPath(dir, id);
  // Taken now: a program's fake timers (vi.useFakeTimers) may replace the globals later.
  const stopPolling = clearInterval;
  const answer = () => {
    if (asked) return;
    asked = true;
    stopPolling(poll);
    Atomics.wait = wait;
    onRequest();
  };
  const poll = setInterval(() => {
    if (existsSync(request)) answer();
  }, FINISH_POLL_MS);
  poll.unref();

  const wait = Atomics.wait;
  Atomics.wait = function slicedWait(typedArray, index, value, timeout) {
    const until = timeout === undefined || timeout === Infinity ? Infinity : Date.now() + timeout;
    for (;;) {
      const slice = Math.max(0, Math.min(FINISH_POLL_MS, until - Date.now()));
      const result = wait(typedArray as Int32Array, index, value as number, slice);
      if (result !== 'timed-out' || Date.now() >= until || asked) return result;
      if (existsSync(request)) answer();
    }
  } as typeof Atomics.wait;
}

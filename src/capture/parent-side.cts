/**
 * The agent's parent side: the capture agent runs in every process and thread of the
 * command, so it is also in the parent that ends a profiled child. There it makes sure the
 * child's profile is written before the child is gone, without the parent (a test runner,
 * a worker pool) seeing anything but its child ending:
 *
 * - A child process whose program has ended (it exited, or a signal ended it) reports
 *   `exit` to its parent at once, with the program's own exit code or signal, while it
 *   writes its profile; the real exit that follows is not reported a second time. A test
 *   runner's "SIGTERM, then SIGKILL half a second later" then never needs its SIGKILL, and
 *   its "did not exit gracefully" timer sees a worker that exited in time.
 * - A signal sent to a child process that is writing its profile (`child.kill()`, or
 *   `process.kill()` on the pid of a child of this process) is held until the profile is
 *   written (at most WRITE_LIMIT_MS), then delivered if the child still runs.
 * - `worker.terminate()` of a profiled thread first asks the thread to write its profile
 *   (ending.cts), waits for it (the thread must start within ANSWER_MS: a thread busy in
 *   JavaScript cannot answer; then at most WRITE_LIMIT_MS), then terminates it. The
 *   promise resolves as before, later by the time the profile takes.
 *
 * When a child is ended before its profile is written, the parent records what it did
 * (`<id>.ended-by.json`) so that heapscope can say why the profile is missing.
 */
import { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type EndedByFile,
  type EndingFile,
  endedByPath,
  endingPath,
  finishPath,
  profileWritten,
  writeJsonAtomic,
} from './ending.cjs';

/** How long a worker thread has to start writing its profile after `terminate()`. */
export const ANSWER_MS = 1_000;
/** The longest a kill or a `terminate()` is held while a profile is being written. */
export const WRITE_LIMIT_MS = 60_000;
const POLL_MS = 10;
/**
 * How often the parent also looks for its children's ending files from a timer. The
 * session watcher hears them at once, but only in the poll phase of the event loop: after
 * the loop was blocked (a runner busy for seconds), the runner's own "force exit" timer
 * would run first. A timer set before the runner's comes before it in the same phase,
 * and the child's `exit` (with what the runner awaits on it) then comes first.
 */
const ENDING_POLL_MS = 50;

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;

const ENDING_NAME = /^(\d+)\.0\.ending\.json$/;

function readEnding(path: string): EndingFile | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EndingFile;
  } catch {
    return undefined;
  }
}

/** Waits until `done()` holds, polling; resolves false when `limitMs` passed first. */
function waitFor(done: () => boolean, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  return new Promise((resolve) => {
    const tick = () => {
      if (done()) resolve(true);
      else if (Date.now() >= until) resolve(false);
      else setTimeout(tick, POLL_MS);
    };
    tick();
  });
}

/**
 * Node emits a child's 'close' once its exit and the closing of its output pipes and IPC
 * channel are all counted (`maybeClose` in Node's child_process). The exit reported from
 * the ending file counts as the exit, and the channel of a program that has ended as
 * closed: 'close' then follows the end of the output, as it would without heapscope. The
 * real exit and disconnect count again later, past the number, and emit nothing.
 */
function countExitTowardsClose(child: ChildProcess): void {
  const counts = child as unknown as { _closesGot?: number; _closesNeeded?: number };
  if (typeof counts._closesGot !== 'number' || typeof counts._closesNeeded !== 'number') return;
  counts._closesGot += child.channel ? 2 : 1;
  if (counts._closesGot === counts._closesNeeded) {
    child.emit('close', child.exitCode, child.signalCode);
  }
}

/** Installs the parent side in this thread. `dir` is the session directory. */
export function installParentSide(dir: string): void {
  const owed = (id: string) =>
    existsSync(join(dir, `${id}.started.json`)) && !profileWritten(dir, id);
  /** Children whose ending the parent still waits to hear of. */
  const children = new Map<number, ChildProcess>();
  /** Every child of this process by pid, until its real exit. */
  const known = new Map<number, ChildProcess>();
  /** Children whose `exit` was reported from their ending file. */
  const reported = new WeakSet<ChildProcess>();
  const signalsSent = new Map<number, { signal: string; at: number }[]>();

  const reportExit = (child: ChildProcess, ending: EndingFile) => {
    if (reported.has(child) || child.exitCode !== null || child.signalCode !== null) return;
    const code = ending.reason === 'exit' ? (ending.exitCode ?? 0) : null;
    const signal = code === null && ending.reason.startsWith('SIG') ? ending.reason : null;
    if (code === null && signal === null) return;
    reported.add(child);
    if (child.pid !== undefined) children.delete(child.pid);
    const target = child as unknown as { emit: Emit };
    const emit = target.emit;
    // The real exit comes when the profile is written: not reported twice.
    target.emit = function (this: ChildProcess, event, ...args) {
      if (event !== 'exit') return emit.call(this, event, ...args);
      target.emit = emit;
      if (child.pid !== undefined) known.delete(child.pid);
      return false;
    };
    (child as { exitCode: number | null }).exitCode = code;
    (child as { signalCode: NodeJS.Signals | null }).signalCode = signal as NodeJS.Signals | null;
    // Nor does the child's process or its IPC channel keep this parent alive any longer than
    // its program would have: `heapscope run` waits for the profile instead. Its output pipes
    // stay referenced: the child has handed them back (stdio-release.cts), so the parent
    // reads the program's output to its end now.
    child.unref();
    (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
    emit.call(child, 'exit', code, signal);
    countExitTowardsClose(child);
  };

  // Taken now: a program's fake timers (jest, vitest) may replace the globals later.
  const { setInterval: every, clearInterval: stopEvery } = globalThis;
  let poll: NodeJS.Timeout | undefined;
  const pollEndings = () => {
    for (const [pid, child] of children) {
      const path = endingPath(dir, `${pid}.0`);
      const ending = existsSync(path) ? readEnding(path) : undefined;
      if (ending) reportExit(child, ending);
    }
    if (children.size === 0) {
      stopEvery(poll);
      poll = undefined;
    }
  };

  let watching = false;
  const watchSession = () => {
    if (!poll) {
      poll = every(pollEndings, ENDING_POLL_MS);
      poll.unref();
    }
    if (watching) return;
    watching = true;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        const m = name ? ENDING_NAME.exec(String(name)) : null;
        const child = m ? children.get(Number(m[1])) : undefined;
        if (!child) return;
        const ending = readEnding(join(dir, String(name)));
        if (ending) reportExit(child, ending);
      });
      watcher.on('error', () => watcher.close());
    } catch {
      // Without the watcher, held signals still keep each profile.
    }
  };

  // `spawn`, `fork`, `exec` and `execFile` all start their child through this method.
  const proto = ChildProcess.prototype as unknown as { spawn(...args: unknown[]): unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const result = spawn.apply(this, args);
    const pid = this.pid;
    if (pid !== undefined) {
      children.set(pid, this);
      known.set(pid, this);
      this.once('exit', (_code: number | null, signal: NodeJS.Signals | null) => {
        const id = `${pid}.0`;
        // Seen only here: heapscope learns from it why the child left no profile.
        if (signal && owed(id) && !existsSync(endedByPath(dir, id))) {
          const record: EndedByFile = { kind: 'died', parentPid: process.pid, signal };
          try {
            writeJsonAtomic(endedByPath(dir, id), record);
          } catch {}
        }
        children.delete(pid);
        // An exit reported from the ending file: the process runs on until its real exit.
        if (!reported.has(this)) known.delete(pid);
      });
      watchSession();
    }
    return result;
  };

  const kill = ChildProcess.prototype.kill;
  ChildProcess.prototype.kill = function (this: ChildProcess, signal?: NodeJS.Signals | number) {
    // Its program has ended; only heapscope's profile writing goes on.
    if (reported.has(this)) return false;
    const pid = this.pid;
    const id = `${pid}.0`;
    if (pid === undefined || this.exitCode !== null || this.signalCode !== null || !owed(id)) {
      return kill.call(this, signal);
    }
    const name = typeof signal === 'number' ? `signal ${signal}` : (signal ?? 'SIGTERM');
    const sent = signalsSent.get(pid) ?? [];
    sent.push({ signal: name, at: Date.now() });
    signalsSent.set(pid, sent);
    const record: EndedByFile = { kind: 'signal', parentPid: process.pid, signals: sent };
    try {
      writeJsonAtomic(endedByPath(dir, id), record);
    } catch {}
    const ending = readEnding(endingPath(dir, id));
    if (!ending) return kill.call(this, signal);
    reportExit(this, ending);
    void waitFor(
      () => profileWritten(dir, id) || this.exitCode !== null || this.signalCode !== null,
      WRITE_LIMIT_MS,
    ).then(() => {
      if (this.exitCode === null && this.signalCode === null) kill.call(this, signal);
    });
    return true;
  };

  // `process.kill(child.pid, signal)` of a child of this process: as `child.kill(signal)`.
  const processKill = process.kill;
  process.kill = (pid: number, signal?: string | number) => {
    const child = signal !== 0 ? known.get(pid) : undefined;
    if (!child) return processKill.call(process, pid, signal);
    ChildProcess.prototype.kill.call(child, signal as NodeJS.Signals | number | undefined);
    return true;
  };

  const terminate = Worker.prototype.terminate;
  const terminating = new WeakMap<Worker, Promise<number>>();
  Worker.prototype.terminate = function (this: Worker, ...args: unknown[]) {
    const threadId = this.threadId;
    const id = `${process.pid}.${threadId}`;
    if (args.length > 0 || threadId < 0 || !owed(id)) {
      return (terminate as (...a: unknown[]) => Promise<number>).apply(this, args);
    }
    const pending = terminating.get(this);
    if (pending) return pending;
    const ended = { value: false };
    this.once('exit', () => {
      ended.value = true;
    });
    askToFinish(dir, threadId);
    const started = Date.now();
    const p = waitFor(() => ended.value || existsSync(endingPath(dir, id)), ANSWER_MS)
      .then((answered): number | Promise<number> => {
        if (!answered) {
          const record: EndedByFile = {
            kind: 'terminate',
            parentPid: process.pid,
            waitedMs: Date.now() - started,
            answered: false,
          };
          writeJsonAtomic(endedByPath(dir, id), record);
          return terminate.call(this);
        }
        if (ended.value) return terminate.call(this);
        // The thread's program has ended and it writes its profile: terminate() resolves
        // now, with the exit code of a terminated thread; the thread is terminated once its
        // profile is written. Until then it keeps this process alive, and an exit waits
        // for it (finishThreadsOnExit).
        void waitFor(() => ended.value || profileWritten(dir, id), WRITE_LIMIT_MS).then(() =>
          terminate.call(this),
        );
        return 1;
      })
      .catch(() => terminate.call(this));
    terminating.set(this, p);
    return p;
  } as typeof terminate;
}

/** Asks a worker thread of this process to write its profile now (ending.cts). */
function askToFinish(dir: string, threadId: number): void {
  try {
    writeJsonAtomic(finishPath(dir, `${process.pid}.${threadId}`), { at: Date.now() });
  } catch {}
}

/**
 * In the main thread as the process exits: Node ends the worker threads that still run
 * without running their JavaScript. First asks each profiled thread of this process that
 * has not written its profile to write it now; the returned function then blocks until
 * they have (a thread must start within ANSWER_MS, and finish within WRITE_LIMIT_MS).
 */
export function finishThreadsOnExit(dir: string): () => void {
  const prefix = `${process.pid}.`;
  let pending: string[] = [];
  try {
    pending = readdirSync(dir)
      .filter((n) => n.startsWith(prefix) && n.endsWith('.started.json'))
      .map((n) => n.slice(0, -'.started.json'.length))
      .filter((id) => !id.endsWith('.0') && !profileWritten(dir, id) && !failedToStart(dir, id));
  } catch {
    return () => {};
  }
  for (const id of pending) {
    if (!existsSync(endingPath(dir, id))) askToFinish(dir, Number(id.split('.')[1]));
  }
  return () => {
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const start = Date.now();
    for (;;) {
      const now = Date.now() - start;
      pending = pending.filter(
        (id) => !profileWritten(dir, id) && (now < ANSWER_MS || existsSync(endingPath(dir, id))),
      );
      if (pending.length === 0 || now >= WRITE_LIMIT_MS) return;
      Atomics.wait(sleeper, 0, 0, POLL_MS);
    }
  };
}

/** A thread whose agent could not profile it (its started file says why): nothing to wait for. */
function failedToStart(dir: string, id: string): boolean {
  try {
    return 'error' in JSON.parse(readFileSync(join(dir, `${id}.started.json`), 'utf8'));
  } catch {
    return true;
  }
}

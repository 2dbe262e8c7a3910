/**
 * When a capture agent writes its profile, the same for every route: when the thread
 * ends (after every 'exit' listener of the program has run: what they print and allocate
 * is the program's; the main thread first asks its worker threads to finish theirs, and
 * waits for them after its own), at a finish request from the parent side (a worker thread
 * about to be terminated), and at a fatal signal the program does not handle itself (after
 * the profile, the signal is raised again so the process ends as it would have).
 *
 * A child process whose parent is profiled too hands its output pipes back before it
 * writes its profile (stdio-release.cts): its parent reads the program's output to its end
 * and goes on, while the profile is written.
 */
import { isMainThread } from 'node:worker_threads';
import { listenForFinishRequest } from './ending.cjs';
import { finishThreadsOnExit } from './parent-side.cjs';
import { releaseStdioToProfiledParent } from './stdio-release.cjs';

type ReallyExit = (code?: number) => never;

/** Runs `atEnd` once, when the program's 'exit' listeners are done, or at process.exit() in one. */
function afterExitListeners(atEnd: (code: number | undefined) => void): void {
  let ran = false;
  const once = (code: number | undefined) => {
    if (ran) return;
    ran = true;
    atEnd(typeof process.exitCode === 'number' ? process.exitCode : code);
  };
  const emit = process.emit as (
    this: NodeJS.Process,
    event: string | symbol,
    ...args: unknown[]
  ) => boolean;
  process.emit = function (this: NodeJS.Process, event: string | symbol, ...args: unknown[]) {
    if (event !== 'exit') return emit.call(this, event, ...args);
    try {
      return emit.call(this, event, ...args);
    } finally {
      once(args[0] as number | undefined);
    }
  } as typeof process.emit;
  // process.exit() inside an 'exit' listener ends the process without returning to emit.
  const proc = process as unknown as { reallyExit: ReallyExit };
  const reallyExit = proc.reallyExit;
  proc.reallyExit = function (this: NodeJS.Process, code?: number) {
    once(code);
    return reallyExit.call(this, code);
  } as ReallyExit;
}

export function finishAtEnd(
  dir: string,
  id: string,
  fatalSignals: readonly NodeJS.Signals[],
  finish: (reason: string, exitCode: number | undefined) => void,
): void {
  afterExitListeners((code) => {
    const waitForThreads = isMainThread ? finishThreadsOnExit(dir) : undefined;
    if (isMainThread) releaseStdioToProfiledParent(dir);
    finish('exit', code);
    waitForThreads?.();
  });
  if (!isMainThread) {
    listenForFinishRequest(dir, id, () => finish('terminate()', undefined));
    return;
  }
  for (const signal of fatalSignals) {
    const onSignal = () => {
      // The program handles this signal itself: it decides how to end, and 'exit' follows.
      if (process.listenerCount(signal) > 1) return;
      releaseStdioToProfiledParent(dir);
      finish(signal, undefined);
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

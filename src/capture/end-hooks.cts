/**
 * When a capture agent writes its profile, the same for every route: at the thread's
 * 'exit' (the main thread first asks its worker threads to finish theirs, and waits for
 * them after its own), at a finish request from the parent side (a worker thread about
 * to be terminated), and at a fatal signal the program does not handle itself (after the
 * profile, the signal is raised again so the process ends as it would have).
 */
import { isMainThread } from 'node:worker_threads';
import { listenForFinishRequest } from './ending.cjs';
import { finishThreadsOnExit } from './parent-side.cjs';

export function finishAtEnd(
  dir: string,
  id: string,
  fatalSignals: readonly NodeJS.Signals[],
  finish: (reason: string, exitCode: number | undefined) => void,
): void {
  process.on('exit', (code) => {
    const waitForThreads = isMainThread ? finishThreadsOnExit(dir) : undefined;
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
      finish(signal, undefined);
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

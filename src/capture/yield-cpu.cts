/**
 * A child process whose program has ended and whose parent is profiled writes its profile
 * while its parent goes on, often with other children still running their programs: a
 * test runner's other workers, each with its own end request to answer. jest, for one,
 * gives each worker 500 ms from its end request to its exit, then kills it and prints "A
 * worker process has failed to exit gracefully". A profiled worker needs a good part of
 * that (V8 tracks every object its last collections move), and a sibling's exit-time heap
 * snapshot (seconds of CPU) on the same cores took the rest.
 *
 * So, once its program has ended (its parent has been told, parent-side.cts), such a child
 * writes its profile at a lower scheduling priority (nice YIELD_NICENESS, for the rest of
 * its life: an unprivileged process cannot raise it again). It takes CPU time that nothing
 * else wants at once, and yields it to the processes that still run the program. Linux
 * applies it to the calling thread only: the main thread, which writes the snapshot.
 * A profiled process whose parent is not profiled (the command `heapscope run` started)
 * keeps its priority: `heapscope run` waits for it.
 */
import { existsSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

/**
 * Weight 110 against 1024 for a default process (Linux): a process still running the
 * program gets about nine tenths of a core this one shares, and this one's profile at
 * worst a tenth of a core while other work keeps every core busy.
 */
const YIELD_NICENESS = 10;

/** Never throws; does nothing in a worker thread or when the parent is not profiled. */
export function yieldCpuToProfiledParent(dir: string): void {
  if (!isMainThread) return;
  if (!existsSync(join(dir, `${process.ppid}.0.started.json`))) return;
  try {
    setPriority(Math.max(getPriority(), YIELD_NICENESS));
  } catch {}
}

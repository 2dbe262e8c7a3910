/**
 * Parses the big numeric arrays of a `.heapsnapshot` file (`nodes`, `edges`) in pooled
 * worker threads (see threads/pool.ts) while the reader goes on with the rest of the
 * file. Each worker reads its byte range of the file itself and writes into a
 * SharedArrayBuffer the reader then owns, so nothing is copied between threads.
 */

import { availableParallelism } from 'node:os';
import type { NativeSnapshotFunctions } from '../../native/snapshot.js';
import { runTask, workerScriptAvailable } from '../../threads/pool.js';
import type { ArrayJob, ArrayJobResult, RunningArrayJob } from './array-job.js';
import type { EdgeSummary } from './edges.js';
import { readNumberRange } from './numbers.js';

/**
 * Whether workers can help: more than one core, and the worker's script is there (it
 * is not when this module runs from TypeScript sources, e.g. under a test runner).
 */
export function workersAvailable(force = false): boolean {
  return (force || availableParallelism() > 1) && workerScriptAvailable();
}

/**
 * The same job on libuv's thread pool, through the native helper: no worker to start
 * (30–100 ms) and no second JavaScript heap. Where the fast loop gives up, the general
 * reader parses the range on this thread, to word the error.
 */
export function parseArrayNatively(
  job: ArrayJob,
  native: NativeSnapshotFunctions,
): RunningArrayJob {
  const numbers = new Uint32Array(
    new SharedArrayBuffer(job.length * Uint32Array.BYTES_PER_ELEMENT),
  );
  const { rules } = job;
  const result = new Promise<{ numbers: Uint32Array; summary?: EdgeSummary }>((resolve, reject) => {
    native.parseFileRange(
      job.path,
      job.start,
      job.end,
      numbers,
      rules
        ? Float64Array.of(
            rules.fieldCount,
            rules.typeOffset,
            rules.nameOffset,
            rules.toOffset,
            rules.typeCount,
            rules.nodeFieldCount,
            rules.nodesLength,
          )
        : null,
      rules ? Uint8Array.from(rules.indexNamed) : null,
      (count, sound, maxName) => {
        if (count >= 0) {
          const summary = rules ? { rules, sound: sound === 1, maxName } : undefined;
          resolve({ numbers: numbers.subarray(0, count), summary });
          return;
        }
        // On a file of its own opening: the reader may have closed its own by now (aborted).
        try {
          resolve({ numbers: readNumberRange({ ...job, native: false }, numbers) });
        } catch (error) {
          reject(error);
        }
      },
    );
  });
  // A task on the thread pool cannot be stopped: it ends by itself, soon.
  return { result, cancel: () => undefined };
}

/** Throws where no thread may be started. */
export function parseArrayInWorker(job: ArrayJob): RunningArrayJob {
  const shared = new SharedArrayBuffer(job.length * Uint32Array.BYTES_PER_ELEMENT);
  const run = runTask('parse-array', { ...job, shared });
  const result = run.next().then(async (answer) => {
    // Settled only once the worker is free again, so a later cancel leaves it be.
    await run.finished;
    const { length, grown, summary } = answer as ArrayJobResult;
    return { numbers: grown ?? new Uint32Array(shared, 0, length), summary };
  });
  return { result, cancel: run.cancel };
}

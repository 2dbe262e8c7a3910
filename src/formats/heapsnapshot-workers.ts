/**
 * Parses the big numeric arrays of a `.heapsnapshot` file (`nodes`, `edges`) in pooled
 * worker threads (see threads/pool.ts) while the reader goes on with the rest of the
 * file. Each worker reads its byte range of the file itself and writes into a
 * SharedArrayBuffer the reader then owns, so nothing is copied between threads.
 */

import { availableParallelism } from 'node:os';
import { runTask, workerScriptAvailable } from '../threads/pool.js';
import type { EdgeRules, EdgeSummary } from './heapsnapshot-edges.js';

/** A byte range of the file holding one JSON array of integers. */
export interface ArrayJob {
  path: string;
  key: string;
  /** First byte of the value (possibly whitespace before '['). */
  start: number;
  /** Byte after the closing ']'. */
  end: number;
  /** Numbers the header declares: the size of the shared array. */
  length: number;
  /** For `edges`: checks to run on them once parsed (see heapsnapshot-edges.ts). */
  rules?: EdgeRules;
}

/** What a worker answers: how many numbers, and a bigger array if they did not fit. */
export interface ArrayJobResult {
  length: number;
  grown?: Uint32Array;
  summary?: EdgeSummary;
}

/**
 * Whether workers can help: more than one core, and the worker's script is there (it
 * is not when this module runs from TypeScript sources, e.g. under a test runner).
 */
export function workersAvailable(force = false): boolean {
  return (force || availableParallelism() > 1) && workerScriptAvailable();
}

export interface RunningArrayJob {
  /** The parsed numbers (and the edge checks' outcome); rejects with the worker's parse error message. */
  result: Promise<{ numbers: Uint32Array; summary?: EdgeSummary }>;
  cancel(): void;
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

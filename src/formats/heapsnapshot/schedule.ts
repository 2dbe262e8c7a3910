// Which thread parses which of the big arrays (`nodes`, `edges`) while the reading thread
// goes on with the rest of the file: tasks on libuv's thread pool where the native helper
// is there, else pooled worker threads, else this thread after the scan.

import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { nativeSnapshotFunctions } from '../../native/snapshot.js';
import { warmWorkers } from '../../threads/pool.js';
import type { ArrayJob, RunningArrayJob } from './array-job.js';
import { type DeferredArray, findEdgesEnd, UNKNOWN_LENGTH } from './deferred.js';
import { HeapSnapshotError } from './errors.js';
import { readNumberRange } from './numbers.js';
import { countNumbers } from './numbers-fast.js';
import { parseArrayInWorker, parseArrayNatively, workersAvailable } from './off-thread.js';
import type { ReadHeapSnapshotOptions } from './options.js';
import type { HeapSnapshotParserOptions } from './parser.js';

/** Numbers below which a worker costs more (~30 ms to start) than it saves. */
const MIN_WORKER_ARRAY = 8 * 1024 * 1024;
/** Files from which a worker is started before the header says whether it is needed. */
const WARM_WORKERS_BYTES = 32 * 1024 * 1024;

export interface ArrayPlacementInput {
  path: string;
  /** The file, open for reading: `findEdgesEnd` reads its end. */
  fd: number;
  /** Whether it is a regular file (a pipe has no size and cannot be read at an offset). */
  regular: boolean;
  totalBytes: number;
  options: ReadHeapSnapshotOptions;
  /** May skip the bytes of `edges` when their end can be found from the file's end. */
  jumpsAllowed: boolean;
}

/**
 * Hands the arrays the parser defers to other threads, or keeps them for this thread;
 * `finish` parses those this thread kept and waits for the others.
 */
export class ArrayPlacement {
  /** For the parser: which arrays to defer, and to whom; undefined when none are. */
  readonly defer: HeapSnapshotParserOptions['defer'];
  private readonly jobs: RunningArrayJob[] = [];
  private readonly filled: Promise<void>[] = [];
  private readonly local: DeferredArray[] = [];
  private noThreads = false;
  private workerFailure: Error | undefined;
  /** With one worker for two arrays, the first waits for the second. */
  private held: DeferredArray | undefined;

  constructor(private readonly input: ArrayPlacementInput) {
    const { options, regular, totalBytes, fd } = input;
    const workers = options.parallel ?? 'auto';
    // Off this thread, the file is opened again by its name: only a regular file (not a pipe).
    // Where the native helper is there, on libuv's thread pool; else in worker threads.
    const native = options.native !== false && isMainThread ? nativeSnapshotFunctions() : undefined;
    const useWorkers =
      workers !== false &&
      regular &&
      (native
        ? workers === true || availableParallelism() > 1
        : workersAvailable(workers === true));
    // Threads for the arrays besides this one, which has the strings to read too.
    const slots = Math.max(
      1,
      options.threads ?? (workers === true ? 2 : Math.min(2, availableParallelism() - 1)),
    );
    if (useWorkers && !native && (workers === true || totalBytes >= WARM_WORKERS_BYTES)) {
      // Loaded while this thread reads up to the arrays.
      warmWorkers(slots);
    }
    const toWorker = (array: DeferredArray) => {
      const { key, start, end, length, rules } = array;
      const range: ArrayJob = {
        path: input.path,
        key,
        start,
        end,
        length,
        rules,
        native: options.native,
      };
      let job: RunningArrayJob;
      try {
        job = native ? parseArrayNatively(range, native) : parseArrayInWorker(range);
      } catch {
        // No thread to be had (e.g. Node's permission model without --allow-worker).
        this.noThreads = true;
        this.local.push(array);
        return;
      }
      this.jobs.push(job);
      this.filled.push(
        job.result.then(
          ({ numbers, summary }) => array.fill(numbers, summary),
          (error: Error) => {
            this.workerFailure ??= error;
          },
        ),
      );
    };
    // With one worker for two arrays, the worker takes the bigger, this thread the other
    // once it has read the rest of the file.
    this.defer = useWorkers
      ? {
          minLength: workers === true ? 0 : MIN_WORKER_ARRAY,
          onArray: (array: DeferredArray) => {
            if (array.length === UNKNOWN_LENGTH) return void this.local.push(array);
            if (slots >= 2) return toWorker(array);
            const held = this.held;
            if (!held) {
              this.held = array;
              return;
            }
            const [bigger, smaller] = array.length >= held.length ? [array, held] : [held, array];
            this.held = undefined;
            toWorker(bigger);
            this.local.push(smaller);
          },
          // The end of `edges`, found from the file's end, lets this thread skip them
          // (the worker reads them) and the worker start as soon as they begin.
          endOf: (key: string, start: number) =>
            input.jumpsAllowed && key === 'edges' ? findEdgesEnd(fd, totalBytes, start) : undefined,
        }
      : undefined;
  }

  /** Once the whole file is scanned: parses the arrays this thread kept, waits for the rest. */
  async finish(): Promise<void> {
    const { input, local } = this;
    if (this.held) local.push(this.held);
    for (const array of local) {
      const { key, start, end } = array;
      const unknown = array.length === UNKNOWN_LENGTH;
      const length = unknown ? countNumbers(input.fd, start, end) : array.length;
      // Shared, so that the analysis can hand it to a worker too, if there can be one.
      const bytes = length * Uint32Array.BYTES_PER_ELEMENT;
      const buffer =
        this.noThreads || unknown ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes);
      const range: ArrayJob = {
        path: input.path,
        key,
        start,
        end,
        length,
        native: input.options.native,
      };
      array.fill(readNumberRange(range, new Uint32Array(buffer)));
    }
    await Promise.all(this.filled);
    if (this.workerFailure) {
      throw new HeapSnapshotError(this.workerFailure.message, { cause: this.workerFailure });
    }
  }

  /** Stops what still runs on other threads (after a failure or an abort). */
  cancel(): void {
    for (const job of this.jobs) job.cancel();
  }
}

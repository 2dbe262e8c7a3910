/**
 * Long-lived worker threads for snapshot work, shared by the reader (it parses `edges`
 * in one) and the analysis (the dominator tree): a worker takes ~30 ms to start on an
 * idle machine (70–100 ms while this thread and V8's background compiles keep two cores
 * busy), so each is started once, and before its first task is known (`warmWorkers`),
 * while this thread reads the file's header. An idle worker does not keep the process
 * alive and ends after a short while.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TaskName, WorkerReply, WorkerRequest } from './protocol.js';

const entry = new URL('./worker.js', import.meta.url);
/** An idle worker ends after this long without a task. */
const IDLE_MS = 2000;

export interface TaskRun {
  /** The task's next message, in order; rejects if the task throws or the worker dies. */
  next(): Promise<unknown>;
  /** Settles when the task has ended (after its last message). */
  finished: Promise<void>;
  /** Ends the worker, which may be blocked inside the task: for an abandoned task. */
  cancel(): void;
}

/** Whether tasks can run in workers: the worker script exists (it does not when this module runs from TypeScript sources). */
export function workerScriptAvailable(): boolean {
  return existsSync(fileURLToPath(entry));
}

/**
 * A worker inherits the process's options, but `--input-type` (`node --input-type=module
 * -e …`) makes it refuse its script file. Options given explicitly may not hold V8's or
 * process-wide ones (`--max-old-space-size`): then it gets none.
 */
function startWorker(): Worker {
  const argv = process.execArgv;
  const at = argv.findIndex((a) => a === '--input-type' || a.startsWith('--input-type='));
  if (at < 0) return new Worker(entry);
  const execArgv = argv.filter(
    (_, i) => i !== at && !(argv[at] === '--input-type' && i === at + 1),
  );
  try {
    return new Worker(entry, { execArgv });
  } catch {
    return new Worker(entry, { execArgv: [] });
  }
}

class PooledWorker {
  private readonly worker: Worker;
  private current: ActiveTask | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private dead = false;

  constructor() {
    this.worker = startWorker();
    this.worker.on('message', (reply: WorkerReply) => this.current?.receive(reply));
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) =>
      this.die(new Error(`a heapscope worker thread exited with code ${code}`)),
    );
    this.park();
  }

  start(request: WorkerRequest, options: TaskOptions): TaskRun {
    clearTimeout(this.idleTimer);
    this.worker.ref();
    const task = new ActiveTask(
      request.task,
      () => (options.retire ? this.kill() : this.finish()),
      () => this.kill(),
    );
    this.current = task;
    this.worker.postMessage(request, (options.transfer ?? []) as ArrayBuffer[]);
    return task.run;
  }

  private finish(): void {
    this.current = undefined;
    this.park();
    idle.push(this);
  }

  /** Idle: lets the process exit, and ends after a while. */
  private park(): void {
    this.worker.unref();
    this.idleTimer = setTimeout(() => this.kill(), IDLE_MS);
    this.idleTimer.unref();
  }

  private kill(): void {
    this.die(new Error('the task was cancelled'));
    void this.worker.terminate();
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idleTimer);
    const at = idle.indexOf(this);
    if (at >= 0) idle.splice(at, 1);
    this.current?.fail(error);
    this.current = undefined;
  }
}

class ActiveTask {
  private readonly messages: unknown[] = [];
  private readonly waiting: { resolve(v: unknown): void; reject(e: Error): void }[] = [];
  private failure: Error | undefined;
  private ended = false;
  private settle!: { resolve(): void; reject(e: Error): void };
  readonly run: TaskRun;

  constructor(
    private readonly name: TaskName,
    private readonly onDone: () => void,
    cancel: () => void,
  ) {
    const finished = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    finished.catch(() => undefined);
    this.run = {
      next: () => this.next(),
      finished,
      cancel: () => {
        // A task that has ended gave its worker back: it may be running another one.
        if (!this.ended) cancel();
      },
    };
  }

  receive(reply: WorkerReply): void {
    if (reply.kind === 'message') {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(reply.message);
      else this.messages.push(reply.message);
    } else if (reply.kind === 'done') {
      this.end();
      this.settle.resolve();
      this.onDone();
    } else {
      this.fail(new Error(reply.message));
      this.onDone();
    }
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.end(error);
    this.settle.reject(error);
  }

  private end(error?: Error): void {
    this.ended = true;
    this.failure = error ?? new Error(`the "${this.name}" task sent no more messages`);
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }

  private next(): Promise<unknown> {
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift());
    if (this.ended) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

const idle: PooledWorker[] = [];

/**
 * Starts workers until `count` are idle, so that tasks given soon find them loaded.
 * Does nothing where no thread may be started (the tasks then run on this thread).
 */
export function warmWorkers(count: number): void {
  if (!workerScriptAvailable()) return;
  try {
    while (idle.length < count) idle.push(new PooledWorker());
  } catch {
    // No thread to be had (e.g. Node's permission model without --allow-worker).
  }
}

/** Idle workers (warm or not yet ended). */
export function idleWorkers(): number {
  return idle.length;
}

export interface TaskOptions {
  /** Moved to the worker, not copied. */
  transfer?: readonly ArrayBuffer[];
  /**
   * End the worker after this task, which frees at once what the task left in the
   * worker's heap (the last task of a job that allocates much).
   */
  retire?: boolean;
}

/**
 * Runs `task` in an idle worker, or a new one. Throws where no thread may be started;
 * callers then do the work on this thread.
 */
export function runTask(task: TaskName, data: unknown, options: TaskOptions = {}): TaskRun {
  const worker = idle.pop() ?? new PooledWorker();
  return worker.start({ task, data }, options);
}

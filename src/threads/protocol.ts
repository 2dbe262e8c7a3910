// What the pool (pool.ts) and its worker threads (worker.ts) say to each other.

export type TaskName = 'parse-array' | 'dominators';

export interface WorkerRequest {
  task: TaskName;
  data: unknown;
}

/** A task's messages, then `done`, or `error` instead if it throws. */
export type WorkerReply =
  | { kind: 'message'; message: unknown }
  | { kind: 'done' }
  | { kind: 'error'; message: string };

/** How a task sends a message to the thread that gave it. */
export type Send = (message: unknown, transfer?: readonly ArrayBuffer[]) => void;

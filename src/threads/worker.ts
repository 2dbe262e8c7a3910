// A pooled worker thread (see pool.ts): runs the tasks it is given, one at a time. The
// array parser loads with the worker, so that a worker warmed in advance can parse at
// once; the dominators' modules load once it has parsed (loading them at start kept a
// task that came meanwhile waiting ~40 ms), or with the first task that needs them.

import { parentPort } from 'node:worker_threads';
import { parseArrayTask } from '../formats/heapsnapshot/array-task.js';
import type { Send, TaskName, WorkerReply, WorkerRequest } from './protocol.js';

let dominators: Promise<typeof import('./dominators-task.js')> | undefined;
const loadDominators = () => {
  dominators ??= import('./dominators-task.js');
  return dominators;
};

const tasks: Record<TaskName, (data: never, send: Send) => void | Promise<void>> = {
  'parse-array': parseArrayTask,
  dominators: async (data, send) => (await loadDominators()).dominatorsTask(data, send),
};

const port = parentPort!;
const reply = (r: WorkerReply, transfer?: readonly ArrayBuffer[]) =>
  port.postMessage(r, transfer as ArrayBuffer[] | undefined);

port.on('message', async ({ task, data }: WorkerRequest) => {
  try {
    await tasks[task](data as never, (message, transfer) =>
      reply({ kind: 'message', message }, transfer),
    );
    reply({ kind: 'done' });
  } catch (error) {
    reply({ kind: 'error', message: (error as Error).message });
  }
  // What comes after parsing, loaded while this worker would otherwise wait.
  if (task === 'parse-array') loadDominators().catch(() => undefined);
});

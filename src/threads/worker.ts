// A pooled worker thread (see pool.ts): runs the tasks it is given, one at a time. The
// array parser loads with the worker, so that a worker warmed in advance can parse at
// once; the dominators' modules load right after, while it parses or waits.

import { parentPort } from 'node:worker_threads';
import { parseArrayTask } from '../formats/heapsnapshot-array-task.js';
import type { Send, TaskName, WorkerReply, WorkerRequest } from './protocol.js';

const dominators = import('./dominators-task.js');
dominators.catch(() => undefined);

const tasks: Record<TaskName, (data: never, send: Send) => void | Promise<void>> = {
  'parse-array': parseArrayTask,
  dominators: async (data, send) => (await dominators).dominatorsTask(data, send),
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
});

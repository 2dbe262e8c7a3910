// A pooled worker thread (see pool.ts): runs the tasks it is given, one at a time. Both
// task modules load at start, so a worker warmed in advance runs its first task at once.

import { parentPort } from 'node:worker_threads';
import { parseArrayTask } from '../formats/heapsnapshot-array-task.js';
import { dominatorsTask } from './dominators-task.js';
import type { Send, TaskName, WorkerReply, WorkerRequest } from './protocol.js';

const tasks: Record<TaskName, (data: never, send: Send) => void> = {
  'parse-array': parseArrayTask,
  dominators: dominatorsTask,
};

const port = parentPort!;
const reply = (r: WorkerReply, transfer?: readonly ArrayBuffer[]) =>
  port.postMessage(r, transfer as ArrayBuffer[] | undefined);

port.on('message', ({ task, data }: WorkerRequest) => {
  try {
    tasks[task](data as never, (message, transfer) =>
      reply({ kind: 'message', message }, transfer),
    );
    reply({ kind: 'done' });
  } catch (error) {
    reply({ kind: 'error', message: (error as Error).message });
  }
});

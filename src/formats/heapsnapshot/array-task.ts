// Worker task: parses one `nodes` or `edges` array of a `.heapsnapshot` file from its
// byte range into the shared array it was given (see off-thread.ts). Only the
// fast loop is loaded with the worker; the general reader (a much bigger module) only
// when the range is not in V8's layout, so that a warmed worker is ready sooner.

import { closeSync, openSync } from 'node:fs';
import type { Send } from '../../threads/protocol.js';
import type { ArrayJob, ArrayJobResult } from './array-job.js';
import { summarizeEdges } from './edges.js';
import { readNumbersFast } from './numbers-fast.js';

export async function parseArrayTask(
  job: ArrayJob & { shared: SharedArrayBuffer },
  send: Send,
): Promise<void> {
  const into = new Uint32Array(job.shared);
  const fd = openSync(job.path, 'r');
  let result: Uint32Array;
  try {
    result =
      readNumbersFast(fd, job.start, job.end, into, job.native) ??
      (await import('./numbers.js')).readNumbersInOrder(fd, job, into);
  } finally {
    closeSync(fd);
  }
  const answer: ArrayJobResult =
    result.buffer === job.shared
      ? { length: result.length }
      : { length: result.length, grown: result };
  if (job.rules) answer.summary = summarizeEdges(result, job.rules);
  send(answer);
}

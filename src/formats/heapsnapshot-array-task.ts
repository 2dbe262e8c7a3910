// Worker task: parses one `nodes` or `edges` array of a `.heapsnapshot` file from its
// byte range into the shared array it was given (see heapsnapshot-workers.ts).

import type { Send } from '../threads/protocol.js';
import { readNumberRange } from './heapsnapshot.js';
import { summarizeEdges } from './heapsnapshot-edges.js';
import type { ArrayJob, ArrayJobResult } from './heapsnapshot-workers.js';

export function parseArrayTask(job: ArrayJob & { shared: SharedArrayBuffer }, send: Send): void {
  const result = readNumberRange(job, new Uint32Array(job.shared));
  const answer: ArrayJobResult =
    result.buffer === job.shared
      ? { length: result.length }
      : { length: result.length, grown: result };
  if (job.rules) answer.summary = summarizeEdges(result, job.rules);
  send(answer);
}

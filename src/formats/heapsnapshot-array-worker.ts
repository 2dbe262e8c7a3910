// Worker thread: parses one `nodes` or `edges` array of a `.heapsnapshot` file from its
// byte range into the shared array it was given (see heapsnapshot-workers.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { readNumberRange } from './heapsnapshot.js';
import type { ArrayJob, ArrayJobResult } from './heapsnapshot-workers.js';

function parse(job: ArrayJob & { shared: SharedArrayBuffer }): ArrayJobResult {
  const result = readNumberRange(job, new Uint32Array(job.shared));
  return result.buffer === job.shared
    ? { ok: true, length: result.length }
    : { ok: true, length: result.length, grown: result };
}

let answer: ArrayJobResult;
try {
  answer = parse(workerData);
} catch (error) {
  answer = { ok: false, message: (error as Error).message };
}
parentPort!.postMessage(answer);

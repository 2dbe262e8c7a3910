// Worker thread: parses one `nodes` or `edges` array of a `.heapsnapshot` file from its
// byte range into the shared array it was given (see heapsnapshot-workers.ts).

import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { NumberArrayReader } from './heapsnapshot.js';
import type { ArrayJob, ArrayJobResult } from './heapsnapshot-workers.js';

const CHUNK_SIZE = 4 * 1024 * 1024;

function parse(job: ArrayJob & { shared: SharedArrayBuffer }): ArrayJobResult {
  const into = new Uint32Array(job.shared);
  const reader = new NumberArrayReader(job.key, false, into.length, into);
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  const fd = openSync(job.path, 'r');
  try {
    let position = job.start;
    while (position < job.end && !reader.done) {
      const bytesRead = readSync(fd, buffer, 0, Math.min(CHUNK_SIZE, job.end - position), position);
      if (bytesRead === 0) break;
      const used = reader.feed(buffer, 0, bytesRead, position);
      position += used;
    }
  } finally {
    closeSync(fd);
  }
  if (!reader.done) {
    return { ok: false, message: `heapsnapshot: "${job.key}" changed while it was read` };
  }
  const result = reader.result();
  return result.buffer === job.shared
    ? { ok: true, length: reader.length }
    : { ok: true, length: reader.length, grown: result };
}

let answer: ArrayJobResult;
try {
  answer = parse(workerData);
} catch (error) {
  answer = { ok: false, message: (error as Error).message };
}
parentPort!.postMessage(answer);

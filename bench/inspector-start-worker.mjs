#!/usr/bin/env node
// What a worker thread's tracker start costs `heapscope run` without the native helper:
// one `HeapProfiler.startTrackingHeapObjects` against `startTrackingFromHere` (two starts
// and a probe, for the id that tells the worker's start-up objects from its program's),
// each in a fresh worker (the heap the agent finds there), interleaved. Prints medians.
//
//   npm run build && node bench/inspector-start-worker.mjs [--reps 7]
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { numberOption } from './lib/args.mjs';

const reps = numberOption('reps', 7);
const syncPath = createRequire(import.meta.url).resolve('../dist/capture/inspector-sync.cjs');
const body = `
  const { parentPort, workerData } = require('node:worker_threads');
  const sync = require(${JSON.stringify(syncPath)});
  const session = sync.sharedSession();
  const t0 = performance.now();
  if (workerData === 'one start')
    sync.postSync(session, 'HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  else sync.startTrackingFromHere(session);
  const ms = performance.now() - t0;
  sync.stopTracking(session);
  parentPort.postMessage(ms);
`;
const ms = { 'one start': [], startTrackingFromHere: [] };
for (let r = 0; r < reps; r++) {
  for (const name of Object.keys(ms)) {
    const w = new Worker(body, { eval: true, workerData: name });
    ms[name].push(await new Promise((resolve) => w.once('message', resolve)));
    await new Promise((resolve) => w.once('exit', resolve));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, a fresh worker thread, ${reps} reps`);
for (const [name, xs] of Object.entries(ms))
  console.log(`  ${name.padEnd(22)} ${median(xs).toFixed(1)} ms`);
console.log(
  `  startTrackingFromHere / one start: ${(median(ms.startTrackingFromHere) / median(ms['one start'])).toFixed(2)}×`,
);

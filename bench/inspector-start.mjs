#!/usr/bin/env node
// What exact mode's start costs without the native helper: one
// `HeapProfiler.startTrackingHeapObjects` against `startTrackingFromHere` (two starts and a
// probe, for the id that tells older objects from the region's), each followed by the stop,
// in a heap of about 30 MB (a 200,000-entry Map), interleaved. Prints medians and the ratio.
//
//   npm run build && node bench/inspector-start.mjs [--reps 7]
import { createRequire } from 'node:module';
import * as v8 from 'node:v8';
import { numberOption } from './lib/args.mjs';

const reps = numberOption('reps', 7);
const sync = createRequire(import.meta.url)('../dist/capture/inspector-sync.cjs');
const session = sync.sharedSession();
const heap = new Map();
for (let i = 0; i < 200_000; i++) heap.set(`key ${i}`, { i, s: `value ${i}` });

const ms = { 'one start': [], startTrackingFromHere: [] };
const starts = {
  'one start': () =>
    sync.postSync(session, 'HeapProfiler.startTrackingHeapObjects', { trackAllocations: true }),
  startTrackingFromHere: () => sync.startTrackingFromHere(session),
};
for (let r = 0; r < reps; r++) {
  for (const [name, start] of Object.entries(starts)) {
    const t0 = performance.now();
    start();
    ms[name].push(performance.now() - t0);
    sync.stopTracking(session);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const used = v8.getHeapStatistics().used_heap_size;
console.log(`node ${process.version}, heap used ${(used / 2 ** 20).toFixed(1)} MiB, ${reps} reps`);
for (const [name, xs] of Object.entries(ms))
  console.log(`  ${name.padEnd(22)} ${median(xs).toFixed(1)} ms`);
console.log(
  `  startTrackingFromHere / one start: ${(median(ms.startTrackingFromHere) / median(ms['one start'])).toFixed(2)}× (${heap.size} entries kept)`,
);

#!/usr/bin/env node
/**
 * Benchmark: heapscope's `sizeOf()` (measured from a heap snapshot of this process)
 * against `object-sizeof` (an estimate) for a few common values, then what `sizeOf()`
 * costs on a small heap and on a ~100 MB heap.
 *
 *   npm run build && node bench/size-of-vs-object-sizeof.mjs [--no-cost] [--mb 100]
 *
 * object-sizeof 2.x adds up the UTF-8 length of `JSON.stringify(value)` for objects
 * (a Map through `Object.fromEntries`), `length × BYTES_PER_ELEMENT` for typed arrays
 * and Buffers, and `12 + 4 × ⌈length / 4⌉` for a string. heapscope reports V8's own
 * figures: shallow (the object and the internal arrays only it owns), retained (what
 * dropping it would free), reachable (everything it reaches, shared parts included,
 * the runtime left out) and, of that, external (outside V8's heap).
 *
 * Cost: `pause` is how long the process is stopped (V8's full GC and the snapshot,
 * written from C++ to a temporary file); `analysis` is reading the file back and
 * computing dominators afterwards, while the program may run. Wall-clock times depend on
 * how busy the machine is: the table shows the load average and the CPU time used.
 */

import { availableParallelism, loadavg } from 'node:os';
import sizeof from 'object-sizeof';
import { sizeOf } from '../dist/index.js';
import { flag, numberOption } from './lib/args.mjs';

const cost = !flag('no-cost');
const targetMb = numberOption('mb', 100);

// Each value is built by a function that has returned before it is measured, so that no
// suspended frame holds a temporary into it.
function buildMap() {
  const map = new Map();
  for (let i = 0; i < 100_000; i++) map.set(i, { id: i, name: `user-${i}` });
  return map;
}
function buildObjects() {
  const list = [];
  for (let i = 0; i < 10_000; i++) list.push({ x: i, y: i * 0.5, tag: 'point' });
  return list;
}
function buildString() {
  let s = '';
  for (let i = 0; i < 10_000; i++) s += `line ${i};`;
  return s;
}

const values = [
  ['Map<number, {id, name}>, 100k entries', buildMap()],
  ['Array of 10k {x, y, tag} objects', buildObjects()],
  ['String of 10k concatenated pieces', buildString()],
  ['Buffer.alloc(1 MiB)', Buffer.alloc(1 << 20)],
];

const fmt = (n) => n.toLocaleString('en-US');
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(1)}×` : '—');

console.log(`Node ${process.version} (${process.arch}), object-sizeof 2.6.5\n`);
console.log(
  '| value | object-sizeof | heapscope shallow | retained | reachable | of which external | retained / object-sizeof |',
);
console.log('|---|--:|--:|--:|--:|--:|--:|');
for (const [label, value] of values) {
  const estimate = sizeof(value);
  const s = await sizeOf(value);
  console.log(
    `| ${label} | ${fmt(estimate)} | ${fmt(s.shallowBytes)} | ${fmt(s.retainedBytes)} | ${fmt(s.reachableBytes)} | ${fmt(s.externalBytes)} | ${ratio(s.retainedBytes, estimate)} |`,
  );
}

if (cost) {
  console.log(
    '\nWhat one sizeOf() call costs (median of 3 calls on the small heap, 1 on the big one):\n',
  );
  console.log(
    '| heap used | snapshot nodes | pause (process stopped) | analysis (afterwards) | CPU time of the call, all threads | load average |',
  );
  console.log('|--:|--:|--:|--:|--:|--:|');
  const probe = { probe: true };
  const row = async (runs) => {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const cpu = process.cpuUsage();
      const r = (await sizeOf(probe)).cost;
      const used = process.cpuUsage(cpu);
      results.push({ ...r, cpuMs: (used.user + used.system) / 1000 });
    }
    const median = (key) => results.map((r) => r[key]).sort((a, b) => a - b)[(runs - 1) >> 1];
    const usedMb = process.memoryUsage().heapUsed / 2 ** 20;
    console.log(
      `| ${usedMb.toFixed(0)} MB | ${fmt(results[0].snapshotNodes)} | ${fmt(Math.round(median('pauseMs')))} ms | ${fmt(Math.round(median('analyzeMs')))} ms | ${fmt(Math.round(median('cpuMs')))} ms | ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs |`,
    );
  };
  values.length = 0; // drop the values above: the small heap is this script's own
  await row(3);
  // About targetMb MB more: objects with a string each (~100 bytes per entry).
  const ballast = [];
  while (process.memoryUsage().heapUsed < targetMb * 2 ** 20) {
    const chunk = new Array(10_000);
    for (let i = 0; i < chunk.length; i++) {
      chunk[i] = { id: i, name: `entry-${ballast.length}-${i}` };
    }
    ballast.push(chunk);
  }
  await row(1);
  if (ballast.length < 0) console.log(ballast);
}

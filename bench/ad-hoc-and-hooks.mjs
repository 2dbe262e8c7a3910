#!/usr/bin/env node
// The cost of ad-hoc events and allocator hooks, as ratios against a baseline in the
// same run (interleaved rounds, median of each):
//
// - adHocEvent(1) with no ad-hoc Profiler running, against a call of an empty function:
//   what leaving adHocEvent calls in production code costs.
// - adHocEvent(1) while an ad-hoc Profiler runs (stack depth 64): the cost of recording
//   one event with its stack, against the idle call.
// - trackAllocator(FreeListAllocator) with onAlloc and onFree hooks that count, against
//   the same tracked allocator without hooks (alloc + free of a 32-byte block per op).
//
// Times are the process's CPU time (process.cpuUsage), steadier than wall time on a
// machine other work shares. Run with `npm run build` first:  node bench/ad-hoc-and-hooks.mjs [--rounds 7]
import { FreeListAllocator, trackAllocator } from '../dist/alloc/index.js';
import { adHocEvent, Profiler } from '../dist/index.js';
import { numberOption } from './lib/args.mjs';

const ROUNDS = numberOption('rounds', 7);
const CALLS = 2_000_000;
const RECORDED = 100_000;
const OPS = 100_000;

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

let sink = 0;
function empty(w) {
  sink += w;
}
function callEmpty() {
  for (let i = 0; i < CALLS; i++) empty(1);
}
function callIdle() {
  for (let i = 0; i < CALLS; i++) adHocEvent(1);
}
async function callRecording() {
  const p = Profiler.start({ mode: 'ad-hoc', file: '/dev/null' });
  const t0 = cpuMs();
  for (let i = 0; i < RECORDED; i++) adHocEvent(1);
  const t = cpuMs() - t0;
  await p.stop();
  return t;
}
function allocFree(hooks) {
  let live = 0;
  const options = hooks ? { onAlloc: () => void live++, onFree: () => void live-- } : {};
  const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 20)), options);
  const t0 = cpuMs();
  for (let i = 0; i < OPS; i++) heap.free(heap.alloc(32));
  return cpuMs() - t0;
}
function time(fn) {
  const t0 = cpuMs();
  fn();
  return cpuMs() - t0;
}

const runs = { empty: [], idle: [], recording: [], plain: [], hooked: [] };
for (let r = 0; r < ROUNDS; r++) {
  runs.empty.push(time(callEmpty) / CALLS);
  runs.idle.push(time(callIdle) / CALLS);
  runs.recording.push((await callRecording()) / RECORDED);
  // Alternating which goes first, so that neither always runs after the other's garbage.
  const first = r % 2 === 0;
  if (first) runs.plain.push(allocFree(false) / OPS);
  runs.hooked.push(allocFree(true) / OPS);
  if (!first) runs.plain.push(allocFree(false) / OPS);
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const ns = (ms) => `${(ms * 1e6).toFixed(1)} ns`;
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
console.log(`node ${process.version}, ${ROUNDS} rounds, medians per call`);
console.log(
  `adHocEvent, no profiler     ${ns(m.idle).padStart(10)}  ${(m.idle / m.empty).toFixed(2)}× an empty call (${ns(m.empty)})`,
);
console.log(
  `adHocEvent, recording       ${ns(m.recording).padStart(10)}  ${(m.recording / m.idle).toFixed(0)}× the idle call`,
);
console.log(
  `tracked alloc+free, hooks   ${ns(m.hooked).padStart(10)}  ${(m.hooked / m.plain).toFixed(2)}× without hooks (${ns(m.plain)})`,
);
if (sink < 0) console.log(sink);

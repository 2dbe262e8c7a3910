#!/usr/bin/env node
// What a measure() call costs, against calling the function bare: cheap mode with
// retained bytes (four full GCs), cheap mode without (`retained: false`: readings only),
// exact mode (allocation tracking and a heap snapshot), and per-op mode. The function
// builds 1,000 `{a, b}` objects; `--heap-mb` adds live data, which makes GCs and
// snapshots slower. Each figure is the median over `--reps` runs, modes interleaved.
//
//   npm run build && node bench/measure-cost.mjs [--reps 21] [--heap-mb 0]
import { fileURLToPath } from 'node:url';
import { numberOption } from './lib/args.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { measure, measureSync } = await import(`${root}dist/index.js`);

const reps = numberOption('reps', 21);
const heapMb = numberOption('heap-mb', 0);

// Live data of about --heap-mb megabytes (56-byte objects in arrays).
const ballast = [];
for (let i = 0; i < (heapMb * 1024 * 1024) / 56; i++) ballast.push({ i, s: null });
globalThis.ballast = ballast; // kept reachable (a dead local would be collected)

const ring = new Array(1024).fill(null);
function work() {
  for (let i = 0; i < 1000; i++) ring[i & 1023] = { a: i, b: i };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timeUs = async (f) => {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1000;
};

// Bare: a batch of calls, per call.
const BARE_CALLS = 1000;
const modes = {
  bare: async () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BARE_CALLS; i++) work();
    return Number(process.hrtime.bigint() - t0) / 1000 / BARE_CALLS;
  },
  'measureSync, retained: false': () => timeUs(() => measureSync(work, { retained: false })),
  'measure(), retained: false': () => timeUs(() => measure(work, { retained: false })),
  'measure() (cheap, retained)': () => timeUs(() => measure(work)),
  'measure({ exact: true })': () => timeUs(() => measure(work, { exact: true })),
  'measure({ iterations: 1000 }), per call': async () =>
    (await timeUs(() => measure(work, { iterations: 1000, warmup: 0 }))) / 1000,
};

// Warm everything up once (heapscope's first use per process compiles and settles).
for (const f of Object.values(modes)) await f();
const samples = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
for (let r = 0; r < reps; r++) {
  for (const [name, f] of Object.entries(modes)) samples[name].push(await f());
}

const bare = median(samples.bare);
const rows = Object.entries(samples).map(([name, xs]) => {
  const us = median(xs);
  return [
    name,
    us < 1000 ? `${us.toFixed(1)} µs` : `${(us / 1000).toFixed(1)} ms`,
    `${(us / bare).toFixed(1)}×`,
  ];
});
const w = [0, 1, 2].map((i) =>
  Math.max(...rows.map((r) => r[i].length), ['mode', 'time', 'vs bare'][i].length),
);
const line = (r) => `${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}`;
console.log(
  `measure() cost on Node ${process.version}, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB, median of ${reps}`,
);
console.log(line(['mode', 'time', 'vs bare']));
for (const r of rows) console.log(line(r));

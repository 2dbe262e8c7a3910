#!/usr/bin/env node
// What capturing without the native helper costs (`heapscope run --no-native`, sizeOf and
// measure({ exact: true }) with HEAPSCOPE_NATIVE=0) against the helper, in the same run,
// interleaved. Prints medians and ratios.
//
//   node bench/without-helper.mjs [--reps 5] [--rounds 300] [--node PATH]
//
// 1. `heapscope run` on bench/workloads/alloc-heavy.js: bare, with the helper, without.
// 2. sizeOf of a 200,000-entry Map in a ~30 MB heap: the pause (snapshot) and the whole call.
// 3. A worker thread that keeps 40,000 objects and then idles 300 ms on a timer: how many
//    of them each route finds live at the end at their site (the inspector's timer ran).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, option } from './lib/args.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const reps = numberOption('reps', 5);
const rounds = numberOption('rounds', 300);
const node = option('node', process.execPath);
const bin = join(root, 'bin/heapscope.js');
const out = mkdtempSync(join(tmpdir(), 'heapscope-bench-'));
const NO_HELPER = { HEAPSCOPE_NATIVE: '0' };

function run(argv, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

console.log(
  `node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${reps} reps`,
);

// 1. heapscope run
const workload = join(root, 'bench/workloads/alloc-heavy.js');
const runs = { bare: [], helper: [], 'no helper': [] };
for (let i = 0; i < reps; i++) {
  runs.bare.push(run([node, workload, String(rounds)]).ms);
  runs.helper.push(
    run([node, bin, 'run', '-q', '-d', out, '--', node, workload, String(rounds)]).ms,
  );
  runs['no helper'].push(
    run([node, bin, 'run', '-q', '--no-native', '-d', out, '--', node, workload, String(rounds)])
      .ms,
  );
}
const bare = median(runs.bare);
console.log(`\nheapscope run, alloc-heavy.js ${rounds} rounds (median wall time, ratio to bare)`);
for (const [k, v] of Object.entries(runs)) {
  console.log(`  ${k.padEnd(10)} ${fmt(median(v))}  ${(median(v) / bare).toFixed(2)}×`);
}
console.log(
  `  no helper / helper: ${(median(runs['no helper']) / median(runs.helper)).toFixed(2)}×`,
);

// 2. sizeOf and exact mode
const script = join(out, 'size.mjs');
writeFileSync(
  script,
  `import { measure, sizeOf } from ${JSON.stringify(join(root, 'dist/index.js'))};
const m = new Map();
for (let i = 0; i < 200_000; i++) m.set(i, { i, s: 'v' + i });
const t0 = performance.now();
const s = await sizeOf(m);
const sizeMs = performance.now() - t0;
class P { constructor(i) { this.a = i; this.b = i; } }
const t1 = performance.now();
const e = await measure(() => { const a = []; for (let i = 0; i < 100_000; i++) a.push(new P(i)); return a; }, { exact: true });
const exactMs = performance.now() - t1;
console.log(JSON.stringify({ pause: s.cost.pauseMs, sizeMs, retained: s.retainedBytes, exactMs, allocated: e.allocatedBytes }));
`,
);
const sizes = { helper: [], 'no helper': [] };
for (let i = 0; i < reps; i++) {
  sizes.helper.push(JSON.parse(run([node, script]).stdout));
  sizes['no helper'].push(JSON.parse(run([node, script], NO_HELPER).stdout));
}
console.log(
  '\nsizeOf(200,000-entry Map) and measure({ exact: true }) of 100,000 objects (medians)',
);
for (const [k, v] of Object.entries(sizes)) {
  const m = (f) => median(v.map(f));
  console.log(
    `  ${k.padEnd(10)} sizeOf pause ${m((x) => x.pause).toFixed(0)} ms, call ${m((x) => x.sizeMs).toFixed(0)} ms, retained ${m((x) => x.retained)} B; exact region ${m((x) => x.exactMs).toFixed(0)} ms, allocated ${m((x) => x.allocated)} B`,
  );
}
const ratio = (f) => (median(sizes['no helper'].map(f)) / median(sizes.helper.map(f))).toFixed(2);
console.log(
  `  no helper / helper: sizeOf pause ${ratio((x) => x.pause)}×, call ${ratio((x) => x.sizeMs)}×, exact region ${ratio((x) => x.exactMs)}×`,
);

// 3. A worker that idles before it ends.
const idleMain = join(out, 'idle-worker.js');
writeFileSync(
  idleMain,
  `const { Worker } = require('node:worker_threads');
new Worker(${JSON.stringify(`
function makeRecord(i) { return { id: i, name: null }; }
const kept = [];
for (let i = 0; i < 40_000; i++) kept.push(makeRecord(i));
globalThis.kept = kept;
setTimeout(() => {}, 300);
`)}, { eval: true });
`,
);
console.log(
  '\nA worker keeps 40,000 records, then idles 300 ms: records live at the end at makeRecord',
);
for (const [k, env] of [
  ['helper', {}],
  ['no helper', NO_HELPER],
]) {
  const found = [];
  for (let i = 0; i < reps; i++) {
    const dir = mkdtempSync(join(out, 'w-'));
    run([node, bin, 'run', '-q', '-d', dir, '--', node, idleMain], env);
    const file = readdirSync(dir).find((f) => /^heapscope\.\d+\.\d+\.json$/.test(f));
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const pp = p.pps.find((x) => p.ftbl[x.fs[0]].startsWith('makeRecord'));
    found.push(`${pp?.ebk ?? 0}${p.heapscope.exact.end ? '' : ' (labelled estimate)'}`);
  }
  console.log(`  ${k.padEnd(10)} ${found.join(', ')}`);
}
rmSync(out, { recursive: true, force: true });

#!/usr/bin/env node
// How much `heapscope run` costs: an allocation-heavy program run bare, under V8's bare
// allocation tracker (the native helper's startTracking alone), and under `heapscope run`
// (tracker + honest-stack V8 flags + end-of-run snapshot + its processing into a profile),
// interleaved, in the same run. Then the end-of-run processing of a ~100 MB heap.
//
//   node bench/run-overhead.mjs [--reps 5] [--rounds 300] [--retain-mb 100]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption } from './lib/args.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const reps = numberOption('reps', 5);
const rounds = numberOption('rounds', 300);
const retainMb = numberOption('retain-mb', 100);
const workload = join(root, 'bench/workloads/alloc-heavy.js');
const out = mkdtempSync(join(tmpdir(), 'heapscope-bench-'));

function time(argv, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { ms, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const variants = {
  bare: () => time([process.execPath, workload, String(rounds)]),
  tracker: () =>
    time([
      process.execPath,
      '--require',
      join(root, 'bench/workloads/bare-tracker.cjs'),
      workload,
      String(rounds),
    ]),
  'tracker+flags': () =>
    time([
      process.execPath,
      '--require',
      join(root, 'bench/workloads/flagged-tracker.cjs'),
      workload,
      String(rounds),
    ]),
  heapscope: () =>
    time([
      process.execPath,
      join(root, 'bin/heapscope.js'),
      'run',
      '-q',
      '--out-dir',
      out,
      '--',
      process.execPath,
      workload,
      String(rounds),
    ]),
};
const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < reps; i++) {
  for (const [name, run] of Object.entries(variants)) results[name].push(run().ms);
}
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
console.log(`alloc-heavy, ${rounds} rounds × 10,000 records, median of ${reps} (ms):`);
for (const [k, v] of Object.entries(m))
  console.log(`  ${k.padEnd(10)} ${v.toFixed(0).padStart(7)}`);
console.log(
  `  tracker / bare:            ${(m.tracker / m.bare).toFixed(2)}×  (V8's allocation tracker, optimizer on)`,
);
console.log(
  `  tracker+flags / tracker:   ${(m['tracker+flags'] / m.tracker).toFixed(2)}×  (allocations the optimizer would inline or elide, made real and traced)`,
);
console.log(
  `  heapscope / tracker+flags: ${(m.heapscope / m['tracker+flags']).toFixed(2)}×  (what heapscope adds: snapshot, peak sampling, processing; goal ≤ 1.10×)`,
);

// End-of-run processing of a large heap: the whole run minus the same run's tracker-only time.
const big = time(
  [
    process.execPath,
    join(root, 'bin/heapscope.js'),
    'run',
    '--out-dir',
    out,
    '--',
    process.execPath,
    workload,
    '1',
    String(retainMb),
  ],
  { NO_COLOR: '1' },
);
const bigTracker = time([
  process.execPath,
  '--require',
  join(root, 'bench/workloads/bare-tracker.cjs'),
  workload,
  '1',
  String(retainMb),
]);
console.log(
  `~${retainMb} MB retained heap: heapscope run ${(big.ms / 1000).toFixed(1)} s, tracker alone ${(bigTracker.ms / 1000).toFixed(1)} s: end-of-run snapshot + processing ≈ ${((big.ms - bigTracker.ms) / 1000).toFixed(1)} s`,
);
rmSync(out, { recursive: true, force: true });

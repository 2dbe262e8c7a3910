#!/usr/bin/env node
// What `heapscope run --sample` (default interval, 128 KiB) costs a program, against the
// same program unprofiled and under `node --heap-prof` (its default 512 KiB interval, and
// at V8's and DevTools' 32 KiB), interleaved, in the same run:
//
// (a) an HTTP server on 127.0.0.1 (bench/workloads/http-server.cjs) under a bounded load
//     from a second process (http-client.mjs: a fixed number of requests, a fixed number
//     in flight): requests per second, and the server's CPU time per request;
// (b) a CPU- and allocation-heavy script (cpu-alloc.cjs): the wall and CPU time of its
//     work, measured inside it, and the wall time of the whole command (heapscope's own
//     start and its writing of the profile included).
//
// Medians over the repetitions; ratios against no profiling. The goal: at most 5% slower.
// CPU times are reported beside wall times because a busy machine (other processes on
// the same cores) disturbs wall time far more.
//
//   node bench/sampled-overhead.mjs [--reps 7] [--requests 20000] [--concurrency 16] [--rounds 40]
//                                   [--intervals 131072,524288] [--only http|script]
//
// --intervals adds `heapscope run --sample <n>` variants, to see what another interval costs.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, option } from './lib/args.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const reps = numberOption('reps', 7);
const requests = numberOption('requests', 20000);
const concurrency = numberOption('concurrency', 16);
const rounds = numberOption('rounds', 40);
const extraIntervals = (option('intervals') ?? '').split(',').filter(Boolean).map(Number);
const only = option('only');
const node = process.execPath;
const out = mkdtempSync(join(tmpdir(), 'heapscope-sampled-bench-'));
const server = join(root, 'bench/workloads/http-server.cjs');
const client = join(root, 'bench/workloads/http-client.mjs');
const script = join(root, 'bench/workloads/cpu-alloc.cjs');

/** Each variant turns a `node <script> <args>` command into the command to run. */
const variants = {
  none: (cmd) => [node, ...cmd],
  'heapscope --sample': (cmd) => [
    node,
    join(root, 'bin/heapscope.js'),
    'run',
    '--sample',
    '-q',
    '--out-dir',
    out,
    '--',
    node,
    ...cmd,
  ],
  ...Object.fromEntries(
    extraIntervals.map((n) => [
      `heapscope --sample ${n}`,
      (cmd) => [
        node,
        join(root, 'bin/heapscope.js'),
        'run',
        `--sample=${n}`,
        '-q',
        '--out-dir',
        out,
        '--',
        node,
        ...cmd,
      ],
    ]),
  ),
  'node --heap-prof': (cmd) => [node, '--heap-prof', `--heap-prof-dir=${out}`, ...cmd],
  'node --heap-prof 32K': (cmd) => [
    node,
    '--heap-prof',
    '--heap-prof-interval=32768',
    `--heap-prof-dir=${out}`,
    ...cmd,
  ],
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Starts the server under a variant, loads it from a client process, returns its figures. */
function serve(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let started = false;
    let load;
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /port (\d+)/.exec(stdout);
      if (m && !started) {
        started = true;
        load = spawnSync(node, [client, m[1], String(requests), String(concurrency)], {
          encoding: 'utf8',
        });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (load?.status !== 0 || code !== 0) {
        reject(new Error(`server run failed (${code}): ${load?.stderr ?? stdout}`));
        return;
      }
      const { rps } = JSON.parse(load.stdout);
      const cpuMs = Number(/cpu_ms ([\d.]+)/.exec(stdout)[1]);
      resolve({ rps, cpuUsPerRequest: (cpuMs * 1000) / requests });
    });
  });
}

function crunch(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return {
    workMs: Number(/work_ms ([\d.]+)/.exec(r.stdout)[1]),
    cpuMs: Number(/cpu_ms ([\d.]+)/.exec(r.stdout)[1]),
    wallMs,
  };
}

const names = Object.keys(variants);
const http = Object.fromEntries(names.map((n) => [n, []]));
const cpu = Object.fromEntries(names.map((n) => [n, []]));
for (let rep = 0; rep < reps; rep++) {
  // Rotate the order, so that no variant always runs first (or after the same one).
  const order = names.map((_, i) => names[(i + rep) % names.length]);
  if (only !== 'script') {
    for (const name of order) http[name].push(await serve(variants[name]([server])));
  }
  if (only !== 'http') {
    for (const name of order) cpu[name].push(crunch(variants[name]([script, String(rounds)])));
  }
  process.stderr.write(`rep ${rep + 1}/${reps} done\n`);
}
rmSync(out, { recursive: true, force: true });

const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const base = (table, key) => median(table.none.map((r) => r[key]));
console.log(
  `Node ${process.version}; ${reps} repetitions, interleaved; medians; change against no profiling.`,
);
if (only !== 'script') printHttp();
if (only !== 'http') printScript();
console.log(
  '\n"change" for req/s is how much slower: (req/s unprofiled) / (req/s) − 1. Goal for heapscope --sample: ≤ +5%.',
);

function printHttp() {
  console.log(
    `\n(a) HTTP server, ${requests} requests, ${concurrency} in flight, from a second process:`,
  );
  console.log('  variant                       req/s     change   server CPU µs/req   change');
  for (const name of names) {
    const rps = median(http[name].map((r) => r.rps));
    const cpuReq = median(http[name].map((r) => r.cpuUsPerRequest));
    console.log(
      `  ${name.padEnd(28)} ${rps.toFixed(0).padStart(6)}  ${pct(base(http, 'rps') / rps - 1).padStart(8)}   ${cpuReq.toFixed(1).padStart(12)}      ${pct(cpuReq / base(http, 'cpuUsPerRequest') - 1).padStart(7)}`,
    );
  }
}

function printScript() {
  console.log(`\n(b) CPU- and allocation-heavy script, ${rounds} rounds:`);
  console.log(
    '  variant                      work ms   change   work CPU ms   change   whole command ms   change',
  );
  for (const name of names) {
    const w = median(cpu[name].map((r) => r.workMs));
    const c = median(cpu[name].map((r) => r.cpuMs));
    const all = median(cpu[name].map((r) => r.wallMs));
    console.log(
      `  ${name.padEnd(28)} ${w.toFixed(0).padStart(7)}  ${pct(w / base(cpu, 'workMs') - 1).padStart(7)}   ${c.toFixed(0).padStart(10)}  ${pct(c / base(cpu, 'cpuMs') - 1).padStart(7)}   ${all.toFixed(0).padStart(14)}    ${pct(all / base(cpu, 'wallMs') - 1).padStart(7)}`,
    );
  }
}

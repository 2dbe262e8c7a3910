#!/usr/bin/env node
// Trace loss: runs a command under `heapscope run` many times and counts, per run, the
// live objects V8 left without an allocation site (the untraced program point) and the
// objects a known site keeps fewer than the truth.
//
//   node bench/trace-loss.mjs [--node <node>] [--runs 10] [--site makeTyped --kept 1000]
//        [--heapscope "<run options>"] -- <node arguments…>
//
// Prints one line per run ("untraced U missing M") and the number of runs with any loss.
// docs/accuracy.md gives the figures and the commands that produced them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0) {
  console.error('usage: node bench/trace-loss.mjs [options] -- <node arguments…>');
  process.exit(2);
}
const opts = { node: process.execPath, runs: '10', site: '', kept: '0', heapscope: '' };
for (let i = 0; i < sep; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
const command = argv.slice(sep + 1);
const UNTRACED = '[allocated while tracking, site not recorded by V8]';

let lossy = 0;
for (let r = 0; r < Number(opts.runs); r++) {
  const dir = mkdtempSync(join(tmpdir(), 'heapscope-trace-loss-'));
  const out = join(dir, 'p.json');
  const run = spawnSync(
    opts.node,
    [
      join(root, 'bin', 'heapscope.js'),
      'run',
      '-q',
      ...opts.heapscope.split(' ').filter(Boolean),
      '-o',
      out,
      '--',
      opts.node,
      ...command,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
  const p = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const untraced = p.pps
    .filter((pp) => p.ftbl[pp.fs[0]] === UNTRACED)
    .reduce((n, pp) => n + pp.ebk, 0);
  let missing = 0;
  if (opts.site) {
    const at = p.pps.filter((pp) => p.ftbl[pp.fs[0]].startsWith(`${opts.site} (`));
    const kept = at.reduce((n, pp) => n + (pp.heapscope?.endByType?.object?.[1] ?? 0), 0);
    missing = Number(opts.kept) - kept;
  }
  if (untraced > 0 || missing > 0) lossy++;
  console.log(`untraced ${untraced} missing ${missing}`);
}
console.log(`${lossy} of ${opts.runs} runs lost a trace`);

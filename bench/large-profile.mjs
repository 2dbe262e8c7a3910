// Time and peak memory of heapscope's commands on a large profile, against `report` as
// the baseline. The profiles are written by bench/gen-large-profile.mjs (two seeds, so
// that `diff` compares different figures at every site); each command runs as its own
// process, measured by GNU time (elapsed seconds, peak RSS).
//
//   npm run build && node bench/large-profile.mjs [--pps 1000000] [--dir /tmp/hs-large] [--skip NAME,...]
//
// --skip leaves out commands by name (e.g. "convert --to pprof", the slowest).
//
// Run it alone: it takes minutes and gigabytes at 1M program points.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    pps: { type: 'string', default: '1000000' },
    dir: { type: 'string', default: '/tmp/heapscope-large' },
    skip: { type: 'string', default: '' },
  },
});
mkdirSync(values.dir, { recursive: true });
const a = join(values.dir, `a-${values.pps}.json`);
const b = join(values.dir, `b-${values.pps}.json`);
for (const [file, seed] of [
  [a, '1'],
  [b, '2'],
]) {
  if (!existsSync(file)) {
    execFileSync(
      process.execPath,
      [join(root, 'bench', 'gen-large-profile.mjs'), file, '--pps', values.pps, '--seed', seed],
      { stdio: 'inherit' },
    );
  }
}

const bin = join(root, 'bin', 'heapscope.js');
const out = (ext) => join(values.dir, `out${ext}`);
const commands = [
  ['report', ['report', a]],
  ['report --by function', ['report', a, '--by', 'function']],
  ['diff', ['diff', a, b]],
  ['check', ['check', a, '--max-total', '1TB']],
  ['convert --to pprof', ['convert', a, '--to', 'pprof', '-o', out('.pb.gz')]],
  ['convert --to speedscope', ['convert', a, '--to', 'speedscope', '-o', out('.speedscope.json')]],
  ['convert --to heapprofile', ['convert', a, '--to', 'heapprofile', '-o', out('.heapprofile')]],
  ['convert --to dhat', ['convert', a, '--to', 'dhat', '-o', out('.dhat.json')]],
  ['view --html', ['view', a, '--html', out('.html')]],
  ['view --html (two files)', ['view', a, b, '--html', out('-two.html')]],
];

const skipped = new Set(values.skip.split(',').map((s) => s.trim()));
const rows = [];
for (const [name, args] of commands.filter(([name]) => !skipped.has(name))) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, bin, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  const failed = r.status !== 0 && !(name === 'check' && r.status === 1);
  rows.push({
    name,
    secs,
    mb: kb / 1024,
    failed: failed ? (r.stderr.split('\n')[0] ?? '').slice(0, 80) : '',
  });
  console.error(`${name}: ${secs} s, ${Math.round(kb / 1024)} MB${failed ? ' FAILED' : ''}`);
}
const base = rows[0];
console.log(`${values.pps} program points; baseline: report`);
console.log('command                      time      × report   peak RSS');
for (const r of rows) {
  console.log(
    `${r.name.padEnd(28)} ${`${r.secs.toFixed(1)} s`.padStart(8)} ${`${(r.secs / base.secs).toFixed(2)}×`.padStart(9)} ${`${Math.round(r.mb)} MB`.padStart(10)}${r.failed ? `  FAILED: ${r.failed}` : ''}`,
  );
}

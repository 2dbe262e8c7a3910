#!/usr/bin/env node
/**
 * Benchmark: heapscope's streaming heap snapshot reader against `JSON.parse`.
 *
 *   npm run build && node bench/heapsnapshot-read.mjs [--mb 100] [--file x.heapsnapshot] [--runs 3]
 *
 * Generates a snapshot of about `--mb` megabytes from a child process (or uses
 * `--file`), then reads it with `readHeapSnapshot` and with
 * `JSON.parse(fs.readFileSync(…))`, each in its own child process so that each peak RSS
 * is its own. Prints the best time and the peak RSS of each, and their ratios
 * (JSON.parse / heapscope: above 1 means heapscope is faster or smaller).
 * `JSON.parse` cannot read a snapshot over ~512 MB; it is then reported as failed.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, option } from './lib/args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const distReader = join(here, '..', 'dist', 'formats', 'heapsnapshot', 'index.js');

// Child mode: read the file one way and print {ms, maxRssMB} as JSON.
if (process.argv[2] === '--child') {
  const [, , , method, file] = process.argv;
  const start = performance.now();
  let nodes;
  if (method === 'heapscope') {
    const { readHeapSnapshot } = await import(distReader);
    nodes = (await readHeapSnapshot(file)).nodeCount;
  } else {
    const { readFileSync } = await import('node:fs');
    nodes = JSON.parse(readFileSync(file, 'utf8')).snapshot.node_count;
  }
  const ms = performance.now() - start;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ ms, maxRssMB, nodes }));
  process.exit(0);
}

if (!existsSync(distReader)) {
  console.error('heapsnapshot-read: dist/ is missing; run `npm run build` first');
  process.exit(2);
}

const runs = numberOption('runs', 3);
let file = option('file', undefined);
let dir;
if (!file) {
  // About 430 bytes of snapshot per Probe (object, array, nested object, strings).
  const mb = numberOption('mb', 100);
  const count = Math.round((mb * 1e6) / 430);
  dir = mkdtempSync(join(tmpdir(), 'heapscope-bench-'));
  file = join(dir, 'bench.heapsnapshot');
  const child = `
    class Probe { constructor(i) { this.i = i; this.name = 'p' + (i % 5000); this.arr = [i, i + 1]; this.o = { a: i, s: 'x€' + i }; } }
    globalThis.keep = [];
    for (let i = 0; i < ${count}; i++) keep.push(new Probe(i));
    require('node:v8').writeHeapSnapshot(process.argv[1]);`;
  process.stdout.write(`generating a snapshot with ${count} probes… `);
  execFileSync(process.execPath, ['--max-old-space-size=8192', '-e', child, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const sizeMB = statSync(file).size / 1e6;
console.log(`${file}: ${sizeMB.toFixed(1)} MB`);

function measure(method) {
  let best;
  for (let r = 0; r < runs; r++) {
    let out;
    try {
      out = execFileSync(
        process.execPath,
        [
          // JSON.parse needs a big heap; the streaming reader runs with Node's defaults.
          ...(method === 'JSON.parse' ? ['--max-old-space-size=16384'] : []),
          fileURLToPath(import.meta.url),
          '--child',
          method,
          file,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 },
      );
    } catch (error) {
      const reason = String(error.stderr ?? error.message)
        .split('\n')
        .find((line) => /Error/.test(line));
      return { failed: reason ?? 'failed' };
    }
    const result = JSON.parse(out);
    // Best time and lowest peak RSS over the runs.
    best = best
      ? {
          ...best,
          ms: Math.min(best.ms, result.ms),
          maxRssMB: Math.min(best.maxRssMB, result.maxRssMB),
        }
      : result;
  }
  return best;
}

const ours = measure('heapscope');
const peer = measure('JSON.parse');
const row = (name, r) =>
  r.failed
    ? `${name.padEnd(11)} failed: ${r.failed}`
    : `${name.padEnd(11)} ${(r.ms / 1000).toFixed(2).padStart(6)} s  ${((sizeMB * 1000) / r.ms).toFixed(0).padStart(4)} MB/s  peak RSS ${r.maxRssMB.toFixed(0).padStart(5)} MB`;
console.log(row('heapscope', ours));
console.log(row('JSON.parse', peer));
if (!ours.failed && !peer.failed) {
  if (ours.nodes !== peer.nodes) console.log(`node counts differ: ${ours.nodes} vs ${peer.nodes}`);
  console.log(
    `ratio JSON.parse/heapscope: time ${(peer.ms / ours.ms).toFixed(2)}×, peak RSS ${(peer.maxRssMB / ours.maxRssMB).toFixed(2)}×`,
  );
}
if (dir) rmSync(dir, { recursive: true, force: true });

#!/usr/bin/env node
/**
 * Benchmark: load a heap snapshot and compute its dominators and retained sizes, with
 * heapscope, heap-snapshot-toolkit (Chrome DevTools' HeapSnapshot code) and memlab.
 *
 *   npm run build && node bench/snapshot-analyze.mjs [--mb 100] [--big] [--file x.heapsnapshot]
 *                                                    [--runs 1] [--no-memlab] [--no-js]
 *
 * Generates a snapshot of about `--mb` megabytes (default 100) from a child process with
 * `v8.writeHeapSnapshot()`, and with `--big` one of about 600 MB too (generating it takes
 * a minute or two), or uses `--file`. Each tool then runs in its own child process, so
 * each peak RSS is its own:
 *
 * - heapscope: `readHeapSnapshot` + `analyzeSnapshotInParallel` (dominators, retained
 *   sizes, class names and per-class totals: what `heapscope snapshot` computes) +
 *   `summarizeSnapshot`; then the same with `{ native: false }` (JavaScript only, as on
 *   a platform without the prebuilt helper; `--no-js` skips it);
 * - heap-snapshot-toolkit: `parse` (DevTools' loader and `HeapSnapshot.initialize`:
 *   dominators, retained sizes, distances, class names);
 * - memlab: `getFullHeapFromFile` from @memlab/heap-analysis (dominators and retained
 *   sizes). memlab is not a dependency (its puppeteer dependency downloads a browser): it
 *   is installed here into a temporary prefix with `PUPPETEER_SKIP_DOWNLOAD=1`, and
 *   skipped with a message when that fails (no network).
 *
 * Prints the best time of `--runs` and the lowest peak RSS, and the ratios peer /
 * heapscope (above 1: heapscope is faster or smaller). The goal (issue 7): at least 5×
 * faster than the fastest peer with at most half its memory.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flag, numberOption, option } from './lib/args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

// ---------------------------------------------------------------------------------------
// Child mode: one tool on one file; prints "RESULT {ms, maxRssMB, nodes}" as its last line.
// ---------------------------------------------------------------------------------------
if (process.argv[2] === '--child') {
  const [, , , tool, file, memlabPrefix] = process.argv;
  const start = performance.now();
  let nodes;
  if (tool === 'heapscope' || tool === 'heapscope-js') {
    // heapscope-js: without the native helper, as on a platform it is not prebuilt for.
    const native = tool === 'heapscope';
    const { readHeapSnapshot } = await import(
      pathToFileURL(join(dist, 'formats', 'heapsnapshot', 'index.js')).href
    );
    const { summarizeSnapshot } = await import(
      pathToFileURL(join(dist, 'model', 'snapshot', 'analyze.js')).href
    );
    const snapshot = await readHeapSnapshot(file, { native });
    const { analyzeSnapshotInParallel } = await import(
      pathToFileURL(join(dist, 'threads', 'snapshot-analysis.js')).href
    );
    const analysis = await analyzeSnapshotInParallel(snapshot, { native });
    const summary = summarizeSnapshot(analysis, { top: 20 });
    nodes = summary.nodeCount;
  } else if (tool === 'heap-snapshot-toolkit') {
    const { createReadStream } = await import('node:fs');
    const { parse } = await import('heap-snapshot-toolkit');
    const snapshot = await parse(createReadStream(file, 'utf-8'));
    nodes = snapshot.nodeCount;
  } else if (tool === 'memlab') {
    const { createRequire } = await import('node:module');
    const require = createRequire(join(memlabPrefix, 'package.json'));
    const { getFullHeapFromFile } = require('@memlab/heap-analysis');
    const heap = await getFullHeapFromFile(file);
    nodes = heap.nodes.length;
  } else {
    throw new Error(`unknown tool ${tool}`);
  }
  const ms = performance.now() - start;
  const usage = process.resourceUsage();
  // CPU time of the whole process (all threads): less disturbed than wall time when
  // other work shares the machine.
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
  const maxRssMB = usage.maxRSS / 1024;
  process.stdout.write(`\nRESULT ${JSON.stringify({ ms, cpuMs, maxRssMB, nodes })}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------

if (!existsSync(join(dist, 'model', 'snapshot', 'analyze.js'))) {
  console.error('snapshot-analyze: dist/ is missing; run `npm run build` first');
  process.exit(2);
}

const runs = numberOption('runs', 1);
const work = mkdtempSync(join(tmpdir(), 'heapscope-bench-snapshot-'));

/** Writes a snapshot of about `mb` megabytes: Probe objects, ~430 bytes of snapshot each. */
function generate(mb) {
  const file = join(work, `bench-${mb}mb.heapsnapshot`);
  const count = Math.round((mb * 1e6) / 430);
  const child = `
    class Probe { constructor(i) { this.i = i; this.name = 'p' + (i % 5000); this.arr = [i, i + 1]; this.o = { a: i, s: 'x€' + i }; } }
    globalThis.keep = [];
    for (let i = 0; i < ${count}; i++) keep.push(new Probe(i));
    require('node:v8').writeHeapSnapshot(process.argv[1]);`;
  process.stdout.write(`generating a ~${mb} MB snapshot (${count} probes)… `);
  const t = performance.now();
  execFileSync(process.execPath, ['--max-old-space-size=16384', '-e', child, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`${((performance.now() - t) / 1000).toFixed(0)} s`);
  return file;
}

function installMemlab() {
  if (flag('no-memlab')) return { skipped: 'skipped (--no-memlab)' };
  const prefix = join(work, 'memlab');
  process.stdout.write('installing memlab into a temporary prefix (PUPPETEER_SKIP_DOWNLOAD=1)… ');
  try {
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        'memlab',
        '--no-audit',
        '--no-fund',
        '--no-save',
        '--loglevel=error',
      ],
      {
        env: {
          ...process.env,
          PUPPETEER_SKIP_DOWNLOAD: '1',
          PUPPETEER_SKIP_CHROMIUM_DOWNLOAD: '1',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 10 * 60_000,
      },
    );
    const version = execFileSync(
      process.execPath,
      [
        '-p',
        `require(${JSON.stringify(join(prefix, 'node_modules', '@memlab', 'heap-analysis', 'package.json'))}).version`,
      ],
      { encoding: 'utf8' },
    ).trim();
    console.log(`@memlab/heap-analysis ${version}`);
    return { prefix };
  } catch (error) {
    const why = String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .at(-1);
    console.log('failed');
    return { skipped: `skipped: npm install memlab failed (${why})` };
  }
}

function measure(tool, file, memlab) {
  let best;
  for (let r = 0; r < runs; r++) {
    let out;
    try {
      out = execFileSync(
        process.execPath,
        [
          '--max-old-space-size=16384',
          fileURLToPath(import.meta.url),
          '--child',
          tool,
          file,
          ...(memlab?.prefix ? [memlab.prefix] : []),
        ],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 64 << 20,
          timeout: 30 * 60_000,
        },
      );
    } catch (error) {
      const reason = String(error.stderr ?? error.message)
        .split('\n')
        .find((line) => /Error|heap/.test(line));
      return { failed: reason ?? 'failed' };
    }
    const line = out.split('\n').findLast((l) => l.startsWith('RESULT '));
    const result = JSON.parse(line.slice('RESULT '.length));
    best = best
      ? {
          ...best,
          ms: Math.min(best.ms, result.ms),
          cpuMs: Math.min(best.cpuMs, result.cpuMs),
          maxRssMB: Math.min(best.maxRssMB, result.maxRssMB),
        }
      : result;
  }
  return best;
}

const files = [];
const given = option('file', undefined);
if (given) files.push(given);
else {
  files.push(generate(numberOption('mb', 100)));
  if (flag('big')) files.push(generate(600));
}
const memlab = installMemlab();

const row = (name, r, sizeMB) =>
  r.skipped || r.failed
    ? `  ${name.padEnd(22)} ${r.skipped ?? `failed: ${r.failed}`}`
    : `  ${name.padEnd(22)} ${(r.ms / 1000).toFixed(2).padStart(7)} s (CPU ${(r.cpuMs / 1000).toFixed(2).padStart(6)} s)  ${((sizeMB * 1000) / r.ms).toFixed(0).padStart(4)} MB/s  peak RSS ${r.maxRssMB.toFixed(0).padStart(5)} MB`;

for (const file of files) {
  const sizeMB = statSync(file).size / 1e6;
  console.log(`\n${file}: ${sizeMB.toFixed(1)} MB`);
  const ours = measure('heapscope', file);
  console.log(row('heapscope', ours, sizeMB));
  const js = flag('no-js') ? { skipped: 'skipped (--no-js)' } : measure('heapscope-js', file);
  console.log(row('heapscope, no helper', js, sizeMB));
  const peers = [];
  for (const tool of ['heap-snapshot-toolkit', 'memlab']) {
    const r =
      tool === 'memlab' && memlab.skipped
        ? { skipped: memlab.skipped }
        : measure(tool, file, memlab);
    console.log(row(tool, r, sizeMB));
    if (!r.skipped && !r.failed) peers.push({ tool, ...r });
  }
  if (ours.failed) continue;
  for (const p of peers) {
    if (p.nodes !== ours.nodes)
      console.log(`  (node counts differ: ${p.tool} ${p.nodes}, heapscope ${ours.nodes})`);
    console.log(
      `  ${p.tool} / heapscope: time ${(p.ms / ours.ms).toFixed(2)}× (CPU ${(p.cpuMs / ours.cpuMs).toFixed(2)}×), peak RSS ${(p.maxRssMB / ours.maxRssMB).toFixed(2)}×`,
    );
  }
  if (peers.length > 0) {
    const fastest = peers.reduce((a, b) => (a.ms <= b.ms ? a : b));
    if (!js.skipped && !js.failed) {
      console.log(
        `  without the native helper (JavaScript only): ${(fastest.ms / js.ms).toFixed(2)}× faster than ${fastest.tool}, ${(fastest.maxRssMB / js.maxRssMB).toFixed(2)}× less memory`,
      );
    }
    const speed = fastest.ms / ours.ms;
    const memory = fastest.maxRssMB / ours.maxRssMB;
    const verdict = speed >= 5 && memory >= 2 ? 'met' : 'not met';
    console.log(
      `  goal (≥5× faster than the fastest peer, ${fastest.tool}, with ≤½ its memory): ${verdict} (${speed.toFixed(2)}× faster, CPU ${(fastest.cpuMs / ours.cpuMs).toFixed(2)}×, ${memory.toFixed(2)}× less memory)`,
    );
  }
}
rmSync(work, { recursive: true, force: true });

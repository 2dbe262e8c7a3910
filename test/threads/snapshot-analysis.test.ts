/**
 * analyzeSnapshotInParallel (dominators in a worker thread, over edges in shared memory)
 * against analyzeSnapshot on the same real snapshot: every figure identical. Imports
 * dist/ (the workers run compiled scripts): needs `npm run build`.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeapSnapshot } from '../../dist/formats/heapsnapshot/index.js';
import { analyzeSnapshot, summarizeSnapshot } from '../../dist/model/snapshot/analyze.js';
import { exactDivisor } from '../../dist/model/snapshot/graph.js';
import { analyzeSnapshotInParallel } from '../../dist/threads/snapshot-analysis.js';

let dir: string;
let path: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapscope-parallel-analysis-'));
  path = join(dir, 'leaky.heapsnapshot');
  const child = `
    class Leaky { constructor(i) { this.label = 'leak ' + i; this.next = null; } }
    globalThis.leaks = new Map();
    for (let i = 0; i < 3000; i++) leaks.set(i, new Leaky(i));
    const chain = new Leaky(-1); let at = chain;
    for (let i = 0; i < 500; i++) { at.next = new Leaky(-2); at = at.next; }
    globalThis.chain = chain;
    require('node:v8').writeHeapSnapshot(process.argv[1]);`;
  execFileSync(process.execPath, ['-e', child, path], { stdio: 'pipe', timeout: 60_000 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function same(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  expect(actual.length, `${what}.length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) expect.fail(`${what}[${i}]: ${actual[i]} ≠ ${expected[i]}`);
  }
}

// Off this thread: libuv's thread pool with the native helper, a worker without.
describe.each([true, false])('analyzeSnapshotInParallel (native: %s)', (native) => {
  it('gives exactly the figures of analyzeSnapshot, computed off this thread', async () => {
    const snapshot = await readHeapSnapshot(path, { native, parallel: true });
    expect(snapshot.edges.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(snapshot.firstEdge.buffer).toBeInstanceOf(SharedArrayBuffer);
    const phases: string[] = [];
    const parallel = await analyzeSnapshotInParallel(snapshot, {
      native,
      parallel: true,
      onPhase: (p) => phases.push(p),
    });
    const serial = analyzeSnapshot(snapshot);
    // The tree came from the other thread, not from this thread's arrays.
    expect(parallel.dominators.dominator).not.toBe(serial.dominators.dominator);
    same(parallel.dominators.dominator, serial.dominators.dominator, 'dominator');
    same(parallel.dominators.order, serial.dominators.order, 'order');
    same(parallel.retainedSizes, serial.retainedSizes, 'retainedSizes');
    same(parallel.selfSizes, serial.selfSizes, 'selfSizes');
    expect(phases).toEqual(['ownership', 'dominators', 'retained sizes', 'totals']);
    const summary = summarizeSnapshot(parallel, { top: 10_000 });
    expect(summary).toEqual(summarizeSnapshot(serial, { top: 10_000 }));
    // And the known contents: 3,501 Leaky (3,000 in the Map, a chain of 501).
    const leaky = summary.classes.find((c: { name: string }) => c.name === 'Leaky');
    expect(leaky?.count).toBe(3501);
  });

  it('gives the same figures when the edges are not in shared memory', async () => {
    const snapshot = await readHeapSnapshot(path, { native, parallel: false });
    const analysis = await analyzeSnapshotInParallel(snapshot, { native, parallel: true });
    same(analysis.retainedSizes, analyzeSnapshot(snapshot).retainedSizes, 'retainedSizes');
  });
});

describe('in a worker thread', () => {
  it('reads and analyses with the native loops and nested workers, to the same figures', async () => {
    // libuv's thread pool is used from the main thread only (a worker's loop may close
    // with a task still running): here the worker-thread pipeline runs inside a worker.
    const reader = new URL('../../dist/formats/heapsnapshot/index.js', import.meta.url).href;
    const analysis = new URL('../../dist/threads/snapshot-analysis.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { readHeapSnapshot } = await import(${JSON.stringify(reader)});
        const { analyzeSnapshotInParallel } = await import(${JSON.stringify(analysis)});
        const s = await readHeapSnapshot(workerData, { parallel: true });
        const a = await analyzeSnapshotInParallel(s, { parallel: true });
        parentPort.postMessage({ retained: a.retainedSizes, dominator: a.dominators.dominator });
      })().catch((e) => parentPort.postMessage({ error: String(e.stack) }));`;
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(code, { eval: true, workerData: path });
    const answer = await new Promise<{
      error?: string;
      retained: Float64Array;
      dominator: Uint32Array;
    }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(answer.error).toBeUndefined();
    const serial = analyzeSnapshot(await readHeapSnapshot(path, { parallel: false }));
    same(answer.retained, serial.retainedSizes, 'retainedSizes');
    same(answer.dominator, serial.dominators.dominator, 'dominator');
  });
});

describe('exactDivisor', () => {
  it('divides every multiple of d below 2^32 exactly, for the field counts V8 uses and more', () => {
    for (let d = 1; d <= 64; d++) {
      const { shift, inverse } = exactDivisor(d);
      const top = Math.floor(0xffffffff / d);
      for (const q of [0, 1, 2, 3, 1000, 65_535, 1 << 20, top - 1, top]) {
        expect(Math.imul((q * d) >>> shift, inverse) >>> 0, `${q} × ${d}`).toBe(q);
      }
    }
  });
});

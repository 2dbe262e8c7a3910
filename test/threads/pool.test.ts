/**
 * The worker pool shared by the snapshot reader and the analysis: a warmed worker is the
 * one that runs the next task, a failing task leaves its worker usable, a cancelled or
 * retired worker ends, and idle workers never keep the process alive. Imports dist/
 * (the workers run compiled scripts): needs `npm run build`.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABANDONED, PENDING } from '../../dist/threads/dominators-protocol.js';
import { idleWorkers, runTask, warmWorkers } from '../../dist/threads/pool.js';

let dir: string;
let numbers: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapscope-pool-'));
  numbers = join(dir, 'numbers.json');
  writeFileSync(numbers, '{"nodes":[1,2,3\n,4,5,6\n]}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parseJob(text: string) {
  const path = join(dir, `n${Math.random()}.json`);
  writeFileSync(path, text);
  const shared = new SharedArrayBuffer(16 * 4);
  return { path, key: 'nodes', start: 0, end: text.length, length: 16, shared };
}

/** A dominators job whose inputs never become ready: the task blocks in Atomics.wait. */
function blockedDominatorsJob() {
  const u32 = (n: number) => new Uint32Array(new SharedArrayBuffer(n * 4));
  const ready = new Int32Array(new SharedArrayBuffer(8));
  ready[0] = PENDING;
  const graph = {
    nodes: u32(7),
    edges: u32(0),
    firstEdge: u32(2),
    nodeCount: 1,
    nodeFieldCount: 7,
    edgeFieldCount: 3,
    nodeOffsets: {
      type: 0,
      name: 1,
      id: 2,
      selfSize: 3,
      edgeCount: 4,
      traceNodeId: 5,
      detachedness: 6,
    },
    edgeOffsets: { type: 0, nameOrIndex: 1, toNode: 2 },
  };
  const kinds = { nodeType: {}, edgeType: {} };
  return {
    job: {
      graph,
      kinds,
      externalString: -1,
      essential: u32(1),
      reverse: { first: u32(2), from: u32(1) },
      ready,
    },
    ready,
  };
}

describe('worker pool', () => {
  it('runs the next task in the worker warmed for it, and takes it back after', async () => {
    warmWorkers(1);
    expect(idleWorkers()).toBe(1);
    const job = parseJob('[7,8,9\n,10\n]');
    const run = runTask('parse-array', job);
    expect(idleWorkers()).toBe(0);
    expect(await run.next()).toEqual({ length: 4 });
    await run.finished;
    expect(Array.from(new Uint32Array(job.shared, 0, 4))).toEqual([7, 8, 9, 10]);
    expect(idleWorkers()).toBe(1);
  });

  it('rejects with the task error and keeps the worker usable', async () => {
    warmWorkers(1);
    const run = runTask('parse-array', parseJob('[1,x]'));
    await expect(run.next()).rejects.toThrow(/unexpected 'x'/);
    await expect(run.finished).rejects.toThrow(/unexpected 'x'/);
    expect(idleWorkers()).toBe(1);
    const again = runTask('parse-array', parseJob('[5\n]'));
    expect(await again.next()).toEqual({ length: 1 });
    await again.finished;
  });

  it('ends a worker blocked in its task when the task is cancelled', async () => {
    const { job } = blockedDominatorsJob();
    const before = idleWorkers();
    const run = runTask('dominators', job);
    // The self sizes come first, then the task waits for inputs that never come.
    expect(await run.next()).toHaveProperty('selfSizes');
    run.cancel();
    await expect(run.next()).rejects.toThrow(/cancelled/);
    await expect(run.finished).rejects.toThrow(/cancelled/);
    expect(idleWorkers()).toBe(Math.max(0, before - 1));
  });

  it('lets a task that is told to give up end with an error', async () => {
    const { job, ready } = blockedDominatorsJob();
    const run = runTask('dominators', job);
    await run.next();
    Atomics.store(ready, 0, ABANDONED);
    Atomics.notify(ready, 0);
    await expect(run.finished).rejects.toThrow(/abandoned/);
  });

  it('ends a retired worker after its task', async () => {
    warmWorkers(1);
    const before = idleWorkers();
    const run = runTask('parse-array', parseJob('[1\n]'), { retire: true });
    await run.next();
    await run.finished;
    expect(idleWorkers()).toBe(before - 1);
  });

  it('never keeps the process alive with idle workers', () => {
    const pool = new URL('../../dist/threads/pool.js', import.meta.url).href;
    // Two warmed workers, one task run to its end, then the script falls off its end.
    // Run with --input-type, which workers inherit and which must not stop them, beside
    // a V8 option, which a worker may inherit but not be given.
    const script = `
      const { warmWorkers, runTask } = await import(${JSON.stringify(pool)});
      warmWorkers(2);
      const job = ${JSON.stringify({ ...parseJob('[3\n]'), shared: undefined })};
      job.shared = new SharedArrayBuffer(64);
      const run = runTask('parse-array', job);
      console.log(JSON.stringify(await run.next()));
      await run.finished;`;
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=4096', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.error, 'the process did not exit by itself').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ length: 1 });
  });
});

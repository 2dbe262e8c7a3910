/**
 * `heapscope attach` against real express servers started with plain `node`, loaded by
 * a second process, all on 127.0.0.1.
 *
 * Ground truth: each GET /orders?n=N makes ordersHandler allocate N Pairs of 40 bytes
 * (test/fixtures/attach/server.cjs); the load runs only inside the sampling window
 * (after heapscope says it samples, before it is interrupted), so the window holds
 * exactly R·N·40 bytes of them. The bound is the one test/capture/sampled.test.ts
 * derives: a site of B bytes sampled at interval I has a standard error of about
 * sqrt(B·I); 5 standard deviations, plus 64 KiB of V8's own records and 256 bytes a
 * request (the async handler's promise and its reply's literal).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isListening, load, startServer, waitUntil } from '../helpers/attach.js';
import { heapscope, heapscopeAsync, readProfile, sitesOf, tempDir } from '../helpers/heapscope.js';

const PAIR_BYTES = 40;
const SIGMAS = 5;
const INSPECTOR_PORT = 9229;

function sampledBound(bytes: number, interval: number, requests: number): number {
  return SIGMAS * Math.sqrt(bytes * interval) + 64 * 1024 + 256 * requests;
}

/** Bytes of all program points whose stack passes through `fn`. */
function bytesThrough(profile: ReturnType<typeof readProfile>, fn: string): number {
  return profile.programPoints
    .filter((pp) => pp.stack.some((f) => profile.frames[f]!.startsWith(`${fn} (`)))
    .reduce((sum, pp) => sum + pp.totalBytes, 0);
}

describe('a sampled window of an express server under load', () => {
  const REQUESTS = 400;
  const N = 5000;
  const INTERVAL = 16384;

  it("estimates the handler's allocations, detaches, and leaves the exit code alone", async () => {
    const server = await startServer();
    const dir = tempDir();
    const out = join(dir, 'window.json');
    const run = heapscopeAsync([
      'attach',
      String(server.pid),
      '--interval',
      `${INTERVAL}`,
      '-o',
      out,
    ]);
    await waitUntil('sampling', () => run.output().stderr.includes('sampling until Ctrl-C'));
    expect(await isListening(INSPECTOR_PORT)).toBe(true);
    await load(server.port, `/orders?n=${N}`, REQUESTS);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`detached; the inspector is closed again (port ${INSPECTOR_PORT})`);

    const profile = readProfile(out);
    const truth = REQUESTS * N * PAIR_BYTES;
    const handler = sitesOf(profile, 'ordersHandler');
    expect(handler.length).toBeGreaterThan(0);
    const got = bytesThrough(profile, 'ordersHandler');
    expect(Math.abs(got - truth), `${got} vs ${truth}`).toBeLessThanOrEqual(
      sampledBound(truth, INTERVAL, REQUESTS),
    );
    expect(profile.cmd).toContain('server.cjs');
    expect(profile.heapscope?.notes?.join('\n')).toContain('attached to the running process');

    // The server goes on serving, with its inspector closed, and ends as it would have.
    expect(await isListening(INSPECTOR_PORT)).toBe(false);
    await load(server.port, '/orders?n=10', 5);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });
});

describe('a heap snapshot of an express server with a planted leak', () => {
  it('finds the leaked class, its count and its retainer path', async () => {
    const server = await startServer();
    const dir = tempDir();
    const file = join(dir, 'leak.heapsnapshot');
    await load(server.port, '/leak?n=500', 3);
    const r = heapscope([
      'attach',
      String(server.pid),
      '--snapshot',
      file,
      '--path',
      'LeakedSession',
      '--top',
      '0',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('the inspector is closed again');
    const summary = JSON.parse(r.stdout) as {
      classes: { name: string; count: number }[];
      path: { steps: { edge: string; node: { className: string } }[] };
    };
    expect(summary.classes.find((c) => c.name === 'LeakedSession')?.count).toBe(1500);
    const edges = summary.path.steps.map((s) => s.edge);
    expect(edges).toContain('.sessionsByUser');
    expect(summary.path.steps.at(-1)!.node.className).toBe('LeakedSession');
    expect(readFileSync(file, 'utf8').slice(0, 12)).toBe('{"snapshot":');
    expect(await isListening(INSPECTOR_PORT)).toBe(false);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });

  it('compares two snapshots of one attach object by object', async () => {
    const server = await startServer();
    const dir = tempDir();
    await load(server.port, '/leak?n=300', 2);
    const run = heapscopeAsync([
      'attach',
      String(server.pid),
      '--snapshot',
      join(dir, 'a.heapsnapshot'),
      '--compare-after',
      '10m',
      '--json',
    ]);
    await waitUntil('the first snapshot', () =>
      run.output().stderr.includes('the second snapshot in'),
    );
    await load(server.port, '/leak?n=350', 2);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as {
      classes: { name: string; countDelta: number; added: number; removed: number }[];
    };
    const leaked = c.classes.find((x) => x.name === 'LeakedSession');
    expect(leaked).toMatchObject({ countDelta: 700, added: 700, removed: 0 });
    expect(await isListening(INSPECTOR_PORT)).toBe(false);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });
});

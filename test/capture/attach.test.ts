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
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isListening, killServers, load, startServer, waitUntil } from '../helpers/attach.js';
import {
  BIN,
  heapscope,
  heapscopeAsync,
  NODE,
  readProfile,
  sitesOf,
  tempDir,
} from '../helpers/heapscope.js';

const PAIR_BYTES = 40;
const SIGMAS = 5;
/** Node 22.14+ and 23.7+ have the flag. */
const HAS_DISABLE_SIGUSR1 =
  spawnSync(NODE, ['--disable-sigusr1', '-e', '0'], { stdio: 'ignore' }).status === 0;

afterEach(killServers);

/** Waits until heapscope says it samples; fails at once with its output if it ended instead. */
function sampling(run: ReturnType<typeof heapscopeAsync>): Promise<void> {
  return waitUntil('heapscope to sample', () => {
    const { stderr } = run.output();
    if (run.child.exitCode !== null) throw new Error(`heapscope ended: ${stderr}`);
    return stderr.includes('sampling until Ctrl-C');
  });
}

function sampledBound(bytes: number, interval: number, requests: number): number {
  return SIGMAS * Math.sqrt(bytes * interval) + 64 * 1024 + 256 * requests;
}

/**
 * Bytes allocated in `fn`'s own frame (program points whose allocation site it is): what
 * the functions it calls allocate (express's reply) is theirs, not the ground truth's.
 */
function bytesAt(profile: ReturnType<typeof readProfile>, fn: string): number {
  return sitesOf(profile, fn).reduce((sum, pp) => sum + pp.totalBytes, 0);
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
    await sampling(run);
    expect(await isListening(server.inspectorPort)).toBe(true);
    await load(server.port, `/orders?n=${N}`, REQUESTS);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `detached; the inspector is closed again (port ${server.inspectorPort})`,
    );

    const profile = readProfile(out);
    const truth = REQUESTS * N * PAIR_BYTES;
    const got = bytesAt(profile, 'ordersHandler');
    expect(Math.abs(got - truth), `${got} vs ${truth}`).toBeLessThanOrEqual(
      sampledBound(truth, INTERVAL, REQUESTS),
    );
    expect(profile.cmd).toContain('server.cjs');
    expect(profile.heapscope?.notes?.join('\n')).toContain('attached to the running process');

    // The server goes on serving, with its inspector closed, and ends as it would have.
    expect(await isListening(server.inspectorPort)).toBe(false);
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
    expect(await isListening(server.inspectorPort)).toBe(false);
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
    expect(await isListening(server.inspectorPort)).toBe(false);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });
});

describe('--live on a terminal', () => {
  it('redraws the heap and the top sites at least twice, then writes the profile', async () => {
    const server = await startServer();
    const dir = tempDir();
    const out = join(dir, 'live.json');
    // script(1) from util-linux gives heapscope a pseudo-terminal.
    const command = [NODE, BIN, 'attach', String(server.pid), '--live', '--every', '1s']
      .concat(['--duration', '6s', '--top', '3', '-q', '-o', out])
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-q', '-c', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const r = { status: null as number | null, stdout: '', stderr: '' };
    child.stdout.on('data', (d) => {
      r.stdout += d;
    });
    child.stderr.on('data', (d) => {
      r.stderr += d;
    });
    const exited = once(child, 'close');
    // The load starts once the sampler runs: started before, on a busy machine it can be
    // over before heapscope has attached.
    await waitUntil(
      'heapscope to sample',
      () => r.stdout.includes('sampling for') || child.exitCode !== null,
    );
    const loading = load(server.port, '/orders?n=5000', 1500, 2);
    [r.status] = (await exited) as [number | null];
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const frames = r.stdout.split('\x1b[H\x1b[J').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const f of frames) expect(f).toMatch(/heap [\d.]+ \w?i?B used of [\d.]+ \w?i?B/);
    // The first redraw may come before a sample of the load has arrived (a busy machine).
    expect(
      frames.some((f) => f.includes('ordersHandler (')),
      r.stdout,
    ).toBe(true);
    expect(r.stdout).toContain('the inspector is closed again');
    expect(readProfile(out).programPoints.length).toBeGreaterThan(0);
    await loading;
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });
});

describe('the target', () => {
  it('ending during the window still yields what was sampled, with its own exit code', async () => {
    const server = await startServer();
    const dir = tempDir();
    const out = join(dir, 'ended.json');
    const INTERVAL = 16384;
    const REQUESTS = 200;
    const N = 5000;
    const run = heapscopeAsync([
      'attach',
      String(server.pid),
      '--interval',
      `${INTERVAL}`,
      '-o',
      out,
    ]);
    await sampling(run);
    await load(server.port, `/orders?n=${N}`, REQUESTS);
    server.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    expect(await server.exited).toBe(42);
    expect(r.stderr).toContain(`pid ${server.pid} has ended`);
    const profile = readProfile(out);
    expect(profile.heapscope?.notes?.join('\n')).toContain('the program ended during the window');
    const truth = REQUESTS * N * PAIR_BYTES;
    const got = bytesAt(profile, 'ordersHandler');
    expect(Math.abs(got - truth), `${got} vs ${truth}`).toBeLessThanOrEqual(
      sampledBound(truth, INTERVAL, REQUESTS),
    );
  });

  it('with a worker thread: listed and profiled through NodeWorker', async () => {
    const server = await startServer(['--worker']);
    const dir = tempDir();
    const INTERVAL = 16384;
    const REQUESTS = 200;
    const N = 5000;
    const run = heapscopeAsync([
      'attach',
      String(server.pid),
      '--interval',
      `${INTERVAL}`,
      '--out-dir',
      dir,
      '--json',
    ]);
    await sampling(run);
    await load(server.port, `/work?n=${N}`, REQUESTS);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { profiles: { path: string; threadId: number }[] };
    const worker = result.profiles.find((p) => p.threadId > 0);
    expect(worker?.path).toBe(join(dir, `heapscope.${server.pid}.${worker?.threadId}.json`));
    const profile = readProfile(worker!.path);
    const truth = REQUESTS * N * PAIR_BYTES;
    const got = bytesAt(profile, 'workerChurn');
    expect(Math.abs(got - truth), `${got} vs ${truth}`).toBeLessThanOrEqual(
      sampledBound(truth, INTERVAL, REQUESTS),
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });

  it('is refused clearly when it is not Node, or not there', () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const r1 = heapscope(['attach', String(sleeper.pid)]);
    sleeper.kill();
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/is not a Node process \(its program is .*sleep\)/);
    const r2 = heapscope(['attach', '999999999']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('no process has pid 999999999');
  });

  it('has its inspector closed by the guard when heapscope is killed (SIGKILL)', async () => {
    const server = await startServer();
    const run = heapscopeAsync(['attach', String(server.pid), '--out-dir', tempDir()]);
    await sampling(run);
    expect(await isListening(server.inspectorPort)).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    const deadline = Date.now() + 30_000;
    while ((await isListening(server.inspectorPort)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await isListening(server.inspectorPort)).toBe(false);
    await load(server.port, '/orders?n=10', 5);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });

  it("is refused when its inspector's port is taken, and sends it no signal", async () => {
    const server = await startServer();
    const blocker = createServer().listen(server.inspectorPort, '127.0.0.1');
    await once(blocker, 'listening');
    const r = await heapscopeAsync(['attach', String(server.pid)]).done;
    blocker.close();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `port ${server.inspectorPort}, where pid ${server.pid} opens its inspector`,
    );
    expect(server.stderr()).not.toContain('Debugger');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });

  it('with an inspector open before (--inspect=0): uses it and leaves it open', async () => {
    const server = await startServer([], ['--inspect=0']);
    const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\//.exec(server.stderr())?.[1]);
    const r = heapscope([
      'attach',
      String(server.pid),
      '--duration',
      '500ms',
      '-q',
      '--out-dir',
      tempDir(),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`the inspector on port ${port} was open before and stays open`);
    expect(await isListening(port)).toBe(true);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });

  it.runIf(HAS_DISABLE_SIGUSR1)('is refused when started with --disable-sigusr1', async () => {
    const server = await startServer([], ['--disable-sigusr1']);
    const r = heapscope(['attach', String(server.pid)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('was started with --disable-sigusr1');
    expect(await isListening(server.inspectorPort)).toBe(false);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });

  it.runIf(process.getuid?.() === 0)('is refused when it belongs to another user', async () => {
    // heapscope as user "nobody" (65534) against a server of this (root) user.
    const server = await startServer();
    const dir = tempDir();
    chmodSync(dir, 0o777);
    const r = spawnSync(NODE, [BIN, 'attach', String(server.pid)], {
      encoding: 'utf8',
      uid: 65534,
      gid: 65534,
      cwd: dir,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`pid ${server.pid} belongs to another user (uid 0)`);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(42);
  });
});

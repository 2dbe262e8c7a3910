/**
 * Real test runners and worker pools under `heapscope run` (test/fixtures/runners): every
 * process and thread that runs the known workload leaves a profile however its runner
 * ends it, the objects counted over all profiles are the ones the workload made, and the
 * tools' own output and exit codes are those of a run without heapscope.
 *
 * Ground truth: each call `allocateKnown(n)` keeps n objects and the array holding them
 * (n + 1 objects, type `object`, live at the end) at the site `allocateKnown`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../src/capture/wait.js';
import type { Profile } from '../../src/model/profile.js';
import {
  endOfType,
  heapscope,
  heapscopeAsync,
  NODE,
  profilesIn,
  ROOT,
  readProfile,
  sitesOf,
  sitesWithBuiltinsOf,
  tempDir,
  WITHOUT_HELPER,
} from '../helpers/heapscope.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runners');
/** A runner's run, profiled and plain, on a loaded 2-core machine. */
const RUNNER_TIMEOUT_MS = 600_000;
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

/** Live objects at `allocateKnown`, over all profiles. */
function keptObjects(profiles: Profile[]): number {
  let n = 0;
  for (const p of profiles)
    for (const pp of sitesOf(p, 'allocateKnown')) n += endOfType(pp, 'object')[1];
  return n;
}

/**
 * The kept objects over all profiles against the truth. V8 still loses the trace of an
 * object now and then (issue 17: 3,001 of 3,002 once in a vitest fork on Node 20; 2,997
 * to 3,001 in vitest threads on Node 24, where a thread's array or some of its objects
 * lose their site), so up to ten may be missing; a lost profile would miss a thousand
 * or more.
 */
function expectKept(profiles: Profile[], truth: number): void {
  const exactEnd = profiles.filter((p) => p.heapscope?.exact.end !== false);
  const kept = keptObjects(exactEnd);
  expect(kept).toBeLessThanOrEqual(truth);
  // A profile whose live-at-end is a lower bound says so (exact.end false): without the
  // native helper a worker thread is tracked through the inspector, whose timer hands out
  // heap-object ids, after which V8 loses the site of objects that move (a vitest thread
  // lost all of them). The allocations at the site are all there: its blocks count instead.
  const lowerBound = profiles.filter((p) => p.heapscope?.exact.end === false);
  const allocated = lowerBound
    .flatMap((p) => sitesOf(p, 'allocateKnown'))
    .reduce((n, pp) => n + pp.totalBlocks, 0);
  expect(kept + allocated).toBeGreaterThanOrEqual(truth - 10);
}

/**
 * A tool's output without heapscope's lines, times and durations blanked and lines sorted:
 * the runners print test files in the order they finish, which varies from run to run.
 */
function normalized(text: string): string {
  return text
    .replace(/\d+:\d+:\d+/g, 'T')
    .replace(/duration_ms:? \d+(\.\d+)?/g, 'duration_ms D')
    .replace(/ \(\d+(\.\d+)?\s?(ms|s)\)/g, '')
    .replace(/\d+(\.\d+)?\s?(ms|s)\b/g, 'D')
    .split('\n')
    .filter((l) => !l.startsWith('heapscope: '))
    .sort()
    .join('\n');
}

function plain(args: string[]) {
  const r = spawnSync(
    NODE,
    args.map((a) => (a === '{NODE}' ? NODE : a)),
    {
      cwd: FIXTURES,
      env: { ...process.env, NO_COLOR: '1' },
      encoding: 'utf8',
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function profiled(args: string[], extra: string[] = []) {
  const dir = tempDir();
  const r = heapscope(['run', '-q', '--out-dir', dir, ...extra, '--', '{NODE}', ...args], {
    cwd: FIXTURES,
  });
  return { ...r, profiles: profilesIn(dir).map(readProfile) };
}

/** Threads of pid's process that left a profile, and the other processes. */
function shape(profiles: Profile[]) {
  return profiles.map((p) => ({ threadId: p.heapscope?.threadId ?? 0, cmd: p.cmd }));
}

describe.each([
  ['vitest 4, forks pool', [VITEST, 'run', '--pool', 'forks'], 2, 0, true],
  ['vitest 4, threads pool', [VITEST, 'run', '--pool', 'threads'], 0, 2, true],
  ['jest 30 with -w 2', [JEST, '-w', '2', '--cacheDirectory', '{CACHE}'], 2, 0, true],
  // Node starts the --test runner's own process without an inspector: without the helper
  // it runs unprofiled, and heapscope says why.
  [
    "node --test (Node's own runner, a process per file)",
    ['--test', 'nt/a.test.cjs', 'nt/b.test.cjs'],
    2,
    0,
    !WITHOUT_HELPER,
  ],
] as const)('%s', (_name, command, workerProcesses, workerThreads, runnerProfiled) => {
  const args = () => command.map((a) => (a === '{CACHE}' ? tempDir('heapscope-jest-') : a));
  it(
    'leaves a profile for every test worker; counts equal the truth; output unchanged',
    () => {
      const r = profiled(args());
      // The parent side that keeps the output unchanged is the same code on both routes:
      // the run without heapscope to compare with is left out of the run without the helper.
      if (!WITHOUT_HELPER) {
        const without = plain(args());
        expect(r.status, r.stderr).toBe(without.status);
        expect(normalized(r.stdout)).toBe(normalized(without.stdout));
        expect(normalized(r.stderr)).toBe(normalized(without.stderr));
      } else {
        expect(r.status, r.stderr).toBe(0);
      }
      if (runnerProfiled) {
        expect(r.stderr).not.toContain('no profile');
      } else {
        const missing = r.stderr.split('\n').filter((l) => l.includes('no profile'));
        expect(missing).toHaveLength(1);
        expect(missing[0]).toMatch(/--test .*without a V8::Inspector/);
      }
      // Each worker's line names what it runs (Node 26's runner hands its test file
      // processes 30-odd options; heapscope's own --require among them is left out).
      expect(r.stderr).not.toMatch(/--require[= ]\S*agent\.cjs/);
      const workers = shape(r.profiles);
      expect(workers.filter((w) => w.threadId > 0).length).toBeGreaterThanOrEqual(workerThreads);
      expect(workers.filter((w) => w.threadId === 0).length).toBeGreaterThanOrEqual(
        (runnerProfiled ? 1 : 0) + workerProcesses,
      );
      expectKept(r.profiles, 1_000 + 1 + 2_000 + 1);
    },
    RUNNER_TIMEOUT_MS,
  );
});

describe('worker pools and threads', () => {
  it('piscina: both threads of a destroyed pool leave their profiles', () => {
    const r = profiled(['piscina.mjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('piscina tasks made 1000 + 2000 objects\n');
    expect(r.stderr).not.toContain('no profile');
    expect(shape(r.profiles).filter((w) => w.threadId > 0)).toHaveLength(2);
    expectKept(r.profiles, 1_000 + 1 + 2_000 + 1);
  });

  // Sampled mode does not use the helper: its run without it would repeat this one.
  it.skipIf(WITHOUT_HELPER)(
    'piscina in sampled mode: both threads leave an estimate within its stated error',
    () => {
      const interval = 256;
      const exact = profiled(['piscina.mjs']);
      const sampled = profiled(['piscina.mjs'], ['--sample', String(interval)]);
      expect(sampled.status, sampled.stderr).toBe(0);
      expect(sampled.stderr).not.toContain('no profile');
      const bytes = (ps: Profile[]) =>
        ps
          .flatMap((p) => sitesWithBuiltinsOf(p, 'allocateKnown'))
          .reduce((a, pp) => a + pp.totalBytes, 0);
      const truth = bytes(exact.profiles);
      // One standard error is sqrt(interval / bytes) of the bytes (sampled-run.ts); five allowed.
      const bound = 5 * Math.sqrt(interval / truth) * truth;
      expect(shape(sampled.profiles).filter((w) => w.threadId > 0)).toHaveLength(2);
      expect(Math.abs(bytes(sampled.profiles) - truth)).toBeLessThan(bound);
    },
  );

  // vitest compiles test modules with a negative column offset: V8's sampler writes
  // columns such as -209, which the sampled profile's reader must take.
  it.skipIf(WITHOUT_HELPER)(
    'vitest forks in sampled mode: both test workers leave an estimate with the site',
    () => {
      const r = profiled([VITEST, 'run', '--pool', 'forks'], ['--sample', '4096']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('no profile');
      const workers = r.profiles.filter((p) => p.cmd.includes('forks.js'));
      expect(workers).toHaveLength(2);
      // 1,001 and 2,001 objects of about 40 bytes: 10 and 20 samples expected at 4 KiB.
      for (const p of workers) {
        const bytes = sitesOf(p, 'allocateKnown').reduce((n, pp) => n + pp.totalBytes, 0);
        expect(bytes).toBeGreaterThan(0);
      }
    },
    RUNNER_TIMEOUT_MS,
  );

  it('worker.terminate() after the worker answered: the thread leaves its profile', () => {
    const r = profiled(['terminate.cjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('worker made 3000 objects\nterminate() resolved with 1\n');
    expect(shape(r.profiles).filter((w) => w.threadId > 0)).toHaveLength(1);
    expectKept(r.profiles, 3_000 + 1);
  });

  it("process.kill(pid): SIGTERM, then SIGKILL 100 ms later, held until the child's profile is written", () => {
    const r = profiled(['process-kill.cjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('child made 2000 objects\nchild ended by SIGTERM\n');
    expect(r.stderr).not.toContain('no profile');
    expect(r.profiles).toHaveLength(2);
    expectKept(r.profiles, 2_000 + 1);
  });

  it("execFile's callback reads the child's whole output, its exit listener's line included", () => {
    const r = profiled(['exec-callback.cjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('parent read: child kept 3000\nchild exit listener: bye\n');
    expect(r.profiles).toHaveLength(2);
    expectKept(r.profiles, 3_000 + 1);
  });

  it('a detached child that outlives its parent: run waits for it and profiles it', () => {
    const r = profiled(['detached.cjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.profiles).toHaveLength(2);
    expectKept(r.profiles, 4_000 + 1);
  });

  it('--no-wait: returns when the parent ends and says which process still runs', () => {
    const r = profiled(['detached.cjs', '20000'], ['--no-wait']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.profiles).toHaveLength(1);
    expect(r.stderr).toMatch(/pid \d+ \(.*detached-child\.cjs 20000\) still runs \(--no-wait\)/);
  });
});

describe('heapscope run itself killed with SIGKILL', () => {
  it('its targets (process, child, worker thread) end and leave no session file behind', async () => {
    const tmp = tempDir('heapscope-tmpdir-');
    const run = heapscopeAsync(
      ['run', '-q', '--out-dir', tempDir(), '--', '{NODE}', 'idle-family.cjs'],
      { cwd: FIXTURES, env: { TMPDIR: tmp } },
    );
    await until(() => run.output().stdout.includes('ready'));
    const [session] = readdirSync(tmp);
    const pids = readdirSync(join(tmp, session!))
      .filter((n) => n.endsWith('.0.started.json'))
      .map((n) => Number(n.split('.')[0]));
    expect(pids).toHaveLength(2);
    run.child.kill('SIGKILL');
    await run.done;
    await until(() => pids.every((pid) => !isAlive(pid)) && readdirSync(tmp).length === 0);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

/** Resolves when `done()` holds; the test's own timeout bounds the wait. */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (done()) {
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
}

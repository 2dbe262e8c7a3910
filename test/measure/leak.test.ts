// checkLeak: a function that leaks one object per call is found, with the site that
// allocated the object; one that does not leak is not flagged. Ten runs of each in a
// child process, fifteen more with V8's compiles delayed, a leak hidden by a fall of the
// heap, plus async functions and step-wise growth here. Needs `npm run build`.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLeak } from '../../dist/index.js';
import { NODE, ROOT } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/leak-runs.mjs', import.meta.url));
const hiddenFixture = fileURLToPath(new URL('./fixtures/leak-hidden.mjs', import.meta.url));
/** The line of leak-runs.mjs whose arrow function calls handleLeaky. */
const CALLER_LINE =
  readFileSync(fixture, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('checkLeak(() => handleLeaky(')) + 1;
/** Where the leaked objects are allocated: handleLeaky, or its caller when V8 inlined it. */
const LEAK_SITE = new RegExp(
  `^(handleLeaky \\(test/measure/fixtures/leak-runs\\.mjs:\\d+:\\d+\\)|\\(anonymous\\) \\(test/measure/fixtures/leak-runs\\.mjs:${CALLER_LINE}:\\d+\\))$`,
);

interface Run {
  leaky: {
    leaking: boolean;
    bytesPerIteration: number;
    consistency: number;
    exact?: { iterations: number; bytesPerIteration: number };
    sites: { stack: string[]; retainedBlocks: number }[];
    sitesError?: string;
  };
  clean: { leaking: boolean; bytesPerIteration: number; rates: number[] };
}

/** A check of leak-hidden.mjs. */
interface Hidden {
  leaking: boolean;
  bytesPerIteration: number;
  growth: number[];
  exact?: { iterations: number; bytesPerIteration: number };
  sites: { stack: string[]; retainedBlocks: number }[];
}

/** The fixture's checks, `count` of each function, in a child Node with `flags`. */
function fixtureRuns(count: number, flags: string[] = []): Run[] {
  const r = spawnSync(NODE, [...flags, fixture, String(count)], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const runs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Run);
  expect(runs).toHaveLength(count);
  return runs;
}

describe('checkLeak', () => {
  it('finds a one-object-per-call leak and its site, and flags no clean function, 10 times out of 10', () => {
    // Each run's figures are exact (the exact step counts the kept objects), so ten runs
    // are enough to show the verdict and the counts hold run after run; the late-compile
    // case below adds fifteen checks of each function under a harder load.
    const runs = fixtureRuns(10);
    for (const run of runs) {
      const context = JSON.stringify(run);
      expect(run.leaky.leaking, context).toBe(true);
      expect(run.leaky.sitesError).toBeUndefined();
      // `{ id, at }`: 40 bytes; the array holding them grows by 8 bytes per element too.
      // When a fall of the heap hid the growth, the figure is the exact step's, and the
      // array's new backing store (twice the old one) may be in it.
      expect(run.leaky.bytesPerIteration).toBeGreaterThanOrEqual(40);
      if (run.leaky.bytesPerIteration !== run.leaky.exact?.bytesPerIteration)
        expect(run.leaky.bytesPerIteration).toBeLessThan(40 + 64);
      // Where the growth is kept: handleLeaky, which allocates the objects and pushes
      // them into the array. The exact step's second phase ran twice as many calls as
      // ran before it (2 × (10 warm-up + 50), or 2 × 760 after a confirmation run): one
      // object more each, and the array's backing store when it grew there.
      // V8 may inline handleLeaky into its caller while the exact step's calls run
      // (optimized code is dropped at its start and comes back): the caller's frame is
      // then the allocating one, for all of them (1 run in 20) or for the calls after
      // the inlining (14 of 120 in one run): the objects are counted at both sites.
      expect(run.leaky.sites[0]!.stack[0], context).toMatch(LEAK_SITE);
      const objects = run.leaky.sites
        .filter((s) => LEAK_SITE.test(s.stack[0]!))
        .reduce((n, s) => n + s.retainedBlocks, 0);
      const calls = run.leaky.exact!.iterations;
      expect([120, 1520], context).toContain(calls);
      expect(objects, context).toBeGreaterThanOrEqual(calls);
      expect(objects, context).toBeLessThanOrEqual(calls + 1);
      for (const s of run.leaky.sites) expect(s.stack.join(' <- ')).toMatch(/leak-runs\.mjs:\d+/);
      expect(run.clean.leaking).toBe(false);
      expect(run.clean.bytesPerIteration).toBe(0);
    }
  }, 300_000);

  it('finds a leak whose growth a fall of the heap hides, and calls no bounded cache leaking', () => {
    // test/measure/fixtures/leak-hidden.mjs: in the check's last interval a megabyte
    // kept from before is let go. The heap then ends lower than it started: only the
    // exact step can tell the leaky function (one `{ id, at }` kept per call) from the
    // clean one (a cache of at most 16 objects, emptied when full).
    const r = spawnSync(NODE, [hiddenFixture], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { leaky, clean } = JSON.parse(r.stdout) as Record<'leaky' | 'clean', Hidden>;
    const context = JSON.stringify({ leaky, clean });
    for (const c of [leaky, clean]) expect(c.growth.at(-1), context).toBeLessThan(-500_000);
    expect(leaky.leaking, context).toBe(true);
    // The exact step ran 2 × (10 warm-up + 50) calls between its snapshots, one object
    // kept by each (the array's backing store may grow there too).
    expect(leaky.exact?.iterations).toBe(120);
    expect(leaky.exact!.bytesPerIteration, context).toBeGreaterThanOrEqual(40);
    expect(leaky.bytesPerIteration).toBe(leaky.exact!.bytesPerIteration);
    expect(leaky.sites[0]!.stack[0], context).toMatch(
      /^\(anonymous\) \(test\/measure\/fixtures\/leak-hidden\.mjs:\d+:\d+\)$/,
    );
    expect(leaky.sites[0]!.retainedBlocks, context).toBeGreaterThanOrEqual(120);
    expect(leaky.sites[0]!.retainedBlocks, context).toBeLessThanOrEqual(121);
    // The cache's heap rose between checkpoints and fell at each emptying: the exact step
    // ran, and the cache holds fewer of its objects at the second snapshot than at the first.
    expect(clean.leaking, context).toBe(false);
    expect(clean.exact?.iterations).toBe(120);
    expect(clean.exact!.bytesPerIteration, context).toBeLessThan(8);
    expect(clean.bytesPerIteration).toBe(0);
  }, 120_000);

  it('checks async functions', async () => {
    const kept: object[] = [];
    const leaky = async () => {
      await new Promise((r) => setImmediate(r));
      kept.push({ at: kept.length });
    };
    const clean = async () => {
      await new Promise((r) => setImmediate(r));
      return { at: 1 };
    };
    const a = await checkLeak(leaky);
    expect(a.leaking, JSON.stringify(a.intervalRates)).toBe(true);
    const site = a.sites.find((s) => s.stack[0]!.startsWith('leaky '));
    expect(site?.stack[0]).toMatch(/^leaky \(test\/measure\/leak\.test\.ts:\d+:\d+\)$/);
    const b = await checkLeak(clean, { sites: false });
    expect(b.leaking).toBe(false);
  });

  it('confirms growth that comes in steps (a Map whose table doubles)', async () => {
    const map = new Map<number, number>();
    let i = 0;
    const r = await checkLeak(() => map.set(i++, i), { iterations: 50, sites: false });
    expect(r.leaking).toBe(true);
    // Entries go into the table itself (no object per entry): few intervals grow, so the
    // verdict comes from the confirmation run.
    expect(r.confirmation?.iterations).toBe(50 * (2 + 4 + 8));
    expect(r.confirmation?.phaseRates.every((rate) => rate > 8)).toBe(true);
    // The exact step ran as many calls as before it (10 warm-up, 50, 700), then twice
    // as many between its snapshots, and the table's growth there is the program's: the
    // doubled table (a JavaScript value), well over half the threshold per call.
    expect(r.exact?.iterations).toBe(2 * (10 + 50 + 700));
    expect(r.exact?.bytesPerIteration).toBeGreaterThan(8);
  });

  it('flags no clean function while V8 compiles late, and still finds the leak', () => {
    // V8's background compiler slowed down by 200 ms: code and its metadata arrive in
    // the middle of the checks, in steps, and V8 lets go of megabytes of its own data
    // now and then (falls of 2–4 MB within a check are seen here). Without the exact
    // step clean functions were flagged in 7 of 60 such checks. With it running only
    // when the heap grew, the leak was missed in up to 6 of 15: the heap showed no
    // growth, as when a fall hides it (the case above, made deterministic).
    const runs = fixtureRuns(15, ['--concurrent-recompilation-delay=200']);
    for (const run of runs) {
      const context = JSON.stringify(run);
      expect(run.clean.leaking, context).toBe(false);
      expect(run.leaky.leaking, context).toBe(true);
    }
  }, 600_000);
});

// checkLeak: a function that leaks one object per call is found, with the site that
// allocated the object; one that does not leak is not flagged. Twenty runs of each in
// a child process (not flaky), plus async functions and step-wise growth here.
// Needs `npm run build`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLeak } from '../../dist/index.js';
import { NODE, ROOT } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/leak-runs.mjs', import.meta.url));

interface Run {
  leaky: {
    leaking: boolean;
    bytesPerIteration: number;
    consistency: number;
    sites: { stack: string[]; retainedBlocks: number }[];
    sitesError?: string;
  };
  clean: { leaking: boolean; bytesPerIteration: number; rates: number[] };
}

describe('checkLeak', () => {
  it('finds a one-object-per-call leak and its site, and flags no clean function, 20 times out of 20', () => {
    const r = spawnSync(NODE, [fixture, '20'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const runs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Run);
    expect(runs).toHaveLength(20);
    for (const run of runs) {
      const context = JSON.stringify(run);
      expect(run.leaky.leaking, context).toBe(true);
      expect(run.leaky.sitesError).toBeUndefined();
      // `{ id, at }`: 40 bytes; the array holding them grows by 8 bytes per element too.
      expect(run.leaky.bytesPerIteration).toBeGreaterThanOrEqual(40);
      expect(run.leaky.bytesPerIteration).toBeLessThan(40 + 64);
      // Sites of the growth: the objects, allocated in handleLeaky (the exact run's 20
      // calls left exactly 20 behind), and the array's backing store when it grew there.
      const objects = run.leaky.sites.find((s) => s.stack[0]!.startsWith('handleLeaky '));
      expect(objects, context).toBeDefined();
      expect(objects!.stack[0]).toMatch(
        /^handleLeaky \(test\/measure\/fixtures\/leak-runs\.mjs:\d+:\d+\)$/,
      );
      expect(objects!.retainedBlocks).toBe(20);
      for (const s of run.leaky.sites) expect(s.stack.join(' <- ')).toMatch(/handleLeaky/);
      expect(run.clean.leaking).toBe(false);
      expect(run.clean.bytesPerIteration).toBe(0);
    }
  });

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
  });
});

// Cheap mode in a process whose young generation is small (1 MB): the workload's calls
// meet scavenges, and on Node 20 V8 then pretenured the literal's allocation site.
// Objects it allocated straight into old space were miscounted (calls seen up to 35%
// *under* what they allocate). heapscope switches pretenuring off when it is loaded.
// Needs `npm run build`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/young-generation.mjs', import.meta.url));

function run(calls: number, n: number): { allocated: number[]; gcs: number[] } {
  const r = spawnSync(NODE, ['--max-semi-space-size=1', fixture, String(calls), String(n)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('cheap mode with a small young generation', () => {
  it.each([10_000, 30_000])('counts what %i literal objects allocate, never less', (n) => {
    const { allocated, gcs } = run(9, n);
    // 48 + 48n in optimized code; unoptimized code adds a 16-byte memento per literal
    // (and the call that switches tiers lies in between). Every call within that range,
    // give or take the stated 1 KB of a call without GCs (V8 housekeeping) and, in a
    // call that met a GC, ±0.5% of what the GC freed (here: at most the call's bytes).
    const least = 48 + 48 * n;
    const most = 48 + 64 * n;
    allocated.forEach((a, i) => {
      const slack = 1024 + (gcs[i]! > 0 ? 0.005 * most : 0);
      expect(a, JSON.stringify(allocated)).toBeGreaterThanOrEqual(least - slack);
      expect(a, JSON.stringify(allocated)).toBeLessThanOrEqual(most + slack);
    });
    // 30,000 objects (1.4 MB) do not fit in the young generation: each call meets a
    // scavenge, so the count across GCs is what is checked there.
    if (n === 30_000) expect(Math.min(...gcs)).toBeGreaterThan(0);
  });
});

/**
 * A trace loss V8 really makes (docs/accuracy.md, "Trace loss: the cause"): an array V8
 * shrinks in place gets a heap-object id, V8 does not move the trace of an object that
 * has an id, and the id stays at the address after the array dies. N shortened arrays
 * die, then makePairs keeps N pairs: some pairs lose their site. Every one of them must
 * be counted under the explicit program point, never dropped; without the shortening
 * the same program is exact.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNTRACED_SITE_FRAME } from '../../src/model/frame.js';
import type { Profile } from '../../src/model/profile.js';
import {
  endOfType,
  heapscope,
  readProfile,
  siteOf,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

const N = 20_000;

function run(mode: 'pairs' | 'control'): Profile {
  const out = join(tempDir(), `${mode}.json`);
  const r = heapscope([
    'run',
    '--quiet',
    '-o',
    out,
    '--',
    '{NODE}',
    workload('trimmed-arrays.js'),
    mode,
    String(N),
  ]);
  expect(r.status, r.stderr).toBe(0);
  return readProfile(out);
}

function untracedBlocks(profile: Profile): number {
  const pp = profile.programPoints.find((p) => profile.frames[p.stack[0]!] === UNTRACED_SITE_FRAME);
  return pp?.endBlocks ?? 0;
}

describe(`${N} pairs kept after ${N} shortened arrays died`, () => {
  let pairs: Profile;
  let control: Profile;
  beforeAll(() => {
    pairs = run('pairs');
    control = run('control');
  }, 120_000);

  it('counts the pairs whose site V8 lost under the explicit program point', () => {
    const atSite = endOfType(siteOf(pairs, 'makePairs'), 'object')[1];
    const untraced = untracedBlocks(pairs);
    // V8 20 to 26 lose 893 to 1,566 of 20,000 here (docs/accuracy.md); a V8 that stops
    // losing them fails this line, and the docs must say so.
    expect(untraced).toBeGreaterThan(0);
    expect(atSite).toBeLessThan(N);
    // The lost pairs are all counted: at most 1% elsewhere. A few take the site of a dead
    // object instead (12 to 24 in the runs measured on Node 24 and 26, none on 20 and 22).
    expect(atSite + untraced).toBeGreaterThanOrEqual(N - N / 100);
    expect(pairs.heapscope?.exact.end).toBe(false);
    expect(pairs.heapscope?.notes?.join('\n')).toContain(`${untraced} live objects`);
  });

  it('is exact when no array is shortened', () => {
    expect(endOfType(siteOf(control, 'makePairs'), 'object')[1]).toBe(N);
    expect(untracedBlocks(control)).toBe(0);
    expect(control.heapscope?.exact.end).toBe(true);
  });
});

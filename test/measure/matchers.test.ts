// heapscope's vitest matchers (heapscope/vitest, here from dist/) in this repo's own
// vitest run: they pass and fail where they should, synchronously for synchronous
// functions, and a failure explains itself with the figure, the limit, the sites and a
// saved profile. Needs `npm run build`.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../dist/measure/vitest.js';
import { readDhat } from '../../dist/index.js';
import { tempDir } from '../helpers/heapscope.js';

/** N `{a, b}` objects: 40 bytes each, plus the array (48 + 8N). */
function buildPairs(n: number): { a: number; b: number }[] {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = { a: i, b: i };
  return a;
}
const leaked: object[] = [];
function leakOne(): void {
  leaked.push({ at: leaked.length });
}
const cache = new Map([[1, { value: 1 }]]);

let dir = '';
beforeAll(() => {
  dir = tempDir('heapscope-matchers-');
  process.env.HEAPSCOPE_PROFILE_DIR = dir;
});
afterAll(() => {
  delete process.env.HEAPSCOPE_PROFILE_DIR;
  rmSync(dir, { recursive: true, force: true });
});

/** The message a matcher failed with. */
function failure(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the matcher did not fail');
}

function savedProfile(message: string): string {
  const m = /Profile saved to (\S+\.dhat\.json)/.exec(message);
  expect(m, message).not.toBeNull();
  expect(existsSync(m![1]!)).toBe(true);
  return m![1]!;
}

describe('toAllocateAtMost', () => {
  it('passes under the limit, synchronously', () => {
    const r: unknown = expect(() => buildPairs(100)).toAllocateAtMost(64 * 1024);
    // Not a promise: no `await` needed for a synchronous function.
    expect(typeof (r as { then?: unknown })?.then).not.toBe('function');
    expect(() => buildPairs(10_000)).not.toAllocateAtMost(1024);
  });

  it('fails over the limit with the figure, the limit, the sites and a profile', () => {
    const message = failure(() => expect(() => buildPairs(10_000)).toAllocateAtMost(100_000));
    expect(message).toMatch(/expected the function to allocate at most 100,000 bytes/);
    const allocated = Number(/Allocated: ([\d,]+) bytes/.exec(message)![1]!.replace(/,/g, ''));
    expect(allocated).toBeGreaterThanOrEqual(10_000 * 40);
    expect(message).toMatch(/Limit: +100,000 bytes/);
    expect(message).toMatch(/Top allocation sites/);
    expect(message).toMatch(
      /B in 10,0\d\d allocations at buildPairs \(test\/measure\/matchers\.test\.ts:\d+:\d+\)/,
    );
    const profile = readDhat(readFileSync(savedProfile(message), 'utf8'));
    expect(profile.frames.some((f) => f.startsWith('buildPairs '))).toBe(true);
  });

  it('awaits async functions', async () => {
    await expect(async () => buildPairs(100)).toAllocateAtMost(64 * 1024);
    await expect(expect(async () => buildPairs(10_000)).toAllocateAtMost(1024)).rejects.toThrow(
      /Allocated: [\d,]+ bytes/,
    );
  });
});

describe('toRetainAtMost', () => {
  it('passes when nothing stays, fails when something does', () => {
    expect(() => cache.get(1)).toRetainAtMost(0);
    const message = failure(() => expect(() => leakOne()).toRetainAtMost(0));
    expect(message).toMatch(/Retained: [\d,]+ bytes/);
    expect(message).toMatch(/Top retaining sites/);
    expect(message).toMatch(/retained in 1 objects at leakOne \(test\/measure\/matchers\.test\.ts/);
    savedProfile(message);
  });
});

describe('toLeak', () => {
  it('passes .not for a clean function, fails it for a leaking one with its site', () => {
    expect(() => JSON.stringify(cache.get(1))).not.toLeak();
    const message = failure(() => expect(() => leakOne()).not.toLeak());
    expect(message).toMatch(/expected the function not to leak/);
    expect(message).toMatch(/Leaked: \d+ bytes per call/);
    expect(message).toMatch(/at leakOne \(test\/measure\/matchers\.test\.ts:\d+:\d+\)/);
    const profile = readDhat(readFileSync(savedProfile(message), 'utf8'));
    expect(profile.frames.some((f) => f.startsWith('leakOne '))).toBe(true);
    expect(() => leakOne()).toLeak({ sites: false });
  });
});

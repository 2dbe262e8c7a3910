/**
 * Heap assertions for node:test (or any runner): each throws an `AssertionError` with
 * the figure, the limit, the top allocation sites and the path of a saved DHAT profile.
 *
 * ```ts
 * import { test } from 'node:test';
 * import { assertAllocatesAtMost, assertNoLeak } from 'heapscope/node-test';
 * test('parse', () => {
 *   assertAllocatesAtMost(() => parse(input), 64 * 1024);
 * });
 * test('handler', async () => {
 *   await assertNoLeak(async () => handler(req));   // async functions: await
 * });
 * ```
 * Synchronous for a synchronous function; a promise for an async one.
 * @module
 */
import { AssertionError } from 'node:assert';
import {
  checkAllocatesAtMost,
  checkLeaks,
  checkRetainsAtMost,
  type HeapCheck,
  type LimitOptions,
} from './assertions.js';
import type { LeakOptions } from './leak.js';
import type { HeapMatcherReturn } from './matchers.js';
import { isThenable } from './region.js';

function enforce<F>(
  check: HeapCheck | Promise<HeapCheck>,
  expectPass: boolean,
  operator: string,
  caller: (...args: never[]) => unknown,
): HeapMatcherReturn<F> {
  const verdict = (c: HeapCheck): void => {
    if (c.pass !== expectPass) {
      throw new AssertionError({
        message: c.message,
        actual: c.figure,
        expected: c.limit,
        operator,
        stackStartFn: caller,
      });
    }
  };
  return (
    isThenable(check) ? (check as Promise<HeapCheck>).then(verdict) : verdict(check as HeapCheck)
  ) as HeapMatcherReturn<F>;
}

/** Asserts that one call of `fn` allocates at most `bytes` (cheap mode, after one warm-up call). */
export function assertAllocatesAtMost<F extends () => unknown>(
  fn: F,
  bytes: number,
  options: LimitOptions = {},
): HeapMatcherReturn<F> {
  return enforce<F>(
    checkAllocatesAtMost(fn, bytes, options),
    true,
    'allocatesAtMost',
    assertAllocatesAtMost,
  );
}

/** Asserts that one call of `fn` leaves at most `bytes` reachable, its return value included. */
export function assertRetainsAtMost<F extends () => unknown>(
  fn: F,
  bytes: number,
  options: LimitOptions = {},
): HeapMatcherReturn<F> {
  return enforce<F>(
    checkRetainsAtMost(fn, bytes, options),
    true,
    'retainsAtMost',
    assertRetainsAtMost,
  );
}

/** Asserts that `fn` does not leak (see checkLeak for the statistics). */
export function assertNoLeak<F extends () => unknown>(
  fn: F,
  options: LeakOptions = {},
): HeapMatcherReturn<F> {
  return enforce<F>(checkLeaks(fn, options, { negated: true }), false, 'noLeak', assertNoLeak);
}

/** Asserts that `fn` leaks (for tests of leak detection itself). */
export function assertLeaks<F extends () => unknown>(
  fn: F,
  options: LeakOptions = {},
): HeapMatcherReturn<F> {
  return enforce<F>(checkLeaks(fn, options, { negated: false }), true, 'leaks', assertLeaks);
}

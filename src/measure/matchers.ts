// The matcher functions shared by heapscope/vitest and heapscope/jest: the same
// `(this, received, ...expected) => { pass, message }` shape in both runners.

import {
  checkAllocatesAtMost,
  checkLeaks,
  checkRetainsAtMost,
  type HeapCheck,
  type LimitOptions,
} from './assertions.js';
import type { LeakOptions } from './leak.js';
import { isThenable } from './region.js';

/** What both runners pass as `this` to a matcher (the part heapscope uses). */
interface MatcherThis {
  isNot: boolean;
  currentTestName?: string;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
  actual?: unknown;
  expected?: unknown;
}

function toResult(check: HeapCheck | Promise<HeapCheck>): MatcherResult | Promise<MatcherResult> {
  const convert = (c: HeapCheck): MatcherResult => ({
    pass: c.pass,
    message: () => c.message,
    actual: c.figure,
    ...(c.limit !== undefined ? { expected: c.limit } : {}),
  });
  return isThenable(check)
    ? (check as Promise<HeapCheck>).then(convert)
    : convert(check as HeapCheck);
}

/** Matchers for `expect.extend()`. Each is synchronous for a synchronous function. */
export const heapMatchers = {
  toAllocateAtMost(
    this: MatcherThis,
    received: () => unknown,
    bytes: number,
    options?: LimitOptions,
  ) {
    return toResult(
      checkAllocatesAtMost(received, bytes, options, {
        negated: this.isNot,
        ...(this.currentTestName ? { label: this.currentTestName } : {}),
      }),
    );
  },
  toRetainAtMost(
    this: MatcherThis,
    received: () => unknown,
    bytes: number,
    options?: LimitOptions,
  ) {
    return toResult(
      checkRetainsAtMost(received, bytes, options, {
        negated: this.isNot,
        ...(this.currentTestName ? { label: this.currentTestName } : {}),
      }),
    );
  },
  toLeak(this: MatcherThis, received: () => unknown, options?: LeakOptions) {
    return toResult(
      checkLeaks(received, options, {
        negated: this.isNot,
        ...(this.currentTestName ? { label: this.currentTestName } : {}),
      }),
    );
  },
};

/** A matcher's result: a promise when the function under test is async. */
export type HeapMatcherReturn<F, R = void> = F extends () => PromiseLike<unknown> ? Promise<R> : R;

/**
 * heapscope's matchers for jest. Load it in `setupFilesAfterEnv`:
 *
 * ```js
 * // jest.config.js: setupFilesAfterEnv: ['heapscope/jest']
 * expect(() => parse(input)).toAllocateAtMost(64 * 1024);
 * expect(() => handler(req)).not.toLeak();
 * ```
 *
 * heapscope is an ES module: run jest with `NODE_OPTIONS=--experimental-vm-modules`
 * (jest's ESM mode). Matchers are synchronous for synchronous functions; `await` them
 * for async ones.
 * @module
 */
import type { LimitOptions } from './assertions.js';
import type { LeakOptions } from './leak.js';
import { type HeapMatcherReturn, heapMatchers } from './matchers.js';

interface JestExpect {
  extend(matchers: Record<string, unknown>): void;
}

const jestExpect = (globalThis as { expect?: JestExpect }).expect;
if (!jestExpect || typeof jestExpect.extend !== 'function') {
  throw new Error(
    'heapscope/jest: no global `expect`; load it from jest (setupFilesAfterEnv), not from plain Node',
  );
}
jestExpect.extend(heapMatchers);

declare global {
  namespace jest {
    // biome-ignore lint/complexity/noBannedTypes: must match the other declarations of jest.Matchers
    interface Matchers<R, T = {}> {
      toAllocateAtMost(bytes: number, options?: LimitOptions): HeapMatcherReturn<T, R>;
      toRetainAtMost(bytes: number, options?: LimitOptions): HeapMatcherReturn<T, R>;
      toLeak(options?: LeakOptions): HeapMatcherReturn<T, R>;
    }
  }
}

export { heapMatchers };

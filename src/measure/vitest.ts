/**
 * heapscope's matchers for vitest. Load it once, e.g. in `setupFiles`:
 *
 * ```ts
 * // vitest.config.ts: test: { setupFiles: ['heapscope/vitest'] }
 * expect(() => parse(input)).toAllocateAtMost(64 * 1024);
 * expect(() => cache.get(k)).toRetainAtMost(0);
 * expect(() => handler(req)).not.toLeak();
 * await expect(async () => load()).toAllocateAtMost(1e6); // async functions: await
 * ```
 *
 * A failing matcher prints the figure, the limit and the top allocation sites, and
 * saves a DHAT profile whose path it prints. See `heapscope`'s module docs for the
 * hazards of heap assertions in a test runner.
 * @module
 */
import { expect } from 'vitest';
import type { LimitOptions } from './assertions.js';
import type { LeakOptions } from './leak.js';
import { type HeapMatcherReturn, heapMatchers } from './matchers.js';

expect.extend(heapMatchers);

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's own declaration uses `any`
  interface Matchers<T = any> {
    /** One call of the function allocates at most `bytes` (cheap mode, after one warm-up call). */
    toAllocateAtMost(bytes: number, options?: LimitOptions): HeapMatcherReturn<T>;
    /** One call leaves at most `bytes` reachable, its return value included. */
    toRetainAtMost(bytes: number, options?: LimitOptions): HeapMatcherReturn<T>;
    /** The function leaks: memory stays reachable after every call (use with `.not`). */
    toLeak(options?: LeakOptions): HeapMatcherReturn<T>;
  }
}

export { heapMatchers };

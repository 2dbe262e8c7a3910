/**
 * Measure memory from inside a program: what a call allocates and keeps, where, and
 * whether it leaks. heapscope's answer to dhat-rs and tracking-allocator for Node.
 *
 * ## Motivation
 *
 * A JavaScript program cannot wrap its allocator the way a Rust program wraps
 * `GlobalAlloc`: V8 allocates by bumping a pointer, and only tells how much of its
 * heap is in use. heapscope gets the figures two ways:
 *
 * - **Cheap mode** (the default): V8's heap statistics, read before and after the
 *   code, plus the bytes each GC freed in between (from `v8.GCProfiler`, with GC counts
 *   from heapscope's native helper). The figures cover the heap spaces that hold data:
 *   V8's code spaces are left out. Costs about 0.4 ms a call with `retained: false`;
 *   retained bytes take two full GCs on each side (measured: 23 ms a call with an 8 MB
 *   heap, 300 ms with 100 MB; `bench/measure-cost.mjs`).
 * - **Exact mode** (`{ exact: true }`, `Profiler`): V8's allocation tracker on for the
 *   region only, then a heap snapshot: every allocation with its stack. Slows the code
 *   10–150×, plus the snapshot (measured: 0.4 s a call with an 8 MB heap, 11 s with
 *   100 MB).
 *
 * heapscope's first measurement in a process runs its own code paths once, unmeasured
 * (about half a second, mostly full GCs), so that compiling them does not show.
 *
 * Differences from dhat-rs that you should know:
 *
 * - Figures are bytes of V8's heap. `allocatedBytes` also counts what V8 allocates for
 *   your code while it runs (feedback, deoptimization data; in exact mode, code too):
 *   the first calls of a function are the costliest. Use `warmup`.
 * - Exact mode sees code as V8 compiled it: blocks are allocation *events* (optimized
 *   code may fold several objects into one), a function V8 inlined is charged to its
 *   caller, and objects that escape analysis removed were never allocated: heapscope
 *   leaves inlining and escape analysis on, so that exact mode measures the code that
 *   cheap mode measures. Before each tracked region heapscope makes V8 drop its
 *   optimized code (code optimized earlier can allocate unseen by the tracker); V8
 *   recompiling it during the region adds its metadata to `allocatedBytes`, typically
 *   10–150 KB. What the tracker still misses shows in `untrackedBytes` (seen on Node
 *   26: part of what an awaited async function allocates is charged to heapscope's
 *   awaiting frame).
 * - Side effects on the process, once heapscope's measuring code is loaded: V8's
 *   allocation-site pretenuring is switched off (objects V8 allocated straight into old
 *   space were counted up to a third under on Node 20, and are allocated past the
 *   tracker). It changes where V8 puts long-lived objects, not how many bytes they
 *   take. Once exact mode or a Profiler is first used,
 *   dropping optimized code (through the inspector's precise-coverage switch, the one
 *   way V8 offers) also stops V8 from flushing bytecode and gives every function its
 *   feedback vector.
 * - Peak: cheap mode only knows the heap at GCs, so it gives `peakBytesUpperBound`
 *   (garbage included); the true peak lies between `retainedBytes` and it.
 * - What V8 allocates depends on the tier running the code: unoptimized code puts a
 *   16-byte AllocationMemento behind each object or array literal, optimized code does
 *   not. Both modes count it (it is allocated); warm up until V8 has optimized the
 *   function, which on a busy machine takes longer. Retained figures never include it.
 * - A frame's position is the position of its function, not of the allocating line.
 *
 * Accuracy, per figure (measured on Node 20, 22, 24 and 26, x64):
 *
 * | figure | cheap mode | exact mode |
 * |---|---|---|
 * | `allocatedBytes` | ±0.5% of the bytes GCs freed meanwhile (±0.02% measured on 40 MB); an empty function: 0 in ≥ 90% of calls, within 1 KB in 99%; V8 installing code it compiled in the background during a call counts too (a few KB, rarely); an object that does not fit in the rest of V8's current young-generation page also counts the skipped rest (up to its own size: tens of KB for large arrays) | exact; includes V8's metadata charged to your functions; `untrackedBytes` cross-checks it against the GC statistics |
 * | `retainedBytes` | exact to the byte when V8 does no housekeeping of its own during the call (compiled code is left out; first-call feedback and cache trimming are not) | exact: JavaScript values allocated in the call and reachable at its end |
 * | `peakBytesUpperBound` | an upper bound | the same |
 * | `gcCount`, `externalBytes` | exact counts; external after two full GCs | the same |
 *
 * Node 26's `v8.getHeapStatistics().total_allocated_bytes` is not used: it grows by
 * whole allocation buffers (about 95 KB per reading when idle), 4% over on a 40 MB
 * workload, where GC accounting was within 0.3%.
 *
 * ## Setup
 *
 * ```ts
 * import { measure, measureSync, Profiler, HeapStats, group, checkLeak, compare } from 'heapscope';
 * ```
 *
 * Nothing to configure. heapscope fetches V8's `gc()` itself (no `--expose-gc`) and
 * loads its prebuilt native helper (Linux x64, Node 20–26) when first needed. Without
 * the helper (another platform), cheap mode still works but a GC that strikes within
 * the few hundred bytes heapscope allocates around a reading may be misplaced (results
 * say `approximate: true`), exact mode tracks the region through `node:inspector` in
 * the same thread (README: "Without the native helper"), and `Profiler` is unavailable.
 *
 * ## Running
 *
 * ```ts
 * const s = await measure(() => parse(input));            // sync or async function
 * s.allocatedBytes; s.retainedBytes; s.peakBytesUpperBound; s.gcCount; s.externalBytes;
 *
 * const p = await measure(() => parse(input), { exact: true, warmup: 1 });
 * p.allocatedBlocks; p.sites[0].stack;                    // per call site, exact
 *
 * const op = await measure(() => map.set(k(), v()), { iterations: 100_000 });
 * op.allocatedBytesPerOp; op.allocatedBytesPerOpSpread;    // median, min, max over batches
 *
 * const prof = Profiler.start({ file: 'parse.dhat.json' });
 * parse(input);
 * const result = await prof.stop();                         // result.summary: dhat-rs's lines
 *
 * HeapStats.get().currBytes;                                // heap in use now
 * group('parse', () => parse(input));                       // totals per group: groupStats()
 * const leak = await checkLeak(() => handler(req), { iterations: 50 });
 * await compare({ Map: () => buildMap(n), Object: () => buildObj(n) }, { elements: n });
 * ```
 *
 * The measuring code does not show in the figures: everything heapscope does between
 * its readings is bookkeeping that regions subtract (dhat-rs's `IgnoreAllocs`), and what
 * leaks out of it is measured on an empty function and subtracted.
 *
 * Groups nest: an inner group's bytes count in the outer one too, and the inner one has
 * its own record. Counters are process-wide: while an async function awaits, whatever
 * else runs is counted as well, so groups open at the same time (overlapping async
 * calls) each count the other's allocations.
 *
 * ## Viewing
 *
 * `Profiler` writes DHAT JSON, as do failing assertions: `heapscope report file.json`
 * prints the top sites, and Valgrind's `dh_view.html` opens the file.
 *
 * ## Heap usage testing
 *
 * ```ts
 * // vitest: setupFiles: ['heapscope/vitest']; jest: setupFilesAfterEnv: ['heapscope/jest']
 * expect(() => parse(input)).toAllocateAtMost(64 * 1024);
 * expect(() => cache.get(k)).toRetainAtMost(0);
 * expect(() => handler(req)).not.toLeak();
 * // node:test: import { assertAllocatesAtMost, assertNoLeak } from 'heapscope/node-test'
 * ```
 *
 * A limit check warms the function up with one call, then measures one; a figure over
 * the limit, and any retained figure, is measured twice more and the median kept (V8
 * allocates for a function's first calls on top of what it allocates itself, and its
 * housekeeping can free a little during a call). A failing check prints the figure,
 * the limit and the top allocation sites, and saves a DHAT profile (in
 * `$HEAPSCOPE_PROFILE_DIR`, else `<tmpdir>/heapscope`) whose path it prints. The sites
 * come from one more call of the function, in exact mode.
 *
 * Hazards, as dhat-rs warns for Rust:
 *
 * - **The test runner allocates too.** For a synchronous function nothing else runs
 *   during the measurement, so the figures are the function's. While an async function
 *   awaits, the runner's own work (timers, reporting, other tests run concurrently) is
 *   counted too. Prefer synchronous checks; never run heap tests concurrently
 *   (`test.concurrent`).
 * - **State is per process.** A module's caches, V8's compiled code and feedback
 *   persist between tests: the first test to call a function pays for compiling it.
 *   The limit checks warm up with one call by default; keep heap tests in their own
 *   file (vitest and jest run each file in its own worker), ideally one per file, as
 *   dhat-rs recommends.
 * - **One tracker per thread.** Exact mode and `Profiler` use V8's allocation tracker,
 *   which one user at a time may hold (a second start throws), and which is unavailable
 *   in a process running under `heapscope run`. Its heap snapshot takes time with
 *   the heap, and more in some processes: with playwright loaded, V8 took 38 s to
 *   write a 32 MB snapshot (measured here); put exact checks in a file of their own.
 * - **Leak checks call the function many times**: by default 10 warm-up calls, 50
 *   measured ones, when growth came in steps a confirmation run of 700 more, and when
 *   the heap grew, three times as many again as ran so far in exact mode (180 after 60),
 *   which decide and give the sites. A function whose growth comes in rarer steps than
 *   that (a Map that doubles its table) needs more `iterations`.
 *
 * @module
 */

export { adHocEvent } from './ad-hoc.js';
export type { LimitOptions } from './assertions.js';
export {
  type CompareTableOptions,
  type Comparison,
  type ComparisonRow,
  compare,
  renderComparison,
} from './compare.js';
export { type GroupOptions, type GroupStats, group, groupStats, resetGroups } from './group.js';
export { HeapStats, type HeapStatsOptions, type SinceProfilerStart } from './heap-stats.js';
export { checkLeak, type LeakOptions, type LeakResult } from './leak.js';
export {
  type ExactMeasurement,
  type Measurement,
  type MeasureOptions,
  measure,
  measureSync,
  type PerOpMeasurement,
  type PerOpOptions,
  type Spread,
} from './measure.js';
export {
  Profiler,
  type ProfilerMode,
  type ProfilerOptions,
  type ProfilerPhase,
  type ProfilerResult,
} from './profiler.js';
export { formatSites, type Site } from './sites.js';
export { HeapscopeStateError } from './state.js';

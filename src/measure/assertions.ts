// The heap assertions behind the vitest and jest matchers and the node:test helpers:
// one check per assertion, synchronous for a synchronous function (so that
// `expect(fn).toAllocateAtMost(n)` needs no `await`), a promise for an async one.
//
// A limit check calls the function once to warm it up and once measured; a figure over
// the limit (any retained figure) is measured twice more and the median of the three
// kept (V8 allocates for a function's first calls: its feedback, optimized code; its
// housekeeping can free a little during a call). A median still over the limit gets a
// second round of three, and the lower median is kept (V8 installing code it compiled
// late on a busy machine put a clean `cache.get` at 13,696 B retained in two calls of
// three).
//
// A failing assertion explains itself as dhat-rs does: the figure, the limit, the top
// allocation sites, and a DHAT profile saved to a file whose path it prints. The sites
// come from one more run of the function in exact mode (the cheap runs only count
// bytes).

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDhat } from '../formats/dhat.js';
import type { Profile } from '../model/profile.js';
import { count } from '../report/units.js';
import { writeFileAtomicSync } from '../util/atomic-write.js';
import { checkLeakCore, type LeakOptions, type LeakResult } from './leak.js';
import { type ExactMeasurement, type Measurement, measureOnce } from './measure.js';
import { isThenable } from './region.js';
import { formatSites, type Site } from './sites.js';

export type HeapAssertion = 'toAllocateAtMost' | 'toRetainAtMost' | 'toLeak';

/** The outcome of one check. `pass` is whether the function met the condition. */
export interface HeapCheck {
  pass: boolean;
  /** Explains the outcome for the case where the assertion fails (negated or not). */
  message: string;
  /** The measured figure (bytes; bytes per call for a leak check). */
  figure: number;
  /** The limit it was compared with (bytes), if any. */
  limit: number | undefined;
  /** Allocation sites behind the failure, when they were looked for. */
  sites: Site[];
  /** The DHAT profile written for the failure, when one was. */
  profilePath: string | undefined;
}

export interface CheckContext {
  /** Whether the assertion is negated (`expect(fn).not.…`). */
  negated: boolean;
  /** Used in the profile's file name (e.g. the test's name). */
  label?: string;
}

/** Options of toAllocateAtMost / toRetainAtMost. */
export interface LimitOptions {
  /**
   * Calls before the measured one (default 1): the first call of a function compiles it
   * and fills caches, which is seldom what a heap budget is about. 0 measures the first call.
   */
  warmup?: number;
}

let saved = 0;

/** Where failing assertions save profiles: $HEAPSCOPE_PROFILE_DIR, else <tmpdir>/heapscope. */
export function profileDir(): string {
  return process.env.HEAPSCOPE_PROFILE_DIR || join(tmpdir(), 'heapscope');
}

function saveProfile(profile: Profile, assertion: HeapAssertion, label?: string): string {
  const dir = profileDir();
  mkdirSync(dir, { recursive: true });
  const slug = (label ?? '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  const file = join(
    dir,
    `${assertion}${slug ? `-${slug}` : ''}-${process.pid}-${++saved}.dhat.json`,
  );
  writeFileAtomicSync(file, writeDhat(profile));
  return file;
}

function then<A, B>(value: A | Promise<A>, k: (a: A) => B | Promise<B>): B | Promise<B> {
  return isThenable(value) ? (value as Promise<A>).then(k) : k(value as A);
}

function bytes(n: number): string {
  return `${count(n)} bytes`;
}

/** The exact-mode re-run that finds sites and saves a profile; never throws. */
function explain(
  fn: () => unknown,
  assertion: HeapAssertion,
  by: 'allocated' | 'retained',
  label: string | undefined,
):
  | { lines: string[]; sites: Site[]; path?: string }
  | Promise<{ lines: string[]; sites: Site[]; path?: string }> {
  let run: ExactMeasurement<unknown> | Promise<ExactMeasurement<unknown>>;
  const failed = (e: unknown) => ({
    lines: [`(no allocation sites: ${(e as Error).message.split('\n')[0]})`],
    sites: [] as Site[],
  });
  try {
    run = measureOnce(fn, { exact: true }) as
      | ExactMeasurement<unknown>
      | Promise<ExactMeasurement<unknown>>;
  } catch (e) {
    return failed(e);
  }
  const build = (m: ExactMeasurement<unknown>) => {
    const sites =
      by === 'retained'
        ? m.sites
            .filter((s) => s.retainedBytes > 0)
            .sort((a, b) => b.retainedBytes - a.retainedBytes)
        : m.sites;
    const path = saveProfile(m.profile, assertion, label);
    return {
      lines: [
        `Top ${by === 'retained' ? 'retaining' : 'allocation'} sites (a second run of the function, in exact mode):`,
        ...(sites.length
          ? formatSites(sites, { by })
          : ['  (none: the second run did not repeat it)']),
        '',
        `Profile saved to ${path}`,
        '(open it with `heapscope report <file>` or Valgrind’s dh_view.html)',
      ],
      sites,
      path,
    };
  };
  return isThenable(run)
    ? (run as Promise<ExactMeasurement<unknown>>).then(build, failed)
    : build(run);
}

function middleOfThree(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[1]!;
}

function limitCheck(
  fn: () => unknown,
  limit: number,
  options: LimitOptions,
  ctx: CheckContext,
  assertion: 'toAllocateAtMost' | 'toRetainAtMost',
): HeapCheck | Promise<HeapCheck> {
  if (typeof fn !== 'function')
    throw new TypeError(`heapscope: ${assertion} expects a function, got ${typeof fn}`);
  if (!(limit >= 0))
    throw new RangeError(`heapscope: ${assertion} needs a byte limit ≥ 0, got ${limit}`);
  const what = assertion === 'toAllocateAtMost' ? 'allocate' : 'retain';
  const figureOf = (m: Measurement<unknown>) =>
    assertion === 'toAllocateAtMost' ? m.allocatedBytes : m.retainedBytes;
  // Over the limit, measure twice more and keep the median: V8 allocates for a
  // function's first calls (compiling it, its feedback) on top of what it allocates.
  const measureSettled = (figures: number[]): number | Promise<number> => {
    const measured = measureOnce(fn, {
      warmup: figures.length === 0 ? (options.warmup ?? 1) : 0,
    }) as Measurement<unknown> | Promise<Measurement<unknown>>;
    return then(measured, (m) => {
      const all = [...figures, figureOf(m)];
      // Retained bytes are measured three times always: V8's housekeeping can also
      // free a little during a call, which would hide a small retention.
      if (all.length === 1 && all[0]! <= limit && assertion === 'toAllocateAtMost') return all[0]!;
      if (all.length < 3) return measureSettled(all);
      const first = middleOfThree(all.slice(0, 3));
      // A burst of V8's own work (code it compiled late on a busy machine, installed
      // during the calls) can put two calls of three over: a median over the limit gets
      // a second round of three, and the lower median is kept. A function that really
      // goes over does so in both rounds.
      if (all.length === 3 && first <= limit) return first;
      if (all.length < 6) return measureSettled(all);
      return Math.min(first, middleOfThree(all.slice(3)));
    });
  };
  return then(measureSettled([]), (figure) => {
    const pass = figure <= limit;
    const head = [
      `expected the function ${ctx.negated ? 'not ' : ''}to ${what} at most ${bytes(limit)}`,
      '',
      `${assertion === 'toAllocateAtMost' ? 'Allocated' : 'Retained'}: ${bytes(figure)} (cheap mode: ${
        assertion === 'toAllocateAtMost' ? 'GC statistics' : 'heap growth between full GCs'
      })`,
      `Limit:     ${bytes(limit)}`,
    ];
    // Sites only explain a figure over the limit (a failing non-negated assertion).
    if (pass || ctx.negated) {
      return { pass, message: head.join('\n'), figure, limit, sites: [], profilePath: undefined };
    }
    const by = assertion === 'toAllocateAtMost' ? 'allocated' : 'retained';
    return then(explain(fn, assertion, by, ctx.label), (x) => ({
      pass,
      message: [...head, '', ...x.lines].join('\n'),
      figure,
      limit,
      sites: x.sites,
      profilePath: x.path,
    }));
  });
}

/** Checks that one call of `fn` allocates at most `limit` bytes (cheap mode). */
export function checkAllocatesAtMost(
  fn: () => unknown,
  limit: number,
  options: LimitOptions = {},
  ctx: CheckContext = { negated: false },
): HeapCheck | Promise<HeapCheck> {
  return limitCheck(fn, limit, options, ctx, 'toAllocateAtMost');
}

/** Checks that one call of `fn` leaves at most `limit` bytes reachable (its return value included). */
export function checkRetainsAtMost(
  fn: () => unknown,
  limit: number,
  options: LimitOptions = {},
  ctx: CheckContext = { negated: false },
): HeapCheck | Promise<HeapCheck> {
  return limitCheck(fn, limit, options, ctx, 'toRetainAtMost');
}

/** Checks whether `fn` leaks (see checkLeak); `pass` is true when it does. */
export function checkLeaks(
  fn: () => unknown,
  options: LeakOptions = {},
  ctx: CheckContext = { negated: true },
): HeapCheck | Promise<HeapCheck> {
  if (typeof fn !== 'function')
    throw new TypeError(`heapscope: toLeak expects a function, got ${typeof fn}`);
  return then(checkLeakCore(fn, options), (r: LeakResult) => {
    const figure = r.bytesPerIteration;
    const summary = [
      `expected the function ${ctx.negated ? 'not ' : ''}to leak`,
      '',
      r.leaking
        ? `Leaked: ${count(Math.round(figure))} bytes per call (${r.iterations} calls after ${r.warmup} warm-up calls; growth in ${Math.round(r.consistency * 100)}% of ${r.intervalRates.length} intervals)`
        : `No leak: growth ${count(Math.round((r.growth.at(-1) ?? 0) / r.iterations))} bytes per call over ${r.iterations} calls (threshold ${r.thresholdBytes} bytes per call)`,
    ];
    let profilePath: string | undefined;
    const lines: string[] = [];
    if (r.leaking && ctx.negated) {
      if (r.sites.length) {
        lines.push(
          '',
          r.exact
            ? `Sites of the growth (exact step: growth over its last ${count(r.exact.iterations)} calls):`
            : 'Sites of the growth (an exact-mode run; bytes still reachable at its end):',
        );
        lines.push(...formatSites(r.sites, { by: 'retained' }));
      } else if (r.sitesError) {
        lines.push('', `(no allocation sites: ${r.sitesError.split('\n')[0]})`);
      }
      if (r.profile) {
        profilePath = saveProfile(r.profile, 'toLeak', ctx.label);
        lines.push(
          '',
          `Profile saved to ${profilePath}`,
          '(open it with `heapscope report <file>` or Valgrind’s dh_view.html)',
        );
      }
    }
    return {
      pass: r.leaking,
      message: [...summary, ...lines].join('\n'),
      figure,
      limit: undefined,
      sites: r.sites,
      profilePath,
    };
  });
}

// Ad-hoc profiling, like dhat-rs's `ad_hoc_event` and Valgrind's `--mode=ad-hoc`: any
// weighted event the program reports (bytes written to a socket, a cache miss, a retry)
// is counted with the call stack that reported it. The profile is a DHAT ad-hoc file:
// `tb` is the summed weight ("units") and `tbk` the number of events at each stack.

import { frameFormatter, programFrames, StackTable } from '../alloc/stack.js';
import { ProfileBuilder } from '../model/builder.js';
import type { Profile } from '../model/profile.js';
import { HeapscopeStateError } from './state.js';

/** Counts per interned stack, in two growable arrays of doubles (no object per event). */
class AdHocRecorder {
  readonly #stacks: StackTable;
  #weights: Float64Array = new Float64Array(64);
  #events: Float64Array = new Float64Array(64);
  #size = 0;
  readonly #startedMs = performance.now();

  constructor(stackDepth: number) {
    this.#stacks = new StackTable(stackDepth);
  }

  record(weight: number): void {
    const id = this.#stacks.capture(adHocEvent);
    if (id >= this.#weights.length) {
      const n = Math.max(id + 1, this.#weights.length * 2);
      this.#weights = grow(this.#weights, n);
      this.#events = grow(this.#events, n);
    }
    this.#weights[id] = this.#weights[id]! + weight;
    this.#events[id]!++;
    if (id >= this.#size) this.#size = id + 1;
  }

  toProfile(cmd: string, cwd: string): Profile {
    const format = frameFormatter(cwd);
    const builder = new ProfileBuilder({
      mode: 'ad-hoc',
      verb: 'Occurred',
      hasLifetimes: false,
      hasAccesses: false,
      units: { byte: 'unit', bytes: 'units', blocks: 'events' },
      timeUnit: 'µs',
      timeUnitLarge: 's',
      cmd,
      pid: process.pid,
      endTime: Math.round((performance.now() - this.#startedMs) * 1000),
    });
    for (let id = 0; id < this.#size; id++) {
      const events = this.#events[id]!;
      if (events === 0) continue;
      const frames = programFrames(this.#stacks.stacks[id]!).map(format);
      builder.add({
        frames: frames.length > 0 ? frames : ['(no JavaScript frames)'],
        totalBytes: this.#weights[id]!,
        totalBlocks: events,
      });
    }
    return builder.build({
      version: 1,
      capture: 'exact',
      exact: { total: true, end: false, peak: false },
      node: process.version,
      cwd,
      notes: [
        'written by heapscope Profiler in ad-hoc mode: every adHocEvent(weight) between start() and stop()',
        'units are the summed weights, events the number of calls, per call stack',
      ],
    });
  }
}

function grow(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

let recorder: AdHocRecorder | undefined;

/**
 * Records one event of `weight` units (default 1) with the caller's stack, while an
 * ad-hoc Profiler runs (`Profiler.start({ mode: 'ad-hoc' })`); does nothing otherwise.
 * `weight` is a non-negative integer.
 */
export function adHocEvent(weight = 1): void {
  if (!Number.isSafeInteger(weight) || weight < 0) {
    throw new RangeError(
      `heapscope: adHocEvent(weight) takes a non-negative integer, got ${String(weight)}`,
    );
  }
  if (recorder) recorder.record(weight);
}

/** An ad-hoc recording in progress: the Profiler's side of it. */
export interface AdHocRecording {
  /** Ends the recording and returns its profile. */
  finish(cmd: string, cwd: string): Profile;
}

/** Starts recording adHocEvent calls; one recording at a time per thread. */
export function startAdHoc(stackDepth: number): AdHocRecording {
  if (!Number.isInteger(stackDepth) || stackDepth < 1) {
    throw new RangeError(`heapscope: stackDepth must be an integer ≥ 1, got ${stackDepth}`);
  }
  if (recorder) {
    throw new HeapscopeStateError(
      'heapscope: an ad-hoc Profiler is already running in this thread (one at a time; stop it first)',
    );
  }
  const own = new AdHocRecorder(stackDepth);
  recorder = own;
  return {
    finish(cmd, cwd) {
      if (recorder === own) recorder = undefined;
      return own.toProfile(cmd, cwd);
    },
  };
}

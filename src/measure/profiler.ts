// Profiler: dhat-rs's Profiler for Node. Start it, run code, stop it: a DHAT profile of
// everything allocated in between (every allocation tracked, with its stack), which
// `heapscope report`, heapscope's viewer and Valgrind's dh_view open.
//
// In ad-hoc mode (`mode: 'ad-hoc'`), it counts the program's own weighted events
// (adHocEvent, see ad-hoc.ts) per call stack instead, like dhat-rs's ad-hoc profiler;
// it leaves V8's allocation tracker alone.
//
// Lifecycle of one Profiler (at most one of each mode per thread; see state.ts):
//
//   start() ──▶ Running ──stop()──▶ Stopping ──(profile written)──▶ Stopped
//
// stop() on a Profiler that is not Running throws; so does start() while another
// Profiler or an exact measurement holds V8's allocation tracker.

import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PEAK_SAMPLE_INTERVAL } from '../capture/defaults.js';
import { peakFromSample } from '../capture/peak-sample.js';
import { writeDhat } from '../formats/dhat.js';
import { readHeapSnapshot } from '../formats/heapsnapshot/index.js';
import { type PeakEstimate, profileFromTrackedSnapshot } from '../formats/tracked-snapshot.js';
import { totals } from '../model/metrics.js';
import type { Profile } from '../model/profile.js';
import type { NativeAddon } from '../native/addon.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { thisCommandLine } from '../util/command-line.js';
import { type AdHocRecording, startAdHoc } from './ad-hoc.js';
import { deoptimizeAll, frameRoles } from './exact.js';
import { ledger } from './ledger.js';
import { enterRegion, exitRegion, type Region, type RegionFigures } from './region.js';
import { programProfile } from './sites.js';
import { acquireTracker, HeapscopeStateError, releaseTracker } from './state.js';

export interface ProfilerOptions {
  /**
   * `heap` (default): every allocation of V8's heap. `ad-hoc`: the events the program
   * reports with `adHocEvent(weight)`.
   */
  mode?: ProfilerMode;
  /**
   * Where to write the DHAT profile (default `heapscope-heap.json`, or
   * `heapscope-ad-hoc.json` in ad-hoc mode, like dhat-rs's `dhat-heap.json`).
   */
  file?: string;
  /** Ad-hoc mode: frames kept per event's call stack (default 64). */
  stackDepth?: number;
  /**
   * Bytes between samples of V8's sampling heap profiler, used to estimate live bytes
   * per site at the peak (t-gmax); 0 takes the end as the peak. Default 32768.
   */
  peakSampleInterval?: number;
  /** Command line recorded in the profile (default: this process's). */
  cmd?: string;
}

export type ProfilerMode = 'heap' | 'ad-hoc';

/** What stop() wrote, with the run's totals (the figures dhat-rs prints at exit). */
export interface ProfilerResult {
  /** Absolute path of the DHAT file. */
  file: string;
  profile: Profile;
  /**
   * Bytes and blocks allocated while the profiler ran (exact). In ad-hoc mode: the
   * summed weights (units) and the number of events; the peak and end figures are 0.
   */
  totalBytes: number;
  totalBlocks: number;
  /** Live bytes and blocks at the peak (estimated by sampling, or the end; see `profile.heapscope.peak`). */
  peakBytes: number;
  peakBlocks: number;
  /** Bytes and blocks still reachable when the profiler stopped. */
  endBytes: number;
  endBlocks: number;
  /** GCs while the profiler ran. */
  gcCount: number;
  /** dhat-rs style summary lines, prefixed `heapscope:`; heapscope prints nothing itself. */
  summary: string[];
}

export type ProfilerPhase = 'running' | 'stopping' | 'stopped';

let seq = 0;
/** The region of the running Profiler, for HeapStats. */
let runningRegion: Region | undefined;

/** The span of the running Profiler, if one runs. */
export function profilerRegion(): Region | undefined {
  return runningRegion;
}

/**
 * An in-process profiler of one thread, like dhat-rs's `Profiler`: of the heap
 * (default) or of ad-hoc events. Profiles keep whole stacks (down to the program's
 * entry), minus heapscope's own frames.
 */
export class Profiler {
  readonly #session: HeapSession | AdHocSession;
  readonly #mode: ProfilerMode;

  private constructor(mode: ProfilerMode, session: HeapSession | AdHocSession) {
    this.#mode = mode;
    this.#session = session;
  }

  /**
   * Starts profiling this thread until stop(): in heap mode every allocation from now on
   * is tracked (with its stack), and a HeapscopeStateError is thrown while another
   * Profiler or an exact measurement is running; in ad-hoc mode every adHocEvent call
   * is counted, one ad-hoc Profiler at a time.
   */
  static start(options: ProfilerOptions = {}): Profiler {
    const mode = options.mode ?? 'heap';
    if (mode === 'ad-hoc') return new Profiler(mode, new AdHocSession(options));
    if (mode !== 'heap') {
      throw new RangeError(`heapscope: Profiler mode must be 'heap' or 'ad-hoc', got ${mode}`);
    }
    return new Profiler(mode, new HeapSession(options));
  }

  get mode(): ProfilerMode {
    return this.#mode;
  }

  get phase(): ProfilerPhase {
    return this.#session.phase;
  }

  /** The file stop() writes. */
  get file(): string {
    return this.#session.file;
  }

  /** Stops profiling, writes the DHAT profile (atomically) and returns it with its totals. */
  stop(): Promise<ProfilerResult> {
    return this.#session.stop();
  }
}

/** The ad-hoc side of a Profiler. */
class AdHocSession {
  phase: ProfilerPhase = 'running';
  readonly file: string;
  readonly #cmd: string;
  readonly #recording: AdHocRecording;

  constructor(options: ProfilerOptions) {
    this.file = resolve(options.file ?? 'heapscope-ad-hoc.json');
    this.#cmd = options.cmd ?? thisCommandLine();
    this.#recording = startAdHoc(options.stackDepth ?? 64);
  }

  async stop(): Promise<ProfilerResult> {
    if (this.phase !== 'running') {
      throw new HeapscopeStateError(
        `heapscope: Profiler.stop() called on a profiler that is ${this.phase}`,
      );
    }
    this.phase = 'stopping';
    try {
      const profile = this.#recording.finish(this.#cmd, process.cwd());
      await writeFileAtomic(this.file, writeDhat(profile));
      const t = totals(profile);
      return {
        file: this.file,
        profile,
        totalBytes: t.totalBytes,
        totalBlocks: t.totalBlocks,
        peakBytes: 0,
        peakBlocks: 0,
        endBytes: 0,
        endBlocks: 0,
        gcCount: 0,
        summary: [
          `heapscope: Total:     ${t.totalBytes} units in ${t.totalBlocks} events`,
          `heapscope: The data has been saved to ${this.file}, and is viewable with \`heapscope report\` or dh_view.html`,
        ],
      };
    } finally {
      this.phase = 'stopped';
    }
  }
}

/** The heap side of a Profiler: V8's allocation tracker, then a heap snapshot. */
class HeapSession {
  #phase: ProfilerPhase = 'running';
  readonly #addon: NativeAddon;
  readonly #region: Region;
  readonly #file: string;
  readonly #snapshot: string;
  readonly #cmd: string;
  readonly #startHr: bigint;
  readonly #firstTrackedObjectId: number;
  readonly #sampling: boolean;
  readonly #gcAtStart: { scavenges: number; markCompacts: number };

  constructor(options: ProfilerOptions) {
    this.#file = resolve(options.file ?? 'heapscope-heap.json');
    this.#snapshot = join(tmpdir(), `heapscope-profiler-${process.pid}-${++seq}.heapsnapshot`);
    this.#cmd = options.cmd ?? thisCommandLine();
    const interval = options.peakSampleInterval ?? DEFAULT_PEAK_SAMPLE_INTERVAL;
    if (!Number.isInteger(interval) || interval < 0) {
      throw new RangeError(`heapscope: peakSampleInterval must be an integer ≥ 0, got ${interval}`);
    }
    this.#addon = acquireTracker('Profiler');
    this.#sampling = interval > 0;
    let first = 0;
    let startHr = 0n;
    const gc = { scavenges: 0, markCompacts: 0 };
    try {
      this.#region = enterRegion(false, () => {
        const s = this.#addon.gcStats();
        gc.scavenges = s.scavenges;
        gc.markCompacts = s.markCompacts;
        // onMinorGc: a short profile may see no mark-compact before its end.
        if (interval > 0) this.#addon.startPeakSampling(interval, 64, true);
        deoptimizeAll();
        startHr = process.hrtime.bigint();
        this.#addon.startTracking(true);
        first = this.#addon.gcStats().firstTrackedObjectId;
      });
    } catch (e) {
      releaseTracker();
      throw e;
    }
    this.#startHr = startHr;
    this.#firstTrackedObjectId = first;
    this.#gcAtStart = gc;
    runningRegion = this.#region;
  }

  get phase(): ProfilerPhase {
    return this.#phase;
  }

  get file(): string {
    return this.#file;
  }

  /**
   * Stops tracking, writes the DHAT profile (atomically) and returns it with its totals.
   * The heap snapshot is taken synchronously when stop() is called; it is read, and the
   * profile written, asynchronously.
   */
  async stop(): Promise<ProfilerResult> {
    if (this.#phase !== 'running') {
      throw new HeapscopeStateError(
        `heapscope: Profiler.stop() called on a profiler that is ${this.#phase}`,
      );
    }
    this.#phase = 'stopping';
    runningRegion = undefined;
    const addon = this.#addon;
    let peakJson = '';
    let endUs = 0;
    const gc = { scavenges: 0, markCompacts: 0 };
    let cheap: RegionFigures;
    try {
      cheap = exitRegion(this.#region, 'sync', undefined, () => {
        // Taken first: the sampler's samples would show in the snapshot as holders.
        if (this.#sampling) {
          peakJson = addon.peakSampleJson();
          addon.stopPeakSampling();
        }
        const s = addon.gcStats();
        gc.scavenges = s.scavenges - this.#gcAtStart.scavenges;
        gc.markCompacts = s.markCompacts - this.#gcAtStart.markCompacts;
        try {
          addon.writeSnapshot(this.#snapshot);
        } finally {
          endUs = Number((process.hrtime.bigint() - this.#startHr) / 1000n);
          addon.stopTracking();
          ledger.reinstallGcCounting();
          releaseTracker();
        }
      }).figures;
    } catch (e) {
      this.#phase = 'stopped';
      rmSync(this.#snapshot, { force: true });
      throw e;
    }
    try {
      const snap = await readHeapSnapshot(this.#snapshot);
      const roles = frameRoles();
      const peak: PeakEstimate | undefined = peakJson ? peakFromSample(peakJson) : undefined;
      const full = profileFromTrackedSnapshot(snap, {
        cmd: this.#cmd,
        pid: process.pid,
        endTimeUs: endUs,
        firstTrackedObjectId: this.#firstTrackedObjectId,
        formatFrame: roles.formatFrame,
        ...(peak ? { peak } : {}),
        meta: {
          node: process.version,
          v8: process.versions.v8,
          cwd: process.cwd(),
          gc,
          peak: {
            method: peak ? peak.method : 'end-as-peak',
            note: peak
              ? 'live bytes per site at t-gmax are estimated by V8 sampling heap profiler at the largest post-GC heap'
              : 'no measurement during the run: live bytes at the end are shown as the peak',
          },
          notes: [
            'written by heapscope Profiler: the allocations between start() and stop()',
            'frame positions are those of the function (V8 records no allocating line)',
            'blocks are allocation events: optimized code may allocate several objects in one event; bytes stay exact',
          ],
        },
      });
      const profile = programProfile(full, roles.roles);
      await writeFileAtomic(this.#file, writeDhat(profile));
      const t = totals(profile);
      const result: ProfilerResult = {
        file: this.#file,
        profile,
        totalBytes: t.totalBytes,
        totalBlocks: t.totalBlocks,
        peakBytes: t.peakBytes ?? 0,
        peakBlocks: t.peakBlocks ?? 0,
        endBytes: t.endBytes ?? 0,
        endBlocks: t.endBlocks ?? 0,
        gcCount: cheap.gcCount,
        summary: [],
      };
      result.summary = [
        `heapscope: Total:     ${result.totalBytes} bytes in ${result.totalBlocks} blocks`,
        `heapscope: At t-gmax: ${result.peakBytes} bytes in ${result.peakBlocks} blocks`,
        `heapscope: At t-end:  ${result.endBytes} bytes in ${result.endBlocks} blocks`,
        `heapscope: The data has been saved to ${this.#file}, and is viewable with \`heapscope report\` or dh_view.html`,
      ];
      return result;
    } finally {
      rmSync(this.#snapshot, { force: true });
      this.#phase = 'stopped';
    }
  }
}

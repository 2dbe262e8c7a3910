/**
 * The in-memory profile: DHAT's model of program points, with readable names.
 *
 * A profile is a list of program points (call stacks that allocated), each with
 * the bytes and blocks it allocated in total, held at the global peak (t-gmax),
 * held at the end (t-end), and its own maximum. `formats/dhat.ts` maps these
 * fields to and from DHAT's short JSON keys (`tb`, `tbk`, `gb`, ...).
 *
 * Profiles are plain data and treated as immutable once built; functions in
 * `model/` return new profiles.
 */

/** The root frame DHAT files put at index 0 of the frame table. */
export const ROOT_FRAME = '[root]';

/** How live-at-peak figures were obtained. */
export type PeakMethod =
  /** Measured exactly at the moment of the peak (Valgrind, dhat-rs). */
  | 'exact'
  /** Estimated from V8's sampling heap profiler at the moment of the largest post-GC heap. */
  | 'sampled-at-peak'
  /** No measurement during the run: the end of the run is taken as the peak. */
  | 'end-as-peak';

/** heapscope's own profile-level data, stored under the `heapscope` key of a DHAT file. */
export interface HeapscopeMeta {
  /** Version of this extension object. */
  version: 1;
  /** `exact`: every allocation traced; `sampled`: V8's sampling heap profiler. */
  capture: 'exact' | 'sampled';
  /** Sampling interval in bytes, for sampled captures. */
  sampleInterval?: number;
  /** Which figures are exact (true) and which are estimates (false). */
  exact: { total: boolean; end: boolean; peak: boolean };
  peak?: {
    method: PeakMethod;
    /** Live heap after the full GC with the most live bytes: a lower bound of the true peak. */
    liveAfterGcBytes?: number;
    /** Largest heap use seen just before a GC (garbage included): an upper bound of the true peak. */
    usedBeforeGcBytes?: number;
    note?: string;
  };
  node?: string;
  v8?: string;
  threadId?: number;
  parentPid?: number;
  cwd?: string;
  gc?: { scavenges: number; markCompacts: number };
  /** V8 heap statistics at the end (after a full GC), in bytes. */
  heapAtEnd?: { used: number; external?: number };
  /** Heap used (bytes) after each GC, at time t (the profile's time unit): memory over time. */
  timeline?: { t: number; bytes: number }[];
  /** Notes for the reader (e.g. what V8 could not tell). */
  notes?: string[];
}

/** heapscope's per-program-point extras, stored under `heapscope` on a DHAT pp. */
export interface ProgramPointExtras {
  /** Live-at-end bytes and blocks split by V8 node type (object, array, string, hidden, code...). */
  endByType?: Record<string, [bytes: number, blocks: number]>;
}

export interface ProgramPoint {
  /** Call stack, indexes into `Profile.frames`, allocation site first; excludes the root frame. */
  stack: number[];
  /** Bytes allocated over the whole run, freed or not. */
  totalBytes: number;
  /** Blocks (objects) allocated over the whole run. */
  totalBlocks: number;
  /** Sum of the lifetimes of all blocks, in the profile's time unit. */
  totalLifetimes?: number;
  /** The site's own largest live bytes at any moment. */
  maxBytes?: number;
  maxBlocks?: number;
  /** Live bytes/blocks at the global peak (t-gmax). */
  peakBytes?: number;
  peakBlocks?: number;
  /** Live bytes/blocks at the end (t-end). */
  endBytes?: number;
  endBlocks?: number;
  /** Bytes read from / written to this site's blocks (DHAT's access tracking). */
  readBytes?: number;
  writeBytes?: number;
  /** DHAT's run-length encoded per-offset access counts, kept as is. */
  accesses?: number[];
  heapscope?: ProgramPointExtras;
}

export interface Profile {
  /** DHAT mode: `heap` (Valgrind), `rust-heap` (dhat-rs), `node-heap` (heapscope), `copy`, `ad-hoc`. */
  mode: string;
  /** Verb describing what is counted, e.g. `Allocated`. */
  verb: string;
  /** Whether block lifetimes (peak, end, max) are recorded: DHAT's `bklt`. */
  hasLifetimes: boolean;
  /** Whether reads and writes are recorded: DHAT's `bkacc`. */
  hasAccesses: boolean;
  /**
   * Names for what is counted when it is not heap bytes and blocks (DHAT's `bu`, `bsu`,
   * `bksu`; ad-hoc mode counts "units" in "events"). Absent for heap profiles.
   */
  units?: { byte: string; bytes: string; blocks: string };
  /** Time unit (`tu`), e.g. `µs` or `instrs`, and its large form (`Mtu`), e.g. `s`. */
  timeUnit: string;
  timeUnitLarge: string;
  /** Threshold for "short-lived" blocks, in the time unit (`tuth`). */
  shortLivedThreshold?: number;
  /** Command line of the profiled program. */
  cmd: string;
  pid: number;
  /** Time of the end (`te`) and of the global peak (`tg`), in the time unit. */
  endTime: number;
  peakTime?: number;
  /** Frame table; index 0 is the root frame. */
  frames: string[];
  programPoints: ProgramPoint[];
  heapscope?: HeapscopeMeta;
}

/** The frame strings of a program point's stack, allocation site first. */
export function stackFrames(profile: Profile, pp: ProgramPoint): string[] {
  return pp.stack.map((i) => profile.frames[i] ?? `<bad frame ${i}>`);
}

/**
 * Program points grouped by what a frame belongs to: its function, its file, or its
 * package (`node_modules/<name>`), with pprof's two figures per group:
 *
 * - **self** (pprof's flat): what was allocated with a frame of the group as the
 *   allocation site (the stack's first frame). Self figures add up to the profile's totals.
 * - **inclusive** (pprof's cum): what was allocated with a frame of the group anywhere in
 *   the stack: the group and everything it called. A recursive stack counts once.
 *
 * A group is named by a key: `parse (src/parser.js)` for a function (anonymous functions
 * keep their position, `(anonymous) (src/a.js:3:10)`, since the name alone says nothing),
 * the file (`src/parser.js`), or the package (`typescript`, `@babel/core`; `node` for
 * Node's own files, `[own code]` for files outside `node_modules`). Frames without a file
 * (V8 builtins such as `push`) group under their name as a function, `[no file]` as a
 * file or package; heapscope's own frames in brackets (`[node internals]`) stay groups
 * of their own. Code addresses (Valgrind's `0x1091A0: `) are dropped.
 *
 * Pure; the figures are those of `metrics.ts`.
 */
import { type FrameParts, parseFrame } from './frame.js';
import { ADDITIVE_METRICS, type AdditiveMetricKey, availableMetrics } from './metrics.js';
import { type Profile, type ProgramPoint, ROOT_FRAME } from './profile.js';

export type GroupBy = 'function' | 'file' | 'package';

export const GROUP_BYS: readonly GroupBy[] = ['function', 'file', 'package'];

/** Group of a program point with an empty stack. */
export const NO_FRAMES_GROUP = '[no frames]';

const ANONYMOUS = new Set(['', '(anonymous)', '<anonymous>', 'anonymous']);

/** The group a frame belongs to. */
export function groupKey(by: GroupBy, frame: string): string {
  // heapscope's own frames (`[node internals]`, `[hidden frames]`) are groups of their own.
  if (isOwnGroup(frame)) return frame;
  const p = parseFrame(frame);
  switch (by) {
    case 'function':
      return functionKey(p);
    case 'file':
      return p.file ?? '[no file]';
    case 'package':
      return packageOf(p.file);
  }
}

function isOwnGroup(frame: string): boolean {
  return frame.startsWith('[') && frame.endsWith(']');
}

function functionKey(p: FrameParts): string {
  if (p.file === undefined) return p.name;
  if (ANONYMOUS.has(p.name)) {
    const pos =
      p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
    return `${p.name || '(anonymous)'} (${p.file}${pos})`;
  }
  return `${p.name} (${p.file})`;
}

/** `typescript` for `.../node_modules/typescript/lib/tsc.js`; scoped names whole. */
export function packageOf(file: string | undefined): string {
  if (file === undefined) return '[no file]';
  if (file.startsWith('node:')) return 'node';
  const at = file.lastIndexOf('node_modules/');
  if (at < 0) return '[own code]';
  const parts = file.slice(at + 'node_modules/'.length).split('/');
  const name = parts[0]!.startsWith('@') && parts[1] ? `${parts[0]}/${parts[1]}` : parts[0]!;
  return name || '[own code]';
}

/** One group's additive figures (only the metrics every program point carries). */
export type GroupFigures = Partial<Record<AdditiveMetricKey, number>>;

export interface Grouped {
  by: GroupBy;
  /** Group names, index = group id. */
  keys: string[];
  self: GroupFigures[];
  inclusive: GroupFigures[];
  /** Program points with the group in their stack (inclusive) and at their site (self). */
  sitesSelf: number[];
  sitesInclusive: number[];
  /** The metrics summed (those every program point carries). */
  metrics: AdditiveMetricKey[];
}

/** Self and inclusive figures of every group of a profile. */
export function groupProgramPoints(profile: Profile, by: GroupBy): Grouped {
  const ids = groupIds(profile, by);
  const sums = groupSums(profile, ids, summedMetrics(profile));
  const keys: string[] = [];
  for (let g = 0; g < ids.count; g++) keys.push(ids.key(g));
  const figures = (columns: Float64Array[]) =>
    keys.map((_, g) => {
      const f: GroupFigures = {};
      sums.metrics.forEach((k, m) => {
        f[k] = columns[m]![g]!;
      });
      return f;
    });
  return {
    by,
    keys,
    self: figures(sums.self),
    inclusive: figures(sums.inclusive),
    sitesSelf: [...sums.sitesSelf],
    sitesInclusive: [...sums.sitesInclusive],
    metrics: sums.metrics,
  };
}

/** The metrics groups add up: those every program point of the profile carries. */
export function summedMetrics(profile: Profile): AdditiveMetricKey[] {
  const have = new Set(availableMetrics(profile).map((m) => m.key));
  return ADDITIVE_METRICS.filter((k) => have.has(k));
}

/**
 * The group of every frame, groups numbered in the order the program points first name
 * them (each stack from its allocation site out). Names are made when asked for: a
 * large profile has millions of functions, and a name string each would cost more than
 * their figures. Functions are told apart by file and name, without joining the two.
 */
export interface GroupIds {
  by: GroupBy;
  /** How many groups. */
  count: number;
  /** Group of each frame of the profile's frame table; -1 for frames no stack holds. */
  ofFrame: Int32Array;
  /** Group of the program points with an empty stack; -1 when there are none. */
  noFrames: number;
  /** A group's name (`groupKey` of its frames). */
  key(g: number): string;
}

export function groupIds(profile: Profile, by: GroupBy): GroupIds {
  const frames = profile.frames;
  const ofFrame = new Int32Array(frames.length).fill(-1);
  // A frame of each group, for its name; -1 for the group of empty stacks.
  const some = new Int32Array(frames.length + 1);
  let count = 0;
  const byKey = new Map<string, number>();
  const byFileAndName = new Map<string, Map<string, number>>();
  const named = (key: string, f: number) => {
    let g = byKey.get(key);
    if (g === undefined) {
      g = count++;
      some[g] = f;
      byKey.set(key, g);
    }
    return g;
  };
  const groupOf = (f: number): number => {
    const frame = frames[f] ?? '';
    if (by !== 'function' || isOwnGroup(frame)) return named(groupKey(by, frame), f);
    const p = parseFrame(frame);
    // A named function with a file: `name (file)`, which no other kind of key can be.
    if (p.file === undefined || ANONYMOUS.has(p.name)) return named(functionKey(p), f);
    let names = byFileAndName.get(p.file);
    if (!names) {
      names = new Map();
      byFileAndName.set(p.file, names);
    }
    let g = names.get(p.name);
    if (g === undefined) {
      g = count++;
      some[g] = f;
      names.set(p.name, g);
    }
    return g;
  };
  let noFrames = -1;
  for (const pp of profile.programPoints) {
    if (pp.stack.length === 0) {
      if (noFrames < 0) noFrames = named(NO_FRAMES_GROUP, -1);
      continue;
    }
    for (const f of pp.stack) if (ofFrame[f] === -1) ofFrame[f] = groupOf(f);
  }
  return {
    by,
    count,
    ofFrame,
    noFrames,
    key: (g) => (some[g]! < 0 ? NO_FRAMES_GROUP : groupKey(by, frames[some[g]!] ?? '')),
  };
}

/** Sums per group: one column per metric (in the order of `metrics`), one slot per group. */
export interface GroupSums {
  metrics: AdditiveMetricKey[];
  self: Float64Array[];
  inclusive: Float64Array[];
  /** Program points with the group at their site (self) and in their stack (inclusive). */
  sitesSelf: Int32Array;
  sitesInclusive: Int32Array;
}

/**
 * Self and inclusive sums of `metrics`: of every group, or of the groups `only` lists
 * (slot `i` for group `only[i]`).
 */
export function groupSums(
  profile: Profile,
  ids: GroupIds,
  metrics: readonly AdditiveMetricKey[],
  only?: readonly number[],
): GroupSums {
  const slots = only ? only.length : ids.count;
  let slotOf: Int32Array | undefined;
  if (only) {
    slotOf = new Int32Array(ids.count).fill(-1);
    only.forEach((g, i) => {
      slotOf![g] = i;
    });
  }
  const self = metrics.map(() => new Float64Array(slots));
  const inclusive = metrics.map(() => new Float64Array(slots));
  const sitesSelf = new Int32Array(slots);
  const sitesInclusive = new Int32Array(slots);
  const seenIn = new Int32Array(slots); // last program point (index + 1) counted inclusively
  const add = (sums: Float64Array[], s: number, pp: ProgramPoint) => {
    for (let m = 0; m < metrics.length; m++) sums[m]![s]! += pp[metrics[m]!]!;
  };
  const { ofFrame } = ids;
  const pps = profile.programPoints;
  for (let i = 0; i < pps.length; i++) {
    const pp = pps[i]!;
    const stack = pp.stack;
    if (stack.length === 0) {
      const s = slotOf ? slotOf[ids.noFrames]! : ids.noFrames;
      if (s < 0) continue;
      add(self, s, pp);
      add(inclusive, s, pp);
      sitesSelf[s]!++;
      sitesInclusive[s]!++;
      continue;
    }
    const site = slotOf ? slotOf[ofFrame[stack[0]!]!]! : ofFrame[stack[0]!]!;
    if (site >= 0) {
      add(self, site, pp);
      sitesSelf[site]!++;
    }
    for (let d = 0; d < stack.length; d++) {
      const g = ofFrame[stack[d]!]!;
      const s = slotOf ? slotOf[g]! : g;
      if (s < 0 || seenIn[s] === i + 1) continue;
      seenIn[s] = i + 1;
      add(inclusive, s, pp);
      sitesInclusive[s]!++;
    }
  }
  return { metrics: [...metrics], self, inclusive, sitesSelf, sitesInclusive };
}

/**
 * The groups as a profile of their own, one program point per group with the group's
 * self (or inclusive) figures and a one-frame stack naming it: what `diff` and the
 * viewer take. Site maxima and access counts do not carry over to groups.
 */
export function groupedProfile(
  profile: Profile,
  by: GroupBy,
  figures: 'self' | 'inclusive',
  grouped: Grouped = groupProgramPoints(profile, by),
): Profile {
  const programPoints: ProgramPoint[] = [];
  grouped.keys.forEach((_, g) => {
    const f = grouped[figures][g]!;
    const count = figures === 'self' ? grouped.sitesSelf[g]! : grouped.sitesInclusive[g]!;
    if (count === 0) return; // a group with no site of its own has no self figures
    programPoints.push({
      stack: [g + 1],
      totalBytes: f.totalBytes ?? 0,
      totalBlocks: f.totalBlocks ?? 0,
      ...f,
    });
  });
  return {
    ...profile,
    frames: [ROOT_FRAME, ...grouped.keys],
    programPoints,
  };
}

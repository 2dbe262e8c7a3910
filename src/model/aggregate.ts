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
import { parseFrame } from './frame.js';
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
  if (frame.startsWith('[') && frame.endsWith(']')) return frame;
  const p = parseFrame(frame);
  switch (by) {
    case 'function':
      if (p.file === undefined) return p.name;
      if (ANONYMOUS.has(p.name)) {
        const pos =
          p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
        return `${p.name || '(anonymous)'} (${p.file}${pos})`;
      }
      return `${p.name} (${p.file})`;
    case 'file':
      return p.file ?? '[no file]';
    case 'package':
      return packageOf(p.file);
  }
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
  const have = new Set(availableMetrics(profile).map((m) => m.key));
  const metrics = ADDITIVE_METRICS.filter((k) => have.has(k));
  const ids = new Map<string, number>();
  const keys: string[] = [];
  const idOf = (key: string) => {
    let id = ids.get(key);
    if (id === undefined) {
      id = keys.length;
      keys.push(key);
      ids.set(key, id);
      for (const sums of self) sums.push(0);
      for (const sums of incl) sums.push(0);
      sitesSelf.push(0);
      sitesIncl.push(0);
      seenIn.push(0);
    }
    return id;
  };
  const groupOfFrame = new Int32Array(profile.frames.length).fill(-1);
  const frameGroup = (f: number) => {
    let g = groupOfFrame[f]!;
    if (g < 0) {
      g = idOf(groupKey(by, profile.frames[f] ?? ''));
      groupOfFrame[f] = g;
    }
    return g;
  };
  // Sums per metric, one slot per group added as the group appears: dense arrays (grown
  // by index when ids come out of order, they get holes and go slow).
  const self: number[][] = metrics.map(() => []);
  const incl: number[][] = metrics.map(() => []);
  const sitesSelf: number[] = [];
  const sitesIncl: number[] = [];
  const seenIn: number[] = []; // last program point (index + 1) counted inclusively per group
  const add = (sums: number[][], g: number, pp: ProgramPoint) => {
    for (let m = 0; m < metrics.length; m++) sums[m]![g]! += pp[metrics[m]!]!;
  };
  profile.programPoints.forEach((pp, i) => {
    if (pp.stack.length === 0) {
      const g = idOf(NO_FRAMES_GROUP);
      add(self, g, pp);
      add(incl, g, pp);
      sitesSelf[g]!++;
      sitesIncl[g]!++;
      return;
    }
    const site = frameGroup(pp.stack[0]!);
    add(self, site, pp);
    sitesSelf[site]!++;
    for (const f of pp.stack) {
      const g = frameGroup(f);
      if (seenIn[g] === i + 1) continue;
      seenIn[g] = i + 1;
      add(incl, g, pp);
      sitesIncl[g]!++;
    }
  });
  const figures = (sums: number[][]) =>
    keys.map((_, g) => {
      const f: GroupFigures = {};
      metrics.forEach((k, m) => {
        f[k] = sums[m]![g] ?? 0;
      });
      return f;
    });
  return {
    by,
    keys,
    self: figures(self),
    inclusive: figures(incl),
    sitesSelf,
    sitesInclusive: sitesIncl,
    metrics,
  };
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

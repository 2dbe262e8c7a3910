/**
 * Narrowing a profile to what answers the question, as pprof's `-focus`, `-ignore` and
 * `-hide` do, with the pattern syntax of budgets (`budget.ts`):
 *
 * - {@link focusProfile}: keeps the program points with a frame that matches (what the
 *   matching functions and their callees allocated).
 * - {@link excludeProfile}: drops the program points with a frame that matches.
 * - {@link hideFrames}: keeps every allocation but drops matching frames from the stacks;
 *   an allocation made in a hidden frame is charged to its nearest shown caller. Stacks
 *   that become equal are merged (sums; the larger site maximum, a lower bound).
 * - {@link hideNodeInternals}: heapscope's default view of a Node profile: the frames of
 *   Node's own JavaScript (`node:` files: the module loaders, bootstrap, `node:fs`...)
 *   hidden, and the frames beyond the outermost frame of the user's code (what called the
 *   entry point: the ESM loader's `next`, bootstrap's anonymous functions) cut off.
 *   Program points with no frame of the user's left are shown as one, `[node internals]`.
 *
 * Every function returns a new profile and how many program points (and frames) it
 * matched, so that the CLI can say when a pattern matched nothing. Pure.
 */
import { packageOf } from './aggregate.js';
import { compilePattern } from './budget.js';
import { isBuiltinFrame, parseFrame } from './frame.js';
import { ADDITIVE_METRICS } from './metrics.js';
import type { Profile, ProgramPoint } from './profile.js';

/** Frame shown for a program point whose every frame was hidden by a pattern. */
export const ALL_HIDDEN_FRAME = '[hidden frames]';
/** Frame shown for a program point with only Node's internal frames. */
export const NODE_INTERNALS_FRAME = '[node internals]';

/**
 * A frame pattern: `function:PATTERN` matches the function name, `file:PATTERN` the file,
 * `package:PATTERN` the package (`node_modules/<name>`, see `aggregate.ts`), and a bare
 * `PATTERN` any of them. A pattern is a glob (`parse*`, `src/**`; a file glob
 * without a slash matches the base name) or a regular expression in slashes (`/^parse/i`).
 */
export function framePattern(pattern: string): (frame: string) => boolean {
  const m = /^(function|file|package):(.*)$/.exec(pattern);
  const which = m ? m[1] : 'any';
  const text = m ? m[2]! : pattern;
  if (text === '') throw new RangeError(`empty pattern "${pattern}"`);
  const use = (w: string) => which === 'any' || which === w;
  const name = use('function') ? compilePattern(text, false) : undefined;
  const file = use('file') ? compilePattern(text, true) : undefined;
  const pkg = use('package') ? compilePattern(text, false) : undefined;
  return (frame) => {
    const p = parseFrame(frame);
    if (name?.(p.name)) return true;
    if (p.file === undefined) return false;
    if (file?.(p.file)) return true;
    return pkg !== undefined && p.file.includes('node_modules/') && pkg(packageOf(p.file));
  };
}

/** A frame test over a profile's frame table, computed once per frame. */
function frameTest(profile: Profile, test: (frame: string) => boolean): Uint8Array {
  const hit = new Uint8Array(profile.frames.length);
  for (let i = 1; i < profile.frames.length; i++) hit[i] = test(profile.frames[i]!) ? 1 : 0;
  return hit;
}

/** Whether any of several patterns matches a frame. */
function anyOf(patterns: readonly string[]): (frame: string) => boolean {
  const tests = patterns.map(framePattern);
  return (f) => tests.some((t) => t(f));
}

export interface FilterResult {
  profile: Profile;
  /** Program points that had a matching frame. */
  matched: number;
}

function keepPoints(profile: Profile, keep: (pp: ProgramPoint) => boolean): ProgramPoint[] {
  return profile.programPoints.filter(keep);
}

/** Keeps the program points with a frame matching any of the patterns. */
export function focusProfile(profile: Profile, patterns: readonly string[]): FilterResult {
  const hit = frameTest(profile, anyOf(patterns));
  const programPoints = keepPoints(profile, (pp) => pp.stack.some((f) => hit[f] === 1));
  return { profile: { ...profile, programPoints }, matched: programPoints.length };
}

/** Drops the program points with a frame matching any of the patterns. */
export function excludeProfile(profile: Profile, patterns: readonly string[]): FilterResult {
  const hit = frameTest(profile, anyOf(patterns));
  const programPoints = keepPoints(profile, (pp) => !pp.stack.some((f) => hit[f] === 1));
  return {
    profile: { ...profile, programPoints },
    matched: profile.programPoints.length - programPoints.length,
  };
}

/**
 * Rewrites every stack with `keep` (frame indexes in, frame indexes out, allocation site
 * first) and merges the program points whose stacks become equal. An empty stack gets
 * `emptyFrame`. The frame table is kept as it is (plus `emptyFrame` when used).
 */
export function rewriteStacks(
  profile: Profile,
  keep: (stack: readonly number[]) => number[],
  emptyFrame: string,
): Profile {
  const frames = profile.frames;
  let emptyIndex = -1;
  const byStack = new Map<string, number>(); // stack → index in `out`
  const out: ProgramPoint[] = [];
  // Unchanged program points are shared with the input (profiles are immutable); a
  // merged one is a copy this function owns.
  const owned = new Set<ProgramPoint>();
  for (const pp of profile.programPoints) {
    let stack = keep(pp.stack);
    if (stack.length === 0) {
      if (emptyIndex < 0) {
        emptyIndex = frames.indexOf(emptyFrame);
        if (emptyIndex < 0) emptyIndex = frames.length;
      }
      stack = [emptyIndex];
    }
    const key = stack.join(',');
    const at = byStack.get(key);
    if (at === undefined) {
      const same = stack.length === pp.stack.length && stack.every((f, i) => f === pp.stack[i]);
      byStack.set(key, out.length);
      out.push(same ? pp : { ...pp, stack });
      continue;
    }
    let into = out[at]!;
    if (!owned.has(into)) {
      into = { ...into, stack: into.stack.slice() };
      owned.add(into);
      out[at] = into;
    }
    mergeInto(into, pp);
  }
  const table = emptyIndex === frames.length ? [...frames, emptyFrame] : frames;
  return { ...profile, frames: table, programPoints: out };
}

/** Adds `pp`'s figures to `into` (a copy this module owns). */
function mergeInto(into: ProgramPoint, pp: ProgramPoint): void {
  for (const k of ADDITIVE_METRICS) {
    const v = pp[k];
    if (v !== undefined) into[k] = (into[k] ?? 0) + v;
  }
  // The maximum of merged sites is not known; the larger one is a lower bound.
  if (pp.maxBytes !== undefined) into.maxBytes = Math.max(into.maxBytes ?? 0, pp.maxBytes);
  if (pp.maxBlocks !== undefined) into.maxBlocks = Math.max(into.maxBlocks ?? 0, pp.maxBlocks);
  // Per-offset access counts of different sites do not add up: dropped, as dh_view does.
  delete into.accesses;
  if (pp.heapscope?.endByType || into.heapscope?.endByType) {
    const endByType: Record<string, [number, number]> = { ...into.heapscope?.endByType };
    for (const [type, [b, k]] of Object.entries(pp.heapscope?.endByType ?? {})) {
      const was = endByType[type] ?? [0, 0];
      endByType[type] = [was[0] + b, was[1] + k];
    }
    into.heapscope = { ...into.heapscope, endByType };
  }
}

export interface HideResult extends FilterResult {
  /** Frames that matched, of those the stacks use. */
  framesMatched: number;
}

/** Drops frames matching any of the patterns from every stack; allocations stay. */
export function hideFrames(profile: Profile, patterns: readonly string[]): HideResult {
  const hit = frameTest(profile, anyOf(patterns));
  let matched = 0;
  const result = rewriteStacks(
    profile,
    (stack) => {
      const kept = stack.filter((f) => hit[f] !== 1);
      if (kept.length !== stack.length) matched++;
      return kept;
    },
    ALL_HIDDEN_FRAME,
  );
  return { profile: result, matched, framesMatched: usedMatches(profile, hit) };
}

/** How many frames with `hit` set the profile's stacks use. */
function usedMatches(profile: Profile, hit: Uint8Array): number {
  const seen = new Uint8Array(hit.length);
  let n = 0;
  for (const pp of profile.programPoints) {
    for (const f of pp.stack) {
      if (hit[f] === 1 && seen[f] === 0) {
        seen[f] = 1;
        n++;
      }
    }
  }
  return n;
}

/** Whether a frame is Node's own JavaScript (a `node:` file). */
export function isNodeInternalFrame(frame: string): boolean {
  // Most frames name no `node:` file at all: no need to take them apart.
  if (!frame.includes('(node:')) return false;
  const file = parseFrame(frame).file;
  return file?.startsWith('node:') === true;
}

/** Whether a frame is of the user's code: a file that is not Node's own. */
function isUserFrame(frame: string): boolean {
  if (!frame.endsWith(')') || isBuiltinFrame(frame)) return false; // a built-in or a bare name
  return parseFrame(frame).file !== undefined && !isNodeInternalFrame(frame);
}

/**
 * heapscope's default view: Node's internal frames hidden, the frames beyond the
 * outermost frame of the user's code cut off, internal-only sites as one
 * `[node internals]` program point. `matched` counts the program points changed.
 */
export function hideNodeInternals(profile: Profile): HideResult {
  const internal = frameTest(profile, isNodeInternalFrame);
  const framesMatched = usedMatches(profile, internal);
  if (framesMatched === 0) return { profile, matched: 0, framesMatched };
  const user = frameTest(profile, isUserFrame);
  let matched = 0;
  const result = rewriteStacks(
    profile,
    (stack) => {
      let outer = -1;
      for (let i = stack.length - 1; i >= 0; i--) {
        if (user[stack[i]!] === 1) {
          outer = i;
          break;
        }
      }
      const kept: number[] = [];
      for (let i = 0; i <= outer; i++) if (internal[stack[i]!] !== 1) kept.push(stack[i]!);
      if (kept.length !== stack.length) matched++;
      return kept;
    },
    NODE_INTERNALS_FRAME,
  );
  return { profile: result, matched, framesMatched };
}

export interface ViewFilters {
  /** Keep program points with a frame matching any of these. */
  focus?: readonly string[];
  /** Drop program points with a frame matching any of these. */
  exclude?: readonly string[];
  /** Drop frames matching any of these from the stacks (allocations stay). */
  hide?: readonly string[];
  /** Show Node's internal frames (default: hidden, see {@link hideNodeInternals}). */
  internals?: boolean;
}

export interface FilteredProfile {
  profile: Profile;
  /** What the filters did, for the report to say (e.g. "focus app.js: 12 of 400 program points"). */
  notes: string[];
  /** A pattern that matched nothing: probably a typo. */
  warnings: string[];
}

/**
 * Applies the filters in pprof's order: focus, exclude (on the whole stacks), then the
 * hiding of frames, then (unless `internals`) the default hiding of Node's internals.
 */
export function applyFilters(profile: Profile, filters: ViewFilters = {}): FilteredProfile {
  const notes: string[] = [];
  const warnings: string[] = [];
  let p = profile;
  const n = profile.programPoints.length;
  if (filters.focus?.length) {
    const r = focusProfile(p, filters.focus);
    if (r.matched === 0)
      warnings.push(`--focus ${filters.focus.join(' ')} matched no program point`);
    notes.push(
      `focus ${filters.focus.join(', ')}: ${r.matched.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} program points kept`,
    );
    p = r.profile;
  }
  if (filters.exclude?.length) {
    const r = excludeProfile(p, filters.exclude);
    if (r.matched === 0)
      warnings.push(`--exclude ${filters.exclude.join(' ')} matched no program point`);
    notes.push(
      `exclude ${filters.exclude.join(', ')}: ${r.matched.toLocaleString('en-US')} program points dropped`,
    );
    p = r.profile;
  }
  if (filters.hide?.length) {
    const r = hideFrames(p, filters.hide);
    if (r.framesMatched === 0) warnings.push(`--hide ${filters.hide.join(' ')} matched no frame`);
    notes.push(
      `hide ${filters.hide.join(', ')}: frames dropped from ${r.matched.toLocaleString('en-US')} stacks`,
    );
    p = r.profile;
  }
  if (!filters.internals) {
    const r = hideNodeInternals(p);
    // Only a profile with Node's frames at all (not Valgrind's or dhat-rs's) is changed.
    if (r.framesMatched > 0 && r.matched > 0) {
      notes.push(
        "Node's internal frames hidden (allocations charged to the calling code; --internals shows them)",
      );
      p = r.profile;
    }
  }
  return { profile: p, notes, warnings };
}

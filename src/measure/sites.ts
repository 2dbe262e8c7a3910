// From the profile of a tracked region to the program's own allocation sites: pure
// functions, no V8.
//
// While a region is tracked, V8 records every allocation with its JavaScript stack,
// heapscope's own bookkeeping included. Reading a stack from the allocating frame down,
// the first heapscope frame met decides whose allocation it is:
//
// - none: the program's (code that ran while the region waited on a promise: the
//   measured function's continuations, and anything else the process did meanwhile);
// - a frame that calls the program's code (`callsProgram`: the invoker of the measured
//   function, of a nested group...): the program's;
// - any other heapscope frame: heapscope's own bookkeeping, dropped.
//
// The program's stacks are then cut at the region's invoker (`cut`): frames below it are
// heapscope's and whoever called measure(). Heapscope's frames left in between (a group
// nested in the measured function) are removed.

import { ProfileBuilder } from '../model/builder.js';
import type { Profile } from '../model/profile.js';
import { count } from '../report/units.js';

/** One allocation site of a measured region. */
export interface Site {
  /** Call stack, allocating function first, as `fn (file:line:column)` strings. */
  stack: string[];
  /** Bytes allocated at this stack in the region (exact; V8's own metadata included). */
  allocatedBytes: number;
  /** Allocation events (objects; optimized code may allocate several in one event). */
  allocatedBlocks: number;
  /** Bytes of JavaScript values allocated here and still reachable at the region's end. */
  retainedBytes: number;
  retainedBlocks: number;
}

/** How to tell heapscope's frames from the program's. */
export interface FrameRoles {
  /** Frames of heapscope's measuring code. */
  own: ReadonlySet<string>;
  /** Heapscope frames that call the program's code (a subset of `own`). */
  callsProgram: ReadonlySet<string>;
  /** The frame that called the region's measured function: stacks end above it (a subset of `callsProgram`). */
  cut: ReadonlySet<string>;
}

/**
 * The program's part of a tracked region's profile: stacks cut at the invoker,
 * heapscope's frames and heapscope's own allocations removed. Returns a new profile.
 */
export function programProfile(profile: Profile, roles: FrameRoles): Profile {
  const builder = new ProfileBuilder({
    mode: profile.mode,
    verb: profile.verb,
    hasLifetimes: profile.hasLifetimes,
    hasAccesses: profile.hasAccesses,
    timeUnit: profile.timeUnit,
    timeUnitLarge: profile.timeUnitLarge,
    ...(profile.shortLivedThreshold !== undefined
      ? { shortLivedThreshold: profile.shortLivedThreshold }
      : {}),
    cmd: profile.cmd,
    pid: profile.pid,
    endTime: profile.endTime,
    ...(profile.peakTime !== undefined ? { peakTime: profile.peakTime } : {}),
  });
  for (const pp of profile.programPoints) {
    const frames = pp.stack.map((i) => profile.frames[i] ?? '');
    const kept = programFrames(frames, roles);
    if (!kept) continue;
    const { stack: _stack, ...metrics } = pp;
    builder.add({ ...metrics, frames: kept });
  }
  return builder.build(profile.heapscope);
}

/** The program's frames of one stack (allocating frame first), or undefined if it is heapscope's. */
export function programFrames(frames: readonly string[], roles: FrameRoles): string[] | undefined {
  if (frames.length === 0) return ['(no JavaScript stack)'];
  const firstOwn = frames.findIndex((f) => roles.own.has(f));
  if (firstOwn === 0) return undefined;
  if (firstOwn > 0 && !roles.callsProgram.has(frames[firstOwn]!)) return undefined;
  let cut = frames.length;
  for (let i = frames.length - 1; i >= 0; i--) {
    if (roles.cut.has(frames[i]!)) {
      cut = i;
      break;
    }
  }
  const kept = frames.slice(0, cut).filter((f) => !roles.own.has(f));
  return kept.length > 0 ? kept : undefined;
}

/** Sites of a program profile, largest allocation first. */
export function sitesOf(profile: Profile): Site[] {
  return profile.programPoints
    .map((pp) => ({
      stack: pp.stack.map((i) => profile.frames[i] ?? ''),
      allocatedBytes: pp.totalBytes,
      allocatedBlocks: pp.totalBlocks,
      retainedBytes: pp.endBytes ?? 0,
      retainedBlocks: pp.endBlocks ?? 0,
    }))
    .sort(
      (a, b) =>
        b.allocatedBytes - a.allocatedBytes ||
        b.retainedBytes - a.retainedBytes ||
        a.stack.join('\n').localeCompare(b.stack.join('\n')),
    );
}

/** Text lines for the top sites, e.g. in a failed assertion. */
export function formatSites(
  sites: readonly Site[],
  options: { top?: number; depth?: number; by?: 'allocated' | 'retained' } = {},
): string[] {
  const top = options.top ?? 5;
  const depth = options.depth ?? 4;
  const by = options.by ?? 'allocated';
  const sorted =
    by === 'retained' ? [...sites].sort((a, b) => b.retainedBytes - a.retainedBytes) : [...sites];
  const lines: string[] = [];
  for (const s of sorted.slice(0, top)) {
    const [head, ...rest] = s.stack.slice(0, depth);
    const figure =
      by === 'retained'
        ? `${count(s.retainedBytes)} B retained in ${count(s.retainedBlocks)} objects`
        : `${count(s.allocatedBytes)} B in ${count(s.allocatedBlocks)} allocations`;
    lines.push(`  ${figure} at ${head ?? '?'}`);
    for (const f of rest) lines.push(`      called from ${f}`);
  }
  return lines;
}

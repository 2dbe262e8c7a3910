/**
 * The search box: program points with a frame whose text (function name or file path)
 * contains the query, case-insensitively. Pure.
 */
import type { Profile } from '../../model/profile.js';

export interface SearchResult {
  /** Indexes of the matching program points (all of them for an empty query). */
  points: number[];
  /** Frames that match, for highlighting; undefined for an empty query. */
  frames?: Set<number>;
}

export function search(profile: Profile, query: string): SearchResult {
  const q = query.trim().toLowerCase();
  const all = profile.programPoints.map((_, i) => i);
  if (q === '') return { points: all };
  const frames = new Set<number>();
  profile.frames.forEach((f, i) => {
    if (i > 0 && f.toLowerCase().includes(q)) frames.add(i);
  });
  const points = all.filter((i) => profile.programPoints[i]!.stack.some((f) => frames.has(f)));
  return { points, frames };
}

/** A frame split into its function and its location: `fn (file:line:col)`. */
export function splitFrame(frame: string): { fn: string; loc: string } {
  const m = /^(.*?) \(([^()]*)\)$/.exec(frame);
  return m ? { fn: m[1]!, loc: m[2]! } : { fn: frame, loc: '' };
}

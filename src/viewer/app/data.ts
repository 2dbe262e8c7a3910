/**
 * The data the HTML page carries, as JSON in `<script type="application/json"
 * id="heapscope-data">`: the profiles to show and, when served, how to stop the server.
 * Types only, shared by the page and by `src/viewer/render.ts`.
 */
import type { DiffResult } from '../../model/diff.js';
import type { Profile } from '../../model/profile.js';

export interface ViewerFile {
  /** The file's name as given on the command line. */
  name: string;
  profile: Profile;
}

export interface ViewerData {
  version: 1;
  /** One profile, or two: base then head, shown side by side with a diff. */
  files: ViewerFile[];
  /** With two files: the head against the base (`diffProfiles`), rows cut to the largest changes. */
  diff?: DiffResult;
  /** With two files that cannot be compared (no figure in common): why. */
  diffError?: string;
  /** Set when `heapscope view` serves the page: POST `path` with this token stops it. */
  server?: { closePath: string; token: string };
}

/** A point of `heapscope.timeline` (optional in heapscope profiles): live bytes at time t. */
export interface TimelinePoint {
  /** In the profile's time unit. */
  t: number;
  bytes: number;
}

/** The timeline a profile carries, if any well-formed one. */
export function timelineOf(profile: Profile): TimelinePoint[] | undefined {
  const raw = (profile.heapscope as { timeline?: unknown } | undefined)?.timeline;
  if (!Array.isArray(raw)) return undefined;
  const points = raw.filter(
    (p): p is TimelinePoint =>
      typeof p === 'object' &&
      p !== null &&
      Number.isFinite((p as TimelinePoint).t) &&
      Number.isFinite((p as TimelinePoint).bytes),
  );
  return points.length >= 2 ? points.slice().sort((a, b) => a.t - b.t) : undefined;
}

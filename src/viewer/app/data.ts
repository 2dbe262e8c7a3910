/**
 * The data the HTML page carries and what the app reads it into; shared by the page and
 * by `src/viewer/render.ts`, which writes it.
 */
import type { DiffResult } from '../../model/diff.js';
import type { Profile, ProgramPoint } from '../../model/profile.js';

export interface ViewerFile {
  /** The file's name as given on the command line. */
  name: string;
  profile: Profile;
}

/** What the app works with, once the page's data is read (`readPageData`). */
export interface ViewerData {
  /** One profile, or two: base then head, shown side by side with a diff. */
  files: ViewerFile[];
  /** Set when `heapscope view` serves the page: POST `path` with this token stops it. */
  server?: { closePath: string; token: string };
}

/** With two files, the diff the page shows (computed by the page), or why there is none. */
export type PageDiff = { diff: DiffResult } | { error: string };

/**
 * The data the HTML page carries, as JSON in `<script type="application/json"
 * id="heapscope-data">`: the profiles' headers and program points in columns (numbers,
 * no key per program point), and each profile's frame table in parts, each part a script
 * element of its own (`heapscope-frames-<file>-<part>`, a JSON array of strings): no
 * text of the page is then one string longer than a part, whatever the profile's size.
 */
export interface PageData {
  version: 2;
  files: { name: string; profile: PageProfile }[];
  /** The rows the page opens with: `site`, or e.g. `function:self` (`heapscope view --by`). */
  group?: string;
  server?: { closePath: string; token: string };
}

/** The program point fields kept as columns of numbers (null where a point lacks one). */
export const NUMBER_FIELDS = [
  'totalBytes',
  'totalBlocks',
  'totalLifetimes',
  'maxBytes',
  'maxBlocks',
  'peakBytes',
  'peakBlocks',
  'endBytes',
  'endBlocks',
  'readBytes',
  'writeBytes',
] as const;

/** A profile as the page carries it. */
export interface PageProfile {
  /** Everything but the frames and program points. */
  header: Omit<Profile, 'frames' | 'programPoints'>;
  /** Frames in the table (the root included) and the script elements they are in. */
  frames: number;
  frameParts: number;
  /** Stack lengths, then all stacks' frame indexes one after the other. */
  stackLengths: number[];
  stacks: number[];
  /** Per field of NUMBER_FIELDS that some program point has: its value at each point. */
  columns: Partial<Record<(typeof NUMBER_FIELDS)[number], (number | null)[]>>;
  /** DHAT's access counts and heapscope's extras, by program point index, where present. */
  extras?: Record<number, Pick<ProgramPoint, 'accesses' | 'heapscope'>>;
}

/** Frames per script element. */
export const FRAMES_PER_PART = 500_000;

/** The id of a frame part's script element. */
export function framePartId(file: number, part: number): string {
  return `heapscope-frames-${file}-${part}`;
}

/** A profile in the page's form, and its frame table's parts. */
export function toPageProfile(profile: Profile): { page: PageProfile; frameParts: string[][] } {
  const { frames, programPoints: pps, ...header } = profile;
  const stackLengths: number[] = new Array(pps.length);
  let n = 0;
  for (let i = 0; i < pps.length; i++) n += stackLengths[i] = pps[i]!.stack.length;
  const stacks: number[] = new Array(n);
  let k = 0;
  for (const pp of pps) for (const f of pp.stack) stacks[k++] = f;
  const columns: PageProfile['columns'] = {};
  for (const field of NUMBER_FIELDS) {
    if (!pps.some((pp) => pp[field] !== undefined)) continue;
    columns[field] = pps.map((pp) => pp[field] ?? null);
  }
  let extras: PageProfile['extras'];
  pps.forEach((pp, i) => {
    if (pp.accesses === undefined && pp.heapscope === undefined) return;
    extras ??= {};
    extras[i] = {
      ...(pp.accesses !== undefined ? { accesses: pp.accesses } : {}),
      ...(pp.heapscope !== undefined ? { heapscope: pp.heapscope } : {}),
    };
  });
  const frameParts: string[][] = [];
  for (let i = 0; i < frames.length; i += FRAMES_PER_PART) {
    frameParts.push(frames.slice(i, i + FRAMES_PER_PART));
  }
  return {
    page: {
      header,
      frames: frames.length,
      frameParts: frameParts.length,
      stackLengths,
      stacks,
      columns,
      ...(extras ? { extras } : {}),
    },
    frameParts,
  };
}

/** The profile back from the page's form (`frameParts`: the parts' arrays, in order). */
export function fromPageProfile(page: PageProfile, frameParts: string[][]): Profile {
  const frames = frameParts.length === 1 ? frameParts[0]! : frameParts.flat();
  const fields = NUMBER_FIELDS.filter((f) => page.columns[f] !== undefined);
  const programPoints: ProgramPoint[] = new Array(page.stackLengths.length);
  let at = 0;
  for (let i = 0; i < programPoints.length; i++) {
    const len = page.stackLengths[i]!;
    const pp = { stack: page.stacks.slice(at, at + len) } as ProgramPoint;
    at += len;
    for (const f of fields) {
      const v = page.columns[f]![i];
      if (v !== null && v !== undefined) pp[f] = v;
    }
    const extra = page.extras?.[i];
    if (extra?.accesses !== undefined) pp.accesses = extra.accesses;
    if (extra?.heapscope !== undefined) pp.heapscope = extra.heapscope;
    programPoints[i] = pp;
  }
  return { ...page.header, frames, programPoints } as Profile;
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

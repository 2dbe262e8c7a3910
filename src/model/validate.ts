/**
 * The one check every profile passes before heapscope uses it: every reader ends with it,
 * so every command (report, view, diff, check, convert) gives one verdict on one file.
 *
 * Counts (bytes, blocks, accesses, a pid) are whole numbers from 0 to 2^53−1: beyond that
 * a double no longer holds every integer and sums go wrong silently. Times (`te`, `tg`,
 * `tl`, `tuth`) are finite numbers ≥ 0, fractions allowed (heapscope's clock is in µs).
 * Strings are strings, flags are booleans, stacks are arrays of frame indexes in range.
 * `null`, `"abc"` or `true` in a size field is a malformed file, never 0, NaN or 1.
 */
import { ADDITIVE_METRICS } from './metrics.js';
import type { HeapscopeMeta, Profile, ProgramPoint } from './profile.js';

/** How a reader names the model's fields in its own format (DHAT: `tb` for `totalBytes`). */
export type FieldNames = (field: string) => string;

/** The deepest nesting allowed inside heapscope's own records (`heapscope` objects). */
export const MAX_RECORD_DEPTH = 64;

/**
 * The most frames a stack may have. V8 cuts stacks at 64 frames, Valgrind at 500; deeper
 * stacks are refused rather than read, as writers that nest a node per frame (a
 * `.heapprofile`) could not write them back.
 */
export const MAX_STACK_DEPTH = 1024;

/** Problems reported at most: the first one is the verdict, the rest help a repair. */
const MAX_PROBLEMS = 20;

const METRIC_KEYS = [...ADDITIVE_METRICS, 'maxBytes', 'maxBlocks'] as const;
/** Metrics that are times, in the profile's time unit: fractions allowed. */
const TIME_METRICS: ReadonlySet<string> = new Set(['totalLifetimes']);

/** A value as it appears in a message: short, on one line. */
export function showValue(v: unknown): string {
  let text: string;
  if (v === undefined) text = 'missing';
  else if (typeof v === 'number') text = Object.is(v, -0) ? '-0' : String(v);
  else if (typeof v === 'bigint') text = `${v}n`;
  else if (Array.isArray(v)) text = v.length === 0 ? '[]' : `an array of ${v.length}`;
  else if (typeof v === 'object' && v !== null) text = 'an object';
  else text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** True for a whole number from 0 to 2^53−1. */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** True for a finite number ≥ 0 (a time or a ratio). */
export function isAmount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

const COUNT = 'a whole number from 0 to 2^53-1';
const AMOUNT = 'a finite number >= 0';

/** How deep `v` nests (1 for a flat object), counting no further than `limit + 1`. */
export function nestingDepth(v: unknown, limit: number): number {
  let deepest = 0;
  const todo: [unknown, number][] = [[v, 1]];
  while (todo.length > 0) {
    const [x, d] = todo.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Object.values(x)) {
      if (typeof child === 'object' && child !== null) todo.push([child, d + 1]);
    }
  }
  return deepest;
}

/**
 * Checks every field of a profile: types, ranges, frame indexes, unique stacks, and
 * heapscope's own records. Returns the problems found (empty when the profile is
 * valid), each on one line, the first the most useful; `names` words fields as the
 * file spells them.
 */
export function validateProfile(profile: Profile, names: FieldNames = (f) => f): string[] {
  const problems: string[] = [];
  const bad = (where: string, field: string, value: unknown, want: string) => {
    if (problems.length < MAX_PROBLEMS) {
      problems.push(`${where}"${names(field)}" is ${showValue(value)}; wants ${want}`);
    }
  };
  const p = profile as unknown as Record<string, unknown>;
  if (typeof profile !== 'object' || profile === null) return ['not an object'];

  for (const k of ['mode', 'verb', 'timeUnit', 'timeUnitLarge', 'cmd'] as const) {
    if (typeof p[k] !== 'string') bad('', k, p[k], 'a string');
  }
  for (const k of ['hasLifetimes', 'hasAccesses'] as const) {
    if (typeof p[k] !== 'boolean') bad('', k, p[k], 'true or false');
  }
  if (!isCount(p.pid)) bad('', 'pid', p.pid, COUNT);
  if (!isAmount(p.endTime)) bad('', 'endTime', p.endTime, AMOUNT);
  for (const k of ['peakTime', 'shortLivedThreshold'] as const) {
    if (p[k] !== undefined && !isAmount(p[k])) bad('', k, p[k], AMOUNT);
  }
  if (p.units !== undefined) {
    const u = p.units as Record<string, unknown> | null;
    for (const k of ['byte', 'bytes', 'blocks'] as const) {
      if (typeof u?.[k] !== 'string') bad('', `units.${k}`, u?.[k], 'a string');
    }
  }
  if (p.heapscope !== undefined)
    checkMeta(p.heapscope, (field, value, want) => bad('', field, value, want));

  if (!Array.isArray(p.frames)) {
    bad('', 'frames', p.frames, 'an array of strings');
    return problems;
  }
  const frames = p.frames as unknown[];
  const nFrames = frames.length;
  if (nFrames === 0)
    problems.push(`the frame table "${names('frames')}" is empty (index 0 must be "[root]")`);
  for (let i = 0; i < nFrames; i++) {
    if (typeof frames[i] !== 'string') {
      bad(`frame ${i}: `, 'frames', frames[i], 'a string');
      break;
    }
  }
  if (!Array.isArray(p.programPoints)) {
    bad('', 'programPoints', p.programPoints, 'an array');
    return problems;
  }
  const seen = new Map<string, number>();
  const pps = p.programPoints as unknown[];
  for (let i = 0; i < pps.length && problems.length < MAX_PROBLEMS; i++) {
    const where = `program point ${i}: `;
    const pp = pps[i] as Record<string, unknown> | null;
    if (typeof pp !== 'object' || pp === null || Array.isArray(pp)) {
      problems.push(`program point ${i} is ${showValue(pp)}; wants an object`);
      continue;
    }
    const stack = pp.stack;
    if (!Array.isArray(stack)) {
      bad(where, 'stack', stack, 'an array of frame indexes');
    } else if (stack.length > MAX_STACK_DEPTH) {
      problems.push(
        `program point ${i} has a stack of ${stack.length} frames; heapscope reads at most ${MAX_STACK_DEPTH}`,
      );
    } else {
      let ok = true;
      for (const f of stack) {
        if (!Number.isSafeInteger(f) || f < 0 || f >= nFrames) {
          problems.push(
            `program point ${i} refers to frame ${showValue(f)}, but the table has ${nFrames}`,
          );
          ok = false;
          break;
        }
      }
      if (ok) {
        const key = stack.join(',');
        const prev = seen.get(key);
        if (prev !== undefined)
          problems.push(`program points ${prev} and ${i} have the same stack`);
        else seen.set(key, i);
      }
    }
    for (const k of ['totalBytes', 'totalBlocks'] as const) {
      if (!isCount(pp[k])) bad(where, k, pp[k], COUNT);
    }
    for (const k of METRIC_KEYS) {
      const v = pp[k];
      if (v === undefined || k === 'totalBytes' || k === 'totalBlocks') continue;
      if (TIME_METRICS.has(k) ? !isAmount(v) : !isCount(v)) {
        bad(where, k, v, TIME_METRICS.has(k) ? AMOUNT : COUNT);
      }
    }
    if (pp.accesses !== undefined) {
      const acc = pp.accesses;
      // DHAT's run-length encoding: -n before a count repeats it n times.
      if (!Array.isArray(acc) || !acc.every((x) => Number.isSafeInteger(x))) {
        bad(where, 'accesses', acc, 'an array of whole numbers');
      }
    }
    if (pp.heapscope !== undefined)
      checkExtras(pp.heapscope as ProgramPoint['heapscope'], where, bad);
  }
  return problems;
}

function checkExtras(
  x: unknown,
  where: string,
  bad: (where: string, field: string, value: unknown, want: string) => void,
): void {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    bad(where, 'heapscope', x, 'an object');
    return;
  }
  if (nestingDepth(x, MAX_RECORD_DEPTH) > MAX_RECORD_DEPTH) {
    bad(where, 'heapscope', x, `at most ${MAX_RECORD_DEPTH} levels of nesting`);
    return;
  }
  const byType = (x as { endByType?: unknown }).endByType;
  if (byType === undefined) return;
  if (typeof byType !== 'object' || byType === null || Array.isArray(byType)) {
    bad(where, 'heapscope.endByType', byType, 'an object');
    return;
  }
  for (const [type, v] of Object.entries(byType)) {
    if (!Array.isArray(v) || v.length !== 2 || !isCount(v[0]) || !isCount(v[1])) {
      bad(where, `heapscope.endByType.${type}`, v, `[bytes, blocks], each ${COUNT}`);
      return;
    }
  }
}

const CAPTURES: ReadonlySet<unknown> = new Set(['exact', 'sampled']);
const PEAK_METHODS: ReadonlySet<unknown> = new Set(['exact', 'sampled-at-peak', 'end-as-peak']);

/** The problems of heapscope's profile-level record (`HeapscopeMeta`), each on one line. */
export function validateMeta(meta: unknown, field = 'heapscope'): string[] {
  const problems: string[] = [];
  checkMeta(meta, (f, value, want) => {
    problems.push(`"${f.replace(/^heapscope/, field)}" is ${showValue(value)}; wants ${want}`);
  });
  return problems;
}

/** heapscope's profile-level record: the fields its commands read, typed as `HeapscopeMeta` says. */
function checkMeta(
  meta: unknown,
  bad: (field: string, value: unknown, want: string) => void,
): void {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    bad('heapscope', meta, 'an object');
    return;
  }
  if (nestingDepth(meta, MAX_RECORD_DEPTH) > MAX_RECORD_DEPTH) {
    bad('heapscope', meta, `at most ${MAX_RECORD_DEPTH} levels of nesting`);
    return;
  }
  const m = meta as Record<keyof HeapscopeMeta, unknown>;
  const obj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (m.version !== 1) bad('heapscope.version', m.version, '1');
  if (!CAPTURES.has(m.capture)) bad('heapscope.capture', m.capture, '"exact" or "sampled"');
  if (!obj(m.exact)) bad('heapscope.exact', m.exact, 'an object of true/false');
  else {
    for (const k of ['total', 'end', 'peak']) {
      if (typeof m.exact[k] !== 'boolean') bad(`heapscope.exact.${k}`, m.exact[k], 'true or false');
    }
  }
  if (m.sampleInterval !== undefined && !isAmount(m.sampleInterval)) {
    bad('heapscope.sampleInterval', m.sampleInterval, AMOUNT);
  }
  for (const k of ['node', 'v8', 'cwd'] as const) {
    if (m[k] !== undefined && typeof m[k] !== 'string') bad(`heapscope.${k}`, m[k], 'a string');
  }
  for (const k of ['threadId', 'parentPid'] as const) {
    if (m[k] !== undefined && !isCount(m[k])) bad(`heapscope.${k}`, m[k], COUNT);
  }
  if (m.peak !== undefined) {
    if (!obj(m.peak)) bad('heapscope.peak', m.peak, 'an object');
    else {
      if (!PEAK_METHODS.has(m.peak.method)) {
        bad('heapscope.peak.method', m.peak.method, '"exact", "sampled-at-peak" or "end-as-peak"');
      }
      for (const k of ['liveAfterGcBytes', 'usedBeforeGcBytes']) {
        if (m.peak[k] !== undefined && !isCount(m.peak[k]))
          bad(`heapscope.peak.${k}`, m.peak[k], COUNT);
      }
      if (m.peak.note !== undefined && typeof m.peak.note !== 'string') {
        bad('heapscope.peak.note', m.peak.note, 'a string');
      }
    }
  }
  if (m.gc !== undefined) {
    if (!obj(m.gc) || !isCount(m.gc.scavenges) || !isCount(m.gc.markCompacts)) {
      bad('heapscope.gc', m.gc, `{ scavenges, markCompacts }, each ${COUNT}`);
    }
  }
  if (m.heapAtEnd !== undefined) {
    if (
      !obj(m.heapAtEnd) ||
      !isCount(m.heapAtEnd.used) ||
      (m.heapAtEnd.external !== undefined && !isCount(m.heapAtEnd.external))
    ) {
      bad('heapscope.heapAtEnd', m.heapAtEnd, `{ used, external? }, each ${COUNT}`);
    }
  }
  if (m.timeline !== undefined) {
    const t = m.timeline;
    if (!Array.isArray(t)) bad('heapscope.timeline', t, 'an array');
    else {
      const i = t.findIndex((e) => !obj(e) || !isAmount(e.t) || !isCount(e.bytes));
      if (i >= 0) bad(`heapscope.timeline[${i}]`, t[i], `{ t: ${AMOUNT}, bytes: ${COUNT} }`);
    }
  }
  if (m.notes !== undefined) {
    if (!Array.isArray(m.notes) || !m.notes.every((n) => typeof n === 'string')) {
      bad('heapscope.notes', m.notes, 'an array of strings');
    }
  }
}

/**
 * What changed between two profiles: totals and per-site deltas for every metric both
 * have, sorted by the size of the change, with new and vanished sites marked and fuzzy
 * matches (code that moved, files renamed) said as such (see `match.ts`).
 *
 * Either side may be several runs of the same program. Each site's value is then the
 * mean over the runs (a site missing from a run counts 0 there), and a change is only
 * called significant when it is larger than the spread (max − min) between the runs of
 * either side. With one run per side any change that is not zero is significant.
 *
 * Pure: the profiles are not changed, the result is new data.
 */

import { isFuzzy, type MatchKind, matchStacks } from './match.js';
import {
  availableMetrics,
  findMetric,
  METRICS,
  type MetricInfo,
  type MetricKey,
} from './metrics.js';
import { type Profile, stackFrames } from './profile.js';

export interface DiffOptions {
  /** Metric the rows are sorted by (default: total bytes, the first metric both sides have). */
  sort?: MetricKey | string | MetricInfo;
  /** Match sites whose code moved or whose file was renamed (default true). */
  fuzzy?: boolean;
  /** Names for the two sides in reports, e.g. a git revision. */
  labels?: { base?: string; head?: string };
  /**
   * Keep only the rows a report of the top N shows: the first N rows of the order and
   * the first N whose sort metric changed significantly (default: every row). Counts
   * stay over every site; the rows left out are never built, which is what lets a diff
   * of two million-site profiles fit in memory.
   */
  top?: number;
}

export interface MetricDelta {
  /** The base's and the head's value (means when a side has several runs). */
  base: number;
  head: number;
  /** head − base. */
  delta: number;
  /** head / base; null when the base is 0. */
  ratio: number | null;
  /** Smallest and largest value over the runs, when a side has more than one. */
  baseRange?: [min: number, max: number];
  headRange?: [min: number, max: number];
  /** The change is larger than the spread between runs (any change, with one run a side). */
  significant: boolean;
}

export type Deltas = Partial<Record<MetricKey, MetricDelta>>;

export type RowStatus = 'changed' | 'unchanged' | 'new' | 'vanished';

export interface DiffRow {
  /**
   * `new`: only in the head; `vanished`: only in the base; `changed`: in both, a metric
   * changed significantly. A site in neither base run and in some of the head runs
   * whose figures stay within the spread between runs is `unchanged` (and `match` is `none`).
   */
  status: RowStatus;
  /** How the base and head sites were matched; `none` for new and vanished sites. */
  match: MatchKind | 'none';
  /** The sites were matched although their source positions differ (moved or renamed). */
  fuzzy: boolean;
  /** Whether any metric changed significantly. */
  significant: boolean;
  /** The head's stack (the base's for a vanished site), allocation site first. */
  frames: string[];
  /** The base's stack, when it differs from `frames`. */
  baseFrames?: string[];
  /** Program points folded into this row on each side (1 and 1 for a plain match). */
  sites: { base: number; head: number };
  values: Deltas;
}

export interface DiffSide {
  /** The name given in DiffOptions.labels, e.g. a git revision. */
  label?: string;
  cmd: string;
  mode: string;
  pid: number;
  /** heapscope's capture kind; absent for Valgrind and dhat-rs files. */
  capture?: 'exact' | 'sampled';
  runs: number;
  programPoints: number;
}

export interface DiffResult {
  base: DiffSide;
  head: DiffSide;
  /** Metrics both sides have, in METRICS order. */
  metrics: MetricInfo[];
  sortedBy: MetricInfo;
  /** Sums over all sites of the additive metrics (not the per-site maxima). */
  totals: Deltas;
  /**
   * Every site of either side (with `DiffOptions.top`, the rows a top-N report shows);
   * significant changes first, then by the size of the change.
   */
  rows: DiffRow[];
  counts: Record<RowStatus | 'fuzzy', number>;
  /** Rows whose sort metric changed significantly, of all rows (kept or not). */
  changes: number;
  /** Rows with a change that is not significant (within the spread between runs). */
  quiet: number;
  /** What bytes and blocks are called, when not heap bytes and blocks (the head's; ad-hoc profiles). */
  units?: Profile['units'];
  /** What the reader must know: different modes, estimates, metrics only one side has. */
  warnings: string[];
}

/** Per-site maxima: comparable per site, but their sum is no profile figure. */
const NOT_ADDITIVE: ReadonlySet<MetricKey> = new Set(['maxBytes', 'maxBlocks']);

/** One side's sites: program points of all its runs by stack, with each run's values. */
interface Side {
  runs: number;
  /** How many sites. */
  count: number;
  /** The stack of a site, allocation site first (made when asked for one run). */
  at(site: number): string[];
  /** Per metric (in the diff's metric order), site × run values, 0 where a run lacks the site. */
  values: Float64Array[];
}

type ProfileOrRuns = Profile | readonly Profile[];

/** Compares a base profile with a head profile (or several runs of each). */
export function diffProfiles(
  base: ProfileOrRuns,
  head: ProfileOrRuns,
  options: DiffOptions = {},
): DiffResult {
  const baseRuns = asRuns(base, 'base');
  const headRuns = asRuns(head, 'head');
  const warnings: string[] = [];
  const metrics = commonMetrics(baseRuns, headRuns, warnings);
  const sortedBy = pickSort(options.sort, metrics);
  const sortIndex = metrics.findIndex((m) => m.key === sortedBy.key);
  const b = combineRuns(baseRuns, metrics);
  const h = combineRuns(headRuns, metrics);
  const matched = matchStacks(b, h, { fuzzy: options.fuzzy !== false });
  // Every row as its sites on each side: the matches, then the new and the vanished
  // sites. Rows become objects only when kept.
  const nm = matched.matches.length;
  const na = matched.added.length;
  const groupOf = (r: number): { base: number[]; head: number[]; match: MatchKind | 'none' } => {
    if (r < nm) {
      const m = matched.matches[r]!;
      return { base: m.base, head: m.head, match: m.kind };
    }
    if (r < nm + na) return { base: [], head: [matched.added[r - nm]!], match: 'none' };
    return { base: [matched.removed[r - nm - na]!], head: [], match: 'none' };
  };
  const n = nm + na + matched.removed.length;
  // What the order needs of each row, as numbers.
  const anySig = new Uint8Array(n);
  const sortSig = new Uint8Array(n);
  const size = new Float64Array(n);
  const others = new Float64Array(n);
  const counts: DiffResult['counts'] = { changed: 0, unchanged: 0, new: 0, vanished: 0, fuzzy: 0 };
  let changes = 0;
  let quiet = 0;
  const scratch = { b: new Float64Array(b.runs), h: new Float64Array(h.runs) };
  for (let r = 0; r < n; r++) {
    const g = groupOf(r);
    let sig = false;
    let moved = false;
    for (let k = 0; k < metrics.length; k++) {
      const d = quickDelta(b, g.base, h, g.head, k, scratch);
      if (d.significant) sig = true;
      if (d.delta !== 0) moved = true;
      others[r]! += Math.abs(d.delta);
      if (k === sortIndex) {
        size[r] = Math.abs(d.delta);
        if (d.significant) {
          sortSig[r] = 1;
          changes++;
        }
      }
    }
    anySig[r] = sig ? 1 : 0;
    if (!sig && moved) quiet++;
    const status: RowStatus = !sig
      ? 'unchanged'
      : g.match !== 'none'
        ? 'changed'
        : g.base.length === 0
          ? 'new'
          : 'vanished';
    counts[status]++;
    if (g.match !== 'none' && isFuzzy(g.match)) counts.fuzzy++;
  }
  const frameKeys = new Map<number, string>();
  const frameKey = (r: number) => {
    let k = frameKeys.get(r);
    if (k === undefined) {
      const g = groupOf(r);
      k = (g.head.length ? h.at(g.head[0]!) : b.at(g.base[0]!)).join('\n');
      frameKeys.set(r, k);
    }
    return k;
  };
  const byNumbers = (x: number, y: number) =>
    anySig[y]! - anySig[x]! || size[y]! - size[x]! || others[y]! - others[x]!;
  const byChange = (x: number, y: number) => {
    const d = byNumbers(x, y);
    if (d !== 0) return d;
    const kx = frameKey(x);
    const ky = frameKey(y);
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  };
  const all = Array.from({ length: n }, (_, i) => i);
  let kept: number[];
  if (options.top === undefined || options.top >= n) {
    kept = all.sort(byChange);
  } else {
    const top = options.top;
    const chosen = new Set([
      ...firstOf(all, top, byNumbers, byChange),
      ...firstOf(
        all.filter((r) => sortSig[r] === 1),
        top,
        byNumbers,
        byChange,
      ),
    ]);
    kept = [...chosen].sort(byChange);
  }
  const rows = kept.map((r) => {
    const g = groupOf(r);
    return buildRow(b, g.base, h, g.head, g.match, metrics);
  });

  const totalsOut: Deltas = {};
  for (const m of metrics) {
    if (NOT_ADDITIVE.has(m.key)) continue;
    totalsOut[m.key] = delta(
      baseRuns.map((p) => sumMetric(p, m.key)),
      headRuns.map((p) => sumMetric(p, m.key)),
    );
  }
  warnings.push(...sideWarnings(baseRuns, headRuns));
  return {
    base: describe(baseRuns, options.labels?.base),
    head: describe(headRuns, options.labels?.head),
    metrics,
    sortedBy,
    totals: totalsOut,
    rows,
    counts,
    changes,
    quiet,
    ...(headRuns[0]!.units ? { units: headRuns[0]!.units } : {}),
    warnings,
  };
}

/**
 * The first `k` of `rows` in the order `full`, sorting by the cheaper `numbers` first:
 * only the rows tied with the k-th by numbers are compared in full (by their frames).
 */
function firstOf(
  rows: number[],
  k: number,
  numbers: (a: number, b: number) => number,
  full: (a: number, b: number) => number,
): number[] {
  if (rows.length <= k) return rows;
  const sorted = rows.slice().sort((a, b) => numbers(a, b) || a - b);
  let end = k;
  while (end < sorted.length && numbers(sorted[end]!, sorted[k - 1]!) === 0) end++;
  return sorted.slice(0, end).sort(full).slice(0, k);
}

/** The delta of metric `k` over some sites of each side, with only what the order needs. */
function quickDelta(
  b: Side,
  bSites: readonly number[],
  h: Side,
  hSites: readonly number[],
  k: number,
  scratch: { b: Float64Array; h: Float64Array },
): { delta: number; significant: boolean } {
  const bs = runSums(b, bSites, k, scratch.b);
  const hs = runSums(h, hSites, k, scratch.h);
  const bMean = meanOf(bs);
  const hMean = meanOf(hs);
  const d = hMean - bMean;
  const spread = Math.max(spreadOf(bs), spreadOf(hs));
  return { delta: d, significant: isSignificant(d, spread, bMean, hMean) };
}

/** Metric `k` summed over some sites of a side, per run, into `out`. */
function runSums(side: Side, sites: readonly number[], k: number, out: Float64Array): Float64Array {
  out.fill(0);
  const v = side.values[k]!;
  for (const s of sites)
    for (let run = 0; run < side.runs; run++) out[run]! += v[s * side.runs + run]!;
  return out;
}

function meanOf(v: Float64Array): number {
  let sum = 0;
  for (const x of v) sum += x;
  return sum / v.length;
}

/** max − min over the runs; 0 with one run. */
function spreadOf(v: Float64Array): number {
  if (v.length <= 1) return 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return hi - lo;
}

/** A row with every metric's delta, for the rows kept. */
function buildRow(
  b: Side,
  bSites: readonly number[],
  h: Side,
  hSites: readonly number[],
  match: MatchKind | 'none',
  metrics: readonly MetricInfo[],
): DiffRow {
  const perRun = (side: Side, sites: readonly number[], k: number) => {
    const out = new Array<number>(side.runs).fill(0);
    for (const s of sites)
      for (let run = 0; run < side.runs; run++) out[run]! += side.values[k]![s * side.runs + run]!;
    return out;
  };
  const values: Deltas = {};
  metrics.forEach((m, k) => {
    values[m.key] = delta(perRun(b, bSites, k), perRun(h, hSites, k));
  });
  const significant = metrics.some((m) => values[m.key]!.significant);
  const frames = hSites.length ? h.at(hSites[0]!) : b.at(bSites[0]!);
  const baseFrames = bSites.length ? b.at(bSites[0]!) : undefined;
  const status: RowStatus = !significant
    ? 'unchanged'
    : match !== 'none'
      ? 'changed'
      : bSites.length === 0
        ? 'new'
        : 'vanished';
  return {
    status,
    match,
    fuzzy: match !== 'none' && isFuzzy(match),
    significant,
    frames: [...frames],
    ...(baseFrames && hSites.length > 0 && baseFrames.join('\n') !== frames.join('\n')
      ? { baseFrames: [...baseFrames] }
      : {}),
    sites: { base: bSites.length, head: hSites.length },
    values,
  };
}

function asRuns(p: ProfileOrRuns, side: string): readonly Profile[] {
  const runs = Array.isArray(p) ? (p as readonly Profile[]) : [p as Profile];
  if (runs.length === 0) throw new RangeError(`no ${side} profile to compare`);
  return runs;
}

/** Metrics every run of both sides has; says which ones only one side has. */
function commonMetrics(
  base: readonly Profile[],
  head: readonly Profile[],
  warnings: string[],
): MetricInfo[] {
  const inAll = (runs: readonly Profile[]) => {
    const keys = runs.map((p) => new Set(availableMetrics(p).map((m) => m.key)));
    return (m: MetricInfo) => keys.every((k) => k.has(m.key));
  };
  const hasB = inAll(base);
  const hasH = inAll(head);
  const all = [...base, ...head];
  const sameTimeUnit = all.every((p) => p.timeUnit === all[0]!.timeUnit);
  const out: MetricInfo[] = [];
  const onlyB: string[] = [];
  const onlyH: string[] = [];
  for (const m of METRICS) {
    const b = hasB(m);
    const h = hasH(m);
    if (b && h) {
      if (m.unit === 'time' && !sameTimeUnit) {
        warnings.push(
          `lifetimes not compared: the base counts time in ${base[0]!.timeUnit}, the head in ${head[0]!.timeUnit}`,
        );
        continue;
      }
      out.push(m);
    } else if (b) onlyB.push(m.name);
    else if (h) onlyH.push(m.name);
  }
  if (onlyB.length) warnings.push(`only the base has ${onlyB.join(', ')}: not compared`);
  if (onlyH.length) warnings.push(`only the head has ${onlyH.join(', ')}: not compared`);
  if (out.length === 0) throw new RangeError('the two profiles have no metric in common');
  return out;
}

function pickSort(sort: DiffOptions['sort'], metrics: MetricInfo[]): MetricInfo {
  if (sort === undefined) return metrics[0]!;
  const info = typeof sort === 'string' ? findMetric(sort) : sort;
  const found = info && metrics.find((m) => m.key === info.key);
  if (!found) {
    const name = typeof sort === 'string' ? sort : sort.name;
    throw new RangeError(
      `cannot sort by "${name}": the profiles have in common only ${metrics.map((m) => m.name).join(', ')}`,
    );
  }
  return found;
}

/** The sites of one side: program points of all runs by stack, with each run's values. */
function combineRuns(runs: readonly Profile[], metrics: readonly MetricInfo[]): Side {
  if (runs.length === 1) {
    // One run: its program points are the sites (stacks are unique in a profile).
    const p = runs[0]!;
    const pps = p.programPoints;
    const values = metrics.map((m) => {
      const v = new Float64Array(pps.length);
      for (let i = 0; i < pps.length; i++) v[i] = pps[i]![m.key] ?? 0;
      return v;
    });
    return { runs: 1, count: pps.length, at: (i) => stackFrames(p, pps[i]!), values };
  }
  const byStack = new Map<string, number>();
  const frames: string[][] = [];
  const sums: number[][] = metrics.map(() => []);
  runs.forEach((p, run) => {
    for (const pp of p.programPoints) {
      const stack = stackFrames(p, pp);
      const key = stack.join('\n');
      let site = byStack.get(key);
      if (site === undefined) {
        site = frames.length;
        frames.push(stack);
        byStack.set(key, site);
        for (const s of sums) for (let r = 0; r < runs.length; r++) s.push(0);
      }
      metrics.forEach((m, k) => {
        sums[k]![site! * runs.length + run]! += pp[m.key] ?? 0;
      });
    }
  });
  return {
    runs: runs.length,
    count: frames.length,
    at: (i) => frames[i]!,
    values: sums.map((s) => Float64Array.from(s)),
  };
}

function sumMetric(p: Profile, key: MetricKey): number {
  let t = 0;
  for (const pp of p.programPoints) t += pp[key] ?? 0;
  return t;
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function delta(base: readonly number[], head: readonly number[]): MetricDelta {
  const b = mean(base);
  const h = mean(head);
  const d = h - b;
  const range = (v: readonly number[]): [number, number] => [Math.min(...v), Math.max(...v)];
  const out: MetricDelta = {
    base: b,
    head: h,
    delta: d,
    ratio: b === 0 ? null : h / b,
    significant: false,
  };
  let spread = 0;
  if (base.length > 1) {
    out.baseRange = range(base);
    spread = Math.max(spread, out.baseRange[1] - out.baseRange[0]);
  }
  if (head.length > 1) {
    out.headRange = range(head);
    spread = Math.max(spread, out.headRange[1] - out.headRange[0]);
  }
  out.significant = isSignificant(d, spread, b, h);
  return out;
}

/** A change larger than the spread; means of whole numbers: rounding in the last place allowed. */
function isSignificant(d: number, spread: number, b: number, h: number): boolean {
  return Math.abs(d) > spread + 1e-9 * Math.max(1, Math.abs(b), Math.abs(h));
}

function describe(runs: readonly Profile[], label: string | undefined): DiffSide {
  const p = runs[0]!;
  return {
    ...(label !== undefined ? { label } : {}),
    cmd: p.cmd,
    mode: p.mode,
    pid: p.pid,
    ...(p.heapscope ? { capture: p.heapscope.capture } : {}),
    runs: runs.length,
    programPoints: p.programPoints.length,
  };
}

function sideWarnings(base: readonly Profile[], head: readonly Profile[]): string[] {
  const out: string[] = [];
  const b = base[0]!;
  const h = head[0]!;
  if (b.mode !== h.mode) {
    out.push(
      `the profiles measure different things: the base is mode "${b.mode}", the head "${h.mode}"`,
    );
  }
  const unitsOf = (p: Profile) => (p.units ? `${p.units.bytes}/${p.units.blocks}` : 'bytes/blocks');
  if (unitsOf(b) !== unitsOf(h)) {
    out.push(`the base counts ${unitsOf(b)}, the head ${unitsOf(h)}`);
  }
  for (const [side, runs] of [
    ['base', base],
    ['head', head],
  ] as const) {
    const sampled = runs.find((p) => p.heapscope?.capture === 'sampled');
    if (sampled) {
      const every = sampled.heapscope?.sampleInterval;
      out.push(
        `the ${side} is a sampled profile: its figures are estimates${every ? ` (one sample per ${every} bytes)` : ''}, so small changes may be noise`,
      );
    }
  }
  return out;
}

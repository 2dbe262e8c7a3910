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

import { isFuzzy, type MatchKind, matchSites } from './match.js';
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
  /** Every site of either side; significant changes first, then by the size of the change. */
  rows: DiffRow[];
  counts: Record<RowStatus | 'fuzzy', number>;
  /** What bytes and blocks are called, when not heap bytes and blocks (the head's; ad-hoc profiles). */
  units?: Profile['units'];
  /** What the reader must know: different modes, estimates, metrics only one side has. */
  warnings: string[];
}

/** Per-site maxima: comparable per site, but their sum is no profile figure. */
const NOT_ADDITIVE: ReadonlySet<MetricKey> = new Set(['maxBytes', 'maxBlocks']);

interface SideSite {
  frames: string[];
  /** Per metric, the value in each run (0 where the run lacks the site). */
  runs: Partial<Record<MetricKey, number[]>>;
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
  const baseSites = combineRuns(baseRuns, metrics);
  const headSites = combineRuns(headRuns, metrics);
  const matched = matchSites(
    baseSites.map((s) => s.frames),
    headSites.map((s) => s.frames),
    { fuzzy: options.fuzzy !== false },
  );
  const nb = baseRuns.length;
  const nh = headRuns.length;
  const rows: DiffRow[] = [];
  const row = (
    b: SideSite[],
    h: SideSite[],
    match: MatchKind | 'none',
    status?: RowStatus,
  ): DiffRow => {
    const values: Deltas = {};
    for (const m of metrics) {
      values[m.key] = delta(sumRuns(b, m.key, nb), sumRuns(h, m.key, nh));
    }
    const significant = metrics.some((m) => values[m.key]!.significant);
    const frames = (h[0] ?? b[0])!.frames;
    const baseFrames = b[0]?.frames;
    return {
      status: significant ? (status ?? 'changed') : 'unchanged',
      match,
      fuzzy: match !== 'none' && isFuzzy(match),
      significant,
      frames: [...frames],
      ...(baseFrames && h.length > 0 && baseFrames.join('\n') !== frames.join('\n')
        ? { baseFrames: [...baseFrames] }
        : {}),
      sites: { base: b.length, head: h.length },
      values,
    };
  };
  for (const m of matched.matches) {
    rows.push(
      row(
        m.base.map((i) => baseSites[i]!),
        m.head.map((i) => headSites[i]!),
        m.kind,
      ),
    );
  }
  for (const i of matched.added) rows.push(row([], [headSites[i]!], 'none', 'new'));
  for (const i of matched.removed) rows.push(row([baseSites[i]!], [], 'none', 'vanished'));
  rows.sort(byChange(sortedBy.key, metrics));

  const totalsOut: Deltas = {};
  for (const m of metrics) {
    if (NOT_ADDITIVE.has(m.key)) continue;
    totalsOut[m.key] = delta(
      baseRuns.map((p) => sumMetric(p, m.key)),
      headRuns.map((p) => sumMetric(p, m.key)),
    );
  }
  const counts: DiffResult['counts'] = {
    changed: 0,
    unchanged: 0,
    new: 0,
    vanished: 0,
    fuzzy: 0,
  };
  for (const r of rows) {
    counts[r.status]++;
    if (r.fuzzy) counts.fuzzy++;
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
    ...(headRuns[0]!.units ? { units: headRuns[0]!.units } : {}),
    warnings,
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
function combineRuns(runs: readonly Profile[], metrics: MetricInfo[]): SideSite[] {
  if (runs.length === 1) {
    // One run: its program points are the sites (stacks are unique in a profile).
    const p = runs[0]!;
    return p.programPoints.map((pp) => {
      const site: SideSite = { frames: stackFrames(p, pp), runs: {} };
      for (const m of metrics) site.runs[m.key] = [pp[m.key] ?? 0];
      return site;
    });
  }
  const byStack = new Map<string, SideSite>();
  runs.forEach((p, run) => {
    for (const pp of p.programPoints) {
      const frames = stackFrames(p, pp);
      const key = frames.join('\n');
      let site = byStack.get(key);
      if (!site) {
        site = { frames, runs: {} };
        for (const m of metrics) site.runs[m.key] = new Array<number>(runs.length).fill(0);
        byStack.set(key, site);
      }
      for (const m of metrics) site.runs[m.key]![run]! += pp[m.key] ?? 0;
    }
  });
  return [...byStack.values()];
}

/** Per run, the sum of one metric over a group of sites. */
function sumRuns(sites: readonly SideSite[], key: MetricKey, runs: number): number[] {
  const out = new Array<number>(runs).fill(0);
  for (const s of sites) {
    const v = s.runs[key]!;
    for (let i = 0; i < runs; i++) out[i]! += v[i]!;
  }
  return out;
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
  // Means of whole numbers: allow for rounding in the last place.
  out.significant = Math.abs(d) > spread + 1e-9 * Math.max(1, Math.abs(b), Math.abs(h));
  return out;
}

function byChange(key: MetricKey, metrics: MetricInfo[]) {
  const size = (r: DiffRow) => Math.abs(r.values[key]!.delta);
  const others = (r: DiffRow) => metrics.reduce((a, m) => a + Math.abs(r.values[m.key]!.delta), 0);
  return (a: DiffRow, b: DiffRow) =>
    Number(b.significant) - Number(a.significant) ||
    size(b) - size(a) ||
    others(b) - others(a) ||
    (a.frames.join('\n') < b.frames.join('\n')
      ? -1
      : a.frames.join('\n') > b.frames.join('\n')
        ? 1
        : 0);
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

import {
  type GroupBy,
  type GroupIds,
  groupIds,
  groupSums,
  summedMetrics,
} from '../model/aggregate.js';
import {
  type AdditiveMetricKey,
  availableMetrics,
  type MetricInfo,
  type ProfileTotals,
  REPORTED_METRICS,
  type ReportedFigures,
  type ReportedMetricKey,
  reportedFigures,
  totals,
} from '../model/metrics.js';
import { type Profile, stackFrames } from '../model/profile.js';

/** One row: the program point's reported figures (`model/metrics.ts`), rank, share and stack. */
export type ReportRow = ReportedFigures & {
  rank: number;
  /** Value of the sort metric and its share of the total (0..1). */
  value: number;
  share: number;
  /** Stack, allocation site first. */
  frames: string[];
};

export interface Report {
  cmd: string;
  pid: number;
  mode: string;
  sortedBy: MetricInfo;
  metrics: MetricInfo[];
  totals: ProfileTotals;
  /** Program points in the profile, and how many the rows show. */
  programPoints: number;
  /** `site`: rows are program points; otherwise rows are groups of frames (`groups`). */
  by: 'site' | GroupBy;
  rows: ReportRow[];
  /** With `by` a grouping: the top groups, and how many groups there are. */
  groups?: GroupRow[];
  groupCount?: number;
  /** With `by` a grouping: whether groups are ranked by self or inclusive figures. */
  rankedBy?: 'self' | 'inclusive';
  /** What the view's filters did (focus, exclude, hidden frames). */
  notes?: string[];
  /** What bytes and blocks are called in this profile (ad-hoc profiles count units and events). */
  units?: Profile['units'];
  timeUnit: string;
  endTime: number;
  peakTime?: number;
  heapscope?: Profile['heapscope'];
}

/** One group of frames (a function, file or package) with its self and inclusive figures. */
export interface GroupRow {
  rank: number;
  /** The group's name, e.g. `parse (src/parser.js)`. */
  key: string;
  /** The ranking figure (self or inclusive) and its share of the profile's total (0..1). */
  value: number;
  share: number;
  /** Allocated at a frame of the group (pprof's flat) and with it anywhere in the stack (cum). */
  self: ReportedFigures;
  inclusive: ReportedFigures;
  selfShare: number;
  inclusiveShare: number;
  /** Program points with the group at the allocation site, and anywhere in the stack. */
  sites: { self: number; inclusive: number };
}

export interface ReportOptions {
  /** Metric to sort by (default: total bytes). */
  sort?: MetricInfo;
  /** Rows to show (default 10). */
  top?: number;
  /** Stack frames to keep per row (default all). */
  depth?: number;
  /** Rows per program point (`site`, default) or per function, file or package. */
  by?: 'site' | GroupBy;
  /** Groups ranked by inclusive figures instead of self (pprof's `-cum`). */
  cum?: boolean;
  /** Said under the report: what the filters did. */
  notes?: readonly string[];
}

/** Computes the rows of the terminal report: the top program points by one metric. */
export function buildReport(profile: Profile, options: ReportOptions = {}): Report {
  const metrics = availableMetrics(profile);
  const sortedBy = options.sort ?? metrics[0]!;
  if (!metrics.some((m) => m.key === sortedBy.key)) {
    throw new RangeError(
      `this profile has no "${sortedBy.name}" figures; it has: ${metrics.map((m) => m.name).join(', ')}`,
    );
  }
  const t = totals(profile);
  let sum = 0;
  for (const pp of profile.programPoints) sum += pp[sortedBy.key] ?? 0;
  const by = options.by ?? 'site';
  const rows = by === 'site' ? siteRows(profile, sortedBy, sum, options) : [];
  const grouped = by === 'site' ? undefined : groupRows(profile, by, sortedBy, sum, options);
  return {
    cmd: profile.cmd,
    pid: profile.pid,
    mode: profile.mode,
    sortedBy,
    metrics,
    totals: t,
    programPoints: profile.programPoints.length,
    by,
    rows,
    ...(grouped ?? {}),
    ...(options.notes?.length ? { notes: [...options.notes] } : {}),
    ...(profile.units ? { units: profile.units } : {}),
    timeUnit: profile.timeUnit,
    endTime: profile.endTime,
    peakTime: profile.peakTime,
    heapscope: profile.heapscope,
  };
}

/** The top program points by the sort metric. */
function siteRows(
  profile: Profile,
  sortedBy: MetricInfo,
  sum: number,
  options: ReportOptions,
): ReportRow[] {
  const order = profile.programPoints
    .map((pp) => ({ pp, v: pp[sortedBy.key] ?? 0 }))
    .filter((x) => x.v > 0)
    .sort((a, b) => b.v - a.v || b.pp.totalBytes - a.pp.totalBytes);
  return order.slice(0, options.top ?? 10).map(({ pp, v }, i): ReportRow => {
    const frames = stackFrames(profile, pp);
    return {
      rank: i + 1,
      value: v,
      share: sum > 0 ? v / sum : 0,
      ...reportedFigures(profile, pp),
      frames: options.depth === undefined ? frames : frames.slice(0, options.depth),
    };
  });
}

function groupRows(
  profile: Profile,
  by: GroupBy,
  sortedBy: MetricInfo,
  total: number,
  options: ReportOptions,
): Pick<Report, 'groups' | 'groupCount' | 'rankedBy'> {
  if (!sortedBy.additive) {
    throw new RangeError(
      `${sortedBy.name} is a per-site maximum and does not add up over a ${by}; sort by another metric`,
    );
  }
  // The ranking figure of every group first; all figures only for the groups shown.
  const ids = groupIds(profile, by);
  const key = sortedBy.key as AdditiveMetricKey;
  const rankedBy = options.cum ? 'inclusive' : 'self';
  const ranking = groupSums(profile, ids, [key]);
  const val = ranking[rankedBy][0]!;
  const other = ranking[rankedBy === 'self' ? 'inclusive' : 'self'][0]!;
  const shown = topGroups(ids, val, other, options.top ?? 10);
  const metrics = summedMetrics(profile);
  const sums = groupSums(profile, ids, metrics, shown);
  const ranked = metrics.indexOf(key);
  const reported = (columns: Float64Array[], slot: number): ReportedFigures => {
    const f = (k: AdditiveMetricKey) => {
      const m = metrics.indexOf(k);
      return m < 0 ? undefined : columns[m]![slot]!;
    };
    const out: ReportedFigures = {
      totalBytes: f('totalBytes') ?? 0,
      totalBlocks: f('totalBlocks') ?? 0,
    };
    for (const m of REPORTED_METRICS) {
      const v = f(m.key as AdditiveMetricKey);
      if (v !== undefined) out[m.key as ReportedMetricKey] = v;
    }
    return out;
  };
  const share = (v: number) => (total > 0 ? v / total : 0);
  const groups = shown.map((g, slot): GroupRow => {
    const self = reported(sums.self, slot);
    const inclusive = reported(sums.inclusive, slot);
    return {
      rank: slot + 1,
      key: ids.key(g),
      value: val[g]!,
      share: share(val[g]!),
      self,
      inclusive,
      selfShare: share(sums.self[ranked]![slot]!),
      inclusiveShare: share(sums.inclusive[ranked]![slot]!),
      sites: { self: sums.sitesSelf[slot]!, inclusive: sums.sitesInclusive[slot]! },
    };
  });
  return { groups, groupCount: ids.count, rankedBy };
}

/**
 * The first `n` groups with a ranking figure above 0, by that figure, then by the
 * other (self or inclusive), then by name: kept in order as the groups go by, a name
 * made only when two groups tie on both figures.
 */
function topGroups(ids: GroupIds, val: Float64Array, other: Float64Array, n: number): number[] {
  const top: number[] = [];
  const names = new Map<number, string>();
  const name = (g: number) => {
    let k = names.get(g);
    if (k === undefined) {
      k = ids.key(g);
      names.set(g, k);
    }
    return k;
  };
  // Whether group a comes before group b.
  const before = (a: number, b: number) =>
    val[a]! !== val[b]!
      ? val[a]! > val[b]!
      : other[a]! !== other[b]!
        ? other[a]! > other[b]!
        : name(a) < name(b);
  for (let g = 0; g < ids.count; g++) {
    if (!(val[g]! > 0)) continue;
    if (top.length === n && (n === 0 || !before(g, top[n - 1]!))) continue;
    let at = top.length;
    while (at > 0 && before(g, top[at - 1]!)) at--;
    top.splice(at, 0, g);
    if (top.length > n) names.delete(top.pop()!);
  }
  return top;
}

import { type GroupBy, type GroupFigures, groupProgramPoints } from '../model/aggregate.js';
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
  const all = profile.programPoints.map((pp) => pp[sortedBy.key] ?? 0);
  const sum = all.reduce((a, b) => a + b, 0);
  const order = profile.programPoints
    .map((pp, i) => ({ pp, v: all[i]! }))
    .filter((x) => x.v > 0)
    .sort((a, b) => b.v - a.v || b.pp.totalBytes - a.pp.totalBytes);
  const rows = order.slice(0, options.top ?? 10).map(({ pp, v }, i): ReportRow => {
    const frames = stackFrames(profile, pp);
    return {
      rank: i + 1,
      value: v,
      share: sum > 0 ? v / sum : 0,
      ...reportedFigures(profile, pp),
      frames: options.depth === undefined ? frames : frames.slice(0, options.depth),
    };
  });
  const by = options.by ?? 'site';
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
    rows: grouped ? [] : rows,
    ...(grouped ?? {}),
    ...(options.notes?.length ? { notes: [...options.notes] } : {}),
    ...(profile.units ? { units: profile.units } : {}),
    timeUnit: profile.timeUnit,
    endTime: profile.endTime,
    peakTime: profile.peakTime,
    heapscope: profile.heapscope,
  };
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
  const g = groupProgramPoints(profile, by);
  const key = sortedBy.key as AdditiveMetricKey;
  const rankedBy = options.cum ? 'inclusive' : 'self';
  const order: number[] = [];
  for (let i = 0; i < g.keys.length; i++) if ((g[rankedBy][i]![key] ?? 0) > 0) order.push(i);
  const val = (i: number) => g[rankedBy][i]![key] ?? 0;
  const other = (i: number) => g[rankedBy === 'self' ? 'inclusive' : 'self'][i]![key] ?? 0;
  order.sort(
    (a, b) => val(b) - val(a) || other(b) - other(a) || (g.keys[a]! < g.keys[b]! ? -1 : 1),
  );
  const reported = (f: GroupFigures): ReportedFigures => {
    const out: ReportedFigures = { totalBytes: f.totalBytes ?? 0, totalBlocks: f.totalBlocks ?? 0 };
    for (const m of REPORTED_METRICS) {
      const v = f[m.key as AdditiveMetricKey];
      if (v !== undefined) out[m.key as ReportedMetricKey] = v;
    }
    return out;
  };
  const share = (v: number) => (total > 0 ? v / total : 0);
  const groups = order.slice(0, options.top ?? 10).map(
    (i, rank): GroupRow => ({
      rank: rank + 1,
      key: g.keys[i]!,
      value: val(i),
      share: share(val(i)),
      self: reported(g.self[i]!),
      inclusive: reported(g.inclusive[i]!),
      selfShare: share(g.self[i]![key] ?? 0),
      inclusiveShare: share(g.inclusive[i]![key] ?? 0),
      sites: { self: g.sitesSelf[i]!, inclusive: g.sitesInclusive[i]! },
    }),
  );
  return { groups, groupCount: g.keys.length, rankedBy };
}

import {
  availableMetrics,
  type MetricInfo,
  type ProfileTotals,
  type ReportedFigures,
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
  rows: ReportRow[];
  /** What bytes and blocks are called in this profile (ad-hoc profiles count units and events). */
  units?: Profile['units'];
  timeUnit: string;
  endTime: number;
  peakTime?: number;
  heapscope?: Profile['heapscope'];
}

export interface ReportOptions {
  /** Metric to sort by (default: total bytes). */
  sort?: MetricInfo;
  /** Rows to show (default 10). */
  top?: number;
  /** Stack frames to keep per row (default all). */
  depth?: number;
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
  return {
    cmd: profile.cmd,
    pid: profile.pid,
    mode: profile.mode,
    sortedBy,
    metrics,
    totals: t,
    programPoints: profile.programPoints.length,
    rows,
    ...(profile.units ? { units: profile.units } : {}),
    timeUnit: profile.timeUnit,
    endTime: profile.endTime,
    peakTime: profile.peakTime,
    heapscope: profile.heapscope,
  };
}

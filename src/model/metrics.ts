/**
 * The metrics of a program point, stated once: what each figure is called on the command
 * line and in menus, its unit, which profile flag it needs, whether it adds up over
 * program points, and whether reports show it in their totals and rows. Everything that
 * lists metrics derives its list from {@link METRICS}: `--sort` and `--metric` names,
 * the report's totals and rows, the diff's and budgets' metrics, the tree's figures, and
 * the viewer's sort menu ({@link SORT_METRICS}, dh_view's `gSelectData` built on top).
 *
 * Pure data and pure functions; no I/O.
 */
import type { Profile, ProgramPoint } from './profile.js';

export interface MetricInfo {
  /** The program point's field. */
  key: MetricKey;
  /** Short name used on the command line (`--sort end-bytes`). */
  name: string;
  /** Label in text reports (`At t-end bytes`). */
  label: string;
  /** The figure's title without its unit word (`At t-end`), for menus: `At t-end (bytes)`. */
  title: string;
  unit: 'bytes' | 'blocks' | 'time';
  /** Which profile flag must be set for the metric to exist. */
  needs?: 'lifetimes' | 'accesses';
  /** Adds up over program points (a site's own maximum does not). */
  additive: boolean;
  /** Shown in reports' totals and rows (and so in the report's JSON). */
  reported: boolean;
}

const metric = <const K extends string, const A extends boolean, const R extends boolean>(
  key: K,
  name: string,
  title: string,
  unit: MetricInfo['unit'],
  additive: A,
  reported: R,
  needs?: MetricInfo['needs'],
) => ({
  key,
  name,
  label: labelOf(title, unit, needs),
  title,
  unit,
  additive,
  reported,
  ...(needs ? { needs } : {}),
});

/** `Total bytes`, `Total lifetimes`, `Reads (bytes)`. */
function labelOf(title: string, unit: MetricInfo['unit'], needs?: MetricInfo['needs']): string {
  if (unit === 'time') return `${title} lifetimes`;
  return needs === 'accesses' ? `${title} (${unit})` : `${title} ${unit}`;
}

/** The metrics, in the order reports, sort lists and the diff list them. */
const TABLE = [
  metric('totalBytes', 'total-bytes', 'Total', 'bytes', true, true),
  metric('totalBlocks', 'total-blocks', 'Total', 'blocks', true, true),
  metric('peakBytes', 'peak-bytes', 'At t-gmax', 'bytes', true, true, 'lifetimes'),
  metric('peakBlocks', 'peak-blocks', 'At t-gmax', 'blocks', true, true, 'lifetimes'),
  metric('endBytes', 'end-bytes', 'At t-end', 'bytes', true, true, 'lifetimes'),
  metric('endBlocks', 'end-blocks', 'At t-end', 'blocks', true, true, 'lifetimes'),
  metric('maxBytes', 'max-bytes', 'Max', 'bytes', false, false, 'lifetimes'),
  metric('maxBlocks', 'max-blocks', 'Max', 'blocks', false, false, 'lifetimes'),
  metric('totalLifetimes', 'lifetimes', 'Total', 'time', true, false, 'lifetimes'),
  metric('readBytes', 'reads', 'Reads', 'bytes', true, true, 'accesses'),
  metric('writeBytes', 'writes', 'Writes', 'bytes', true, true, 'accesses'),
] as const;

type Row = (typeof TABLE)[number];

/** Metric keys of a program point that hold numbers. */
export type MetricKey = Row['key'];

/** The metrics that add up over program points. */
export type AdditiveMetricKey = Extract<Row, { additive: true }>['key'];

/** The metrics reports total and show per row. */
export type ReportedMetricKey = Extract<Row, { reported: true }>['key'];

/** Every metric, in the order reports and sort lists show them. */
export const METRICS: readonly MetricInfo[] = TABLE;

/** The metrics that add up over program points (a site's own maximum does not). */
export const ADDITIVE_METRICS: readonly AdditiveMetricKey[] = TABLE.filter(
  (m): m is Extract<Row, { additive: true }> => m.additive,
).map((m) => m.key);

/** The metrics reports total and show per row. */
export const REPORTED_METRICS: readonly MetricInfo[] = METRICS.filter((m) => m.reported);

/** Whether a profile's flags allow a metric at all. */
export function profileAllows(
  m: Pick<MetricInfo, 'needs'>,
  profile: Pick<Profile, 'hasLifetimes' | 'hasAccesses'>,
): boolean {
  if (m.needs === 'lifetimes') return profile.hasLifetimes;
  if (m.needs === 'accesses') return profile.hasAccesses;
  return true;
}

/** The metrics a profile actually carries (present on every program point). */
export function availableMetrics(profile: Profile): MetricInfo[] {
  return METRICS.filter(
    (m) =>
      profileAllows(m, profile) && profile.programPoints.every((pp) => pp[m.key] !== undefined),
  );
}

export function findMetric(name: string): MetricInfo | undefined {
  const n = name.toLowerCase();
  return METRICS.find((m) => m.name === n || m.key.toLowerCase() === n);
}

export function metricInfo(key: MetricKey): MetricInfo {
  return METRICS.find((m) => m.key === key)!;
}

/** The reported figures: total bytes and blocks always, the others when the profile has them. */
export type ReportedFigures = { totalBytes: number; totalBlocks: number } & Partial<
  Record<ReportedMetricKey, number>
>;

/** Sums of the reported metrics over all program points (the root of DHAT's tree). */
export type ProfileTotals = ReportedFigures;

/** Sums of every reported metric over all program points. */
export function totals(profile: Profile): ProfileTotals {
  const t: ProfileTotals = { totalBytes: 0, totalBlocks: 0 };
  const keys = REPORTED_METRICS.filter((m) => profileAllows(m, profile)).map(
    (m) => m.key as ReportedMetricKey,
  );
  for (const pp of profile.programPoints) {
    for (const k of keys) {
      const v = pp[k];
      if (v !== undefined) t[k] = (t[k] ?? 0) + v;
    }
  }
  return t;
}

/** A program point's reported figures: those it has and the profile's flags allow. */
export function reportedFigures(
  profile: Pick<Profile, 'hasLifetimes' | 'hasAccesses'>,
  pp: ProgramPoint,
): ReportedFigures {
  const out: ReportedFigures = { totalBytes: pp.totalBytes, totalBlocks: pp.totalBlocks };
  for (const m of REPORTED_METRICS) {
    const v = pp[m.key];
    if (v !== undefined && profileAllows(m, profile)) out[m.key as ReportedMetricKey] = v;
  }
  return out;
}

//------------------------------------------------------------//
//--- Figures of tree nodes                                ---//
//------------------------------------------------------------//

/** The additive figures of a tree node: sums over the program points below it. */
export type Figures = Record<AdditiveMetricKey, number>;

export type FigureKey = keyof Figures;

export function zeroFigures(): Figures {
  const f = {} as Figures;
  for (const k of ADDITIVE_METRICS) f[k] = 0;
  return f;
}

/** A program point's figures; those the file does not record are NaN (as in dh_view). */
export function figuresOf(
  pp: ProgramPoint,
  profile: Pick<Profile, 'hasLifetimes' | 'hasAccesses'>,
): Figures {
  const f = {} as Figures;
  for (const m of METRICS) {
    if (!m.additive) continue;
    const v = pp[m.key];
    // Lifetimes are kept where a file has them even without `bklt` (as dh_view reads `tl`).
    const allowed = m.unit === 'time' || profileAllows(m, profile);
    f[m.key as AdditiveMetricKey] = allowed && v !== undefined ? v : Number.NaN;
  }
  return f;
}

/** 0/0 is 0, as dh_view's `div`. */
export function div(num: number, denom: number): number {
  return num === 0 && denom === 0 ? 0 : num / denom;
}

//------------------------------------------------------------//
//--- The viewer's sort menu                               ---//
//------------------------------------------------------------//

/** Fields a sort metric highlights (dh_view's `bolds`). */
export type BoldField =
  | 'totalTitle'
  | 'totalBytes'
  | 'totalBlocks'
  | 'totalAvgSizeBytes'
  | 'totalAvgLifetime'
  | 'atTGmaxTitle'
  | 'atTGmaxBytes'
  | 'atTGmaxBlocks'
  | 'atTEndTitle'
  | 'atTEndBytes'
  | 'atTEndBlocks'
  | 'readsTitle'
  | 'readsBytes'
  | 'readsAvgPerByte'
  | 'writesTitle'
  | 'writesBytes'
  | 'writesAvgPerByte';

/** Formatting a viewer supplies for threshold descriptions (dh_view's pretty printers). */
export interface ThresholdFormat {
  bytesAndPerc(n: number, total: number): string;
  blocksAndPerc(n: number, total: number): string;
  bytes(n: number): string;
  perByte(n: number): string;
  time(n: number): string;
}

export interface SortMetric {
  /** Stable name, e.g. `total-bytes`, `total-blocks-tiny`. */
  id: string;
  /** Menu label; `bytes`/`blocks` are the file's unit words. */
  label(bytes: string, blocks: string): string;
  /** The figure nodes are sorted by (then by total bytes). */
  key: FigureKey;
  bolds: readonly BoldField[];
  /** dh_view's condition for offering the metric. */
  needs?: 'lifetimes' | 'accesses';
  /** Figures every program point must carry for heapscope to offer it. */
  uses: readonly FigureKey[];
  /** False for heapscope's additions to dh_view's menu. */
  inDhView: boolean;
  /** dh_view's default. */
  isDefault?: boolean;
  /** Whether a node is significant by itself; `tuth` is the file's short-lived threshold. */
  sig(n: Figures, root: Figures, tuth: number): boolean;
  sigLabel(root: Figures, f: ThresholdFormat, tuth: number): string;
}

const avgSize = (n: Figures) => div(n.totalBytes, n.totalBlocks);
const avgLifetime = (n: Figures) => div(n.totalLifetimes, n.totalBlocks);
const readsPerByte = (n: Figures) => div(n.readBytes, n.totalBytes);
const writesPerByte = (n: Figures) => div(n.writeBytes, n.totalBytes);

/**
 * A menu entry for one additive metric of {@link METRICS}, significant at 1% of the root
 * (as most of dh_view's are): id, label, figure and `needs` all come from the metric.
 * `unitWords`: the label names the file's own unit words (dh_view does so for totals only).
 */
function onePercent(
  key: AdditiveMetricKey,
  bolds: BoldField[],
  sigName: string,
  extra: Partial<SortMetric> & { unitWords?: boolean } = {},
): SortMetric {
  const m = metricInfo(key);
  const { unitWords, ...rest } = extra;
  const unit = m.unit === 'blocks' ? 'blocks' : 'bytes';
  return {
    id: m.name,
    label: (b, k) => `${m.title} (${unitWords ? (unit === 'bytes' ? b : k) : unit})`,
    key,
    bolds,
    ...(m.needs ? { needs: m.needs } : {}),
    uses: [key],
    inDhView: true,
    sig: (n, r) => n[key] >= 0.01 * r[key],
    sigLabel: (r, f) =>
      `${sigName} >= ${(unit === 'bytes' ? f.bytesAndPerc : f.blocksAndPerc)(0.01 * r[key], r[key])}`,
    ...rest,
  };
}

/**
 * The sort metrics, in menu order: dh_view's `gSelectData` (same labels, fields and
 * significance rules; dh_view's comments explain what it leaves out and why), then
 * heapscope's additions (`inDhView: false`).
 */
export const SORT_METRICS: readonly SortMetric[] = [
  onePercent('totalBytes', ['totalTitle', 'totalBytes'], 'total', { unitWords: true }),
  onePercent('totalBlocks', ['totalTitle', 'totalBlocks'], 'total', {
    unitWords: true,
    isDefault: true,
  }),
  {
    id: 'total-blocks-tiny',
    label: (_, k) => `Total (${k}), tiny`,
    key: 'totalBlocks',
    bolds: ['totalTitle', 'totalBlocks', 'totalAvgSizeBytes'],
    uses: ['totalBytes', 'totalBlocks'],
    inDhView: true,
    sig: (n, r) => n.totalBlocks >= 0.005 * r.totalBlocks && avgSize(n) <= 16,
    sigLabel: (r, f) =>
      `(total >= ${f.blocksAndPerc(0.005 * r.totalBlocks, r.totalBlocks)}) && (avg size <= ${f.bytes(16)})`,
  },
  {
    id: 'total-blocks-short-lived',
    label: () => 'Total (blocks), short-lived',
    key: 'totalBlocks',
    bolds: ['totalTitle', 'totalBlocks', 'totalAvgLifetime'],
    needs: 'lifetimes',
    uses: ['totalBlocks', 'totalLifetimes'],
    inDhView: true,
    sig: (n, r, tuth) => n.totalBlocks >= 0.005 * r.totalBlocks && avgLifetime(n) <= tuth,
    sigLabel: (r, f, tuth) =>
      `(total >= ${f.blocksAndPerc(0.005 * r.totalBlocks, r.totalBlocks)}) && (avg lifetime <= ${f.time(tuth)})`,
  },
  ...(['Bytes', 'Blocks'] as const).map(
    (u): SortMetric => ({
      id: `total-${u.toLowerCase()}-zero-access`,
      label: () => `Total (${u.toLowerCase()}), zero reads or zero writes`,
      key: `total${u}`,
      bolds: ['totalTitle', `total${u}`, 'readsTitle', 'readsBytes', 'writesTitle', 'writesBytes'],
      needs: 'accesses',
      uses: [`total${u}`, 'readBytes', 'writeBytes'],
      inDhView: true,
      sig: (n, r) =>
        n[`total${u}`] >= 0.005 * r[`total${u}`] && (n.readBytes === 0 || n.writeBytes === 0),
      sigLabel: (r, f) =>
        `(total >= ${(u === 'Bytes' ? f.bytesAndPerc : f.blocksAndPerc)(0.005 * r[`total${u}`], r[`total${u}`])}) && ((reads == ${f.bytes(0)}) || (writes == ${f.bytes(0)}))`,
    }),
  ),
  ...(['Bytes', 'Blocks'] as const).map(
    (u): SortMetric => ({
      id: `total-${u.toLowerCase()}-low-access`,
      label: () => `Total (${u.toLowerCase()}), low-access`,
      key: `total${u}`,
      bolds: [
        'totalTitle',
        `total${u}`,
        'readsTitle',
        'readsAvgPerByte',
        'writesTitle',
        'writesAvgPerByte',
      ],
      needs: 'accesses',
      uses: [`total${u}`, 'readBytes', 'writeBytes'],
      inDhView: true,
      sig: (n, r) =>
        n[`total${u}`] >= 0.005 * r[`total${u}`] &&
        n.readBytes !== 0 &&
        n.writeBytes !== 0 &&
        (readsPerByte(n) <= 0.4 || writesPerByte(n) <= 0.4),
      sigLabel: (r, f) =>
        `(total >= ${(u === 'Bytes' ? f.bytesAndPerc : f.blocksAndPerc)(0.005 * r[`total${u}`], r[`total${u}`])}) && (reads != ${f.bytes(0)}) && (writes != ${f.bytes(0)}) && ((reads <= ${f.perByte(0.4)}) || (writes <= ${f.perByte(0.4)}))`,
    }),
  ),
  onePercent('peakBytes', ['atTGmaxTitle', 'atTGmaxBytes'], 'at-t-gmax'),
  onePercent('endBytes', ['atTEndTitle', 'atTEndBytes'], 'at-t-end'),
  onePercent('readBytes', ['readsTitle', 'readsBytes'], 'reads'),
  highAccess('reads', 'readBytes', 'readsTitle', 'readsBytes', 'readsAvgPerByte'),
  onePercent('writeBytes', ['writesTitle', 'writesBytes'], 'writes'),
  highAccess('writes', 'writeBytes', 'writesTitle', 'writesBytes', 'writesAvgPerByte'),
  // heapscope's additions: blocks live at the peak and at the end (dh_view finds them
  // "not interesting"; for a garbage-collected heap the object count is).
  onePercent('peakBlocks', ['atTGmaxTitle', 'atTGmaxBlocks'], 'at-t-gmax', { inDhView: false }),
  onePercent('endBlocks', ['atTEndTitle', 'atTEndBlocks'], 'at-t-end', { inDhView: false }),
];

function highAccess(
  name: 'reads' | 'writes',
  key: 'readBytes' | 'writeBytes',
  title: BoldField,
  bytes: BoldField,
  perByte: BoldField,
): SortMetric {
  const Name = name === 'reads' ? 'Reads' : 'Writes';
  return {
    id: `${name}-high-access`,
    label: () => `${Name} (bytes), high-access`,
    key,
    bolds: [title, bytes, perByte],
    needs: 'accesses',
    uses: ['totalBytes', 'readBytes', 'writeBytes'],
    inDhView: true,
    sig: (n, r) =>
      n[key] >= 0.005 * r[key] && (readsPerByte(n) >= 1000 || writesPerByte(n) >= 1000),
    sigLabel: (r, f) =>
      `(${name} >= ${f.bytesAndPerc(0.005 * r[key], r[key])}) && ((reads >= ${f.perByte(1000)}) || (writes >= ${f.perByte(1000)}))`,
  };
}

/** Whether dh_view offers the metric for a file with these flags. */
export function dhViewEnables(m: SortMetric, profile: Profile): boolean {
  return profileAllows(m, profile);
}

/**
 * The sort metrics heapscope offers for a profile: dh_view's rule, and only when every
 * program point carries the figures the metric uses (heapscope profiles have no
 * lifetimes, so "short-lived" is not offered where dh_view would show nothing).
 */
export function availableSortMetrics(profile: Profile): SortMetric[] {
  return SORT_METRICS.filter(
    (m) =>
      dhViewEnables(m, profile) &&
      m.uses.every((k) => profile.programPoints.every((pp) => pp[k] !== undefined)),
  );
}

export function findSortMetric(id: string): SortMetric | undefined {
  return SORT_METRICS.find((m) => m.id === id);
}

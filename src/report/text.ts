import pc from 'picocolors';
import { printableData } from '../util/printable.js';
import type { Report, ReportRow } from './rows.js';
import { bytes, count, percent, time } from './units.js';

export interface TextOptions {
  /** Use ANSI colours (the CLI decides: a TTY and no NO_COLOR). */
  color?: boolean;
}

/** Renders a report for a terminal. */
export function renderText(report: Report, options: TextOptions = {}): string {
  // Every string of the profile is printed escaped.
  report = printableData(report);
  const c = pc.createColors(options.color ?? false);
  const t = report.totals;
  const hs = report.heapscope;
  const out: string[] = [];
  const u = report.units;
  // Heap profiles get binary units (KiB, MiB); other counts are printed as they are.
  const amount = (n: number) => (u ? `${count(n)} ${n === 1 ? u.byte : u.bytes}` : bytes(n));
  const blocksWord = u?.blocks ?? 'blocks';
  const what = hs ? `${hs.capture} capture, Node ${hs.node ?? '?'}` : `mode ${report.mode}`;
  const thread = hs?.threadId ? `, thread ${hs.threadId}` : '';
  out.push(c.bold(`heapscope: ${report.cmd}`) + c.dim(`  (pid ${report.pid}${thread}, ${what})`));
  out.push('');
  const line = (label: string, b: number | undefined, k: number | undefined, note = '') => {
    if (b === undefined) return;
    const blocks = k === undefined ? '' : ` in ${count(k)} ${blocksWord}`;
    const exactCount = u ? '' : ` (${count(b)} bytes)`;
    out.push(`  ${label.padEnd(10)} ${c.bold(amount(b))}${exactCount}${blocks}${note}`);
  };
  const totalIsEstimate = hs && !hs.exact.total;
  line('Total:', t.totalBytes, t.totalBlocks, totalIsEstimate ? c.yellow('  [estimate]') : '');
  if (t.peakBytes !== undefined) {
    const peakNote = hs && !hs.exact.peak ? c.yellow(`  [estimate: ${peakMethod(hs)}]`) : '';
    line('At t-gmax:', t.peakBytes, t.peakBlocks, peakNote);
  }
  if (t.endBytes !== undefined) {
    line('At t-end:', t.endBytes, t.endBlocks, hs && !hs.exact.end ? c.yellow('  [estimate]') : '');
  }
  if (t.readBytes !== undefined) line('Reads:', t.readBytes, undefined);
  if (t.writeBytes !== undefined) line('Writes:', t.writeBytes, undefined);
  const times = [`t-end ${time(report.endTime, report.timeUnit)}`];
  if (report.peakTime !== undefined)
    times.unshift(`t-gmax ${time(report.peakTime, report.timeUnit)}`);
  out.push(`  ${'Times:'.padEnd(10)} ${times.join(', ')}`);
  if (hs?.gc) {
    out.push(
      `  ${'GCs:'.padEnd(10)} ${count(hs.gc.scavenges)} scavenges, ${count(hs.gc.markCompacts)} mark-compacts`,
    );
  }
  for (const n of report.notes ?? []) out.push(c.dim(`  ${n}`));
  out.push('');
  if (report.groups) out.push(...renderGroups(report, c, amount));
  else {
    const shown = report.rows.length;
    out.push(
      c.bold(
        `Top ${shown} of ${count(report.programPoints)} program points by ${metricLabel(report)}:`,
      ),
    );
    for (const row of report.rows) out.push(...renderRow(row, report, c, amount));
  }
  if (hs?.notes?.length) {
    out.push('');
    for (const n of hs.notes) out.push(c.dim(`note: ${n}`));
  }
  return `${out.join('\n')}\n`;
}

/** The sort metric's label in the profile's own units (ad-hoc profiles count units in events). */
function metricLabel(report: Report): string {
  const label = report.sortedBy.label.toLowerCase();
  const u = report.units;
  if (!u) return label;
  return label.replace(/\bbytes\b/, u.bytes).replace(/\bblocks\b/, u.blocks);
}

const GROUP_WORDS: Record<string, string> = {
  function: 'functions',
  file: 'files',
  package: 'packages',
};

/** A table of groups: the ranking metric's self and inclusive figures and shares. */
function renderGroups(
  report: Report,
  c: ReturnType<typeof pc.createColors>,
  amount: (n: number) => string,
): string[] {
  const groups = report.groups ?? [];
  const m = report.sortedBy;
  const fmt = (n: number) => (m.unit === 'bytes' ? amount(n) : count(n));
  const ranked = report.rankedBy ?? 'self';
  const lines = [
    c.bold(
      `Top ${groups.length} of ${count(report.groupCount ?? 0)} ${GROUP_WORDS[report.by] ?? report.by} by ${metricLabel(report)}, ${ranked}:`,
    ),
  ];
  const cells = groups.map((g) => {
    const self = g.self[m.key as keyof typeof g.self] ?? 0;
    const incl = g.inclusive[m.key as keyof typeof g.inclusive] ?? 0;
    return {
      rank: `${g.rank}.`,
      self: fmt(self),
      selfShare: percent(g.selfShare),
      incl: fmt(incl),
      inclShare: percent(g.inclusiveShare),
      key: g.key,
    };
  });
  const w = (k: keyof (typeof cells)[number], title: string) =>
    Math.max(title.length, ...cells.map((x) => x[k].length));
  const wr = w('rank', '');
  const ws = w('self', 'self');
  const wsp = w('selfShare', '');
  const wi = w('incl', 'inclusive');
  const wip = w('inclShare', '');
  lines.push(
    c.dim(
      `  ${''.padStart(wr)} ${'self'.padStart(ws)} ${''.padStart(wsp)}  ${'inclusive'.padStart(wi)} ${''.padStart(wip)}  ${report.by}`,
    ),
  );
  for (const x of cells) {
    const selfCol = `${x.self.padStart(ws)} ${c.dim(x.selfShare.padStart(wsp))}`;
    const inclCol = `${x.incl.padStart(wi)} ${c.dim(x.inclShare.padStart(wip))}`;
    lines.push(
      `  ${x.rank.padStart(wr)} ${ranked === 'self' ? c.bold(selfCol) : selfCol}  ${ranked === 'inclusive' ? c.bold(inclCol) : inclCol}  ${c.cyan(x.key)}`,
    );
  }
  return lines;
}

function peakMethod(hs: NonNullable<Report['heapscope']>): string {
  switch (hs.peak?.method) {
    case 'sampled-at-peak':
      return 'sampled at the largest post-GC heap';
    case 'end-as-peak':
      return 'end of run taken as peak';
    default:
      return hs.peak?.method ?? 'unknown';
  }
}

function renderRow(
  row: ReportRow,
  report: Report,
  c: ReturnType<typeof pc.createColors>,
  amount: (n: number) => string,
): string[] {
  const unit = report.sortedBy.unit;
  const v = unit === 'bytes' ? amount(row.value) : count(row.value);
  const head = `${String(row.rank).padStart(3)}. ${c.bold(v)} ${c.dim(`(${percent(row.share)})`)}`;
  const blocks = report.units ? ` ${report.units.blocks}` : '';
  const parts = [`total ${amount(row.totalBytes)} in ${count(row.totalBlocks)}${blocks}`];
  if (row.totalBlocks > 0)
    parts.push(`avg ${amount(Math.round(row.totalBytes / row.totalBlocks))}`);
  if (row.peakBytes !== undefined) {
    parts.push(`at t-gmax ${amount(row.peakBytes)} in ${count(row.peakBlocks ?? 0)}`);
  }
  if (row.endBytes !== undefined) {
    parts.push(`at t-end ${amount(row.endBytes)} in ${count(row.endBlocks ?? 0)}`);
  }
  const lines = [`${head}  ${parts.join(', ')}`];
  row.frames.forEach((f, i) => {
    lines.push(`       ${i === 0 ? c.cyan(f) : c.dim(f)}`);
  });
  return lines;
}

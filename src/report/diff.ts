/**
 * Text and markdown renderings of a profile diff (`model/diff.ts`). No I/O.
 *
 * Both show the totals, then the sites whose change is significant (any change with one
 * run a side; a change larger than the spread between runs with several), sorted by
 * the diff's metric, each with its stack and, for fuzzy matches, what the base's frames
 * were.
 */

import pc from 'picocolors';
import type { DiffResult, DiffRow, MetricDelta } from '../model/diff.js';
import type { MetricInfo } from '../model/metrics.js';
import { printableData } from '../util/printable.js';
import { bytes, count } from './units.js';

export interface DiffRenderOptions {
  /** Rows to show (default 10). */
  top?: number;
  /** Stack frames to show per row (default all). */
  depth?: number;
  /** ANSI colours, for text (the CLI decides). */
  color?: boolean;
}

/** Formats amounts of one metric, in the diff's units. */
function amounts(result: DiffResult) {
  const u = result.units;
  const amount = (m: MetricInfo, n: number): string => {
    const v = Math.round(n);
    if (m.unit === 'bytes') return u ? `${count(v)} ${u.bytes}` : bytes(v);
    return count(v);
  };
  const signed = (m: MetricInfo, n: number): string =>
    Math.round(n) > 0 ? `+${amount(m, n)}` : amount(m, n);
  return { amount, signed };
}

function ratioText(d: MetricDelta): string {
  return d.ratio === null ? '' : `×${d.ratio.toFixed(2)}`;
}

function percentText(d: MetricDelta): string {
  if (d.ratio === null) return '';
  const p = (d.ratio - 1) * 100;
  const r = Math.abs(p) >= 10 ? Math.round(p) : Math.round(p * 10) / 10;
  return `${r > 0 ? '+' : ''}${r}%`;
}

function sideText(result: DiffResult, side: 'base' | 'head'): string {
  const s = result[side];
  const runs = s.runs > 1 ? `, ${s.runs} runs` : '';
  return `${s.label ? `${s.label}: ` : ''}${s.cmd} (${s.capture ? `${s.capture} capture` : `mode ${s.mode}`}${runs})`;
}

/** The rows worth showing: significant changes of the diff's metric, the top N. */
export function shownRows(result: DiffResult, top = 10): DiffRow[] {
  return changedIn(result).slice(0, top);
}

function changedIn(result: DiffResult): DiffRow[] {
  return result.rows.filter((r) => r.values[result.sortedBy.key]!.significant);
}

const STATUS_LABEL: Record<DiffRow['status'], string> = {
  changed: '',
  unchanged: '',
  new: 'NEW',
  vanished: 'VANISHED',
};

function matchNote(row: DiffRow): string {
  if (row.match === 'moved') return 'code moved';
  if (row.match === 'renamed') return 'file renamed';
  return '';
}

/** The frames of a row, each with the base's frame when it was different. */
function frameLines(row: DiffRow, depth: number | undefined): { frame: string; was?: string }[] {
  const frames = depth === undefined ? row.frames : row.frames.slice(0, depth);
  return frames.map((frame, i) => {
    const was = row.baseFrames?.[i];
    return was !== undefined && was !== frame ? { frame, was } : { frame };
  });
}

function rangeText(
  d: MetricDelta,
  amount: (m: MetricInfo, n: number) => string,
  m: MetricInfo,
): string {
  const r = (x?: [number, number]) => {
    if (!x) return undefined;
    const [lo, hi] = [amount(m, x[0]), amount(m, x[1])];
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const b = r(d.baseRange);
  const h = r(d.headRange);
  if (!b && !h) return '';
  return `runs: base ${b ?? amount(m, d.base)}, head ${h ?? amount(m, d.head)}`;
}

/** Renders a diff for a terminal. */
export function renderDiffText(result: DiffResult, options: DiffRenderOptions = {}): string {
  // Every string of the profile is printed escaped.
  result = printableData(result);
  const c = pc.createColors(options.color ?? false);
  const { amount, signed } = amounts(result);
  const out: string[] = [];
  const multi = result.base.runs > 1 || result.head.runs > 1;
  out.push(c.bold('heapscope diff'));
  out.push(`  base: ${sideText(result, 'base')}`);
  out.push(`  head: ${sideText(result, 'head')}`);
  if (multi) {
    out.push(c.dim('  a change counts only when it is larger than the spread between runs'));
  }
  out.push('');
  const totals = result.metrics.flatMap((m) => {
    const d = result.totals[m.key];
    return d ? [{ m, d, base: amount(m, d.base), head: amount(m, d.head) }] : [];
  });
  const w = (f: (t: (typeof totals)[number]) => string) =>
    Math.max(0, ...totals.map((t) => f(t).length));
  const labelW = w((t) => t.m.label) + 1;
  const baseW = w((t) => t.base);
  const headW = w((t) => t.head);
  for (const { m, d, base, head } of totals) {
    const change = d.delta === 0 ? c.dim('no change') : changeText(d, m, signed, c);
    const noise =
      d.delta !== 0 && !d.significant ? c.dim('  (within the spread between runs)') : '';
    out.push(
      `  ${`${m.label}:`.padEnd(labelW)} ${base.padStart(baseW)} → ${head.padEnd(headW)}  ${change}${noise}`,
    );
  }
  out.push('');
  const n = result.counts;
  const fuzzy = n.fuzzy ? `; ${n.fuzzy} matched fuzzily (code moved or file renamed)` : '';
  out.push(
    `Sites: ${n.changed} changed, ${n.new} new, ${n.vanished} vanished, ${n.unchanged} unchanged${fuzzy}`,
  );
  const quiet = result.quiet;
  if (multi && quiet) {
    out.push(
      c.dim(
        `${quiet} other ${quiet === 1 ? 'site' : 'sites'} changed within the spread between runs (not shown)`,
      ),
    );
  }
  const rows = shownRows(result, options.top);
  out.push('');
  if (rows.length === 0) {
    out.push(c.green(noChangeText(result)));
  } else {
    const sig = result.changes;
    out.push(
      c.bold(
        `Top ${rows.length} of ${sig} ${sig === 1 ? 'change' : 'changes'} by ${result.sortedBy.label.toLowerCase()}:`,
      ),
    );
    rows.forEach((row, i) => {
      out.push(...textRow(row, i + 1, result, options, c));
    });
  }
  for (const w of result.warnings) out.push(c.yellow(`warning: ${w}`));
  return `${out.join('\n')}\n`;
}

function noChangeText(result: DiffResult): string {
  const other = result.counts.changed + result.counts.new + result.counts.vanished;
  if (other === 0) return 'No significant change at any site.';
  return `No significant change of ${result.sortedBy.label.toLowerCase()} at any site; ${other} changed in other metrics (see --metric).`;
}

function changeText(
  d: MetricDelta,
  m: MetricInfo,
  signed: (m: MetricInfo, n: number) => string,
  c: ReturnType<typeof pc.createColors>,
): string {
  const paint = d.delta > 0 ? c.red : c.green;
  const rel = [percentText(d), ratioText(d)].filter(Boolean).join(', ');
  return `${paint(signed(m, d.delta))}${rel ? ` (${rel})` : ''}`;
}

function textRow(
  row: DiffRow,
  rank: number,
  result: DiffResult,
  options: DiffRenderOptions,
  c: ReturnType<typeof pc.createColors>,
): string[] {
  const { amount, signed } = amounts(result);
  const m = result.sortedBy;
  const d = row.values[m.key]!;
  const tag = STATUS_LABEL[row.status];
  const head = [
    `${String(rank).padStart(3)}.`,
    tag ? c.bold(tag) : '',
    changeText(d, m, signed, c),
    c.dim(`${amount(m, d.base)} → ${amount(m, d.head)}`),
  ].filter(Boolean);
  const lines = [head.join(' ')];
  const others: string[] = [];
  for (const o of result.metrics) {
    if (o.key === m.key) continue;
    const od = row.values[o.key]!;
    if (!od.significant) continue;
    others.push(
      `${o.label.toLowerCase()} ${signed(o, od.delta)}${od.ratio !== null ? ` ${ratioText(od)}` : ''}`,
    );
  }
  if (others.length) lines.push(`       ${others.join(', ')}`);
  const spread = rangeText(d, amount, m);
  if (spread) lines.push(c.dim(`       ${spread}`));
  const note = matchNote(row);
  const folded =
    row.sites.base > 1 || row.sites.head > 1
      ? `${row.sites.base} base and ${row.sites.head} head program points taken together`
      : '';
  const notes = [note && `matched fuzzily: ${note}`, folded].filter(Boolean);
  if (notes.length) lines.push(c.yellow(`       ${notes.join('; ')}`));
  for (const [i, f] of frameLines(row, options.depth).entries()) {
    const frame = i === 0 ? c.cyan(f.frame) : c.dim(f.frame);
    lines.push(`       ${frame}${f.was ? c.yellow(`  (was ${f.was})`) : ''}`);
  }
  return lines;
}

/** A markdown code span that survives backticks and table pipes. */
export function mdCode(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((s) => s.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** Escapes text for a markdown table cell. */
export function mdText(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, '\\$&').replace(/\n/g, ' ');
}

/** Renders a diff as GitHub-flavoured markdown (for pull requests and job summaries). */
export function renderDiffMarkdown(result: DiffResult, options: DiffRenderOptions = {}): string {
  // Every string of the profile is printed escaped.
  result = printableData(result);
  const { amount, signed } = amounts(result);
  const out: string[] = [];
  const multi = result.base.runs > 1 || result.head.runs > 1;
  out.push('### heapscope diff', '');
  out.push(`- base: ${mdCode(sideText(result, 'base'))}`);
  out.push(`- head: ${mdCode(sideText(result, 'head'))}`);
  if (multi) out.push('- a change counts only when it is larger than the spread between runs');
  out.push('');
  out.push('| | base | head | change |', '|---|---:|---:|---:|');
  for (const m of result.metrics) {
    const d = result.totals[m.key];
    if (!d) continue;
    const change =
      d.delta === 0
        ? 'no change'
        : `${d.significant ? '**' : ''}${signed(m, d.delta)}${d.significant ? '**' : ''}${
            percentText(d) ? ` (${percentText(d)})` : ''
          }${d.significant ? '' : ' (within spread)'}`;
    out.push(`| ${m.label} | ${amount(m, d.base)} | ${amount(m, d.head)} | ${change} |`);
  }
  out.push('');
  const n = result.counts;
  out.push(
    `Sites: ${n.changed} changed, ${n.new} new, ${n.vanished} vanished, ${n.unchanged} unchanged${
      n.fuzzy ? `; ${n.fuzzy} matched fuzzily (code moved or file renamed)` : ''
    }.`,
  );
  out.push('');
  const rows = shownRows(result, options.top);
  if (rows.length === 0) {
    out.push(noChangeText(result));
  } else {
    const m = result.sortedBy;
    out.push(`| # | ${mdText(m.label)} change | base | head | site |`, '|---:|---:|---:|---:|---|');
    rows.forEach((row, i) => {
      const d = row.values[m.key]!;
      const rel = ratioText(d);
      const tag = STATUS_LABEL[row.status];
      const note = matchNote(row);
      const frames = frameLines(row, options.depth ?? 3)
        .map((f) => `${mdCode(f.frame)}${f.was ? ` (was ${mdCode(f.was)})` : ''}`)
        .join('<br>');
      const more = row.frames.length > (options.depth ?? 3) ? '<br>…' : '';
      const labels = [tag && `**${tag}**`, note && `_${note}_`].filter(Boolean).join(' ');
      out.push(
        `| ${i + 1} | ${signed(m, d.delta)}${rel ? ` ${rel}` : ''} | ${amount(m, d.base)} | ${amount(m, d.head)} | ${labels ? `${labels} ` : ''}${frames}${more} |`,
      );
    });
  }
  if (result.warnings.length) {
    out.push('', '**Warnings**', '');
    for (const w of result.warnings) out.push(`- ${mdText(w)}`);
  }
  return `${out.join('\n')}\n`;
}

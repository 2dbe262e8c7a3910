// compare(): which data structure (or implementation) costs less memory? Each
// candidate is measured the same way, several times, and the medians set side by side.

import { count as fmtCount } from '../report/units.js';
import { ledger } from './ledger.js';
import { measureOnce, measurePerOp } from './measure.js';
import { calibrateAsync } from './region.js';

export interface CompareTableOptions {
  /** Elements each candidate builds: adds per-element columns. */
  elements?: number;
  /** Measure per call over this many calls (for small operations) instead of one call per run. */
  iterations?: number;
  /** Measurements per candidate; figures are their medians (default 3). */
  runs?: number;
  /** Calls before measuring (default 1: V8 compiles the candidate outside the figures). */
  warmup?: number;
  /**
   * @deprecated Has no effect: `compare` prints nothing; write the result's `table`
   * where it should go.
   */
  print?: boolean;
}

export interface ComparisonRow {
  name: string;
  /** Bytes allocated by one call (median of the runs). */
  allocatedBytes: number;
  /** Bytes one call left reachable, its return value included (median of the runs). */
  retainedBytes: number;
  /** Per element, when `elements` was given. */
  allocatedBytesPerElement: number | undefined;
  retainedBytesPerElement: number | undefined;
  /** GCs during one call (median). */
  gcCount: number;
  /** retainedBytes divided by the smallest retainedBytes of all candidates. */
  retainedVsBest: number;
}

export interface Comparison {
  elements: number | undefined;
  /** Whether figures are per call over `iterations` calls. */
  iterations: number | undefined;
  runs: number;
  rows: ComparisonRow[];
  /** The rows as a text table. */
  table: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fixed(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  return abs >= 100 ? fmtCount(Math.round(n)) : n.toFixed(abs >= 10 ? 1 : 2);
}

/** Renders rows as an aligned text table. */
export function renderComparison(c: Omit<Comparison, 'table'>): string {
  const per = c.iterations !== undefined ? ' / op' : '';
  const head = [
    'candidate',
    `allocated${per}`,
    ...(c.elements !== undefined ? ['alloc / element'] : []),
    `retained${per}`,
    ...(c.elements !== undefined ? ['retained / element'] : []),
    'retained vs best',
  ];
  const body = c.rows.map((r) => [
    r.name,
    `${fixed(r.allocatedBytes)} B`,
    ...(c.elements !== undefined ? [`${fixed(r.allocatedBytesPerElement ?? Number.NaN)} B`] : []),
    `${fixed(r.retainedBytes)} B`,
    ...(c.elements !== undefined ? [`${fixed(r.retainedBytesPerElement ?? Number.NaN)} B`] : []),
    `${r.retainedVsBest.toFixed(2)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ');
  const notes = [
    c.elements !== undefined ? `${fmtCount(c.elements)} elements` : undefined,
    c.iterations !== undefined ? `per call over ${fmtCount(c.iterations)} calls` : 'one call',
    `median of ${c.runs} runs`,
  ].filter((x) => x !== undefined);
  return `${[line(head), ...body.map(line)].join('\n')}\n(${notes.join(', ')}; cheap mode)\n`;
}

/**
 * Measures each candidate (sync or async functions, e.g. each building the same data in
 * a different structure) and returns their allocated and retained bytes side by side,
 * per element when `elements` is given, with the same as a text table (`table`). Candidates are measured in turns
 * (A B C A B C …) so that slow drifts of the heap touch them alike.
 */
export async function compare(
  candidates: Record<string, () => unknown>,
  options: CompareTableOptions = {},
): Promise<Comparison> {
  const names = Object.keys(candidates);
  if (names.length === 0) throw new RangeError('heapscope: compare() needs at least one candidate');
  const runs = options.runs ?? 3;
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`heapscope: runs must be an integer ≥ 1, got ${runs}`);
  const elements = options.elements;
  if (elements !== undefined && !(elements > 0)) {
    throw new RangeError(`heapscope: elements must be > 0, got ${elements}`);
  }
  if (!ledger.isOpen) await calibrateAsync();
  const samples = new Map(
    names.map((n) => [n, { a: [] as number[], r: [] as number[], g: [] as number[] }]),
  );
  for (const name of names) {
    const fn = candidates[name]!;
    for (let i = 0; i < (options.warmup ?? 1); i++) await fn();
  }
  for (let run = 0; run < runs; run++) {
    for (const name of names) {
      const fn = candidates[name]!;
      const s = samples.get(name)!;
      if (options.iterations !== undefined) {
        const m = await measurePerOp(fn, { iterations: options.iterations, warmup: 0 });
        s.a.push(m.allocatedBytesPerOp);
        s.r.push(m.retainedBytesPerOp);
        s.g.push(m.gcCount / options.iterations);
      } else {
        const m = await measureOnce(fn);
        s.a.push(m.allocatedBytes);
        s.r.push(m.retainedBytes);
        s.g.push(m.gcCount);
      }
    }
  }
  const medians = names.map((name) => {
    const s = samples.get(name)!;
    return { name, a: median(s.a), r: median(s.r), g: median(s.g) };
  });
  const best = Math.min(...medians.map((m) => m.r).filter((r) => r > 0));
  const rows: ComparisonRow[] = medians.map((m) => ({
    name: m.name,
    allocatedBytes: m.a,
    retainedBytes: m.r,
    allocatedBytesPerElement: elements !== undefined ? m.a / elements : undefined,
    retainedBytesPerElement: elements !== undefined ? m.r / elements : undefined,
    gcCount: m.g,
    retainedVsBest: Number.isFinite(best) && best > 0 ? m.r / best : 1,
  }));
  const partial = { elements, iterations: options.iterations, runs, rows };
  return { ...partial, table: renderComparison(partial) };
}

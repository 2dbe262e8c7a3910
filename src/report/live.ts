/**
 * One frame of `heapscope attach --live`: the target's heap and the top allocation sites
 * of the sampled window so far. Pure text; the command redraws it.
 */
import type { Report } from './rows.js';
import { bytes, percent } from './units.js';

export interface LiveFrameText {
  pid: number;
  cmd: string;
  elapsedMs: number;
  heap: { used: number; total: number };
  report: Report;
}

function clip(line: string, width: number | undefined): string {
  return width && line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

/** The frame as lines of at most `width` characters (no limit without one). */
export function renderLiveFrame(f: LiveFrameText, width?: number): string {
  const r = f.report;
  const seconds = (f.elapsedMs / 1000).toFixed(1);
  const lines = [
    `heapscope attach: pid ${f.pid}  ${f.cmd}`,
    `heap ${bytes(f.heap.used)} used of ${bytes(f.heap.total)}   window ${seconds} s: ${bytes(r.totals.totalBytes)} allocated (sampled estimate)`,
    '',
  ];
  if (r.rows.length === 0) {
    lines.push('  (no samples yet)');
  } else {
    const sizes = r.rows.map((row) => bytes(row.totalBytes));
    const shares = r.rows.map((row) => percent(row.share));
    const w1 = Math.max('Allocated'.length, ...sizes.map((s) => s.length));
    const w2 = Math.max('%'.length, ...shares.map((s) => s.length));
    lines.push(`  ${'Allocated'.padStart(w1)}  ${'%'.padStart(w2)}  Site`);
    r.rows.forEach((row, i) => {
      const [site = '(unknown)', ...callers] = row.frames;
      const via = callers.length > 0 ? `  ← ${callers[0]}` : '';
      lines.push(`  ${sizes[i]!.padStart(w1)}  ${shares[i]!.padStart(w2)}  ${site}${via}`);
    });
  }
  lines.push('', 'Ctrl-C ends the window and writes the profile');
  return `${lines.map((l) => clip(l, width)).join('\n')}\n`;
}

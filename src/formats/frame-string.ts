/**
 * heapscope's frame strings, `functionName (file:line:column)`, taken apart and put
 * together again, for formats that keep function, file, line and column apart (pprof,
 * Chrome's `.heapprofile`, speedscope). Lines and columns are 1-based; a frame without a
 * position is `functionName (file)`, one without a file just `functionName`. Valgrind's
 * frames (`0x4C2DB6F: malloc (vg_replace_malloc.c:299)`) parse as name and `file:line`.
 */

export interface FrameParts {
  name: string;
  file?: string;
  /** 1-based; absent when unknown. */
  line?: number;
  /** 1-based; absent when unknown (0 is kept: V8 writes it for "unknown column"). */
  column?: number;
}

/** Splits a frame string into its name, file, line and column. */
export function parseFrame(frame: string): FrameParts {
  const m = /^(.*) \(([^()]*)\)$/s.exec(frame);
  if (!m || m[1] === '') return { name: frame };
  const name = m[1]!;
  const where = m[2]!;
  const lc = /^(.*):(\d+):(\d+)$/s.exec(where);
  if (lc && lc[1] !== '') {
    return { name, file: lc[1]!, line: Number(lc[2]), column: Number(lc[3]) };
  }
  const l = /^(.*):(\d+)$/s.exec(where);
  if (l && l[1] !== '') return { name, file: l[1]!, line: Number(l[2]) };
  return where === '' ? { name } : { name, file: where };
}

/** The frame string for a function, file, line and column (inverse of `parseFrame`). */
export function formatFrame(parts: FrameParts): string {
  const name = parts.name || '(anonymous)';
  if (!parts.file) return name;
  if (parts.line === undefined || parts.line <= 0) return `${name} (${parts.file})`;
  if (parts.column === undefined) return `${name} (${parts.file}:${parts.line})`;
  return `${name} (${parts.file}:${parts.line}:${parts.column})`;
}

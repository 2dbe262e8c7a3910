import { compareRevision } from '../capture/compare.js';
import { renderDiffMarkdown, renderDiffText } from '../report/diff.js';
import { type DiffFlags, diffOutputOptions } from './diff.js';
import { type Io, useColor } from './io.js';
import { parsePositiveInt } from './options.js';

export interface CompareFlags extends DiffFlags {
  runs: string;
  outDir?: string;
  peakSample?: string;
}

export async function compareCommand(
  rev: string,
  command: string[],
  flags: CompareFlags,
  io: Io,
): Promise<number> {
  const { diff, render } = diffOutputOptions(flags);
  const runs = parsePositiveInt(flags.runs, '--runs');
  if (runs < 1) throw new Error('--runs wants 1 or more');
  const result = await compareRevision(rev, command, {
    cwd: io.cwd,
    env: io.env,
    runs,
    diff,
    output: io.stderr,
    ...(flags.outDir ? { outDir: flags.outDir } : {}),
    ...(flags.peakSample !== undefined
      ? { peakSampleInterval: parsePositiveInt(flags.peakSample, '--peak-sample') }
      : {}),
    onProgress: (m) => io.stderr.write(`heapscope: ${m}\n`),
  });
  for (const n of result.notes) io.stderr.write(`heapscope: note: ${n}\n`);
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : flags.markdown
        ? renderDiffMarkdown(result.diff, render)
        : renderDiffText(result.diff, { ...render, color: useColor(io.stdout, io.env) }),
  );
  return 0;
}

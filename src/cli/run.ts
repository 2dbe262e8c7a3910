import { relative } from 'node:path';
import { runProfiled } from '../capture/run.js';
import { findMetric } from '../model/profile.js';
import { buildReport } from '../report/rows.js';
import { renderText } from '../report/text.js';
import { bytes, count } from '../report/units.js';
import { type Io, useColor } from './main.js';
import { parsePositiveInt } from './options.js';
import { progressReporter } from './progress.js';

export interface RunFlags {
  outDir: string;
  out?: string;
  sort: string;
  top: string;
  peakSample: string;
  json?: boolean;
  quiet?: boolean;
  keepSnapshot?: boolean;
}

export async function runCommand(command: string[], flags: RunFlags, io: Io): Promise<number> {
  const sort = findMetric(flags.sort);
  if (!sort) throw new Error(`unknown metric "${flags.sort}"`);
  const top = parsePositiveInt(flags.top, '--top');
  const progress = progressReporter(io.stderr);
  let result: Awaited<ReturnType<typeof runProfiled>>;
  try {
    result = await runProfiled(command, {
      outDir: flags.outDir,
      ...(flags.out ? { outFile: flags.out } : {}),
      cwd: io.cwd,
      env: io.env,
      peakSampleInterval: parsePositiveInt(flags.peakSample, '--peak-sample'),
      keepSnapshots: flags.keepSnapshot === true,
      onProgress: progress.update,
    });
  } catch (e) {
    progress.done();
    io.stderr.write(`heapscope: ${(e as Error).message}\n`);
    return 127;
  }
  progress.done();
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          exitCode: result.exitCode,
          signal: result.signal,
          profiles: result.profiles.map(({ profile: _p, ...rest }) => rest),
          missing: result.missing,
        },
        null,
        2,
      )}\n`,
    );
    return result.exitCode;
  }
  const out = io.stderr;
  const color = useColor(out, io.env);
  const main = result.profiles.find((p) => p.isMain);
  if (main && !flags.quiet) {
    out.write(`\n${renderText(buildReport(main.profile, { sort, top }), { color })}`);
  }
  for (const p of result.profiles) {
    const t = p.profile.programPoints.reduce(
      (a, pp) => ({ b: a.b + pp.totalBytes, k: a.k + pp.totalBlocks }),
      { b: 0, k: 0 },
    );
    const where = relative(io.cwd, p.path) || p.path;
    out.write(
      `heapscope: wrote ${where}  (${p.cmd}: ${bytes(t.b)} in ${count(t.k)} blocks allocated)\n`,
    );
  }
  for (const m of result.missing) {
    out.write(
      `heapscope: no profile for pid ${m.pid}${m.threadId ? ` thread ${m.threadId}` : ''} (${m.cmd}): ${m.reason}\n`,
    );
  }
  if (result.signal) out.write(`heapscope: the command was ended by ${result.signal}\n`);
  if (result.profiles.length === 0 && result.missing.length === 0) {
    out.write('heapscope: no Node process ran, so there is nothing to profile\n');
  }
  return result.exitCode;
}

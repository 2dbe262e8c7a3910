import { relative } from 'node:path';
import { runProfiled, type WrittenProfile } from '../capture/run.js';
import { shellJoin } from '../capture/session-files.js';
import { applyFilters } from '../model/filter.js';
import { findMetric, METRICS } from '../model/metrics.js';
import type { Profile } from '../model/profile.js';
import { buildReport } from '../report/rows.js';
import { renderText } from '../report/text.js';
import { bytes, count } from '../report/units.js';
import { printable } from '../util/printable.js';
import { type Io, useColor } from './io.js';
import { type FilterFlags, filtersOf, parseBy, parsePositiveInt } from './options.js';
import { progressReporter } from './progress.js';
import { totalsOf, workProfile } from './run-summary.js';

export interface RunFlags extends FilterFlags {
  outDir: string;
  out?: string;
  sort: string;
  top: string;
  depth?: string;
  by?: string;
  cum?: boolean;
  peakSample: string;
  json?: boolean;
  quiet?: boolean;
  keepSnapshot?: boolean;
  snapshotSignal?: boolean;
  /** `--sample` alone is `true`; `--sample 4096` the interval. */
  sample?: string | boolean;
  duration?: string;
  /** `--no-native` makes it false. */
  native?: boolean;
  /** `--no-wait` makes it false. */
  wait?: boolean;
}

/**
 * Bytes between samples when `--sample` has no value. V8's and DevTools' 32 KiB cost an
 * allocation-heavy HTTP server 10-16% more CPU per request (bench/sampled-overhead.mjs);
 * 128 KiB takes a quarter of the samples, within the 5% goal, and still estimates a
 * site that allocated 256 MiB within ±2.2% (one standard deviation).
 */
export const DEFAULT_SAMPLE_INTERVAL = 131072;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `--duration`: `500ms`, `60s`, `2m`, `1h`, or plain seconds; returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * DURATION_UNITS[m[2] ?? 's']! : Number.NaN;
  if (!Number.isFinite(ms) || ms < 1) {
    throw new Error(`--duration wants a time like 60s, 500ms, 2m or 1h, not "${text}"`);
  }
  return Math.round(ms);
}

function sampleInterval(flag: string | boolean | undefined): number | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (flag === true) return DEFAULT_SAMPLE_INTERVAL;
  const n = parsePositiveInt(flag, '--sample');
  if (n < 1) throw new Error('--sample wants at least 1 byte between samples');
  return n;
}

function wroteLine(p: WrittenProfile, cwd: string): string {
  const t = totalsOf(p);
  const where = relative(cwd, p.path) || p.path;
  const est = p.profile.heapscope?.capture === 'sampled' ? ', estimated' : '';
  const what = p.part ? `SIGUSR2 #${p.part}, ${p.cmd}` : p.cmd;
  const live = t.endBytes !== undefined ? `, ${bytes(t.endBytes)} live at the end` : '';
  return printable(
    `heapscope: wrote ${where}  (${what}: ${bytes(t.totalBytes)} in ${count(t.totalBlocks)} blocks allocated${live}${est})`,
  ).concat('\n');
}

export async function runCommand(command: string[], flags: RunFlags, io: Io): Promise<number> {
  const sort = findMetric(flags.sort);
  if (!sort) {
    throw new Error(
      `unknown metric "${flags.sort}"; one of: ${METRICS.map((m) => m.name).join(', ')}`,
    );
  }
  const top = parsePositiveInt(flags.top, '--top');
  const depth = flags.depth === undefined ? undefined : parsePositiveInt(flags.depth, '--depth');
  const by = parseBy(flags.by);
  const filters = filtersOf(flags, true);
  /** The report of the main profile, as `heapscope report` would print it with the same flags. */
  const reportText = (profile: Profile, color: boolean) => {
    const { profile: shown, notes, warnings } = applyFilters(profile, filters);
    const report = buildReport(shown, {
      sort,
      top,
      ...(depth !== undefined ? { depth } : {}),
      by,
      cum: flags.cum === true,
      notes,
    });
    return `${warnings.map((w) => `heapscope: ${w}\n`).join('')}${renderText(report, { color })}`;
  };
  const sample = sampleInterval(flags.sample);
  const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
  if (durationMs !== undefined && sample === undefined) {
    throw new Error('--duration needs --sample (exact mode profiles the whole run)');
  }
  if (sample !== undefined && flags.keepSnapshot) {
    throw new Error('--keep-snapshot is for exact mode: sampled mode takes no heap snapshot');
  }
  if (sample !== undefined && flags.snapshotSignal) {
    throw new Error(
      '--snapshot-signal is for exact mode: in sampled mode SIGUSR2 writes a profile',
    );
  }
  // Sampled profiles can come while the command still runs (SIGUSR2, --duration): say so
  // then. After --duration the program goes on: its main process's report comes then too.
  // Otherwise the report is of the work, once the run has ended (as in exact mode).
  const reported = new Set<WrittenProfile>();
  const onProfile = (p: WrittenProfile) => {
    if (p.isMain && durationMs !== undefined && !flags.quiet) {
      try {
        const color = useColor(io.stderr, io.env);
        io.stderr.write(`\n${reportText(p.profile, color)}`);
        reported.add(p);
      } catch (e) {
        io.stderr.write(`heapscope: ${(e as Error).message}\n`);
      }
    }
    io.stderr.write(wroteLine(p, io.cwd));
  };
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
      ...(flags.native === false ? { native: false } : {}),
      snapshotSignal: flags.snapshotSignal === true,
      onProgress: progress.update,
      wait: flags.wait !== false,
      onWaiting: (running) => {
        const list = running.map((r) => `${r.pid} (${shellJoin(r.argv)})`).join(', ');
        io.stderr.write(
          `heapscope: the command ended; waiting for the Node processes it started: ${list} (--no-wait not to wait)\n`,
        );
      },
      ...(sample !== undefined
        ? {
            sample,
            ...(durationMs !== undefined ? { durationMs } : {}),
            ...(flags.json ? {} : { onProfile }),
          }
        : {}),
    });
  } catch (e) {
    progress.done();
    io.stderr.write(`heapscope: ${(e as Error).message}\n`);
    return 127;
  }
  progress.done();
  // Said once, unless the user asked for it: the profiles say what the route changes.
  if (result.withoutHelper && flags.native !== false && io.env.HEAPSCOPE_NATIVE !== '0') {
    io.stderr.write(
      `${result.withoutHelper}\nheapscope: captured with Node's own means (see the profile's notes)\n`,
    );
  }
  const work = workProfile(result.profiles);
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          exitCode: result.exitCode,
          signal: result.signal,
          profiles: result.profiles.map(({ profile: _p, ...rest }) => ({
            ...rest,
            ...totalsOf({ profile: _p, ...rest }),
          })),
          report: work ? { pid: work.pid, threadId: work.threadId, path: work.path } : undefined,
          missing: result.missing,
          running: result.running,
        },
        null,
        2,
      )}\n`,
    );
    return result.exitCode;
  }
  const out = io.stderr;
  const color = useColor(out, io.env);
  // Sampled mode has said where each profile went as it came.
  const printReport = work !== undefined && !flags.quiet && !reported.has(work);
  if (printReport) out.write(`\n${reportText(work.profile, color)}`);
  if (sample === undefined) for (const p of result.profiles) out.write(wroteLine(p, io.cwd));
  if (printReport && result.profiles.length > 1) {
    const who = `pid ${work.pid}${work.threadId ? ` thread ${work.threadId}` : ''}`;
    out.write(
      `${printable(`heapscope: the report above is of ${who} (${work.cmd}), the profile that allocated most among those that did their own work; \`heapscope report <file>\` shows any other`)}\n`,
    );
  }
  for (const m of result.missing) {
    out.write(
      `${printable(`heapscope: no profile for pid ${m.pid}${m.threadId ? ` thread ${m.threadId}` : ''} (${m.cmd}): ${m.reason}`)}\n`,
    );
  }
  for (const r of result.running) {
    out.write(
      `heapscope: pid ${r.pid} (${shellJoin(r.argv)}) still runs (--no-wait): it writes no profile\n`,
    );
  }
  if (result.signal) out.write(`heapscope: the command was ended by ${result.signal}\n`);
  if (result.profiles.length === 0 && result.missing.length === 0) {
    out.write('heapscope: no Node process ran, so there is nothing to profile\n');
  }
  return result.exitCode;
}

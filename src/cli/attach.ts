/**
 * `heapscope attach <pid>`: profile a Node process that is already running, through its
 * inspector (opened with SIGUSR1, closed again afterwards). A sampled allocation profile
 * for a window (the default), a heap snapshot (`--snapshot`), or a live table (`--live`).
 */
import { join, relative, resolve } from 'node:path';
import type { DetachResult } from '../capture/attach/inspector.js';
import { attachAndSample } from '../capture/attach/profile.js';
import { attachAndSnapshot } from '../capture/attach/snapshot.js';
import { AttachRefusal } from '../capture/attach/target.js';
import type { WrittenProfile } from '../capture/run.js';
import { findMetric } from '../model/metrics.js';
import { renderLiveFrame } from '../report/live.js';
import { buildReport } from '../report/rows.js';
import { renderText } from '../report/text.js';
import { bytes, count } from '../report/units.js';
import { printable } from '../util/printable.js';
import { type Io, useColor } from './io.js';
import { parsePositiveInt } from './options.js';
import { progressReporter } from './progress.js';
import { DEFAULT_SAMPLE_INTERVAL, parseDuration } from './run.js';
import { snapshotCommand } from './snapshot.js';

/** The live view's redraw interval when `--every` is not given. */
export const DEFAULT_EVERY = '2s';

export interface AttachFlags {
  duration?: string;
  interval?: string;
  workers: boolean;
  outDir: string;
  out?: string;
  sort: string;
  top: string;
  json?: boolean;
  quiet?: boolean;
  /** `--live`: a table of the heap and the top sites, redrawn every `every`. */
  live?: boolean;
  every: string;
  /** `--snapshot` alone is `true`; `--snapshot file` names the file. */
  snapshot?: string | boolean;
  /** `--path <class|@id>` for the snapshot's analysis. */
  path?: string;
  /** `--compare-after <time>`: a second snapshot after this long (or at Ctrl-C), compared with the first. */
  compareAfter?: string;
}

/** Ends the window on Ctrl-C, SIGTERM or SIGHUP, so that heapscope detaches before it goes. */
function interruptions(io: Io): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = () => {
    if (controller.signal.aborted) {
      io.stderr.write('heapscope: still detaching from the process, a moment\n');
      return;
    }
    controller.abort();
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/**
 * Runs `work` with Ctrl-C, SIGTERM and SIGHUP ending the window (`interruptions`). A refusal
 * to attach is written to stderr and gives `undefined` (exit code 2); `onError` runs first on
 * any error.
 */
async function whileAttached<T>(
  io: Io,
  work: (signal: AbortSignal) => Promise<T>,
  onError?: () => void,
): Promise<T | undefined> {
  const stop = interruptions(io);
  try {
    return await work(stop.signal);
  } catch (e) {
    onError?.();
    if (e instanceof AttachRefusal) {
      io.stderr.write(`heapscope: ${e.message}\n`);
      return undefined;
    }
    throw e;
  } finally {
    stop.dispose();
  }
}

function wroteLine(p: WrittenProfile, cwd: string): string {
  let b = 0;
  let k = 0;
  for (const pp of p.profile.programPoints) {
    b += pp.totalBytes;
    k += pp.totalBlocks;
  }
  const where = relative(cwd, p.path) || p.path;
  const thread = p.threadId ? `worker thread ${p.threadId}` : 'main thread';
  return `${printable(`heapscope: wrote ${where}  (${thread}: ${bytes(b)} in ${count(k)} blocks allocated, estimated)`)}\n`;
}

export async function attachCommand(pidText: string, flags: AttachFlags, io: Io): Promise<number> {
  const sort = findMetric(flags.sort);
  if (!sort) throw new Error(`unknown metric "${flags.sort}"`);
  const top = parsePositiveInt(flags.top, '--top');
  const pid = Number(pidText);
  if (!/^\d+$/.test(pidText) || pid <= 0) throw new Error(`"${pidText}" is not a process id`);
  const interval =
    flags.interval === undefined
      ? DEFAULT_SAMPLE_INTERVAL
      : parsePositiveInt(flags.interval, '--interval');
  if (interval < 1) throw new Error('--interval wants at least 1 byte between samples');
  if (flags.snapshot !== undefined && flags.snapshot !== false) {
    if (flags.duration !== undefined || flags.interval !== undefined || flags.live) {
      throw new Error(
        '--duration, --interval and --live are for the sampled profile, not --snapshot',
      );
    }
    return snapshotOf(pid, flags, top, io);
  }
  if (flags.path !== undefined || flags.compareAfter !== undefined) {
    throw new Error('--path and --compare-after need --snapshot');
  }
  if (flags.live && flags.json) {
    throw new Error('--live draws a table; --json prints the result at the end: choose one');
  }
  const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
  if (flags.live !== true && flags.every !== DEFAULT_EVERY) {
    throw new Error('--every is for --live');
  }
  const everyMs = parseDuration(flags.every);
  const err = io.stderr;
  const out = io.stdout;
  const tty = out.isTTY === true;
  const width = (out as { columns?: number }).columns;
  const exitCode = await whileAttached(io, async (signal) => {
    const result = await attachAndSample(pid, {
      ...(flags.live
        ? {
            live: {
              everyMs,
              onFrame: (frame) => {
                const text = renderLiveFrame(
                  {
                    pid,
                    cmd: frame.profile.cmd,
                    elapsedMs: frame.elapsedMs,
                    heap: frame.heap,
                    report: buildReport(frame.profile, { sort: findMetric('total-bytes')!, top }),
                  },
                  tty ? width : undefined,
                );
                // On a terminal the table redraws in place; elsewhere frames follow each other.
                out.write(tty ? `\x1b[H\x1b[J${text}` : `${text}\n`);
              },
            },
          }
        : {}),
      interval,
      ...(durationMs !== undefined ? { durationMs } : {}),
      signal,
      outDir: flags.outDir,
      ...(flags.out ? { outFile: flags.out } : {}),
      workers: flags.workers,
      onStarted: (inspector) => {
        const how = inspector.wasOpen ? 'its inspector, open already,' : 'its inspector';
        const until =
          durationMs !== undefined
            ? `for ${(durationMs / 1000).toFixed(durationMs % 1000 ? 1 : 0)} s (Ctrl-C ends it sooner)`
            : 'until Ctrl-C';
        err.write(
          `heapscope: attached to pid ${pid} (${inspector.node}) through ${how} on ${inspector.host}:${inspector.port}; sampling ${until}\n`,
        );
      },
    });
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify(
          { ...result, profiles: result.profiles.map(({ profile: _p, ...rest }) => rest) },
          null,
          2,
        )}\n`,
      );
    } else {
      const color = useColor(err, io.env);
      for (const p of result.profiles) {
        if (p.isMain && !flags.quiet) {
          err.write(`\n${renderText(buildReport(p.profile, { sort, top }), { color })}`);
        }
      }
      for (const p of result.profiles) err.write(wroteLine(p, io.cwd));
      for (const m of result.missing) {
        err.write(
          `heapscope: no profile for ${m.threadId ? `worker thread ${m.threadId}` : 'the main thread'}: ${m.reason}\n`,
        );
      }
    }
    err.write(detachedLine(pid, result.inspector, result.detach));
    return result.profiles.some((p) => p.isMain) ? 0 : 1;
  });
  return exitCode ?? 2;
}

function detachedLine(
  pid: number,
  inspector: { port: number; wasOpen: boolean },
  d: DetachResult,
): string {
  const { port, wasOpen } = inspector;
  return !d.targetAlive
    ? `heapscope: pid ${pid} has ended\n`
    : wasOpen
      ? `heapscope: detached; the inspector on port ${port} was open before and stays open\n`
      : d.portClosed
        ? `heapscope: detached; the inspector is closed again (port ${port})\n`
        : `heapscope: detached, but the inspector still listens on port ${port}\n`;
}

/** `YYYYMMDD-HHMMSS` in UTC, for snapshot names that sort by time. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `--snapshot`: a heap snapshot to disk (two with `--compare-after`), then `heapscope snapshot`'s analysis. */
async function snapshotOf(pid: number, flags: AttachFlags, top: number, io: Io): Promise<number> {
  if (flags.compareAfter !== undefined && flags.path !== undefined) {
    throw new Error('--path works on one snapshot; a comparison shows the paths of what grew');
  }
  const waitMs = flags.compareAfter === undefined ? undefined : parseDuration(flags.compareAfter);
  const first =
    typeof flags.snapshot === 'string'
      ? resolve(io.cwd, flags.snapshot)
      : join(resolve(io.cwd, flags.outDir), `heapscope.${pid}.${stamp(new Date())}.heapsnapshot`);
  const paths =
    waitMs === undefined
      ? [first]
      : [first, first.replace(/(\.heapsnapshot)?$/, '-2.heapsnapshot')];
  const err = io.stderr;
  const progress = progressReporter(err);
  const result = await whileAttached(
    io,
    (signal) =>
      attachAndSnapshot(pid, {
        paths,
        between: async () => {
          progress.done();
          err.write(
            `heapscope: wrote ${relative(io.cwd, paths[0]!) || paths[0]}; the second snapshot in ${(waitMs! / 1000).toFixed(waitMs! % 1000 ? 1 : 0)} s (Ctrl-C: now)\n`,
          );
          if (signal.aborted) return true;
          await new Promise<void>((r) => {
            const t = setTimeout(r, waitMs);
            const now = () => {
              clearTimeout(t);
              r();
            };
            signal.addEventListener('abort', now, { once: true });
          });
          return true;
        },
        onProgress: (i, done, total) =>
          progress.update(`snapshot ${i + 1} of pid ${pid}`, done, total),
      }),
    () => progress.done(),
  );
  if (!result) return 2;
  progress.done();
  for (const w of result.written) {
    if (w === result.written[0] && result.written.length > 1) continue;
    err.write(
      `heapscope: wrote ${relative(io.cwd, w.path) || w.path}  (heap snapshot of pid ${pid}, ${bytes(w.bytes)})\n`,
    );
  }
  err.write(detachedLine(pid, result.inspector, result.detach));
  if (result.written.length < paths.length) {
    err.write('heapscope: the process ended before the second snapshot: nothing to compare\n');
  }
  return snapshotCommand(
    result.written.map((w) => w.path),
    {
      by: 'class',
      top: String(top),
      paths: '3',
      ...(flags.path !== undefined ? { path: flags.path } : {}),
      ...(flags.json ? { json: true } : {}),
    },
    io,
  );
}

/**
 * `heapscope snapshot app.heapsnapshot`: who holds the memory (top retainers by class or
 * allocation site, retainer paths). `heapscope snapshot before.heapsnapshot
 * after.heapsnapshot`: what grew between two snapshots of one process.
 */
import { basename } from 'node:path';
import {
  type HeapSnapshot,
  HeapSnapshotError,
  readHeapSnapshot,
} from '../formats/heapsnapshot/index.js';
import { InputError, openInput } from '../formats/input.js';
import {
  type AnalyzeOptions,
  SnapshotQueryError,
  summarizeSnapshot,
} from '../model/snapshot/analyze.js';
import { compareSnapshots, digestSnapshot } from '../model/snapshot/compare.js';
import { renderSnapshotComparison, renderSnapshotSummary } from '../report/snapshot.js';
import { analyzeSnapshotInParallel } from '../threads/snapshot-analysis.js';
import { printable, printableData } from '../util/printable.js';
import { type Io, useColor } from './io.js';
import { parsePositiveInt } from './options.js';
import { progressReporter } from './progress.js';

export interface SnapshotFlags {
  by: string;
  top: string;
  path?: string;
  paths: string;
  new?: string;
  json?: boolean;
}

export async function snapshotCommand(
  files: string[],
  flags: SnapshotFlags,
  io: Io,
): Promise<number> {
  const fail = (message: string) => {
    io.stderr.write(`${printable(`heapscope: ${message}`)}\n`);
    return 2;
  };
  if (flags.by !== 'class' && flags.by !== 'site') {
    return fail(`--by wants "class" or "site", not "${flags.by}"`);
  }
  if (files.length > 2) return fail('give one snapshot, or two to compare');
  if (files.length === 1 && flags.new !== undefined) {
    return fail('--new lists the new objects of a comparison: give two snapshots');
  }
  const top = parsePositiveInt(flags.top, '--top');
  const pathCount = parsePositiveInt(flags.paths, '--paths');
  const progress = progressReporter(io.stderr);
  const load = async (file: string): Promise<HeapSnapshot> => {
    // A pipe or `-` is copied to a temporary file: the reader reads ranges of the file.
    const input = await openInput(file, io.stdin ? { stdin: io.stdin } : {});
    try {
      return await readHeapSnapshot(input.path, {
        onProgress: (done, total) => progress.update(`reading ${basename(file)}`, done, total),
      });
    } finally {
      progress.done();
      await input.close();
    }
  };
  const analyzing =
    (file: string): AnalyzeOptions['onPhase'] =>
    (phase, i, n) =>
      progress.update(`analysing ${basename(file)} (${phase})`, i, n);
  const color = useColor(io.stdout, io.env);
  let current = files[0];
  try {
    if (files.length === 1) {
      const analysis = await analyzeSnapshotInParallel(await load(current), {
        onPhase: analyzing(current),
      });
      progress.done();
      const summary = summarizeSnapshot(analysis, {
        top,
        by: flags.by,
        ...(flags.path !== undefined ? { path: flags.path } : {}),
      });
      io.stdout.write(
        flags.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : renderSnapshotSummary(basename(current), printableData(summary), { color }),
      );
      return 0;
    }
    // The first snapshot is reduced to a digest and dropped before the second is read.
    const before = digestSnapshot(await load(current));
    current = files[1];
    const after = await analyzeSnapshotInParallel(await load(current), {
      interfaces: before.interfaces,
      onPhase: analyzing(current),
    });
    progress.done();
    if (flags.by === 'site' && !after.siteTotals) {
      throw new SnapshotQueryError(`${current} has no allocation traces`);
    }
    const comparison = compareSnapshots(before, after, {
      top,
      paths: pathCount,
      ...(flags.path !== undefined ? { path: flags.path } : {}),
      ...(flags.new !== undefined ? { newOf: flags.new } : {}),
    });
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(comparison, null, 2)}\n`
        : renderSnapshotComparison(
            basename(files[0]),
            basename(files[1]),
            printableData(comparison),
            { color, bySite: flags.by === 'site' },
          ),
    );
    return 0;
  } catch (error) {
    progress.done();
    if (error instanceof HeapSnapshotError) {
      return fail(`${current}: ${error.message.replace(/^heapsnapshot: /, '')}`);
    }
    if (error instanceof SnapshotQueryError) return fail(error.message);
    if (error instanceof InputError) return fail(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`${current}: no such file`);
    if (code === 'EISDIR') return fail(`${current}: is a directory`);
    throw error;
  }
}

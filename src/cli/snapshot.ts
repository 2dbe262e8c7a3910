/**
 * `heapscope snapshot app.heapsnapshot`: who holds the memory (top retainers by class or
 * allocation site, retainer paths). `heapscope snapshot before.heapsnapshot
 * after.heapsnapshot`: what grew between two snapshots of one process.
 */
import { basename } from 'node:path';
import pc from 'picocolors';
import {
  type HeapSnapshot,
  HeapSnapshotError,
  readHeapSnapshot,
} from '../formats/heapsnapshot/index.js';
import { InputError, openInput } from '../formats/input.js';
import {
  type AnalyzeOptions,
  type RetainerPathResult,
  SnapshotQueryError,
  type SnapshotSummary,
  summarizeSnapshot,
} from '../model/snapshot/analyze.js';
import type { ClassLocation } from '../model/snapshot/classes.js';
import {
  compareSnapshots,
  digestSnapshot,
  type SnapshotComparison,
} from '../model/snapshot/compare.js';
import { bytes, count, percent } from '../report/units.js';
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
  if (files.length === 2 && flags.path !== undefined) {
    return fail('--path works on one snapshot; a comparison shows the paths of what grew');
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
          : renderSummary(current, printableData(summary), color),
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
    const comparison = compareSnapshots(before, after, { top, paths: pathCount });
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(comparison, null, 2)}\n`
        : renderComparison(
            files[0],
            files[1],
            printableData(comparison),
            flags.by === 'site',
            color,
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

// ---------------------------------------------------------------------------------------
// Text rendering
// ---------------------------------------------------------------------------------------

interface Paint {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
}

function paint(color: boolean): Paint {
  const c = pc.createColors(color);
  return { bold: c.bold, dim: c.dim, red: c.red };
}

function table(header: string[], rows: string[][], leftFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((cell, i) => (i >= leftFrom ? cell : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd()}\n`;
  return line(header) + rows.map(line).join('');
}

function where(location: ClassLocation | undefined): string {
  return location ? ` (script ${location.scriptId}, line ${location.line + 1})` : '';
}

function renderSummary(file: string, s: SnapshotSummary, color: boolean): string {
  const p = paint(color);
  let out = `${p.bold(basename(file))}: ${count(s.nodeCount)} nodes, ${count(s.edgeCount)} edges, ${bytes(s.totalSize)} in ${count(s.classCount)} classes\n`;
  if (s.unreachable > 0) {
    out += p.dim(`  ${count(s.unreachable)} nodes are kept only by weak or internal references\n`);
  }
  const share = (n: number) => (s.totalSize > 0 ? percent(n / s.totalSize) : '');
  out += `\n${p.bold('Top retainers by class')}\n`;
  out += table(
    ['Retained', '%', 'Self', 'Count', 'Class'],
    s.classes.map((c) => [
      bytes(c.retainedSize),
      share(c.retainedSize),
      bytes(c.selfSize),
      count(c.count),
      c.name + where(c.location),
    ]),
    4,
  );
  if (s.sites) {
    out += `\n${p.bold('Top retainers by allocation site')}\n`;
    out += table(
      ['Retained', '%', 'Self', 'Count', 'Allocated at'],
      s.sites.map((site) => [
        bytes(site.retainedSize),
        share(site.retainedSize),
        bytes(site.selfSize),
        count(site.count),
        stackLine(site.frames),
      ]),
      4,
    );
  }
  if (s.path) out += `\n${renderPath(s.path, p)}`;
  return out;
}

function stackLine(frames: string[]): string {
  if (frames.length === 0) return '(unknown)';
  const callers = frames.slice(1, 3);
  return callers.length > 0 ? `${frames[0]}  ← ${callers.join(' ← ')}` : frames[0];
}

function renderPath(path: RetainerPathResult, p: Paint): string {
  const t = path.target;
  const title = `Retainer path of ${t.className} @${t.id}`;
  if (path.steps.length === 0) {
    return `${p.bold(title)}: none (only weak references reach it)\n`;
  }
  const distance =
    path.distance >= 100_000_000 ? 'held by V8 internal roots' : `distance ${path.distance}`;
  let out = `${p.bold(title)} (${distance})\n`;
  const sizes = (n: RetainerPathResult['target']) =>
    p.dim(`self ${bytes(n.selfSize)}, retained ${bytes(n.retainedSize)}`);
  // The first node is a GC root or a global object: the edge from the graph's root says nothing.
  const [top, ...rest] = path.steps;
  out += `  ${top.node.className} @${top.node.id}  ${sizes(top.node)}\n`;
  const width = Math.max(0, ...rest.map((s) => s.edge.length));
  for (const step of rest) {
    const n = step.node;
    out += `    ${step.edge.padEnd(width)}  → ${n.className} @${n.id}  ${sizes(n)}\n`;
  }
  return out;
}

function signed(n: number, format: (n: number) => string): string {
  return n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : format(0);
}

function renderComparison(
  beforeFile: string,
  afterFile: string,
  c: SnapshotComparison,
  bySite: boolean,
  color: boolean,
): string {
  const p = paint(color);
  let out = `${p.bold(basename(beforeFile))} → ${p.bold(basename(afterFile))}\n`;
  out += `  objects: ${count(c.before.objectCount)} → ${count(c.after.objectCount)} (${signed(c.after.objectCount - c.before.objectCount, count)}): ${count(c.added.count)} new (${bytes(c.added.size)}), ${count(c.removed.count)} collected (${bytes(c.removed.size)})\n`;
  out += `  size: ${bytes(c.before.totalSize)} → ${bytes(c.after.totalSize)} (${signed(c.after.totalSize - c.before.totalSize, bytes)})\n`;
  out += `\n${p.bold('Classes that grew')}\n`;
  out +=
    c.classes.length === 0
      ? '  (none)\n'
      : table(
          ['Δ Size', 'Δ Count', 'New', 'Collected', 'Retained', 'Class'],
          c.classes.map((r) => [
            signed(r.sizeDelta, bytes),
            signed(r.countDelta, count),
            count(r.added),
            count(r.removed),
            bytes(r.retainedSize),
            r.name + where(r.location),
          ]),
          5,
        );
  if (bySite && c.sites) {
    out += `\n${p.bold('Allocation sites that grew')}\n`;
    out +=
      c.sites.length === 0
        ? '  (none)\n'
        : table(
            ['Δ Size', 'Δ Count', 'New', 'Allocated at'],
            c.sites.map((s) => [
              signed(s.sizeDelta, bytes),
              signed(s.countDelta, count),
              count(s.added),
              stackLine(s.frames),
            ]),
            3,
          );
  }
  for (const g of c.paths) out += `\n${renderPath(g.path, p)}`;
  return out;
}

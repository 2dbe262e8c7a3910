/**
 * Text renderings of the snapshot views: the summary of one snapshot (top retainers by
 * class and site, a retainer path) and the comparison of two (what grew, how the growth
 * is held, new objects). Pure: results in, text out.
 */
import pc from 'picocolors';
import type { RetainerPathResult, SnapshotSummary } from '../model/snapshot/analyze.js';
import type { ClassLocation } from '../model/snapshot/classes.js';
import type { GrowthPaths, SnapshotComparison } from '../model/snapshot/compare.js';
import { bytes, count, percent } from './units.js';

export interface SnapshotTextOptions {
  /** Use ANSI colours (the CLI decides: a TTY and no NO_COLOR). */
  color?: boolean;
}

interface Paint {
  bold: (s: string) => string;
  dim: (s: string) => string;
}

function paint(color: boolean): Paint {
  const c = pc.createColors(color);
  return { bold: c.bold, dim: c.dim };
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

/** `heapscope snapshot app.heapsnapshot`: header, top retainers, the path asked for. */
export function renderSnapshotSummary(
  file: string,
  s: SnapshotSummary,
  options: SnapshotTextOptions = {},
): string {
  const p = paint(options.color ?? false);
  let out = `${p.bold(file)}: ${count(s.nodeCount)} nodes, ${count(s.edgeCount)} edges, ${bytes(s.totalSize)} in ${count(s.classCount)} classes\n`;
  if (s.unreachable > 0) {
    out += p.dim(`  ${count(s.unreachable)} nodes are kept only by weak or internal references\n`);
  }
  out += retainersTable(
    'Top retainers by class',
    'Class',
    s.classes,
    s.totalSize,
    p,
    (c) => c.name + where(c.location),
  );
  if (s.sites) {
    out += retainersTable(
      'Top retainers by allocation site',
      'Allocated at',
      s.sites,
      s.totalSize,
      p,
      (site) => stackLine(site.frames),
    );
  }
  if (s.path) out += `\n${renderPath(s.path, p)}`;
  return out;
}

/** A titled table of groups (classes or sites): retained, share of the total, self, count, label. */
function retainersTable<Row extends { retainedSize: number; selfSize: number; count: number }>(
  title: string,
  labelHeader: string,
  rows: Row[],
  totalSize: number,
  p: Paint,
  label: (row: Row) => string,
): string {
  const share = (n: number) => (totalSize > 0 ? percent(n / totalSize) : '');
  return `\n${p.bold(title)}\n${table(
    ['Retained', '%', 'Self', 'Count', labelHeader],
    rows.map((r) => [
      bytes(r.retainedSize),
      share(r.retainedSize),
      bytes(r.selfSize),
      count(r.count),
      label(r),
    ]),
    4,
  )}`;
}

/** An allocation stack on one line: the allocating frame and two callers. */
function stackLine(frames: string[]): string {
  if (frames.length === 0) return '(unknown)';
  const callers = frames.slice(1, 3);
  return callers.length > 0 ? `${frames[0]}  ← ${callers.join(' ← ')}` : frames[0];
}

/** A node as a path shows it: class (a function's name too) and id. */
function nodeLabel(n: RetainerPathResult['target']): string {
  const fn = n.type === 'closure' && n.name !== '' ? ` ${n.name}` : '';
  return `${n.className}${fn} @${n.id}`;
}

function renderPath(path: RetainerPathResult, p: Paint, note = ''): string {
  const title = `Retainer path of ${nodeLabel(path.target)}`;
  if (path.steps.length === 0) {
    return `${p.bold(title)}: none (only weak references reach it)${note}\n`;
  }
  const distance =
    path.distance >= 100_000_000 ? 'held by V8 internal roots' : `distance ${path.distance}`;
  let out = `${p.bold(title)} (${distance})${note}\n`;
  const sizes = (n: RetainerPathResult['target']) =>
    p.dim(`self ${bytes(n.selfSize)}, retained ${bytes(n.retainedSize)}`);
  // The first node is a GC root or a global object: the edge from the graph's root says nothing.
  const [top, ...rest] = path.steps;
  out += `  ${nodeLabel(top.node)}  ${sizes(top.node)}\n`;
  const width = Math.max(0, ...rest.map((s) => s.edge.length));
  for (const step of rest) {
    const n = step.node;
    out += `    ${step.edge.padEnd(width)}  → ${nodeLabel(n)}  ${sizes(n)}\n`;
  }
  return out;
}

function signed(n: number, format: (n: number) => string): string {
  return n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : format(0);
}

/** `heapscope snapshot before after`: totals, classes (and sites) that grew, how it is held. */
export function renderSnapshotComparison(
  beforeFile: string,
  afterFile: string,
  c: SnapshotComparison,
  options: SnapshotTextOptions & { bySite?: boolean } = {},
): string {
  const p = paint(options.color ?? false);
  let out = `${p.bold(beforeFile)} → ${p.bold(afterFile)}\n`;
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
  if (options.bySite && c.sites) {
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
  for (const g of c.paths) out += `\n${renderGrowthPaths(g, p)}`;
  if (c.path) out += `\n${renderPath(c.path, p)}`;
  if (c.newObjects) {
    const n = c.newObjects;
    out += `\n${p.bold(`New ${n.className} objects`)}: ${count(n.count)}${n.objects.length < n.count ? `, the ${count(n.objects.length)} retaining most` : ''}\n`;
    if (n.objects.length > 0) {
      out += table(
        ['Id', 'Self', 'Retained'],
        n.objects.map((o) => [`@${o.id}`, bytes(o.selfSize), bytes(o.retainedSize)]),
        3,
      );
    }
  }
  return out;
}

/** One class's new objects: each path shape with its count and allocation sites. */
function renderGrowthPaths(g: GrowthPaths, p: Paint): string {
  const shapes = g.clusterCount === 1 ? '1 path shape' : `${count(g.clusterCount)} path shapes`;
  const objects = g.count === 1 ? '1 object' : `${count(g.count)} objects`;
  let out = `${p.bold(`How the new ${g.className}${where(g.location)} objects are held`)}: ${objects}, retaining ${bytes(g.retainedSize)}; ${shapes}\n`;
  g.clusters.forEach((cluster, i) => {
    const shared =
      cluster.count === 1
        ? `: 1 object, retaining ${bytes(cluster.retainedSize)}`
        : `: ${count(cluster.count)} objects share this path, retaining ${bytes(cluster.retainedSize)}`;
    out += `${i === 0 ? '' : '\n'}${indent(renderPath(cluster.path, p, shared))}`;
    for (const site of cluster.sites ?? []) {
      out += `    ${p.dim('allocated at')} ${stackLine(site.frames)}  ${p.dim(`(${count(site.count)})`)}\n`;
    }
    for (const site of cluster.storedBy ?? []) {
      out += `    ${p.dim('stored by   ')} ${stackLine(site.frames)}  ${p.dim(`(${count(site.count)})`)}\n`;
    }
  });
  if (g.clusters.length < g.clusterCount) {
    out += p.dim(`  … ${count(g.clusterCount - g.clusters.length)} more path shapes\n`);
  }
  return out;
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}

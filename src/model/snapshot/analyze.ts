/**
 * Who holds the memory in a heap snapshot: dominators, retained sizes and totals per
 * class and per allocation site, computed over the reader's typed arrays with the rules
 * Chrome DevTools uses, so the numbers are the ones its Summary view shows.
 *
 * ```ts
 * const snapshot = await readHeapSnapshot('app.heapsnapshot');
 * const analysis = analyzeSnapshot(snapshot);
 * const summary = summarizeSnapshot(analysis, { top: 10, path: 'Leaky' });
 * ```
 */

import { type GroupTotals, groupTotals } from './aggregate.js';
import {
  type ClassLocation,
  type ClassTable,
  classifyNodes,
  type InterfaceDefinition,
} from './classes.js';
import {
  type DominatorChildren,
  type DominatorTree,
  dominatorChildren,
  dominators,
  type ReverseEdges,
  retainedSizes,
} from './dominators.js';
import {
  edgeLabel,
  edgeName,
  type GraphKinds,
  graphKinds,
  nodeById,
  ROOT_ORDINAL,
} from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { essentialEdges, pageOwnedNodes, shallowSizes } from './ownership.js';
import { retainerPath, type ShortestPaths, shortestPaths } from './paths.js';
import { allocationSites, hasAllocationTraces, siteFrames } from './sites.js';

export interface SnapshotAnalysis {
  snapshot: HeapSnapshot;
  kinds: GraphKinds;
  /** Self size of each node as DevTools shows it (owned internal arrays folded in). */
  selfSizes: Float64Array;
  /** Retained size of each node. */
  retainedSizes: Float64Array;
  dominators: DominatorTree;
  classes: ClassTable;
  classTotals: GroupTotals;
  /** Allocation site (index into `snapshot.trace`) of each node; undefined without traces. */
  siteOf: Uint32Array | undefined;
  siteTotals: GroupTotals | undefined;
}

export type AnalysisPhase = 'ownership' | 'dominators' | 'retained sizes' | 'totals';

export interface AnalyzeOptions {
  /** Plain-object shapes to name `Object`s with (default: inferred from this snapshot). */
  interfaces?: InterfaceDefinition[];
  /** Called as each phase starts, with its number (0-based) and the number of phases. */
  onPhase?: (phase: AnalysisPhase, index: number, count: number) => void;
}

const PHASES: AnalysisPhase[] = ['ownership', 'dominators', 'retained sizes', 'totals'];

/** Computes everything the summary and comparison views need. Does not change `snapshot`. */
export function analyzeSnapshot(
  snapshot: HeapSnapshot,
  options: AnalyzeOptions = {},
): SnapshotAnalysis {
  const start = startAnalysis(snapshot, options);
  start.phase('dominators');
  const tree = dominators(snapshot, { essential: start.essential });
  return finishAnalysis(start, tree, ownedFigures(start, options));
}

/** What the dominators need, computed first. */
export interface AnalysisStart {
  snapshot: HeapSnapshot;
  kinds: GraphKinds;
  /** The edges that count for the dominators (see `essentialEdges`). */
  essential: Uint32Array;
  phase: (p: AnalysisPhase) => void;
}

/** What does not depend on the dominators (computed beside them when they run elsewhere). */
export interface OwnedFigures {
  selfSizes: Float64Array;
  classes: ClassTable;
  siteOf: Uint32Array | undefined;
}

/**
 * The ownership step's two functions: these, or twins that give the same arrays in less
 * time (the native helper's, native/graph.ts).
 */
export interface OwnershipSteps {
  pageOwned(snapshot: HeapSnapshot, kinds: GraphKinds): Uint8Array;
  essential(
    snapshot: HeapSnapshot,
    kinds: GraphKinds,
    pageOwned: Uint8Array,
    into?: Uint32Array,
  ): Uint32Array;
}

const ownershipSteps: OwnershipSteps = {
  pageOwned: pageOwnedNodes,
  essential: (snapshot, kinds, pageOwned, into) =>
    essentialEdges(snapshot, kinds, pageOwned, undefined, into),
};

/** `essentialInto`: where the essential-edge bits go (see `essentialEdges`). */
export function startAnalysis(
  snapshot: HeapSnapshot,
  options: AnalyzeOptions,
  essentialInto?: Uint32Array,
  steps: OwnershipSteps = ownershipSteps,
): AnalysisStart {
  if (snapshot.nodeCount === 0) throw new SnapshotQueryError('the snapshot has no nodes');
  const phase = (p: AnalysisPhase) => options.onPhase?.(p, PHASES.indexOf(p), PHASES.length);
  const kinds = graphKinds(snapshot);
  phase('ownership');
  const pageOwned = steps.pageOwned(snapshot, kinds);
  const essential = steps.essential(snapshot, kinds, pageOwned, essentialInto);
  return { snapshot, kinds, essential, phase };
}

export function ownedFigures(start: AnalysisStart, options: AnalyzeOptions): OwnedFigures {
  return { ...classFigures(start, options), selfSizes: shallowSizes(start.snapshot, start.kinds) };
}

/** Class of each node, and allocation site when the snapshot has traces. */
export function classFigures(
  start: AnalysisStart,
  options: AnalyzeOptions,
): Omit<OwnedFigures, 'selfSizes'> {
  const { snapshot, kinds } = start;
  return {
    classes: classifyNodes(snapshot, kinds, { interfaces: options.interfaces }),
    siteOf: hasAllocationTraces(snapshot) ? allocationSites(snapshot) : undefined,
  };
}

/**
 * `scratch`: arrays no longer needed (the reversed edges) that the dominator tree's
 * children and the totals' work list may use instead of new ones; overwritten.
 */
export function finishAnalysis(
  start: AnalysisStart,
  tree: DominatorTree,
  owned: OwnedFigures,
  scratch?: ReverseEdges,
  /** The retained sizes and the tree's children, when another thread computed them already. */
  done?: { retained: Float64Array; children: DominatorChildren },
): SnapshotAnalysis {
  const { snapshot, kinds, phase } = start;
  const { selfSizes, classes, siteOf } = owned;
  phase('retained sizes');
  const retained = done?.retained ?? retainedSizes(tree, selfSizes);
  phase('totals');
  const n = snapshot.nodeCount;
  const room = scratch !== undefined && scratch.first.length > n && scratch.from.length >= 2 * n;
  const children =
    done?.children ??
    dominatorChildren(
      tree,
      ROOT_ORDINAL,
      room ? { first: scratch.first, children: scratch.from.subarray(0, n) } : undefined,
    );
  const groupings = siteOf ? [classes.classOf, siteOf] : [classes.classOf];
  const counts = siteOf ? [classes.names.length, snapshot.trace.count] : [classes.names.length];
  const list = room ? scratch.from.subarray(n, 2 * n) : undefined;
  const totals = groupTotals(children, selfSizes, retained, groupings, counts, list);
  return {
    snapshot,
    kinds,
    selfSizes,
    retainedSizes: retained,
    dominators: tree,
    classes,
    classTotals: totals[0],
    siteOf,
    siteTotals: totals[1],
  };
}

/** A bad query: unknown class or object id, allocation sites asked of a snapshot without traces. */
export class SnapshotQueryError extends Error {
  override name = 'SnapshotQueryError';
}

// ---------------------------------------------------------------------------------------
// Result rows (plain data: this is what `--json` prints)
// ---------------------------------------------------------------------------------------

export interface ClassRow {
  /** Constructor name, `{a, b}` for a plain-object shape, or `(type)` (DevTools' Summary). */
  name: string;
  /** Where the constructor is (0-based, as V8 writes it), when two classes share a name. */
  location?: ClassLocation;
  count: number;
  /** Bytes of the objects themselves (owned internal arrays included, as in DevTools). */
  selfSize: number;
  /** Bytes freed if all of them went (nested ones counted once). */
  retainedSize: number;
}

export interface SiteRow {
  /** Allocation stack, allocating function first. */
  frames: string[];
  /** The trace-tree node id (`trace_node_id` of the objects). */
  traceNodeId: number;
  count: number;
  selfSize: number;
  retainedSize: number;
}

/** One heap object, as shown in paths. */
export interface NodeRef {
  /** Snapshot object id (`@id` in DevTools), stable across snapshots of one process. */
  id: number;
  className: string;
  /** V8's node type: object, closure, array, string, hidden, synthetic… */
  type: string;
  /** The node's own name (a string's first 80 characters; an object's constructor). */
  name: string;
  selfSize: number;
  retainedSize: number;
}

export interface PathStep {
  /** The edge as DevTools prints it: `.name`, `[3]`, `->context`, `{internal}`. */
  edge: string;
  edgeType: string;
  edgeName: string | number;
  node: NodeRef;
}

export interface RetainerPathResult {
  target: NodeRef;
  /** Edges from the nearest root (DevTools' Distance); -1 when only weak edges reach it. */
  distance: number;
  /** Root side first; the last step's node is the target. Empty when unreachable. */
  steps: PathStep[];
}

export interface SnapshotSummary {
  nodeCount: number;
  edgeCount: number;
  /** All self sizes together: the root's retained size. */
  totalSize: number;
  /** Nodes the root does not reach through retaining edges (DevTools hangs them off the root). */
  unreachable: number;
  hasAllocationTraces: boolean;
  /** Number of classes with objects. */
  classCount: number;
  /** Top classes by retained size. */
  classes: ClassRow[];
  /** Top allocation sites by retained size, with `by: 'site'`. */
  sites?: SiteRow[];
  /** With `path`: the retainer path of the object (or of the class's closest instance). */
  path?: RetainerPathResult;
}

export interface SummaryOptions {
  /** Rows to keep (default 20; 0 for all). */
  top?: number;
  /** Also list allocation sites; throws a SnapshotQueryError when the snapshot has no traces. */
  by?: 'class' | 'site';
  /** `@123` for the object with that id, otherwise a class name. */
  path?: string;
}

export function summarizeSnapshot(
  analysis: SnapshotAnalysis,
  options: SummaryOptions = {},
): SnapshotSummary {
  const { snapshot } = analysis;
  const top = options.top ?? 20;
  if (options.by === 'site' && !analysis.siteTotals) {
    throw new SnapshotQueryError(
      'the snapshot has no allocation traces (take it with allocation tracking on, e.g. `heapscope run --keep-snapshot`)',
    );
  }
  const classes = classRows(analysis);
  const summary: SnapshotSummary = {
    nodeCount: snapshot.nodeCount,
    edgeCount: snapshot.edgeCount,
    totalSize: analysis.retainedSizes[ROOT_ORDINAL],
    unreachable: analysis.dominators.unreachable,
    hasAllocationTraces: analysis.siteTotals !== undefined,
    classCount: classes.length,
    classes: limit(classes, top),
  };
  if (options.by === 'site') summary.sites = limit(siteRows(analysis), top);
  if (options.path !== undefined) {
    const node = resolveTarget(analysis, options.path);
    summary.path = pathResult(analysis, shortestPaths(snapshot, analysis.kinds), node);
  }
  return summary;
}

function limit<T>(rows: T[], top: number): T[] {
  return top > 0 ? rows.slice(0, top) : rows;
}

const byRetained = (a: { retainedSize: number; selfSize: number }, b: typeof a) =>
  b.retainedSize - a.retainedSize || b.selfSize - a.selfSize;

/** Every class with objects, by retained size. */
export function classRows(analysis: SnapshotAnalysis): ClassRow[] {
  const { classes, classTotals: t } = analysis;
  const ambiguous = ambiguousNames(classes, t);
  const rows: ClassRow[] = [];
  for (let c = 0; c < classes.names.length; c++) {
    if (t.count[c] === 0) continue;
    const row: ClassRow = {
      name: classes.names[c],
      count: t.count[c],
      selfSize: t.selfSize[c],
      retainedSize: t.retainedSize[c],
    };
    const location = classes.locations[c];
    if (location && ambiguous.has(row.name)) row.location = location;
    rows.push(row);
  }
  return rows.sort((a, b) => byRetained(a, b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names that more than one class with objects carries. */
function ambiguousNames(classes: ClassTable, t: GroupTotals): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (let c = 0; c < classes.names.length; c++) {
    if (t.count[c] === 0) continue;
    const name = classes.names[c];
    if (seen.has(name)) twice.add(name);
    seen.add(name);
  }
  return twice;
}

/** Every allocation site with live objects, by retained size. */
export function siteRows(analysis: SnapshotAnalysis): SiteRow[] {
  const { snapshot, siteTotals: t } = analysis;
  if (!t) return [];
  const rows: SiteRow[] = [];
  for (let s = 0; s < t.count.length; s++) {
    if (t.count[s] === 0) continue;
    rows.push({
      frames: siteFrames(snapshot, s),
      traceNodeId: snapshot.trace.id[s],
      count: t.count[s],
      selfSize: t.selfSize[s],
      retainedSize: t.retainedSize[s],
    });
  }
  return rows.sort((a, b) => byRetained(a, b) || a.traceNodeId - b.traceNodeId);
}

/**
 * The node a `--path` argument names: `@id` for an object, or a class name, for which
 * the instance closest to the roots is taken (the largest on a tie). Instances come
 * before prototypes (an express app's `app.request` is an `IncomingMessage` too, and
 * closer to the roots than any request) and functions.
 */
export function resolveTarget(
  analysis: SnapshotAnalysis,
  target: string,
  paths?: ShortestPaths,
): number {
  const { snapshot } = analysis;
  const idMatch = /^@(\d+)$/.exec(target.trim());
  if (idMatch) {
    const node = nodeById(snapshot, Number(idMatch[1]));
    if (node < 0)
      throw new SnapshotQueryError(`no object with id ${target.trim()} in the snapshot`);
    return node;
  }
  const wanted = new Uint8Array(analysis.classes.names.length);
  let any = false;
  analysis.classes.names.forEach((name, c) => {
    if (name === target) {
      wanted[c] = 1;
      any = true;
    }
  });
  let node = -1;
  if (any) {
    const shortest = paths ?? shortestPaths(snapshot, analysis.kinds);
    const inClass = (n: number) => wanted[analysis.classes.classOf[n]] === 1;
    const notInstance = prototypesAndFunctions(analysis);
    node = closestOf(analysis, shortest, (n) => inClass(n) && notInstance[n] === 0);
    if (node < 0) node = closestOf(analysis, shortest, inClass);
  }
  if (node < 0) throw new SnapshotQueryError(`no object of class "${target}" in the snapshot`);
  return node;
}

/**
 * Nodes that are not instances: prototypes (what a `prototype` or `__proto__` edge
 * points to) and functions (closures).
 */
export function prototypesAndFunctions(analysis: SnapshotAnalysis): Uint8Array {
  const { snapshot, kinds } = analysis;
  const { nodes, edges, nodeFieldCount, edgeFieldCount, nodeCount, strings } = snapshot;
  const { type: typeOff, nameOrIndex: nameOff, toNode: toOff } = snapshot.edgeOffsets;
  const mark = new Uint8Array(nodeCount);
  const closure = snapshot.meta.nodeTypes.indexOf('closure');
  const typeOfNode = snapshot.nodeOffsets.type;
  for (let n = 0; n < nodeCount; n++) {
    if (nodes[n * nodeFieldCount + typeOfNode] === closure) mark[n] = 1;
  }
  const names = new Set([strings.indexOf('prototype'), strings.indexOf('__proto__')]);
  names.delete(-1);
  if (names.size === 0) return mark;
  for (let e = 0; e < edges.length; e += edgeFieldCount) {
    const type = edges[e + typeOff];
    if (type !== kinds.edgeProperty && type !== kinds.edgeInternal) continue;
    if (names.has(edges[e + nameOff])) mark[edges[e + toOff] / nodeFieldCount] = 1;
  }
  return mark;
}

/** Among nodes with a non-zero self size that `accept`s, the closest to the roots (largest on a tie); -1 if none. */
export function closestOf(
  analysis: SnapshotAnalysis,
  paths: ShortestPaths,
  accept: (node: number) => boolean,
): number {
  const { selfSizes, retainedSizes: retained } = analysis;
  const { distance } = paths;
  let best = -1;
  for (let n = 0; n < selfSizes.length; n++) {
    if (selfSizes[n] === 0 || !accept(n)) continue;
    if (best < 0) {
      best = n;
      continue;
    }
    const d = distance[n] < 0 ? Number.MAX_SAFE_INTEGER : distance[n];
    const bd = distance[best] < 0 ? Number.MAX_SAFE_INTEGER : distance[best];
    if (d < bd || (d === bd && retained[n] > retained[best])) best = n;
  }
  return best;
}

/** The retainer path of one node, as plain data. */
export function pathResult(
  analysis: SnapshotAnalysis,
  paths: ShortestPaths,
  node: number,
): RetainerPathResult {
  const { snapshot } = analysis;
  const steps = retainerPath(snapshot, paths, node).map((hop) => ({
    edge: edgeLabel(snapshot, hop.edge),
    edgeType: snapshot.meta.edgeTypes[snapshot.edges[hop.edge + snapshot.edgeOffsets.type]],
    edgeName: edgeName(snapshot, hop.edge),
    node: nodeRef(analysis, hop.node),
  }));
  return { target: nodeRef(analysis, node), distance: paths.distance[node], steps };
}

const MAX_NAME = 80;

export function nodeRef(analysis: SnapshotAnalysis, node: number): NodeRef {
  const { snapshot } = analysis;
  const p = node * snapshot.nodeFieldCount;
  const o = snapshot.nodeOffsets;
  const raw = snapshot.strings.get(snapshot.nodes[p + o.name]) ?? '';
  return {
    id: snapshot.nodes[p + o.id],
    className: analysis.classes.names[analysis.classes.classOf[node]],
    type: snapshot.meta.nodeTypes[snapshot.nodes[p + o.type]],
    name: raw.length > MAX_NAME ? `${raw.slice(0, MAX_NAME)}…` : raw,
    selfSize: analysis.selfSizes[node],
    retainedSize: analysis.retainedSizes[node],
  };
}

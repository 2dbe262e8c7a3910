/**
 * What grew between two heap snapshots of one process: objects are matched by their
 * snapshot object id, which V8 keeps for an object's whole life (`HeapObjectsMap`), so an
 * id in the second snapshot and not in the first is a new object, and one only in the
 * first was collected. Totals per class and per allocation site, and how the growth is
 * held: the leak view of memlab and fuite.
 *
 * How the growth is held: the new objects that an older object (or a root) dominates
 * are where the growth hangs from (an array of kept requests holds each new request,
 * which holds its response, headers and strings). They are grouped by class, the
 * classes that retain most first, and each class's objects by the shape of their
 * retainer path (the same edges through the same classes, element indexes aside), as
 * memlab clusters its traces: one path per shape, with how many objects share it and,
 * when the snapshot carries allocation traces, where they were allocated.
 *
 * The first snapshot is needed only as a digest (ids, class and size of each object),
 * so a caller can drop it before reading the second.
 */

import { programSite } from '../program-frames.js';
import {
  analyzeSnapshot,
  type NodeRef,
  nodeRef,
  pathResult,
  type RetainerPathResult,
  type SnapshotAnalysis,
  SnapshotQueryError,
} from './analyze.js';
import { type ClassLocation, classifyNodes, type InterfaceDefinition } from './classes.js';
import { edgeHasIndexName, edgeSource, graphKinds, nodeById } from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { shallowSizes } from './ownership.js';
import { NO_EDGE, type ShortestPaths, shortestPaths } from './paths.js';
import { allocationSites, hasAllocationTraces, NO_SITE, siteFrames } from './sites.js';

/** The first snapshot, reduced to what a comparison needs. */
export interface SnapshotDigest {
  nodeCount: number;
  /** All self sizes together. */
  totalSize: number;
  /** Ids of the objects (nodes with a non-zero self size), ascending. */
  ids: Uint32Array;
  /** Class of each object (index into `classes`), in `ids` order. */
  classOf: Uint32Array;
  /** Self size of each object, in `ids` order. */
  sizes: Float64Array;
  /** Allocation site of each object (index into `sites`, or NO_SITE), when traces exist. */
  siteOf: Uint32Array | undefined;
  classes: { name: string; location?: ClassLocation }[];
  /** Frames of each site, allocating function first. */
  sites: string[][];
  /** The plain-object shapes that named this snapshot's `Object`s; the second snapshot uses them too. */
  interfaces: InterfaceDefinition[];
}

/** Reduces a snapshot to a {@link SnapshotDigest} (no dominators needed). */
export function digestSnapshot(snapshot: HeapSnapshot): SnapshotDigest {
  const kinds = graphKinds(snapshot);
  const self = shallowSizes(snapshot, kinds);
  const classes = classifyNodes(snapshot, kinds);
  const siteOfNode = hasAllocationTraces(snapshot) ? allocationSites(snapshot) : undefined;
  const { nodes, nodeFieldCount, nodeCount } = snapshot;
  const idOff = snapshot.nodeOffsets.id;
  let objects = 0;
  let totalSize = 0;
  for (let n = 0; n < nodeCount; n++) {
    totalSize += self[n];
    if (self[n] !== 0) objects++;
  }
  const keys = new Uint32Array(objects);
  const which = new Uint32Array(objects);
  for (let n = 0, k = 0; n < nodeCount; n++) {
    if (self[n] === 0) continue;
    keys[k] = nodes[n * nodeFieldCount + idOff];
    which[k++] = n;
  }
  const order = sortByKey(keys);
  const ids = new Uint32Array(objects);
  const classOf = new Uint32Array(objects);
  const sizes = new Float64Array(objects);
  const siteOf = siteOfNode ? new Uint32Array(objects) : undefined;
  // Sites renumbered densely, in order of first use.
  const siteIndex = new Map<number, number>();
  const sites: string[][] = [];
  for (let i = 0; i < objects; i++) {
    const n = which[order[i]];
    ids[i] = keys[order[i]];
    classOf[i] = classes.classOf[n];
    sizes[i] = self[n];
    if (siteOf && siteOfNode) {
      const t = siteOfNode[n];
      if (t === NO_SITE) {
        siteOf[i] = NO_SITE;
        continue;
      }
      let s = siteIndex.get(t);
      if (s === undefined) {
        s = sites.length;
        siteIndex.set(t, s);
        sites.push(siteFrames(snapshot, t));
      }
      siteOf[i] = s;
    }
  }
  return {
    nodeCount,
    totalSize,
    ids,
    classOf,
    sizes,
    siteOf,
    classes: classes.names.map((name, c) => {
      const location = classes.locations[c];
      return location ? { name, location } : { name };
    }),
    sites,
    interfaces: classes.interfaces,
  };
}

/** Stable LSD radix sort of 32-bit keys (two 16-bit passes): the permutation that sorts them. */
function sortByKey(keys: Uint32Array): Uint32Array {
  const m = keys.length;
  let order = new Uint32Array(m);
  let spare = new Uint32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  const count = new Uint32Array(65537);
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[((keys[i] >>> shift) & 0xffff) + 1]++;
    for (let d = 1; d <= 65536; d++) count[d] += count[d - 1];
    for (let i = 0; i < m; i++) {
      const k = order[i];
      spare[count[(keys[k] >>> shift) & 0xffff]++] = k;
    }
    [order, spare] = [spare, order];
  }
  return order;
}

export interface SnapshotTotals {
  nodeCount: number;
  /** Nodes with a non-zero self size. */
  objectCount: number;
  totalSize: number;
}

export interface ClassDelta {
  name: string;
  /** Constructor location (0-based, as V8 writes it), when two classes share the name. */
  location?: ClassLocation;
  countBefore: number;
  countAfter: number;
  countDelta: number;
  sizeBefore: number;
  sizeAfter: number;
  sizeDelta: number;
  /** Objects in the second snapshot only. */
  added: number;
  addedSize: number;
  /** Objects in the first snapshot only (collected). */
  removed: number;
  removedSize: number;
  /** Retained size of the class in the second snapshot. */
  retainedSize: number;
}

export interface SiteDelta {
  /** Allocation stack, allocating function first. */
  frames: string[];
  added: number;
  addedSize: number;
  removed: number;
  removedSize: number;
  countDelta: number;
  sizeDelta: number;
}

/** New objects of one class whose retainer paths share a shape. */
export interface PathCluster {
  /** Objects with this path shape. */
  count: number;
  /** Their retained sizes together. */
  retainedSize: number;
  /** The path of one of them: the closest to the roots, the largest on a tie. */
  path: RetainerPathResult;
  /** Where they were allocated (when the second snapshot has traces), most objects first, at most 3. */
  sites?: { frames: string[]; count: number }[];
  /**
   * Who stores them (when the second snapshot has traces): the site that allocated the
   * new internal array (an array's elements, a Map's table) through which their holder
   * keeps them, Node's internal frames and V8's built-ins above the program's first
   * frame set aside; most objects first, at most 3.
   */
  storedBy?: { frames: string[]; count: number }[];
}

/** How the new objects of one class are held. */
export interface GrowthPaths {
  className: string;
  location?: ClassLocation;
  /** New objects counted: those an older object holds, or with `path`, all of the class. */
  count: number;
  retainedSize: number;
  /** Path shapes in all. */
  clusterCount: number;
  /** The shapes shared by most objects first (at most `clusters`). */
  clusters: PathCluster[];
}

/** The new objects of one class (`newOf`), the largest retained first. */
export interface NewObjects {
  className: string;
  count: number;
  objects: NodeRef[];
}

export interface SnapshotComparison {
  before: SnapshotTotals;
  after: SnapshotTotals;
  added: { count: number; size: number };
  removed: { count: number; size: number };
  /** Classes that grew (in count or size), most bytes first. */
  classes: ClassDelta[];
  /** Allocation sites that grew, when the second snapshot has allocation traces. */
  sites?: SiteDelta[];
  /**
   * How the growth is held: for the classes whose new objects that older ones hold
   * retain most (or the class `path` names), the retainer paths of those objects,
   * clustered by shape.
   */
  paths: GrowthPaths[];
  /** With `path: '@id'`: that object's retainer path. */
  path?: RetainerPathResult;
  /** With `newOf`: the new objects of that class. */
  newObjects?: NewObjects;
}

export interface CompareOptions {
  /** Rows to keep (default 20; 0 for all). */
  top?: number;
  /** Classes to show the retainer paths of (default 3). */
  paths?: number;
  /** Path shapes per class (default 3; 0 for all). */
  clusters?: number;
  /**
   * A class name: the paths of all its new objects, instead of the classes that hold
   * the growth; `@id`: that object's path.
   */
  path?: string;
  /** A class name: list its new objects (`top` of them, the largest retained first). */
  newOf?: string;
}

/**
 * Compares two snapshots of one process. `before` may be a digest; `after` may be an
 * analysis already made (it should then have been made with `before`'s interfaces so
 * that plain objects are named alike).
 */
export function compareSnapshots(
  before: SnapshotDigest | HeapSnapshot,
  after: SnapshotAnalysis | HeapSnapshot,
  options: CompareOptions = {},
): SnapshotComparison {
  const digest = 'ids' in before ? before : digestSnapshot(before);
  const analysis =
    'retainedSizes' in after ? after : analyzeSnapshot(after, { interfaces: digest.interfaces });
  const { snapshot, selfSizes, classes } = analysis;
  const top = options.top ?? 20;

  // Class and site keys shared by both snapshots.
  const classKey = (name: string, location: ClassLocation | undefined) =>
    location ? `${name}\u0000${location.scriptId}:${location.line}:${location.column}` : name;
  const rows = new Map<string, ClassDelta>();
  const rowOf = (name: string, location: ClassLocation | undefined): ClassDelta => {
    const key = classKey(name, location);
    let row = rows.get(key);
    if (!row) {
      row = {
        name,
        countBefore: 0,
        countAfter: 0,
        countDelta: 0,
        sizeBefore: 0,
        sizeAfter: 0,
        sizeDelta: 0,
        added: 0,
        addedSize: 0,
        removed: 0,
        removedSize: 0,
        retainedSize: 0,
      };
      if (location) row.location = location;
      rows.set(key, row);
    }
    return row;
  };
  const beforeRows = digest.classes.map((c) => rowOf(c.name, c.location));
  const afterRows = classes.names.map((name, c) => rowOf(name, classes.locations[c]));
  for (let c = 0; c < afterRows.length; c++) {
    const row = afterRows[c];
    row.countAfter += analysis.classTotals.count[c];
    row.sizeAfter += analysis.classTotals.selfSize[c];
    row.retainedSize += analysis.classTotals.retainedSize[c];
  }

  const siteRows = new Map<string, SiteDelta>();
  const siteRow = (frames: string[]): SiteDelta => {
    const key = frames.join('\n');
    let row = siteRows.get(key);
    if (!row) {
      row = {
        frames,
        added: 0,
        addedSize: 0,
        removed: 0,
        removedSize: 0,
        countDelta: 0,
        sizeDelta: 0,
      };
      siteRows.set(key, row);
    }
    return row;
  };
  const beforeSite = (s: number) => siteRow(digest.sites[s]);
  const afterSiteCache = new Map<number, SiteDelta>();
  const afterSite = (t: number): SiteDelta => {
    let row = afterSiteCache.get(t);
    if (!row) {
      row = siteRow(siteFrames(snapshot, t));
      afterSiteCache.set(t, row);
    }
    return row;
  };

  // Before: totals per class.
  const { ids } = digest;
  let beforeObjects = 0;
  for (let i = 0; i < ids.length; i++) {
    const row = beforeRows[digest.classOf[i]];
    row.countBefore++;
    row.sizeBefore += digest.sizes[i];
    beforeObjects++;
  }

  // Match the second snapshot's objects against the first's ids.
  const { nodes, nodeFieldCount, nodeCount } = snapshot;
  const idOff = snapshot.nodeOffsets.id;
  const matched = new Uint8Array(ids.length);
  const isNew = new Uint8Array(nodeCount);
  const siteOf = analysis.siteOf;
  let afterObjects = 0;
  let addedCount = 0;
  let addedSize = 0;
  for (let n = 0; n < nodeCount; n++) {
    const size = selfSizes[n];
    if (size === 0) continue;
    afterObjects++;
    const i = indexOf(ids, nodes[n * nodeFieldCount + idOff]);
    if (i >= 0) {
      matched[i] = 1;
      continue;
    }
    isNew[n] = 1;
    addedCount++;
    addedSize += size;
    const row = afterRows[classes.classOf[n]];
    row.added++;
    row.addedSize += size;
    if (siteOf && siteOf[n] !== NO_SITE) {
      const site = afterSite(siteOf[n]);
      site.added++;
      site.addedSize += size;
    }
  }
  let removedCount = 0;
  let removedSize = 0;
  for (let i = 0; i < ids.length; i++) {
    if (matched[i]) continue;
    const size = digest.sizes[i];
    removedCount++;
    removedSize += size;
    const row = beforeRows[digest.classOf[i]];
    row.removed++;
    row.removedSize += size;
    if (digest.siteOf && digest.siteOf[i] !== NO_SITE) {
      const site = beforeSite(digest.siteOf[i]);
      site.removed++;
      site.removedSize += size;
    }
  }

  // Locations only tell apart classes that share a name.
  const named = new Map<string, number>();
  for (const row of rows.values()) {
    if (row.countBefore + row.countAfter > 0) named.set(row.name, (named.get(row.name) ?? 0) + 1);
  }
  const grown: ClassDelta[] = [];
  for (const row of rows.values()) {
    if ((named.get(row.name) ?? 0) < 2) delete row.location;
    row.countDelta = row.countAfter - row.countBefore;
    row.sizeDelta = row.sizeAfter - row.sizeBefore;
    if (row.countDelta > 0 || row.sizeDelta > 0) grown.push(row);
  }
  grown.sort(
    (a, b) =>
      b.sizeDelta - a.sizeDelta ||
      b.countDelta - a.countDelta ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );

  const result: SnapshotComparison = {
    before: {
      nodeCount: digest.nodeCount,
      objectCount: beforeObjects,
      totalSize: digest.totalSize,
    },
    after: {
      nodeCount,
      objectCount: afterObjects,
      totalSize: selfSizes.reduce((sum, s) => sum + s, 0),
    },
    added: { count: addedCount, size: addedSize },
    removed: { count: removedCount, size: removedSize },
    classes: top > 0 ? grown.slice(0, top) : grown,
    paths: [],
  };
  if (siteOf) {
    const sites: SiteDelta[] = [];
    for (const row of siteRows.values()) {
      row.countDelta = row.added - row.removed;
      row.sizeDelta = row.addedSize - row.removedSize;
      if (row.countDelta > 0 || row.sizeDelta > 0) sites.push(row);
    }
    sites.sort((a, b) => b.sizeDelta - a.sizeDelta || b.countDelta - a.countDelta);
    result.sites = top > 0 ? sites.slice(0, top) : sites;
  }

  // Internal arrays that DevTools folds into their owner have no size of their own, so
  // the matching above skipped them: their ids tell.
  const isNewNode = (n: number) =>
    isNew[n] === 1 || (selfSizes[n] === 0 && indexOf(ids, nodes[n * nodeFieldCount + idOff]) < 0);
  const clusters = options.clusters ?? 3;
  const wantPaths = options.paths ?? 3;
  const paths = () => shortestPaths(snapshot, analysis.kinds);
  const target = options.path?.trim();
  if (target !== undefined && /^@\d+$/.test(target)) {
    const node = nodeById(snapshot, Number(target.slice(1)));
    if (node < 0) throw new SnapshotQueryError(`no object with id ${target} in the snapshot`);
    result.path = pathResult(analysis, paths(), node);
  } else if (target !== undefined) {
    const inClass = classMask(classes.names, target);
    const nodes: number[] = [];
    for (let n = 0; n < nodeCount; n++) {
      if (isNew[n] && inClass[classes.classOf[n]]) nodes.push(n);
    }
    if (nodes.length === 0) {
      throw new SnapshotQueryError(`no new object of class "${target}" in the second snapshot`);
    }
    result.paths.push(growthPaths(analysis, isNewNode, paths(), target, nodes, clusters));
  } else if (wantPaths > 0 && grown.length > 0) {
    // The new objects an older object (or a root) dominates, by class row; V8's own
    // (code, shapes, its internal records) left out.
    const { dominator } = analysis.dominators;
    const typeOff = snapshot.nodeOffsets.type;
    const internal = new Uint8Array(snapshot.meta.nodeTypes.length);
    snapshot.meta.nodeTypes.forEach((t, i) => {
      internal[i] = V8_OWN_TYPES.has(t) ? 1 : 0;
    });
    const held = new Map<ClassDelta, number[]>();
    for (let n = 0; n < nodeCount; n++) {
      if (!isNew[n] || isNew[dominator[n]] || internal[nodes[n * nodeFieldCount + typeOff]]) {
        continue;
      }
      const row = afterRows[classes.classOf[n]];
      const list = held.get(row);
      if (list) list.push(n);
      else held.set(row, [n]);
    }
    const retained = analysis.retainedSizes;
    const ranked = [...held]
      .map(([row, nodes]) => ({ row, nodes, size: nodes.reduce((s, n) => s + retained[n], 0) }))
      .sort((a, b) => b.size - a.size || b.nodes.length - a.nodes.length);
    const shortest = ranked.length > 0 ? paths() : undefined;
    for (const { row, nodes } of ranked.slice(0, wantPaths)) {
      const entry = growthPaths(analysis, isNewNode, shortest!, row.name, nodes, clusters);
      if (row.location) entry.location = row.location;
      result.paths.push(entry);
    }
  }
  if (options.newOf !== undefined) {
    const inClass = classMask(classes.names, options.newOf);
    const nodes: number[] = [];
    for (let n = 0; n < nodeCount; n++) {
      if (isNew[n] && inClass[classes.classOf[n]]) nodes.push(n);
    }
    nodes.sort((a, b) => analysis.retainedSizes[b] - analysis.retainedSizes[a] || a - b);
    result.newObjects = {
      className: options.newOf,
      count: nodes.length,
      objects: (top > 0 ? nodes.slice(0, top) : nodes).map((n) => nodeRef(analysis, n)),
    };
  }
  return result;
}

/** Node types of V8's own records: not the program's growth. */
const V8_OWN_TYPES: ReadonlySet<string> = new Set(['hidden', 'code', 'object shape', 'synthetic']);

/** Which classes carry `name`. */
function classMask(names: readonly string[], name: string): Uint8Array {
  const mask = new Uint8Array(names.length);
  names.forEach((n, c) => {
    if (n === name) mask[c] = 1;
  });
  return mask;
}

/**
 * The retainer paths of `nodes`, clustered by shape: the same edges (by type and name,
 * element and hidden indexes aside) through nodes of the same classes.
 */
function growthPaths(
  analysis: SnapshotAnalysis,
  isNewNode: (node: number) => boolean,
  paths: ShortestPaths,
  className: string,
  nodes: readonly number[],
  keep: number,
): GrowthPaths {
  const { snapshot, classes, retainedSizes: retained } = analysis;
  const { edges } = snapshot;
  const { type: typeOff, nameOrIndex: nameOff } = snapshot.edgeOffsets;
  const indexNamed = snapshot.meta.edgeTypes.map((_, t) => edgeHasIndexName(snapshot, t));
  // Shape of each node's path, interned: the parent's shape, the edge, the node's class.
  const shapeOf = new Map<number, number>();
  const shapes = new Map<string, number>();
  const shape = (node: number): number => {
    const chain: number[] = [];
    let n = node;
    while (!shapeOf.has(n) && paths.via[n] !== NO_EDGE) {
      chain.push(n);
      n = edgeSource(snapshot, paths.via[n]);
    }
    let s = shapeOf.get(n) ?? -1;
    for (let i = chain.length - 1; i >= 0; i--) {
      const m = chain[i];
      const e = paths.via[m];
      const type = edges[e + typeOff];
      const key = `${s} ${type} ${indexNamed[type] ? '' : edges[e + nameOff]} ${classes.classOf[m]}`;
      let id = shapes.get(key);
      if (id === undefined) {
        id = shapes.size;
        shapes.set(key, id);
      }
      shapeOf.set(m, id);
      s = id;
    }
    return s;
  };
  // The new internal array through which a node's holder (the node before it on its
  // path) keeps it, or -1.
  const { firstEdge, edgeFieldCount, nodeFieldCount } = snapshot;
  const { toNode: toOff } = snapshot.edgeOffsets;
  const storeOf = (n: number): number => {
    const e = paths.via[n];
    if (e === NO_EDGE) return -1;
    const holder = edgeSource(snapshot, e);
    for (let h = firstEdge[holder]; h < firstEdge[holder + 1]; h += edgeFieldCount) {
      const type = edges[h + typeOff];
      if (type !== analysis.kinds.edgeInternal && type !== analysis.kinds.edgeHidden) continue;
      const store = edges[h + toOff] / nodeFieldCount;
      if (store === n || !isNewNode(store)) continue;
      for (let s = firstEdge[store]; s < firstEdge[store + 1]; s += edgeFieldCount) {
        if (edges[s + toOff] === n * nodeFieldCount) return store;
      }
    }
    return -1;
  };
  const groups = new Map<number, number[]>();
  let retainedSize = 0;
  for (const n of nodes) {
    retainedSize += retained[n];
    const s = shape(n);
    const group = groups.get(s);
    if (group) group.push(n);
    else groups.set(s, [n]);
  }
  const { distance } = paths;
  const far = (n: number) => (distance[n] < 0 ? Number.MAX_SAFE_INTEGER : distance[n]);
  const ordered = [...groups.values()]
    .map((group) => ({ group, size: group.reduce((sum, n) => sum + retained[n], 0) }))
    .sort((a, b) => b.group.length - a.group.length || b.size - a.size);
  const clusters = (keep > 0 ? ordered.slice(0, keep) : ordered).map(({ group, size }) => {
    let best = group[0];
    for (const n of group) {
      if (far(n) < far(best) || (far(n) === far(best) && retained[n] > retained[best])) best = n;
    }
    const cluster: PathCluster = {
      count: group.length,
      retainedSize: size,
      path: pathResult(analysis, paths, best),
    };
    const siteOf = analysis.siteOf;
    if (siteOf) {
      const bySite = new Map<number, number>();
      const byStore = new Map<number, number>();
      for (const n of group) {
        if (siteOf[n] !== NO_SITE) bySite.set(siteOf[n], (bySite.get(siteOf[n]) ?? 0) + 1);
        const store = storeOf(n);
        if (store >= 0 && siteOf[store] !== NO_SITE) {
          byStore.set(siteOf[store], (byStore.get(siteOf[store]) ?? 0) + 1);
        }
      }
      const top3 = (m: Map<number, number>, frames: (t: number) => string[]) =>
        [...m]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, 3)
          .map(([t, count]) => ({ frames: frames(t), count }));
      cluster.sites = top3(bySite, (t) => siteFrames(snapshot, t));
      if (byStore.size > 0) {
        cluster.storedBy = top3(byStore, (t) => programSite(siteFrames(snapshot, t)));
      }
    }
    return cluster;
  });
  return { className, count: nodes.length, retainedSize, clusterCount: groups.size, clusters };
}

/** Position of `id` in the ascending `ids`, or -1. */
function indexOf(ids: Uint32Array, id: number): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid];
    if (v < id) lo = mid + 1;
    else if (v > id) hi = mid - 1;
    else return mid;
  }
  return -1;
}

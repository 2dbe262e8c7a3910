/**
 * What grew between two heap snapshots of one process: objects are matched by their
 * snapshot object id, which V8 keeps for an object's whole life (`HeapObjectsMap`), so an
 * id in the second snapshot and not in the first is a new object, and one only in the
 * first was collected. Totals per class and per allocation site, and the retainer path
 * of a new object of each class that grew most: the leak view of memlab and fuite.
 *
 * The first snapshot is needed only as a digest (ids, class and size of each object),
 * so a caller can drop it before reading the second.
 */

import {
  analyzeSnapshot,
  closestOf,
  pathResult,
  type RetainerPathResult,
  type SnapshotAnalysis,
} from './analyze.js';
import { type ClassLocation, classifyNodes, type InterfaceDefinition } from './classes.js';
import { graphKinds } from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { shallowSizes } from './ownership.js';
import { shortestPaths } from './paths.js';
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

export interface GrowthPath {
  className: string;
  location?: ClassLocation;
  /** Whether the object is new in the second snapshot. */
  isNew: boolean;
  path: RetainerPathResult;
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
  /** Retainer paths of a new object (the closest to the roots) of the classes that grew most. */
  paths: GrowthPath[];
}

export interface CompareOptions {
  /** Rows to keep (default 20; 0 for all). */
  top?: number;
  /** Classes to show a retainer path for (default 3). */
  paths?: number;
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

  const pathCount = Math.min(options.paths ?? 3, grown.length);
  if (pathCount > 0) {
    const paths = shortestPaths(snapshot, analysis.kinds);
    for (const row of grown.slice(0, pathCount)) {
      const inClass = new Uint8Array(classes.names.length);
      afterRows.forEach((r, c) => {
        if (r === row) inClass[c] = 1;
      });
      let node = closestOf(
        analysis,
        paths,
        (n) => isNew[n] === 1 && inClass[classes.classOf[n]] === 1,
      );
      if (node < 0) node = closestOf(analysis, paths, (n) => inClass[classes.classOf[n]] === 1);
      if (node < 0) continue;
      const entry: GrowthPath = {
        className: row.name,
        isNew: isNew[node] === 1,
        path: pathResult(analysis, paths, node),
      };
      if (row.location) entry.location = row.location;
      result.paths.push(entry);
    }
  }
  return result;
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

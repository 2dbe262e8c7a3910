/**
 * Shortest retainer paths: how the GC roots reach an object, found by a breadth-first
 * search from the roots that never follows a weak edge. It is DevTools' "Distance"
 * (`HeapSnapshot.calculateDistances` with `JSHeapSnapshot`'s filter): the user's global
 * objects are at distance 1 and searched first, so a path goes through the program's own
 * variables when one exists; what only V8's internal roots reach gets distances from
 * 100,000,000 up.
 */

import {
  EphemeronNames,
  edgeHasIndexName,
  edgeSource,
  type GraphKinds,
  ROOT_ORDINAL,
} from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';

/** Distance of nodes no search reached. */
export const NO_DISTANCE = -1;
/** Distance of the root when user roots exist: system-only nodes are measured from here. */
export const SYSTEM_DISTANCE = 100_000_000;
/** `via` of roots and unreached nodes. */
export const NO_EDGE = 0xffffffff;

export interface ShortestPaths {
  /** Edges from the nearest root, per node; {@link NO_DISTANCE} when unreachable. */
  distance: Int32Array;
  /** The edge (offset into `edges`) through which the search first reached each node. */
  via: Uint32Array;
}

export function shortestPaths(snapshot: HeapSnapshot, kinds: GraphKinds): ShortestPaths {
  const { nodes, edges, firstEdge, nodeFieldCount, nodeCount, strings } = snapshot;
  const efc = snapshot.edgeFieldCount;
  const { type: typeOff, name: nameOff } = snapshot.nodeOffsets;
  const { type: eTypeOff, nameOrIndex: eNameOff, toNode: toOff } = snapshot.edgeOffsets;
  const distance = new Int32Array(nodeCount).fill(NO_DISTANCE);
  const via = new Uint32Array(nodeCount).fill(NO_EDGE);
  const queue = new Uint32Array(nodeCount);
  const ephemerons = new EphemeronNames(strings);
  const pending = new Set<string>();

  // DevTools' filter: edges that do not make a node closer.
  const nativeContext = strings.indexOf('system / NativeContext');
  const mapDescriptors = strings.indexOf('(map descriptors)');
  const indexNamed = snapshot.meta.edgeTypes.map((_, t) => edgeHasIndexName(snapshot, t));
  const follow = (n: number, e: number, type: number): boolean => {
    const p = n * nodeFieldCount;
    const nodeType = nodes[p + typeOff];
    const name = edges[e + eNameOff];
    if (
      nodeType === kinds.nodeHidden &&
      !indexNamed[type] &&
      nodes[p + nameOff] === nativeContext &&
      strings.get(name) === 'sloppy_function_map'
    ) {
      return false;
    }
    if (nodeType === kinds.nodeArray && nodes[p + nameOff] === mapDescriptors) {
      // Descriptor arrays are shared between maps: skip the descriptor links.
      const index = indexNamed[type] ? name : Number.parseInt(strings.get(name) ?? '', 10);
      return !(index >= 2 && index % 3 === 1);
    }
    if (type === kinds.edgeInternal) {
      // A WeakMap value has two edges, from the key and from the table: take the second
      // one met, so that its distance is the greater of the two.
      const pair = ephemerons.pair(name);
      if (pair !== undefined && !pending.delete(pair)) {
        pending.add(pair);
        return false;
      }
    }
    return true;
  };

  const bfs = (start: number, end: number): void => {
    let tail = end;
    for (let head = start; head < tail; head++) {
      const n = queue[head];
      const d = distance[n] + 1;
      for (let e = firstEdge[n], last = firstEdge[n + 1]; e < last; e += efc) {
        const type = edges[e + eTypeOff];
        if (type === kinds.edgeWeak) continue;
        const to = edges[e + toOff] / nodeFieldCount;
        if (distance[to] !== NO_DISTANCE) continue;
        if (!follow(n, e, type)) continue;
        distance[to] = d;
        via[to] = e;
        queue[tail++] = to;
      }
    }
  };

  const root = ROOT_ORDINAL;
  let seeds = 0;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e += efc) {
    const to = edges[e + toOff] / nodeFieldCount;
    const p = to * nodeFieldCount;
    const userRoot =
      nodes[p + typeOff] !== kinds.nodeSynthetic ||
      strings.get(nodes[p + nameOff]) === '(Document DOM trees)';
    if (!userRoot) continue;
    distance[to] = 1;
    via[to] = e;
    queue[seeds++] = to;
  }
  bfs(0, seeds);
  distance[root] = seeds > 0 ? SYSTEM_DISTANCE : 0;
  queue[0] = root;
  bfs(0, 1);
  return { distance, via };
}

/** One hop of a retainer path: the edge taken and the node it leads to. */
export interface PathHop {
  /** Offset of the edge in `snapshot.edges`. */
  edge: number;
  /** Ordinal of the node the edge points to. */
  node: number;
}

/**
 * The shortest chain of edges from the root to `node`, root side first (the first hop
 * leaves the root). Empty for the root itself and for nodes no root reaches without
 * weak edges.
 */
export function retainerPath(
  snapshot: HeapSnapshot,
  paths: ShortestPaths,
  node: number,
): PathHop[] {
  const hops: PathHop[] = [];
  for (let n = node; paths.via[n] !== NO_EDGE; ) {
    const edge = paths.via[n];
    hops.push({ edge, node: n });
    n = edgeSource(snapshot, edge);
  }
  return hops.reverse();
}

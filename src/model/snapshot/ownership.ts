/**
 * Which edges retain, and who owns the bytes: the rules Chrome DevTools applies before it
 * computes dominators (front_end/entrypoints/heap_snapshot_worker/HeapSnapshot.ts:
 * `markPageOwnedNodes`, `computeIsEssentialEdge`, `calculateShallowSizes`). heapscope
 * follows them so that its retained sizes are the ones DevTools shows.
 */

import { EphemeronNames, exactDivisor, type GraphKinds, ROOT_ORDINAL } from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { Uint32Stack } from './uint32-stack.js';

/**
 * Nodes the program owns: everything reachable through non-weak edges from the root's
 * shortcut edges (the user's global objects) and from `(Document DOM trees)`.
 * 1 for such a node, 0 otherwise.
 */
export function pageOwnedNodes(snapshot: HeapSnapshot, kinds: GraphKinds): Uint8Array {
  const { edges, firstEdge, nodeFieldCount, nodeCount } = snapshot;
  const { type: typeOff, toNode: toOff } = snapshot.edgeOffsets;
  const owned = new Uint8Array(nodeCount);
  const stack = new Uint32Stack();
  for (const to of pageOwnedSeeds(snapshot, kinds)) {
    if (owned[to] === 0) {
      owned[to] = 1;
      stack.push(to);
    }
  }
  const efc = snapshot.edgeFieldCount;
  const weak = kinds.edgeWeak;
  const { shift, inverse } = exactDivisor(nodeFieldCount);
  while (stack.length > 0) {
    const n = stack.pop();
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      const to = Math.imul(edges[e + toOff] >>> shift, inverse) >>> 0;
      if (owned[to] !== 0 || edges[e + typeOff] === weak) continue;
      owned[to] = 1;
      stack.push(to);
    }
  }
  return owned;
}

/** Where the program's own nodes start: the root's shortcut edges and `(Document DOM trees)`. */
export function pageOwnedSeeds(snapshot: HeapSnapshot, kinds: GraphKinds): number[] {
  const { nodes, edges, firstEdge, nodeFieldCount, strings } = snapshot;
  const { type: typeOff, toNode: toOff } = snapshot.edgeOffsets;
  const seeds: number[] = [];
  const root = ROOT_ORDINAL;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e += snapshot.edgeFieldCount) {
    const type = edges[e + typeOff];
    const to = edges[e + toOff] / nodeFieldCount;
    if (type === kinds.edgeElement) {
      const p = to * nodeFieldCount;
      const isDomTrees =
        nodes[p + snapshot.nodeOffsets.type] === kinds.nodeSynthetic &&
        strings.get(nodes[p + snapshot.nodeOffsets.name]) === '(Document DOM trees)';
      if (!isDomTrees) continue;
    } else if (type !== kinds.edgeShortcut) {
      continue;
    }
    seeds.push(to);
  }
  return seeds;
}

/**
 * One bit per edge (bit `e / edgeFieldCount`): set when the edge counts for dominators.
 * Not counted: weak edges; self edges; a WeakMap table's edge to a value (the key's edge
 * stays); shortcut edges except from the root; and edges from a node the program does
 * not own to one it owns (so that the debugger's references do not change dominators).
 */
export function essentialEdges(
  snapshot: HeapSnapshot,
  kinds: GraphKinds,
  pageOwned: Uint8Array,
  ephemerons: EphemeronNames = new EphemeronNames(snapshot.strings),
  /** Where to set the bits (zeroed, `ceil(edgeCount / 32)` words), e.g. in shared memory. */
  bits: Uint32Array = new Uint32Array(Math.ceil(snapshot.edgeCount / 32)),
): Uint32Array {
  const { nodes, edges, firstEdge, nodeFieldCount, nodeCount, edgeFieldCount: efc } = snapshot;
  const { type: typeOff, toNode: toOff, nameOrIndex: nameOff } = snapshot.edgeOffsets;
  const idOff = snapshot.nodeOffsets.id;
  const { edgeInternal: internal, edgeWeak: weak, edgeShortcut: shortcut } = kinds;
  const { shift, inverse } = exactDivisor(nodeFieldCount);
  // `ordinal` counts edges as `e` walks them (a division per edge cost a tenth of the pass).
  for (let n = 0, ordinal = 0; n < nodeCount; n++) {
    const nodeIndex = n * nodeFieldCount;
    const fromRoot = n === ROOT_ORDINAL;
    const ownedFrom = pageOwned[n];
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc, ordinal++) {
      const type = edges[e + typeOff];
      if (type === weak) continue;
      if (type === internal) {
        const table = ephemerons.tableId(edges[e + nameOff]);
        if (table >= 0 && table === nodes[nodeIndex + idOff]) continue;
      }
      const to = edges[e + toOff];
      if (to === nodeIndex) continue;
      if (!fromRoot) {
        if (type === shortcut) continue;
        if (ownedFrom === 0 && pageOwned[Math.imul(to >>> shift, inverse) >>> 0] !== 0) continue;
      }
      bits[ordinal >>> 5] |= 1 << (ordinal & 31);
    }
  }
  return bits;
}

/** Whether bit `i` of a bit vector is set. */
export function bit(bits: Uint32Array, i: number): boolean {
  return (bits[i >>> 5] & (1 << (i & 31))) !== 0;
}

/**
 * Self sizes as DevTools shows them ("shallow size"): the bytes of an internal array or
 * hidden object that only one JavaScript object reaches (its property backing store, its
 * elements) are charged to that object, and the owned node's size becomes 0. A node
 * reachable from two owners keeps its own size. Skipped (raw sizes returned) when the
 * root has no user roots, i.e. a snapshot taken with V8 internals exposed.
 */
/** What `shallowSizes` reads: the graph, and the strings only to find one name. */
export type SizeGraph = Pick<
  HeapSnapshot,
  | 'nodes'
  | 'edges'
  | 'firstEdge'
  | 'nodeCount'
  | 'nodeFieldCount'
  | 'edgeFieldCount'
  | 'nodeOffsets'
  | 'edgeOffsets'
> & { strings?: HeapSnapshot['strings'] };

/**
 * `externalString`: index of the string `system / ExternalStringData` (-1: none),
 * looked up in `snapshot.strings` when not given.
 */
export function shallowSizes(
  snapshot: SizeGraph,
  kinds: GraphKinds,
  externalString?: number,
): Float64Array;
/**
 * With `into` a Uint32Array (half the memory: every size V8 writes fits), the sizes go
 * there; undefined if an owner's total would not fit. `scratch`: a Uint32Array of at
 * least `nodeCount` entries to work in instead of a new one (overwritten).
 */
export function shallowSizes(
  snapshot: SizeGraph,
  kinds: GraphKinds,
  externalString: number,
  into: Uint32Array,
  scratch?: Uint32Array,
): Uint32Array | undefined;
export function shallowSizes(
  snapshot: SizeGraph,
  kinds: GraphKinds,
  externalString = snapshot.strings?.indexOf('system / ExternalStringData') ?? -1,
  into?: Uint32Array,
  scratch?: Uint32Array,
): Float64Array | Uint32Array | undefined {
  const { nodes, edges, firstEdge, nodeFieldCount, nodeCount } = snapshot;
  const { type: typeOff, name: nameOff, selfSize: sizeOff } = snapshot.nodeOffsets;
  const sizes = into ?? new Float64Array(nodeCount);
  if (!hasUserRoots(snapshot, kinds)) {
    for (let n = 0, p = sizeOff; n < nodeCount; n++, p += nodeFieldCount) sizes[n] = nodes[p];
    return sizes;
  }

  const UNVISITED = 0xffffffff;
  const MULTIPLE = 0xfffffffe;
  const owners = scratch ? scratch.subarray(0, nodeCount) : new Uint32Array(nodeCount);
  // One bit per node that can be owned: most edges lead elsewhere, and a bit vector
  // answers that from cache.
  const ownable = new Uint32Array((nodeCount >>> 5) + 1);
  for (let n = 0, p = 0; n < nodeCount; n++, p += nodeFieldCount) {
    sizes[n] = nodes[p + sizeOff];
    const type = nodes[p + typeOff];
    if (
      type === kinds.nodeHidden ||
      type === kinds.nodeArray ||
      (type === kinds.nodeNative && nodes[p + nameOff] === externalString)
    ) {
      owners[n] = UNVISITED;
      ownable[n >>> 5] |= 1 << (n & 31);
    } else {
      owners[n] = n;
    }
  }
  // Owners flow from each self-owned node through the nodes that can be owned; a node
  // reached from two owners has MULTIPLE. The result does not depend on the order (each
  // node only moves up UNVISITED → one owner → MULTIPLE), so the self-owned nodes go in
  // file order and only the owned ones wait in a work list (each at most twice).
  const efc = snapshot.edgeFieldCount;
  const { type: eTypeOff, toNode: toOff } = snapshot.edgeOffsets;
  const weak = kinds.edgeWeak;
  const work = new Uint32Stack();
  const { shift, inverse } = exactDivisor(nodeFieldCount);
  const spread = (n: number, owner: number) => {
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      const to = Math.imul(edges[e + toOff] >>> shift, inverse) >>> 0;
      if ((ownable[to >>> 5] & (1 << (to & 31))) === 0) continue;
      const current = owners[to];
      if (current === owner || current === MULTIPLE) continue;
      if (edges[e + eTypeOff] === weak) continue;
      owners[to] = current === UNVISITED ? owner : MULTIPLE;
      work.push(to);
    }
  };
  for (let n = 0; n < nodeCount; n++) {
    if (owners[n] !== n) continue;
    spread(n, n);
    while (work.length > 0) {
      const m = work.pop();
      spread(m, owners[m]);
    }
  }
  for (let n = 0; n < nodeCount; n++) {
    const owner = owners[n];
    if (owner === UNVISITED || owner === MULTIPLE || owner === n) continue;
    if (owner === ROOT_ORDINAL || nodes[owner * nodeFieldCount + typeOff] === kinds.nodeSynthetic) {
      continue;
    }
    const total = sizes[owner] + sizes[n];
    if (total > 0xffffffff && into) return undefined;
    sizes[owner] = total;
    sizes[n] = 0;
  }
  return sizes;
}

/** A root child that is not synthetic (a global object): DevTools' "user root". */
export function hasUserRoots(snapshot: SizeGraph, kinds: GraphKinds): boolean {
  const { nodes, edges, firstEdge } = snapshot;
  const root = ROOT_ORDINAL;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e += snapshot.edgeFieldCount) {
    const to = edges[e + snapshot.edgeOffsets.toNode];
    if (nodes[to + snapshot.nodeOffsets.type] !== kinds.nodeSynthetic) return true;
  }
  return false;
}

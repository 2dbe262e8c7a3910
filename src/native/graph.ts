/**
 * The graph steps of a snapshot's analysis through the native helper (native/*.cc): the
 * same arrays as their JavaScript twins in model/snapshot/ (`reverseEdges`,
 * `dominators`, `pageOwnedNodes`, `essentialEdges`, `shallowSizes`), which run where the
 * helper is missing; several times faster on a cold thread.
 */

import type { OwnershipSteps } from '../model/snapshot/analyze.js';
import type {
  DominatorChildren,
  DominatorTree,
  EdgeGraph,
  ReverseEdges,
} from '../model/snapshot/dominators.js';
import {
  EphemeronNames,
  exactDivisor,
  type GraphKinds,
  ROOT_ORDINAL,
} from '../model/snapshot/graph.js';
import type { HeapSnapshot } from '../model/snapshot/heap-snapshot.js';
import {
  hasUserRoots,
  pageOwnedSeeds,
  type SizeGraph,
  shallowSizes,
} from '../model/snapshot/ownership.js';
import type { NativeEdgeGraph, NativeKinds, NativeSnapshotFunctions } from './snapshot.js';

function graphArgs(graph: EdgeGraph, essential: Uint32Array | undefined): NativeEdgeGraph {
  const { shift, inverse } = exactDivisor(graph.nodeFieldCount);
  return [
    graph.edges,
    graph.firstEdge,
    graph.nodeCount,
    graph.edgeFieldCount,
    graph.edgeOffsets.toNode,
    shift,
    inverse,
    essential ?? null,
  ];
}

function nativeKinds(kinds: GraphKinds): NativeKinds {
  return Int32Array.of(
    kinds.nodeHidden,
    kinds.nodeArray,
    kinds.nodeNative,
    kinds.nodeSynthetic,
    kinds.edgeInternal,
    kinds.edgeWeak,
    kinds.edgeShortcut,
  );
}

/** `reverseEdges(graph, essential, into)`, in native code. */
export function reverseEdgesNative(
  native: NativeSnapshotFunctions,
  graph: EdgeGraph,
  essential: Uint32Array | undefined,
  into: ReverseEdges,
): ReverseEdges {
  if (!native.reverseEdges(...graphArgs(graph, essential), into.first, into.from)) {
    throw new RangeError('heapscope: an edge points outside the nodes, or `from` is too short');
  }
  return into;
}

/**
 * `dominators(graph, { essential, reverse, scratch })`, in native code; `reverse.from`
 * is overwritten, as there.
 */
export function dominatorsNative(
  native: NativeSnapshotFunctions,
  graph: EdgeGraph,
  essential: Uint32Array | undefined,
  reverse: ReverseEdges,
  scratch?: Uint32Array,
): DominatorTree {
  const size = graph.nodeCount + 1;
  const num = scratch && scratch.length >= size ? scratch : new Uint32Array(size);
  const vertex = new Uint32Array(size);
  const ancestor = new Uint32Array(size);
  const reached = native.dominators(
    ...graphArgs(graph, essential),
    ROOT_ORDINAL,
    reverse.first,
    reverse.from,
    num,
    vertex,
    new Uint32Array(size),
    new Uint32Array(size),
    ancestor,
  );
  return treeOf(reached, vertex, ancestor, graph.nodeCount);
}

/**
 * The tree the native search left in `vertex` and `ancestor` (nodeCount + 1 entries), or
 * the error its answer stands for: −1 a graph that is not valid, −2 no memory.
 */
function treeOf(
  reached: number,
  vertex: Uint32Array,
  ancestor: Uint32Array,
  nodeCount: number,
): DominatorTree {
  if (reached === -2) throw new RangeError('heapscope: no memory for the dominator tree');
  if (reached < 0)
    throw new RangeError('heapscope: an edge or a retainer points outside the nodes');
  return {
    dominator: ancestor.subarray(0, nodeCount),
    order: vertex.subarray(1, nodeCount + 1),
    unreachable: nodeCount - reached,
  };
}

/** `pageOwnedNodes` and `essentialEdges` in native code, for `startAnalysis`. */
export function ownershipStepsNative(native: NativeSnapshotFunctions): OwnershipSteps {
  return {
    pageOwned(snapshot: HeapSnapshot, kinds: GraphKinds): Uint8Array {
      const owned = new Uint8Array(snapshot.nodeCount);
      const seeds = Uint32Array.from(pageOwnedSeeds(snapshot, kinds));
      const args = graphArgs(snapshot, undefined);
      const typeOffset = snapshot.edgeOffsets.type;
      if (!native.spreadOwned(...args, typeOffset, nativeKinds(kinds), seeds, owned)) {
        throw new RangeError('heapscope: an edge points outside the nodes');
      }
      return owned;
    },
    essential(snapshot, kinds, pageOwned, into): Uint32Array {
      const bits = into ?? new Uint32Array(Math.ceil(snapshot.edgeCount / 32));
      const { names, tables } = new EphemeronNames(snapshot.strings).allTables();
      native.essentialEdges(
        ...graphArgs(snapshot, undefined),
        snapshot.nodes,
        snapshot.nodeFieldCount,
        snapshot.nodeOffsets.id,
        snapshot.edgeOffsets.type,
        snapshot.edgeOffsets.nameOrIndex,
        nativeKinds(kinds),
        pageOwned,
        names,
        tables,
        bits,
      );
      return bits;
    },
  };
}

/**
 * `shallowSizes(graph, kinds, externalString, into, scratch)` in native code (the
 * caller has checked `hasUserRoots`); undefined when a total would not fit in 32 bits.
 */
export function shallowSizesNative(
  native: NativeSnapshotFunctions,
  graph: SizeGraph,
  kinds: GraphKinds,
  externalString: number,
  into: Uint32Array,
  scratch: Uint32Array,
): Uint32Array | undefined {
  const { type, name, selfSize } = graph.nodeOffsets;
  const fits = native.shallowSizes(
    ...graphArgs(graph, undefined),
    graph.nodes,
    graph.nodeFieldCount,
    type,
    name,
    selfSize,
    graph.edgeOffsets.type,
    nativeKinds(kinds),
    externalString,
    into,
    scratch,
  );
  return fits ? into : undefined;
}

/** DevTools' self sizes (`shallowSizes`), computed on libuv's thread pool. */
export function selfSizesOnThreadPool(
  native: NativeSnapshotFunctions,
  graph: SizeGraph,
  kinds: GraphKinds,
  externalString: number,
): Promise<Float64Array> {
  if (!hasUserRoots(graph, kinds)) {
    return Promise.resolve(shallowSizes(graph, kinds, externalString));
  }
  // 64-bit at once (no 32-bit copy left as garbage), the owners in native memory.
  const sizes = new Float64Array(graph.nodeCount);
  return new Promise((resolve, reject) => {
    native.shallowSizes(
      ...graphArgs(graph, undefined),
      graph.nodes,
      graph.nodeFieldCount,
      graph.nodeOffsets.type,
      graph.nodeOffsets.name,
      graph.nodeOffsets.selfSize,
      graph.edgeOffsets.type,
      nativeKinds(kinds),
      externalString,
      sizes,
      null,
      // 0 only when the native working memory could not be had.
      (fits) => {
        try {
          resolve(fits === 1 ? sizes : shallowSizes(graph, kinds, externalString));
        } catch (error) {
          reject(error);
        }
      },
    );
  });
}

/** The tree, and its children, which the tree's task computes too. */
export interface TreeFigures {
  tree: DominatorTree;
  children: DominatorChildren;
}

/**
 * `reverseEdges` into `reverse`, then `dominators`, then `dominatorChildren` (into
 * `reverse.first` and the start of `reverse.from` when it has room for them and the work
 * list after them, as `finishAnalysis` would), on libuv's thread pool. The search's
 * working arrays live in native memory and go as soon as the tree is built.
 */
export function dominatorTreeOnThreadPool(
  native: NativeSnapshotFunctions,
  graph: EdgeGraph,
  essential: Uint32Array,
  reverse: ReverseEdges,
): Promise<TreeFigures> {
  const n = graph.nodeCount;
  const size = n + 1;
  const vertex = new Uint32Array(size);
  const ancestor = new Uint32Array(size);
  const children =
    reverse.from.length >= 2 * n ? reverse.from.subarray(0, n) : new Uint32Array(Math.max(1, n));
  return new Promise((resolve, reject) => {
    native.dominatorTree(
      ...graphArgs(graph, essential),
      ROOT_ORDINAL,
      reverse.first,
      reverse.from,
      vertex,
      ancestor,
      (reached) => {
        try {
          resolve({
            tree: treeOf(reached, vertex, ancestor, n),
            children: {
              first: reverse.first.subarray(0, size),
              children: children.subarray(0, Math.max(0, n - 1)),
            },
          });
        } catch (error) {
          reject(error);
        }
      },
      children,
    );
  });
}

/** `retainedSizes(tree, selfSizes)` in native code. */
export function retainedSizesNative(
  native: NativeSnapshotFunctions,
  tree: DominatorTree,
  selfSizes: Float64Array,
): Float64Array {
  const retained = new Float64Array(tree.dominator.length);
  native.retainedSizes(tree.dominator, tree.order, selfSizes, retained);
  return retained;
}

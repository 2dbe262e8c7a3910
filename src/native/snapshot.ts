/**
 * The native helper's snapshot functions (native/snapshot.cc), where this Node has the
 * helper: the same work as the JavaScript loops, in a fraction of their time on a cold
 * thread (no waiting for V8 to optimize a loop that runs once). Everything here has a
 * JavaScript twin, used where the helper is missing (another platform, a Node too new,
 * `HEAPSCOPE_NATIVE=0`) and tested to give the same results.
 */

import { loadNative } from './addon.js';

export interface NativeSnapshotFunctions {
  /**
   * The numbers of the array in `[start, end)` of the open file `fd`, in V8's layout,
   * into `into`: their count, or −1 for "use the general reader" (anything else).
   */
  parseNumberRange(fd: number, start: number, end: number, into: Uint32Array): number;
  /**
   * `scanLiterals` of formats/heapsnapshot/literals.ts over `buf[i..end)` into the table given
   * as its arrays and counts; returns where it stopped, and leaves the table's new
   * length, count and `stoppedAfter` (1 or 0) in `out`.
   */
  scanLiterals(
    buf: Uint8Array,
    i: number,
    end: number,
    bytes: Uint8Array,
    length: number,
    ends: Uint32Array,
    flags: Uint8Array,
    count: number,
    out: Float64Array,
  ): number;
  /**
   * `reverseEdges` of model/snapshot/dominators.ts, given the graph as
   * `edges, firstEdge, nodeCount, edgeFieldCount, toNode, shift, inverse, essential`
   * (see `exactDivisor` for shift and inverse; essential may be null: all edges count).
   * False when an edge's target is not a node or `from` is too short.
   */
  reverseEdges(...args: [...NativeEdgeGraph, first: Uint32Array, from: Uint32Array]): boolean;
  /**
   * `dominators` of model/snapshot/dominators.ts in working arrays of nodeCount + 1
   * entries given here: the order is left in `vertex[1 ..]`, the dominators in
   * `ancestor`. Returns the nodes the root reaches, −1 for a graph that is not valid, −2
   * when the working memory could not be had.
   */
  dominators(
    ...args: [
      ...NativeEdgeGraph,
      root: number,
      first: Uint32Array,
      from: Uint32Array,
      num: Uint32Array,
      vertex: Uint32Array,
      parent: Uint32Array,
      semi: Uint32Array,
      ancestor: Uint32Array,
    ]
  ): number;
  /** The walk of `pageOwnedNodes` (ownership.ts) from `seeds`; false for a graph that is not valid. */
  spreadOwned(
    ...args: [
      ...NativeEdgeGraph,
      edgeType: number,
      kinds: Int32Array,
      seeds: Uint32Array,
      owned: Uint8Array,
    ]
  ): boolean;
  /** `essentialEdges` (ownership.ts) into `bits` (zeroed). */
  essentialEdges(
    ...args: [
      ...NativeEdgeGraph,
      nodes: Uint32Array,
      nodeFieldCount: number,
      idOffset: number,
      edgeType: number,
      edgeName: number,
      kinds: Int32Array,
      owned: Uint8Array,
      ephemeronNames: Uint32Array,
      ephemeronTables: Uint32Array,
      bits: Uint32Array,
    ]
  ): void;
  /**
   * `shallowSizes` (ownership.ts) into 32-bit sizes; false when a total would not fit.
   * With a callback, on libuv's thread pool: the callback gets 1 or 0.
   */
  shallowSizes(...args: NativeShallowSizesArgs): boolean;
  shallowSizes(...args: [...NativeShallowSizesArgs, callback: (fits: number) => void]): void;
  /**
   * On libuv's thread pool: the counting edges reversed into `first`/`from`, then the
   * dominators (the order in `vertex[1 ..]`, the dominators in `ancestor`), then, given
   * `children`, the tree's children into `first`/`children` (which may be part of
   * `from`); `callback(reached)`, −1 for a graph that is not valid, −2 without memory.
   */
  dominatorTree(
    ...args: [
      ...NativeEdgeGraph,
      root: number,
      first: Uint32Array,
      from: Uint32Array,
      vertex: Uint32Array,
      ancestor: Uint32Array,
      callback: (reached: number) => void,
      children?: Uint32Array,
    ]
  ): void;
  /** `retainedSizes` of dominators.ts into `retained`. */
  retainedSizes(
    dominator: Uint32Array,
    order: Uint32Array,
    selfSizes: Float64Array,
    retained: Float64Array,
  ): void;
  /**
   * `parseNumberRange` on libuv's thread pool, over the file at `path`; with `rules`
   * (edges: fieldCount, typeOffset, nameOffset, toOffset, typeCount, nodeFieldCount,
   * nodesLength) and `indexNamed` (1 per edge type named by an index) also the checks of
   * `summarizeEdges`. `callback(count, sound, maxName)`, count −1: "use the general reader".
   */
  parseFileRange(
    path: string,
    start: number,
    end: number,
    into: Uint32Array,
    rules: Float64Array | null,
    indexNamed: Uint8Array | null,
    callback: (count: number, sound: number, maxName: number) => void,
  ): void;
}

export type NativeShallowSizesArgs = [
  ...NativeEdgeGraph,
  nodes: Uint32Array,
  nodeFieldCount: number,
  typeOffset: number,
  nameOffset: number,
  sizeOffset: number,
  edgeType: number,
  kinds: Int32Array,
  externalString: number,
  /** 32-bit sizes (false when a total does not fit), or 64-bit (never false). */
  sizes: Uint32Array | Float64Array,
  /** Room to work in (nodeCount entries), or null: native memory, freed at once. */
  owners: Uint32Array | null,
];

/**
 * The node and edge types the native functions test, in this order, as an Int32Array:
 * nodeHidden, nodeArray, nodeNative, nodeSynthetic, edgeInternal, edgeWeak, edgeShortcut.
 */
export type NativeKinds = Int32Array;

export type NativeEdgeGraph = [
  edges: Uint32Array,
  firstEdge: Uint32Array,
  nodeCount: number,
  edgeFieldCount: number,
  toNode: number,
  shift: number,
  inverse: number,
  essential: Uint32Array | null,
];

const NAMES: readonly (keyof NativeSnapshotFunctions)[] = [
  'parseNumberRange',
  'scanLiterals',
  'reverseEdges',
  'dominators',
  'spreadOwned',
  'essentialEdges',
  'shallowSizes',
  'dominatorTree',
  'retainedSizes',
  'parseFileRange',
];

/**
 * The functions, or undefined when this Node has no native helper with them. The addon
 * is the one loadNative keeps (addon.ts, load.cts: one per thread).
 */
export function nativeSnapshotFunctions(): NativeSnapshotFunctions | undefined {
  const loaded = loadNative();
  if (!('addon' in loaded)) return undefined;
  const addon = loaded.addon as unknown as Partial<NativeSnapshotFunctions>;
  // A binary from before one of them was added has none of them used.
  return NAMES.every((name) => typeof addon[name] === 'function')
    ? (addon as NativeSnapshotFunctions)
    : undefined;
}

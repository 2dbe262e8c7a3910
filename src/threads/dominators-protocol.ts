// What the thread analysing a snapshot and its dominators worker share.

import type { EdgeGraph, ReverseEdges } from '../model/snapshot/dominators.js';
import type { GraphKinds } from '../model/snapshot/graph.js';
import type { SizeGraph } from '../model/snapshot/ownership.js';

/** States of `DominatorsJob.ready`, one slot per input. */
export const PENDING = 0;
export const READY = 1;
export const ABANDONED = 2;
export const ESSENTIAL_SLOT = 0;
export const REVERSE_SLOT = 1;

export interface DominatorsJob {
  /** Nodes and edges, in shared memory. */
  graph: EdgeGraph & SizeGraph;
  kinds: GraphKinds;
  /** Index of the string `system / ExternalStringData`, or -1 (see `shallowSizes`). */
  externalString: number;
  /** Filled by the other thread; usable once `ready[ESSENTIAL_SLOT]` is READY. */
  essential: Uint32Array;
  /**
   * Filled by the other thread, usable once `ready[REVERSE_SLOT]` is READY; or, with
   * `reverseHere`, by the worker (the native helper does it in a fraction of the time,
   * and the other thread goes on to the classes at once).
   */
  reverse: ReverseEdges;
  reverseHere: boolean;
  ready: Int32Array;
}

/**
 * The worker's answers, in this order: the self sizes (computed while the other thread
 * works out which edges count), then the dominator tree.
 */
export interface SizesAnswer {
  /** 32-bit when every size fits (always, for sizes V8 writes): half the memory while the tree is built. */
  selfSizes: Float64Array | Uint32Array;
}

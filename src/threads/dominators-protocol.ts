// What the thread analysing a snapshot and its dominators worker share.

import type { EdgeGraph, ReverseEdges } from '../model/snapshot/dominators.js';

/** States of `DominatorsJob.ready`, one slot per input. */
export const PENDING = 0;
export const READY = 1;
export const ABANDONED = 2;
export const ESSENTIAL_SLOT = 0;
export const REVERSE_SLOT = 1;

export interface DominatorsJob {
  graph: EdgeGraph;
  /** Filled by the other thread; usable once `ready[ESSENTIAL_SLOT]` is READY. */
  essential: Uint32Array;
  /** Filled by the other thread; usable once `ready[REVERSE_SLOT]` is READY. */
  reverse: ReverseEdges;
  ready: Int32Array;
}

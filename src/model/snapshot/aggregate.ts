/**
 * Totals per group of nodes (per class, per allocation site), as DevTools' Summary view
 * computes them (`buildAggregates`, `calculateClassesRetainedSize`):
 *
 * - count and self size: over the nodes of the group with a non-zero self size;
 * - retained size: the retained sizes of the group's nodes that no other node of the same
 *   group dominates, so nothing is counted twice (a linked list of 1,000 `Item`s retains
 *   the list's bytes once, not 1,000 times over).
 */
import type { DominatorChildren } from './dominators.js';
import { ROOT_ORDINAL } from './graph.js';
import { growUint32 } from './uint32-stack.js';

/** Marks a node that belongs to no group. */
export const NO_GROUP = 0xffffffff;

export interface GroupTotals {
  count: Float64Array;
  selfSize: Float64Array;
  retainedSize: Float64Array;
}

/**
 * Totals for one or more groupings in a single walk of the dominator tree. `groupings[k]`
 * gives each node's group (or {@link NO_GROUP}), `groupCounts[k]` the number of groups.
 */
export function groupTotals(
  tree: DominatorChildren,
  selfSizes: Float64Array,
  retainedSizes: Float64Array,
  groupings: readonly Uint32Array[],
  groupCounts: readonly number[],
  /** Work list of at least one entry per node, to use instead of a new one. */
  scratch?: Uint32Array,
): GroupTotals[] {
  const kinds = groupings.length;
  const totals = groupCounts.map((c) => ({
    count: new Float64Array(c),
    selfSize: new Float64Array(c),
    retainedSize: new Float64Array(c),
  }));
  if (kinds === 1) {
    singleGrouping(tree, selfSizes, retainedSizes, groupings[0], totals[0], scratch);
    return totals;
  }
  const open = groupCounts.map((c) => new Uint8Array(c));
  const { first, children } = tree;
  const list = scratch ?? new Uint32Array(selfSizes.length);
  // A group is "open" while the walk is inside the subtree of a counted node of that
  // group; it closes when the list shrinks back to its length before that subtree.
  let markAt: Uint32Array = new Uint32Array(64);
  let markGroup: Uint32Array = new Uint32Array(64);
  let markKind: Uint8Array = new Uint8Array(64);
  let marks = 0;
  let length = 0;
  list[length++] = ROOT_ORDINAL;
  while (length > 0) {
    const n = list[--length];
    const from = first[n];
    const to = first[n + 1];
    const self = selfSizes[n];
    if (self !== 0) {
      for (let k = 0; k < kinds; k++) {
        const g = groupings[k][n];
        if (g === NO_GROUP) continue;
        const t = totals[k];
        t.count[g]++;
        t.selfSize[g] += self;
        if (open[k][g] !== 0) continue;
        t.retainedSize[g] += retainedSizes[n];
        if (from === to) continue;
        open[k][g] = 1;
        if (marks === markAt.length) {
          markAt = growUint32(markAt);
          markGroup = growUint32(markGroup);
          const bigger = new Uint8Array(marks * 2);
          bigger.set(markKind);
          markKind = bigger;
        }
        markAt[marks] = length;
        markGroup[marks] = g;
        markKind[marks] = k;
        marks++;
      }
    }
    for (let i = from; i < to; i++) list[length++] = children[i];
    while (marks > 0 && markAt[marks - 1] === length) {
      marks--;
      open[markKind[marks]][markGroup[marks]] = 0;
    }
  }
  return totals;
}

/**
 * `groupTotals` for one grouping (per class, the common case), with everything the walk
 * touches per node in locals: a third of the time of the general loop.
 */
function singleGrouping(
  tree: DominatorChildren,
  selfSizes: Float64Array,
  retainedSizes: Float64Array,
  groupOf: Uint32Array,
  totals: GroupTotals,
  scratch: Uint32Array | undefined,
): void {
  const { count, selfSize, retainedSize } = totals;
  const open = new Uint8Array(count.length);
  const { first, children } = tree;
  const list = scratch ?? new Uint32Array(selfSizes.length);
  let markAt: Uint32Array = new Uint32Array(64);
  let markGroup: Uint32Array = new Uint32Array(64);
  let marks = 0;
  let length = 0;
  list[length++] = ROOT_ORDINAL;
  while (length > 0) {
    const n = list[--length];
    const from = first[n];
    const to = first[n + 1];
    const self = selfSizes[n];
    if (self !== 0) {
      const g = groupOf[n];
      if (g !== NO_GROUP) {
        count[g]++;
        selfSize[g] += self;
        if (open[g] === 0) {
          retainedSize[g] += retainedSizes[n];
          if (from !== to) {
            open[g] = 1;
            if (marks === markAt.length) {
              markAt = growUint32(markAt);
              markGroup = growUint32(markGroup);
            }
            markAt[marks] = length;
            markGroup[marks] = g;
            marks++;
          }
        }
      }
    }
    for (let i = from; i < to; i++) list[length++] = children[i];
    while (marks > 0 && markAt[marks - 1] === length) open[markGroup[--marks]] = 0;
  }
}

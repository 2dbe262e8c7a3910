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
 * Totals for one or more groupings, a walk of the dominator tree each. `groupings[k]`
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
  const list = scratch ?? new Uint32Array(selfSizes.length);
  // A walk per grouping: with everything a walk touches in locals, two walks cost what
  // one walk for both cost.
  return groupings.map((groupOf, k) => {
    const totals = {
      count: new Float64Array(groupCounts[k]),
      selfSize: new Float64Array(groupCounts[k]),
      retainedSize: new Float64Array(groupCounts[k]),
    };
    walkGrouping(tree, selfSizes, retainedSizes, groupOf, totals, list);
    return totals;
  });
}

/**
 * The totals of one grouping in one walk of the dominator tree. A group is "open" while
 * the walk is inside the subtree of a counted node of that group; it closes when the
 * list shrinks back to its length before that subtree.
 */
function walkGrouping(
  tree: DominatorChildren,
  selfSizes: Float64Array,
  retainedSizes: Float64Array,
  groupOf: Uint32Array,
  totals: GroupTotals,
  list: Uint32Array,
): void {
  const { count, selfSize, retainedSize } = totals;
  const open = new Uint8Array(count.length);
  const { first, children } = tree;
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

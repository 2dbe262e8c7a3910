// Worker task: the self sizes and the dominator tree of a snapshot, read from shared
// memory while the thread that gave it is still filling some of it (see
// snapshot-analysis.ts). Answers with the arrays, transferred.

import { type DominatorTree, dominators, reverseEdges } from '../model/snapshot/dominators.js';
import { hasUserRoots, shallowSizes } from '../model/snapshot/ownership.js';
import { dominatorsNative, reverseEdgesNative, shallowSizesNative } from '../native/graph.js';
import { nativeSnapshotFunctions } from '../native/snapshot.js';
import {
  type DominatorsJob,
  ESSENTIAL_SLOT,
  PENDING,
  READY,
  REVERSE_SLOT,
  type SizesAnswer,
} from './dominators-protocol.js';
import type { Send } from './protocol.js';

function waitFor(ready: Int32Array, slot: number): void {
  Atomics.wait(ready, slot, PENDING);
  if (Atomics.load(ready, slot) !== READY) throw new Error('abandoned');
}

export function dominatorsTask(job: DominatorsJob, send: Send): void {
  const { graph, kinds, externalString, essential, reverse, ready } = job;
  // First what needs no essential edges: the other thread is computing those meanwhile.
  // The owners' working array becomes the tree's first working array: a worker's heap
  // rarely sees a collection, so garbage here would stay for the whole task.
  const scratch = new Uint32Array(graph.nodeCount + 1);
  const native = nativeSnapshotFunctions();
  const into = new Uint32Array(graph.nodeCount);
  const selfSizes =
    (native && hasUserRoots(graph, kinds)
      ? shallowSizesNative(native, graph, kinds, externalString, into, scratch)
      : shallowSizes(graph, kinds, externalString, into, scratch)) ??
    shallowSizes(graph, kinds, externalString);
  const sizes: SizesAnswer = { selfSizes };
  send(sizes, [sizes.selfSizes.buffer as ArrayBuffer]);
  waitFor(ready, ESSENTIAL_SLOT);
  if (job.reverseHere) {
    if (native) reverseEdgesNative(native, graph, essential, reverse);
    else reverseEdges(graph, essential, reverse);
  }
  const tree: DominatorTree = native
    ? dominatorsNative(
        native,
        graph,
        essential,
        job.reverseHere ? reverse : reverseFrom(ready, reverse),
        scratch,
      )
    : dominators(graph, {
        essential,
        scratch,
        // Needed only after the depth-first search: the other thread may still be on it.
        reverse: () => (job.reverseHere ? reverse : reverseFrom(ready, reverse)),
      });
  send(tree, [tree.dominator.buffer as ArrayBuffer, tree.order.buffer as ArrayBuffer]);
}

function reverseFrom(
  ready: Int32Array,
  reverse: DominatorsJob['reverse'],
): DominatorsJob['reverse'] {
  waitFor(ready, REVERSE_SLOT);
  return reverse;
}

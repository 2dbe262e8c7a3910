// Worker thread: the self sizes and the dominator tree of a snapshot, read from shared
// memory while the thread that started it is still filling some of it (see
// snapshot-analysis.ts). Answers with the arrays, transferred.

import { parentPort, workerData } from 'node:worker_threads';
import { dominators } from '../model/snapshot/dominators.js';
import { shallowSizes } from '../model/snapshot/ownership.js';
import {
  type DominatorsJob,
  ESSENTIAL_SLOT,
  PENDING,
  READY,
  REVERSE_SLOT,
  type SizesAnswer,
} from './dominators-protocol.js';

function waitFor(ready: Int32Array, slot: number): void {
  Atomics.wait(ready, slot, PENDING);
  if (Atomics.load(ready, slot) !== READY) throw new Error('abandoned');
}

const { graph, kinds, externalString, essential, reverse, ready } = workerData as DominatorsJob;
// First what needs no essential edges: the other thread is computing those meanwhile.
const sizes: SizesAnswer = { selfSizes: shallowSizes(graph, kinds, externalString) };
parentPort!.postMessage(sizes, [sizes.selfSizes.buffer] as ArrayBuffer[]);
waitFor(ready, ESSENTIAL_SLOT);
const tree = dominators(graph, {
  essential,
  reverse: () => {
    waitFor(ready, REVERSE_SLOT);
    return reverse;
  },
});
parentPort!.postMessage(tree, [tree.dominator.buffer, tree.order.buffer] as ArrayBuffer[]);

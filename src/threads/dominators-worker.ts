// Worker thread: the dominator tree of a snapshot's edges, read from shared memory while
// the thread that started it is still filling some of it (see snapshot-analysis.ts).
// Answers with the tree's arrays, transferred.

import { parentPort, workerData } from 'node:worker_threads';
import { dominators } from '../model/snapshot/dominators.js';
import {
  type DominatorsJob,
  ESSENTIAL_SLOT,
  PENDING,
  READY,
  REVERSE_SLOT,
} from './dominators-protocol.js';

function waitFor(ready: Int32Array, slot: number): void {
  Atomics.wait(ready, slot, PENDING);
  if (Atomics.load(ready, slot) !== READY) throw new Error('abandoned');
}

const { graph, essential, reverse, ready } = workerData as DominatorsJob;
waitFor(ready, ESSENTIAL_SLOT);
const tree = dominators(graph, {
  essential,
  reverse: () => {
    waitFor(ready, REVERSE_SLOT);
    return reverse;
  },
});
parentPort!.postMessage(tree, [tree.dominator.buffer, tree.order.buffer] as ArrayBuffer[]);

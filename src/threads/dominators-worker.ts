// Worker thread: the dominator tree of a snapshot's edges, which it reads from shared
// memory (see snapshot-analysis.ts). Answers with the tree's arrays, transferred.

import { parentPort, workerData } from 'node:worker_threads';
import { dominators, type EdgeGraph } from '../model/snapshot/dominators.js';

export interface DominatorsJob {
  graph: EdgeGraph;
  essential: Uint32Array;
}

const { graph, essential } = workerData as DominatorsJob;
const tree = dominators(graph, { essential });
parentPort!.postMessage(tree, [tree.dominator.buffer, tree.order.buffer] as ArrayBuffer[]);

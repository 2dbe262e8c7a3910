/**
 * `analyzeSnapshot` on two threads: the dominator tree (the longest step) is computed in
 * a worker while this thread classifies the nodes and sums their sizes. The worker reads
 * the edges where the reader left them, in shared memory (`readHeapSnapshot` with
 * workers), so nothing big is copied; the figures are those of `analyzeSnapshot`.
 */

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HeapSnapshot } from '../formats/heapsnapshot.js';
import {
  type AnalyzeOptions,
  analyzeSnapshot,
  finishAnalysis,
  ownedFigures,
  type SnapshotAnalysis,
  startAnalysis,
} from '../model/snapshot/analyze.js';
import type { DominatorTree, EdgeGraph } from '../model/snapshot/dominators.js';
import type { DominatorsJob } from './dominators-worker.js';

const entry = new URL('./dominators-worker.js', import.meta.url);

/** Nodes below which a worker costs more (~30 ms to start) than it saves. */
const MIN_WORKER_NODES = 500_000;

export interface ParallelAnalyzeOptions extends AnalyzeOptions {
  /**
   * `'auto'` (default): a worker when the machine has more than one core, the snapshot
   * has at least 500,000 nodes and its edges are in shared memory; `true`: whenever
   * the edges are in shared memory; `false`: never (same as `analyzeSnapshot`).
   */
  workers?: boolean | 'auto';
}

function shared(array: Uint32Array): boolean {
  return array.buffer instanceof SharedArrayBuffer;
}

export async function analyzeSnapshotInParallel(
  snapshot: HeapSnapshot,
  options: ParallelAnalyzeOptions = {},
): Promise<SnapshotAnalysis> {
  const workers = options.workers ?? 'auto';
  const useWorker =
    workers !== false &&
    shared(snapshot.edges) &&
    shared(snapshot.firstEdge) &&
    existsSync(fileURLToPath(entry)) &&
    (workers === true || (availableParallelism() > 1 && snapshot.nodeCount >= MIN_WORKER_NODES));
  if (!useWorker) return analyzeSnapshot(snapshot, options);

  const start = startAnalysis(snapshot, options);
  start.phase('dominators');
  const { edges, firstEdge, nodeCount, nodeFieldCount, edgeFieldCount, edgeOffsets } = snapshot;
  const graph: EdgeGraph = {
    edges,
    firstEdge,
    nodeCount,
    nodeFieldCount,
    edgeFieldCount,
    edgeOffsets,
  };
  const job: DominatorsJob = { graph, essential: start.essential };
  const worker = new Worker(entry, { workerData: job });
  try {
    const tree = new Promise<DominatorTree>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the dominators worker exited with code ${code}`)),
      );
    });
    // Meanwhile, here: what does not depend on the dominators.
    const owned = ownedFigures(start, options);
    return finishAnalysis(start, await tree, owned);
  } finally {
    void worker.terminate();
  }
}

/**
 * `analyzeSnapshot` on two threads. The dominator tree is the longest step. A worker
 * first computes the self sizes while this thread works out which edges count, then
 * numbers the nodes depth first while this thread reverses those edges, then builds the
 * tree while this thread names the nodes' classes; the totals follow here. Everything
 * the worker reads is in shared memory (the reader's `nodes`/`edges` with workers, and
 * arrays allocated here) and what it returns is transferred, so nothing big is copied;
 * the figures are exactly those of `analyzeSnapshot`.
 */

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HeapSnapshot } from '../formats/heapsnapshot.js';
import {
  type AnalyzeOptions,
  analyzeSnapshot,
  classFigures,
  finishAnalysis,
  type SnapshotAnalysis,
  startAnalysis,
} from '../model/snapshot/analyze.js';
import {
  type DominatorTree,
  type ReverseEdges,
  reverseEdges,
} from '../model/snapshot/dominators.js';
import { graphKinds } from '../model/snapshot/graph.js';
import {
  ABANDONED,
  type DominatorsJob,
  ESSENTIAL_SLOT,
  READY,
  REVERSE_SLOT,
  type SizesAnswer,
} from './dominators-protocol.js';

const entry = new URL('./dominators-worker.js', import.meta.url);

/** Nodes below which a worker costs more (~30 ms to start) than it saves. */
const MIN_WORKER_NODES = 500_000;

export interface ParallelAnalyzeOptions extends AnalyzeOptions {
  /**
   * `'auto'` (default): a worker when the machine has more than one core, the snapshot
   * has at least 500,000 nodes and its nodes and edges are in shared memory; `true`:
   * whenever they are; `false`: never (same as `analyzeSnapshot`).
   */
  workers?: boolean | 'auto';
}

function shared(array: Uint32Array): boolean {
  return array.buffer instanceof SharedArrayBuffer;
}

function sharedUint32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(length * Uint32Array.BYTES_PER_ELEMENT));
}

export async function analyzeSnapshotInParallel(
  snapshot: HeapSnapshot,
  options: ParallelAnalyzeOptions = {},
): Promise<SnapshotAnalysis> {
  const workers = options.workers ?? 'auto';
  const useWorker =
    workers !== false &&
    snapshot.nodeCount > 0 &&
    shared(snapshot.nodes) &&
    shared(snapshot.edges) &&
    shared(snapshot.firstEdge) &&
    existsSync(fileURLToPath(entry)) &&
    (workers === true || (availableParallelism() > 1 && snapshot.nodeCount >= MIN_WORKER_NODES));
  if (!useWorker) return analyzeSnapshot(snapshot, options);

  const { nodes, edges, firstEdge, nodeCount, nodeFieldCount, edgeFieldCount } = snapshot;
  const { nodeOffsets, edgeOffsets } = snapshot;
  const graph: DominatorsJob['graph'] = {
    nodes,
    edges,
    firstEdge,
    nodeCount,
    nodeFieldCount,
    edgeFieldCount,
    nodeOffsets,
    edgeOffsets,
  };
  const essential = sharedUint32(Math.ceil(snapshot.edgeCount / 32));
  const reverse: ReverseEdges = {
    first: sharedUint32(nodeCount + 1),
    from: sharedUint32(snapshot.edgeCount),
  };
  const ready = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const signal = (slot: number, state: number) => {
    Atomics.store(ready, slot, state);
    Atomics.notify(ready, slot);
  };
  // Started first: it computes the self sizes while this thread works out which edges
  // count, then the tree.
  const job: DominatorsJob = {
    graph,
    kinds: graphKinds(snapshot),
    externalString: snapshot.strings.indexOf('system / ExternalStringData'),
    essential,
    reverse,
    ready,
  };
  let worker: Worker;
  try {
    worker = new Worker(entry, { workerData: job });
  } catch {
    // No thread to be had (e.g. Node's permission model without --allow-worker).
    return analyzeSnapshot(snapshot, options);
  }
  const answers = workerAnswers(worker);
  try {
    const start = startAnalysis(snapshot, options, essential);
    signal(ESSENTIAL_SLOT, READY);
    start.phase('dominators');
    reverseEdges(graph, essential, reverse);
    signal(REVERSE_SLOT, READY);
    const classes = classFigures(start, options);
    const { selfSizes } = (await answers.next()) as SizesAnswer;
    const tree = (await answers.next()) as DominatorTree;
    void worker.terminate();
    return finishAnalysis(start, tree, { ...classes, selfSizes });
  } finally {
    signal(ESSENTIAL_SLOT, ABANDONED);
    signal(REVERSE_SLOT, ABANDONED);
    void worker.terminate();
  }
}

/** The worker's messages in order; each rejects if the worker fails first. */
function workerAnswers(worker: Worker): { next(): Promise<unknown> } {
  const messages: unknown[] = [];
  const waiting: { resolve(v: unknown): void; reject(e: Error): void }[] = [];
  let failure: Error | undefined;
  worker.on('message', (m) => {
    const w = waiting.shift();
    if (w) w.resolve(m);
    else messages.push(m);
  });
  const fail = (error: Error) => {
    failure ??= error;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`the dominators worker exited with code ${code}`)));
  return {
    next: () => {
      if (messages.length > 0) return Promise.resolve(messages.shift());
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}

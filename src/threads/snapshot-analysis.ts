/**
 * `analyzeSnapshot` on two threads. The dominator tree is the longest step. Another
 * thread first computes the self sizes while this thread works out which edges count,
 * then builds the tree while this thread names the nodes' classes; the totals follow
 * here. With the native helper on the main thread, that other thread is a task on
 * libuv's thread pool (no second JavaScript heap; the tree's children come with it);
 * without, a pooled worker, which numbers the nodes depth first while this thread
 * reverses the edges. Everything the other thread reads is in memory both share (with a
 * worker: shared memory, and what it returns is transferred), so nothing big is copied;
 * the figures are exactly those of `analyzeSnapshot`.
 */

import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
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
import type { HeapSnapshot } from '../model/snapshot/heap-snapshot.js';
import {
  dominatorTreeOnThreadPool,
  ownershipStepsNative,
  retainedSizesNative,
  selfSizesOnThreadPool,
} from '../native/graph.js';
import { type NativeSnapshotFunctions, nativeSnapshotFunctions } from '../native/snapshot.js';
import {
  ABANDONED,
  type DominatorsJob,
  ESSENTIAL_SLOT,
  READY,
  REVERSE_SLOT,
  type SizesAnswer,
} from './dominators-protocol.js';
import { runTask, type TaskRun, workerScriptAvailable } from './pool.js';

/** Nodes below which a worker costs more (~30 ms to start) than it saves. */
const MIN_WORKER_NODES = 500_000;

export interface ParallelAnalyzeOptions extends AnalyzeOptions {
  /**
   * Analyse on another thread (a worker thread, or libuv's thread pool with the native
   * helper): `'auto'` (default) when the machine has more than one core, the snapshot
   * has at least 500,000 nodes and its nodes and edges are in shared memory; `true`:
   * whenever they are; `false`: never (same as `analyzeSnapshot`).
   */
  parallel?: boolean | 'auto';
  /**
   * Use the native helper where this Node has one (default true): on the main thread its
   * tasks on libuv's thread pool take the worker's place, and its loops the JavaScript's.
   */
  native?: boolean;
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
  const workers = options.parallel ?? 'auto';
  const native = options.native === false ? undefined : nativeSnapshotFunctions();
  const parallel =
    workers === true || (availableParallelism() > 1 && snapshot.nodeCount >= MIN_WORKER_NODES);
  if (native && isMainThread && workers !== false && snapshot.nodeCount > 0 && parallel) {
    return analyzeOnThreadPool(snapshot, options, native);
  }
  const useWorker =
    workers !== false &&
    snapshot.nodeCount > 0 &&
    shared(snapshot.nodes) &&
    shared(snapshot.edges) &&
    shared(snapshot.firstEdge) &&
    workerScriptAvailable() &&
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
    // The worker loads the same helper: where this thread has it, so does the worker.
    reverseHere: native !== undefined,
    ready,
  };
  let run: TaskRun;
  try {
    // Retired after: what the tree took in the worker's heap is freed at once.
    run = runTask('dominators', job, { retire: true });
  } catch {
    // No thread to be had (e.g. Node's permission model without --allow-worker).
    return analyzeSnapshot(snapshot, options);
  }
  try {
    const steps = native ? ownershipStepsNative(native) : undefined;
    const start = startAnalysis(snapshot, options, essential, steps);
    signal(ESSENTIAL_SLOT, READY);
    start.phase('dominators');
    if (!job.reverseHere) {
      reverseEdges(graph, essential, reverse);
      signal(REVERSE_SLOT, READY);
    }
    const classes = classFigures(start, options);
    const { selfSizes } = (await run.next()) as SizesAnswer;
    const tree = (await run.next()) as DominatorTree;
    // The worker is retired when it has said it is done: its heap goes before the totals.
    await run.finished;
    // The worker's arrays are gone by now: the 64-bit sizes take their room, and the
    // reversed edges, done with, hold the tree's children.
    const sizes64 = selfSizes instanceof Float64Array ? selfSizes : Float64Array.from(selfSizes);
    return finishAnalysis(start, tree, { ...classes, selfSizes: sizes64 }, reverse);
  } finally {
    // A worker still waiting for these is told to give up (and, if it is stuck, ended).
    signal(ESSENTIAL_SLOT, ABANDONED);
    signal(REVERSE_SLOT, ABANDONED);
    run.finished.catch(() => run.cancel());
  }
}

/**
 * The same steps with the native helper's tasks on libuv's thread pool in the worker's
 * place: the self sizes while this thread works out which edges count, then the
 * reversed edges and the tree while it names the classes. No second JavaScript heap,
 * and the tree's working arrays are freed as soon as it is built.
 */
async function analyzeOnThreadPool(
  snapshot: HeapSnapshot,
  options: ParallelAnalyzeOptions,
  native: NativeSnapshotFunctions,
): Promise<SnapshotAnalysis> {
  const kinds = graphKinds(snapshot);
  const externalString = snapshot.strings.indexOf('system / ExternalStringData');
  const sizes = selfSizesOnThreadPool(native, snapshot, kinds, externalString);
  // Should a step here throw, a task failing after it is not left unhandled.
  sizes.catch(() => undefined);
  const start = startAnalysis(snapshot, options, undefined, ownershipStepsNative(native));
  start.phase('dominators');
  const reverse: ReverseEdges = {
    first: new Uint32Array(snapshot.nodeCount + 1),
    from: new Uint32Array(snapshot.edgeCount),
  };
  const tree = dominatorTreeOnThreadPool(native, snapshot, start.essential, reverse);
  tree.catch(() => undefined);
  const classes = classFigures(start, options);
  const [selfSizes, { tree: dominators, children }] = await Promise.all([sizes, tree]);
  // Allocated only now: the tree's working memory has gone by then.
  const retained = retainedSizesNative(native, dominators, selfSizes);
  return finishAnalysis(start, dominators, { ...classes, selfSizes }, reverse, {
    retained,
    children,
  });
}

/**
 * `sizeOf(value)`: the true size of a live value, from V8's own heap.
 *
 * ```ts
 * import { sizeOf } from 'heapscope';
 * const s = await sizeOf(myMap);
 * s.shallowBytes;    // the object itself, with the internal arrays only it owns
 * s.retainedBytes;   // what would be freed if only this value were dropped
 * s.reachableBytes;  // everything it reaches, shared objects included
 * s.externalBytes;   // of that, ArrayBuffer / Buffer contents and other off-heap memory
 * s.byType;          // reachableBytes by kind: objects, arrays, strings, closures, code…
 * ```
 *
 * ## How
 *
 * `sizeOf` takes a heap snapshot of the running process with heapscope's native helper
 * (or, without it, `v8.writeHeapSnapshot`), synchronously, at the moment of the call: V8 does a full GC and writes the graph from
 * C++ straight to a temporary file, without using the JavaScript heap. Only then does it
 * ask V8 for the value's heap-object id, read the file back (streaming, into typed
 * arrays) and analyse it, asynchronously; what the program does meanwhile does not
 * change the answer. The value is found by its id, never by its shape. The file is
 * deleted before the promise settles.
 *
 * Holding the value while measuring does not change its figures: the argument is one
 * more reference *to* the value, and retained size is computed on the dominator tree
 * (what the value dominates does not depend on who else points at it). Other references
 * into the value do count, as they should: objects passed in `stopAt` are held by the
 * call like by any variable of the caller, and a suspended function (an `async` function
 * at an `await`, a module's top level) may still hold a temporary, such as the previous
 * value of a loop variable; what they hold is not in the value's `retainedBytes`. Build
 * what you measure in a function that has returned.
 *
 * ## The figures
 *
 * - `shallowBytes`: the node's size as Chrome DevTools shows it ("Shallow Size"): the
 *   object plus the internal arrays that only it owns (out-of-object properties,
 *   elements, a Map's or Set's hash table). `{}` is 56 bytes on x64 (header and 4 slack
 *   property slots), `{a, b}` as a literal 40, an array of n elements 32 + 16 + 8·capacity.
 * - `retainedBytes`: DevTools' "Retained Size", on its dominator tree with its rules
 *   for weak and WeakMap edges: the bytes the GC would free if only this value went.
 * - `reachableBytes`: every heap node reachable from the value over non-weak edges,
 *   counted once, shared ones included. By default (`stopAtGlobals: true`) the walk
 *   leaves out the runtime: the global object and what it holds (global variables,
 *   builtins), native contexts, modules' and scripts' top-level scopes, script sources,
 *   V8's builtin code and read-only objects (`undefined`, `true`, empty arrays), and each
 *   object's type (its hidden class and prototype, shared by every object of its kind).
 *   With `stopAtGlobals: false` it follows every non-weak edge, which for nearly any
 *   value is the whole heap (every object reaches its prototype, whose constructor's
 *   native context holds the global object). `stopAt` leaves out more (shared caches).
 * - `externalBytes`: the part of `reachableBytes` outside V8's heap: ArrayBuffer and
 *   Buffer contents (V8's `system / JSArrayBufferData` nodes, exact allocation sizes),
 *   external strings' data, Node's C++ objects. Also in `byType.external`.
 *
 * ## Cost
 *
 * The process stops while V8 collects garbage and writes the snapshot: CPU work that
 * grows with the number of heap objects. Measured with `bench/size-of-vs-object-sizeof.mjs`
 * on Node 20, x64, on a shared 2-CPU machine (load average 5): an 8 MB heap (72k nodes)
 * stopped for 0.4 s, a 107 MB heap (2.6M nodes) for 10.6 s, the whole call using 0.6 s
 * and 9.8 s of CPU (Node 26: 0.6 s and 10.2 s stopped); without other load the wall-clock
 * times come closer to the CPU time. Reading and analysing the file (`cost.analyzeMs`:
 * 0.3 s and 3.7 s) runs afterwards, on the same thread but as ordinary asynchronous work. Memory: V8 builds the snapshot in native
 * memory, about 270 bytes per heap object (the process's peak RSS grew by 700 MB for
 * the 2.6M-node heap); the temporary file is about 1.8× the heap; reading and analysing
 * it afterwards stays below V8's peak. `cost` in each result says what that call took.
 * Use `sizeOf` in tests, diagnostics and benchmarks, not on every request;
 * {@link sizeOfEach} measures many values for the price of one snapshot.
 *
 * ## What it does not measure
 *
 * Numbers, booleans, `undefined` and `null` are not heap objects (a small integer is
 * stored in its holder's slot, a double in the holder or in a box of its own, and the
 * others are V8 singletons): `sizeOf` rejects them with a TypeError. Strings, symbols and
 * BigInts are heap objects and are measured.
 *
 * Taking a snapshot gives every live object a heap-object id, and V8's allocation
 * tracker stops following the moves of objects that have one: allocation sites of live
 * objects in a later tracked snapshot (exact mode, a `Profiler`, `heapscope run`) are
 * then less reliable for objects that existed at the `sizeOf` call (see DESIGN.md, "Live
 * at end per site"). Measure sizes outside such regions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHeapSnapshot } from '../formats/heapsnapshot/index.js';
import { dominators } from '../model/snapshot/dominators.js';
import { edgeName, edgeTarget, graphKinds, nodeById } from '../model/snapshot/graph.js';
import type { HeapSnapshot } from '../model/snapshot/heap-snapshot.js';
import { essentialEdges, pageOwnedNodes, shallowSizes } from '../model/snapshot/ownership.js';
import { type SizeByType, sizeContext, type ValueSize, valueSize } from '../model/snapshot-size.js';
import { loadNative } from '../native/addon.js';
import { inspectorSync, writeSnapshotWithV8 } from './region-tracker.js';

export type { SizeByType };

export interface SizeOfOptions {
  /**
   * Objects whose subgraphs `reachableBytes` does not enter, e.g. shared caches. They
   * are found in the snapshot by heap-object id, like the value.
   */
  stopAt?: unknown[];
  /**
   * Leave the runtime (global object, global variables, builtins, native contexts,
   * top-level scopes, script sources) and each object's hidden class and prototype out
   * of `reachableBytes` (default true). `false` follows every non-weak edge.
   */
  stopAtGlobals?: boolean;
  /** Directory for the temporary snapshot file (default: the OS temp directory). */
  tempDir?: string;
}

export interface SizeOfResult extends ValueSize {
  /** What measuring cost. */
  cost: {
    /** How long the process was stopped to take the snapshot (GC + writing it), ms. */
    pauseMs: number;
    /** Reading and analysing the snapshot afterwards (the process runs), ms. */
    analyzeMs: number;
    /** Heap nodes in the snapshot. */
    snapshotNodes: number;
  };
}

/**
 * Shallow, retained and reachable bytes of `value`, from a heap snapshot of this
 * process taken at the call. Throws a TypeError for values that are not heap objects
 * (numbers, booleans, `undefined`, `null`), in `value` or `stopAt`. Without heapscope's
 * native helper the snapshot comes from `v8.writeHeapSnapshot` and the value's id from
 * the inspector (`HeapProfiler.getHeapObjectId`): the same figures.
 */
export async function sizeOf(value: unknown, options: SizeOfOptions = {}): Promise<SizeOfResult> {
  checkHeapValue(value, 'sizeOf(value)');
  const [result] = await measureValues([value], options);
  return result;
}

/**
 * {@link sizeOf} for several values from one snapshot: one pause instead of one per
 * value, and figures of the same instant. The array holds every value while the snapshot
 * is taken: a value that is also inside another one is then held from outside that one,
 * and not in its `retainedBytes` (measure such a pair with two `sizeOf` calls).
 */
export async function sizeOfEach(
  values: readonly unknown[],
  options: SizeOfOptions = {},
): Promise<SizeOfResult[]> {
  if (!Array.isArray(values)) throw new TypeError('heapscope: sizeOfEach: values must be an array');
  values.forEach((v, i) => {
    checkHeapValue(v, `sizeOfEach: values[${i}]`);
  });
  return measureValues(values, options);
}

async function measureValues(
  values: readonly unknown[],
  options: SizeOfOptions,
): Promise<SizeOfResult[]> {
  const stopAt = options.stopAt ?? [];
  if (!Array.isArray(stopAt)) throw new TypeError('heapscope: sizeOf: stopAt must be an array');
  stopAt.forEach((v, i) => {
    checkHeapValue(v, `sizeOf: stopAt[${i}]`);
  });
  const heap = heapAccess();
  const dir = mkdtempSync(join(options.tempDir ?? tmpdir(), 'heapscope-sizeof-'));
  try {
    const file = join(dir, 'value.heapsnapshot');
    const located = heap.prepare([...values, ...stopAt]);
    const t0 = performance.now();
    heap.writeSnapshot(file);
    const pauseMs = performance.now() - t0;
    // Ids exist now for every object the snapshot saw, and stay stable while they live.
    const refs = located.map((locate) => locate());
    const t1 = performance.now();
    const snapshot = await readHeapSnapshot(file);
    const find = (ref: ValueRef, what: string): number => {
      let node = ref.id === 0 ? -1 : nodeById(snapshot, ref.id);
      if (node >= 0 && ref.property !== undefined)
        node = propertyTarget(snapshot, node, ref.property);
      if (node < 0) {
        throw new Error(
          `heapscope: sizeOf: ${what} (heap-object id ${ref.id}) is not in the snapshot`,
        );
      }
      return node;
    };
    const nodes = values.map((_, i) =>
      find(refs[i]!, values.length === 1 ? 'the value' : `values[${i}]`),
    );
    const stop = stopAt.map((_, i) => find(refs[values.length + i]!, `stopAt[${i}]`));
    const kinds = graphKinds(snapshot);
    const essential = essentialEdges(snapshot, kinds, pageOwnedNodes(snapshot, kinds));
    const tree = dominators(snapshot, { essential });
    const context = sizeContext(snapshot, kinds, shallowSizes(snapshot, kinds), tree);
    const stopAtGlobals = options.stopAtGlobals ?? true;
    const sizes = nodes.map((node) => valueSize(context, node, { stop, stopAtGlobals }));
    const cost = { pauseMs, analyzeMs: performance.now() - t1, snapshotNodes: snapshot.nodeCount };
    return sizes.map((size) => ({ ...size, cost }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where a value is in the snapshot: the node with this id, or the target of its property edge. */
interface ValueRef {
  id: number;
  property?: string;
}

interface HeapAccess {
  /** Before the snapshot: one function per value, to call after it. */
  prepare(values: readonly unknown[]): (() => ValueRef)[];
  writeSnapshot(path: string): void;
}

/**
 * The snapshot and the values' ids: from the native helper, or, where it is missing, from
 * \`v8.writeHeapSnapshot\` and \`HeapProfiler.getHeapObjectId\` in an in-thread inspector
 * session. The inspector gives ids to objects only (a string comes back by value), so
 * each value goes into a holder object made before the snapshot, found by its id, and the
 * value is the target of the holder's property edge.
 */
function heapAccess(): HeapAccess {
  const loaded = loadNative();
  if ('addon' in loaded) {
    const { addon } = loaded;
    return {
      prepare: (values) => values.map((v) => () => ({ id: addon.objectId(v) })),
      writeSnapshot: (path) => addon.writeSnapshot(path),
    };
  }
  const sync = inspectorSync();
  return {
    prepare(values) {
      const holders = values.map((heapscopeValue) => ({ heapscopeValue }));
      return holders.map((holder) => () => ({
        id: sync.heapObjectIdOf(sync.sharedSession(), holder),
        property: 'heapscopeValue',
      }));
    },
    writeSnapshot: writeSnapshotWithV8,
  };
}

/** The target of \`node\`'s property edge \`name\`, or -1. */
function propertyTarget(snapshot: HeapSnapshot, node: number, name: string): number {
  const end = snapshot.firstEdge[node + 1]!;
  for (let e = snapshot.firstEdge[node]!; e < end; e += snapshot.edgeFieldCount) {
    if (edgeName(snapshot, e) === name) return edgeTarget(snapshot, e);
  }
  return -1;
}

function checkHeapValue(value: unknown, what: string): void {
  const type = value === null ? 'null' : typeof value;
  if (type === 'number' || type === 'boolean' || type === 'undefined' || type === 'null') {
    throw new TypeError(
      `heapscope: ${what} is ${type === 'null' || type === 'undefined' ? type : `a ${type}`}, not a heap object: ` +
        'numbers, booleans, undefined and null have no size of their own (a number lives in its holder or in a box per holder); measure the object that holds it',
    );
  }
}

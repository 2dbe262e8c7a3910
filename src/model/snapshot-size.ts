/**
 * The size of one value in a heap snapshot: its shallow, retained and reachable bytes,
 * with the reachable bytes broken down by kind. Pure functions over the reader's typed
 * arrays; `sizeOf()` (src/measure/size-of.ts) takes the snapshot and finds the value.
 *
 * - **shallow**: the node's self size as Chrome DevTools shows it: the object plus the
 *   internal arrays that only it owns (out-of-object properties, elements, a Map's hash
 *   table), from {@link shallowSizes}.
 * - **retained**: its self size plus the self sizes of every node it dominates, on
 *   DevTools' dominator tree ({@link dominators} over {@link essentialEdges}): what the
 *   GC would free if only this value were dropped.
 * - **reachable**: every node reachable from it over non-weak edges, shared ones
 *   included, each counted once at V8's own self size. With `stopAtGlobals` (the
 *   default) the walk does not enter the runtime ({@link runtimeNodes}) nor follow an
 *   object's type (its hidden class and prototype); without it, nearly every value
 *   reaches the whole heap, since every object reaches its prototype, whose
 *   constructor's native context holds the global object. Nodes in `stop` are neither
 *   counted nor walked through.
 */

import { type DominatorTree, retainedSizes } from './snapshot/dominators.js';
import type { GraphKinds } from './snapshot/graph.js';
import type { HeapSnapshot } from './snapshot/heap-snapshot.js';
import { Uint32Stack } from './snapshot/uint32-stack.js';

/** Bytes by kind of heap node. Together they make `reachableBytes`. */
export interface SizeByType {
  /** JavaScript objects (`object`, `regexp` nodes): plain objects, arrays, Maps, class instances, ArrayBuffer and Buffer objects (not their contents). */
  objects: number;
  /** V8's internal arrays, the backing stores: arrays' elements, objects' out-of-object properties, Map and Set hash tables. */
  arrays: number;
  /** Strings: flat, concatenated (cons) and sliced. */
  strings: number;
  /** Function objects (`closure` nodes); their code is under `code`. */
  closures: number;
  /** Bytecode, shared function infos, scope infos, feedback: what closures reach. */
  code: number;
  /** Heap numbers (doubles stored in their own box). */
  numbers: number;
  /** Memory outside V8's heap: ArrayBuffer and Buffer contents, external string data, Node's C++ objects. */
  external: number;
  /** The rest: V8 system objects (contexts, property cells, accessor pairs), symbols, BigInts. */
  other: number;
}

export interface ValueSize {
  /** Snapshot object id of the value (`@id` in DevTools). */
  id: number;
  /** V8's node type: object, closure, string, concatenated string… */
  type: string;
  /** The node's name: a constructor name for objects, the text for strings (first 80 characters). */
  name: string;
  shallowBytes: number;
  retainedBytes: number;
  reachableBytes: number;
  /** The part of `reachableBytes` outside V8's heap (= `byType.external`). */
  externalBytes: number;
  /** `reachableBytes` by kind. */
  byType: SizeByType;
  /** How many heap nodes each figure covers. */
  nodes: { shallow: number; retained: number; reachable: number };
}

export interface ValueSizeOptions {
  /** Nodes (ordinals) whose subgraphs `reachable` does not enter (the value itself is always counted). */
  stop?: Iterable<number>;
  /** Do not enter the runtime nor follow type edges (default true): see {@link runtimeNodes}. */
  stopAtGlobals?: boolean;
}

/** What {@link valueSize} needs of a snapshot beyond its arrays: computed once per snapshot. */
export interface SizeContext {
  snapshot: HeapSnapshot;
  kinds: GraphKinds;
  /** DevTools' self sizes (owned internal arrays folded into their owner). */
  selfSizes: Float64Array;
  dominators: DominatorTree;
  /** Retained size of every node. */
  retained: Float64Array;
  /** {@link runtimeNodes}, computed on first use. */
  runtime?: Uint8Array;
  /** The `byType` key of a node (by its offset in `nodes`), made on first use. */
  category?: (p: number) => keyof SizeByType;
}

export function sizeContext(
  snapshot: HeapSnapshot,
  kinds: GraphKinds,
  selfSizes: Float64Array,
  tree: DominatorTree,
): SizeContext {
  return {
    snapshot,
    kinds,
    selfSizes,
    dominators: tree,
    retained: retainedSizes(tree, selfSizes),
  };
}

const MAX_NAME = 80;

/** Sizes of the node at ordinal `node`. */
export function valueSize(
  context: SizeContext,
  node: number,
  options: ValueSizeOptions = {},
): ValueSize {
  const { snapshot, selfSizes } = context;
  const { nodes, nodeFieldCount, nodeOffsets: o, strings, meta } = snapshot;
  if (!Number.isInteger(node) || node < 0 || node >= snapshot.nodeCount) {
    throw new RangeError(`snapshot-size: no node ${node} (the snapshot has ${snapshot.nodeCount})`);
  }
  const dominated = dominatedBy(context.dominators, node);
  let retainedCount = 0;
  for (let n = 0; n < dominated.length; n++) retainedCount += dominated[n];

  const stop = new Uint8Array(snapshot.nodeCount);
  for (const n of options.stop ?? []) if (n !== node) stop[n] = 1;
  const stopAtGlobals = options.stopAtGlobals ?? true;
  if (stopAtGlobals) context.runtime ??= runtimeNodes(snapshot, context.kinds);
  const reachable = reachableFrom(context, node, dominated, stop, stopAtGlobals);

  const byType = emptyByType();
  context.category ??= categories(snapshot);
  const category = context.category;
  let reachableBytes = 0;
  let reachableCount = 0;
  for (let n = 0, p = 0; n < snapshot.nodeCount; n++, p += nodeFieldCount) {
    if (reachable[n] === 0) continue;
    const size = nodes[p + o.selfSize];
    reachableBytes += size;
    reachableCount++;
    byType[category(p)] += size;
  }
  const p = node * nodeFieldCount;
  const name = strings.get(nodes[p + o.name]) ?? '';
  return {
    id: nodes[p + o.id],
    type: meta.nodeTypes[nodes[p + o.type]],
    name: name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name,
    shallowBytes: selfSizes[node],
    retainedBytes: context.retained[node],
    reachableBytes,
    externalBytes: byType.external,
    byType,
    nodes: {
      shallow: ownedCount(context, node),
      retained: retainedCount,
      reachable: reachableCount,
    },
  };
}

function emptyByType(): SizeByType {
  return {
    objects: 0,
    arrays: 0,
    strings: 0,
    closures: 0,
    code: 0,
    numbers: 0,
    external: 0,
    other: 0,
  };
}

/** The `byType` key of the node at offset `p` in `nodes`. */
function categories(snapshot: HeapSnapshot): (p: number) => keyof SizeByType {
  const { nodes, strings, nodeOffsets: o } = snapshot;
  const byNodeType = snapshot.meta.nodeTypes.map((t): keyof SizeByType => {
    switch (t) {
      case 'object':
      case 'regexp':
        return 'objects';
      case 'array':
        return 'arrays';
      case 'string':
      case 'concatenated string':
      case 'sliced string':
        return 'strings';
      case 'closure':
        return 'closures';
      case 'code':
        return 'code';
      case 'number':
        return 'numbers';
      case 'native':
        return 'external';
      default:
        return 'other';
    }
  });
  // Backing stores that V8 types `hidden` or `code` (a literal's copy-on-write elements).
  const arrayNames = new Set(
    ['system / PropertyArray', '(object elements)', '(object properties)', '(constant elements)']
      .map((s) => strings.indexOf(s))
      .filter((i) => i >= 0),
  );
  const nativeType = snapshot.meta.nodeTypes.indexOf('native');
  return (p) => {
    const type = nodes[p + o.type];
    if (type !== nativeType && arrayNames.has(nodes[p + o.name])) return 'arrays';
    return byNodeType[type] ?? 'other';
  };
}

/** 1 for `node` and every node it dominates. */
export function dominatedBy(tree: DominatorTree, node: number): Uint8Array {
  const { dominator, order } = tree;
  const inside = new Uint8Array(dominator.length);
  inside[node] = 1;
  // `order` lists each node after its dominator.
  for (let i = 0; i < order.length; i++) {
    const n = order[i];
    if (inside[dominator[n]] === 1 && n !== dominator[n]) inside[n] = 1;
  }
  return inside;
}

/**
 * Nodes of the runtime rather than of any one value, where `stopAtGlobals` stops:
 *
 * - synthetic nodes (GC root categories);
 * - native contexts, what they hold (the global object and its proxy, the intrinsic
 *   constructors and prototypes, the script-context table, the embedder's data) and what
 *   those hold in turn (global variables, builtin methods, scripts' top-level scopes);
 * - top-level scopes: contexts whose `previous` is a native context (an ES module's or a
 *   CommonJS module's top-level variables, a script's);
 * - scripts (source text, line ends), reached from functions' shared infos;
 * - what `(Builtins)` and `(Read-only roots)` hold: builtin code, `undefined`, `null`,
 *   `true`, `false`, the hole, empty arrays, read-only strings and maps.
 */
export function runtimeNodes(snapshot: HeapSnapshot, kinds: GraphKinds): Uint8Array {
  const { nodes, edges, firstEdge, nodeFieldCount, nodeCount, strings } = snapshot;
  const efc = snapshot.edgeFieldCount;
  const { type: typeOff, name: nameOff } = snapshot.nodeOffsets;
  const { type: eTypeOff, nameOrIndex: eNameOff, toNode: toOff } = snapshot.edgeOffsets;
  const runtime = new Uint8Array(nodeCount);
  const nativeContext = strings.indexOf('system / NativeContext');
  const rootLists = new Set(
    ['(Builtins)', '(Read-only roots)'].map((s) => strings.indexOf(s)).filter((i) => i >= 0),
  );
  const previous = strings.indexOf('previous');
  const scriptEdges = new Set(
    ['script', 'script_or_debug_info'].map((s) => strings.indexOf(s)).filter((i) => i >= 0),
  );
  const named = (e: number, names: Set<number> | number): boolean => {
    const type = edges[e + eTypeOff];
    if (type !== kinds.edgeInternal && type !== kinds.edgeProperty) return false;
    const name = edges[e + eNameOff];
    return typeof names === 'number' ? name === names : names.has(name);
  };
  const holdsAll = (n: number, level: Uint8Array | undefined) => {
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      if (edges[e + eTypeOff] === kinds.edgeWeak) continue;
      const to = edges[e + toOff] / nodeFieldCount;
      runtime[to] = 1;
      if (level) level[to] = 1;
    }
  };
  const level1 = new Uint8Array(nodeCount);
  for (let n = 0, p = 0; n < nodeCount; n++, p += nodeFieldCount) {
    const type = nodes[p + typeOff];
    const name = nodes[p + nameOff];
    if (type === kinds.nodeSynthetic) {
      runtime[n] = 1;
      if (rootLists.has(name)) holdsAll(n, undefined);
      continue;
    }
    if (name === nativeContext && nativeContext >= 0) {
      runtime[n] = 1;
      holdsAll(n, level1);
    }
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      const to = edges[e + toOff];
      if (
        previous >= 0 &&
        named(e, previous) &&
        nodes[to + nameOff] === nativeContext &&
        nodes[to + typeOff] !== kinds.nodeSynthetic
      ) {
        runtime[n] = 1;
      } else if (scriptEdges.size > 0 && named(e, scriptEdges)) {
        runtime[to / nodeFieldCount] = 1;
      }
    }
  }
  for (let n = 0; n < nodeCount; n++) {
    if (level1[n] === 1 && nodes[n * nodeFieldCount + nameOff] !== nativeContext) {
      holdsAll(n, undefined);
    }
  }
  return runtime;
}

/**
 * 1 for every node reachable from `start` over non-weak, non-shortcut edges, not entering
 * `stop`. With `stopAtGlobals`, the walk does not enter the runtime nor follow `map` and
 * `__proto__` edges, except into nodes that `start` dominates (its own hidden class,
 * when no other object has its shape): those are counted, and from them the walk goes
 * on to dominated nodes only. So whatever `retained` counts is reachable too, unless the
 * caller stopped it.
 */
function reachableFrom(
  context: SizeContext,
  start: number,
  dominated: Uint8Array,
  stop: Uint8Array,
  stopAtGlobals: boolean,
): Uint8Array {
  const { snapshot, kinds } = context;
  const { edges, firstEdge, nodeFieldCount, nodeCount, strings } = snapshot;
  const efc = snapshot.edgeFieldCount;
  const { type: eTypeOff, nameOrIndex: eNameOff, toNode: toOff } = snapshot.edgeOffsets;
  const runtime = context.runtime;
  const map = strings.indexOf('map');
  const proto = strings.indexOf('__proto__');
  // 0: not reached; TYPE: reached only through a type edge or the runtime (walk on to
  // dominated nodes only); DATA: reached as data.
  const TYPE = 1;
  const DATA = 2;
  const seen = new Uint8Array(nodeCount);
  const stack = new Uint32Stack();
  seen[start] = DATA;
  stack.push(start);
  while (stack.length > 0) {
    const n = stack.pop();
    const from = seen[n];
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      const type = edges[e + eTypeOff];
      if (type === kinds.edgeWeak || type === kinds.edgeShortcut) continue;
      const to = edges[e + toOff] / nodeFieldCount;
      if (seen[to] === DATA || stop[to] === 1) continue;
      let state = from;
      if (stopAtGlobals) {
        const name = edges[e + eNameOff];
        const typeEdge =
          (type === kinds.edgeInternal && name === map) ||
          (type === kinds.edgeProperty && name === proto);
        if (typeEdge || runtime?.[to] === 1) state = TYPE;
        if (state === TYPE && dominated[to] === 0) continue;
      }
      if (seen[to] >= state) continue;
      seen[to] = state;
      stack.push(to);
    }
  }
  for (let n = 0; n < nodeCount; n++) if (seen[n] !== 0) seen[n] = 1;
  return seen;
}

/**
 * How many nodes the shallow size covers: the node and the internal arrays whose bytes
 * {@link shallowSizes} moved into it (those it reaches through ownable nodes, whose own
 * DevTools size became 0).
 */
function ownedCount(context: SizeContext, node: number): number {
  const { snapshot, kinds, selfSizes } = context;
  const { nodes, edges, firstEdge, nodeFieldCount, strings } = snapshot;
  const efc = snapshot.edgeFieldCount;
  const { type: typeOff, name: nameOff, selfSize: sizeOff } = snapshot.nodeOffsets;
  const externalStringData = strings.indexOf('system / ExternalStringData');
  const ownable = (p: number) => {
    const type = nodes[p + typeOff];
    return (
      type === kinds.nodeHidden ||
      type === kinds.nodeArray ||
      (type === kinds.nodeNative && nodes[p + nameOff] === externalStringData)
    );
  };
  const seen = new Set<number>([node]);
  const work = [node];
  let count = 1;
  while (work.length > 0) {
    const n = work.pop()!;
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      if (edges[e + snapshot.edgeOffsets.type] === kinds.edgeWeak) continue;
      const to = edges[e + snapshot.edgeOffsets.toNode] / nodeFieldCount;
      const p = to * nodeFieldCount;
      if (seen.has(to) || !ownable(p) || selfSizes[to] !== 0 || nodes[p + sizeOff] === 0) {
        continue;
      }
      seen.add(to);
      work.push(to);
      count++;
    }
  }
  return count;
}

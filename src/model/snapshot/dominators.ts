/**
 * Dominator tree and retained sizes of a heap graph, over typed arrays.
 *
 * Node `d` dominates node `n` when every path from the root to `n` passes through `d`;
 * the retained size of `d` is what the GC would free if `d` were gone: its own size plus
 * the sizes of every node it dominates.
 *
 * The numbers agree with Chrome DevTools' (`HeapSnapshot.calculateDominatorsAndRetainedSizes`,
 * Lengauer–Tarjan) to the byte, including its treatment of what the root does not reach.
 * Which edges count is decided by {@link essentialEdges}.
 *
 * Memory: the result is two arrays of `nodeCount` (dominators, retained sizes); while it
 * runs, six 32-bit arrays of `nodeCount` and the counting edges reversed.
 */

import { exactDivisor, ROOT_ORDINAL } from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { growUint32 } from './uint32-stack.js';

export interface DominatorTree {
  /** Immediate dominator of each node (an ordinal); the root's is the root. */
  dominator: Uint32Array;
  /**
   * Every node once, each after its dominator (the depth-first order the algorithm
   * numbered them in): walk it backwards to go from leaves to the root.
   */
  order: Uint32Array;
  /** Nodes not reachable from the root through counting edges (they hang off the root). */
  unreachable: number;
}

/** The parts of a snapshot the dominators read: its edges, nothing about its nodes. */
export type EdgeGraph = Pick<
  HeapSnapshot,
  'edges' | 'firstEdge' | 'nodeCount' | 'nodeFieldCount' | 'edgeFieldCount' | 'edgeOffsets'
>;

/** Counting retainers of every node: those of ordinal `v` are `from[first[v] .. first[v + 1])`. */
export interface ReverseEdges {
  /** `nodeCount + 1` entries. */
  first: Uint32Array;
  /** Ordinals of the retainers (at least as long as the counting edges). */
  from: Uint32Array;
}

export interface DominatorOptions {
  /** One bit per edge ordinal: the edges that count (see `essentialEdges`). Default: all. */
  essential?: Uint32Array;
  /** Root ordinal (default 0, where V8 writes it). */
  root?: number;
  /**
   * The counting edges reversed (see {@link reverseEdges}), or a function that returns
   * them when they are first needed (another thread may still be building them while
   * the depth-first search runs). Default: computed here. Its `from` is overwritten.
   */
  reverse?: ReverseEdges | (() => ReverseEdges);
  /**
   * A Uint32Array of at least `nodeCount + 1` entries to use as one of the working arrays
   * instead of a new one (say, one a previous step worked in): overwritten.
   */
  scratch?: Uint32Array;
}

/** A bit per edge, all set: every edge counts. */
function allEdges(count: number): Uint32Array {
  return new Uint32Array(Math.ceil(count / 32)).fill(0xffffffff);
}

/** Whether edge ordinal `o` counts. */
function counts(essential: Uint32Array | undefined, o: number): boolean {
  return essential === undefined || (essential[o >>> 5] & (1 << (o & 31))) !== 0;
}

/**
 * The counting edges reversed, by ordinal. `into` supplies the arrays (say, in shared
 * memory): `first` of `nodeCount + 1` entries and `from` of at least `edgeCount`.
 */
export function reverseEdges(
  graph: EdgeGraph,
  essential?: Uint32Array,
  into?: ReverseEdges,
): ReverseEdges {
  const { edges, firstEdge, nodeCount, nodeFieldCount, edgeFieldCount: efc } = graph;
  const toOff = graph.edgeOffsets.toNode;
  const { shift, inverse } = exactDivisor(nodeFieldCount);
  const first = into?.first ?? new Uint32Array(nodeCount + 1);
  first.fill(0);
  for (let e = toOff, o = 0; e < edges.length; e += efc, o++) {
    if (counts(essential, o)) first[Math.imul(edges[e] >>> shift, inverse) >>> 0]++;
  }
  // Running sums: first[v] becomes the end of v's slice; filling walks it back to the start.
  for (let v = 1; v <= nodeCount; v++) first[v] += first[v - 1];
  const from = into?.from ?? new Uint32Array(first[nodeCount]);
  if (from.length < first[nodeCount]) throw new RangeError('reverseEdges: `from` is too short');
  for (let v = 0; v < nodeCount; v++) {
    const end = firstEdge[v + 1];
    for (let e = firstEdge[v], o = e / efc; e < end; e += efc, o++) {
      if (counts(essential, o))
        from[--first[Math.imul(edges[e + toOff] >>> shift, inverse) >>> 0]] = v;
    }
  }
  return { first, from };
}

/**
 * Immediate dominators of every node. Unreachable nodes get the root as dominator, as in
 * DevTools.
 *
 * Semi-NCA (Georgiadis and Tarjan; Lengauer–Tarjan's semidominators, then each
 * immediate dominator as the nearest common ancestor of its parent and semidominator),
 * in depth-first-number space: number the nodes, then two passes over the numbers with
 * the retainers of each (the counting edges reversed, {@link reverseEdges}).
 *
 * What the root does not reach is treated as DevTools treats it: a node with no counting
 * retainer starts a depth-first search of its own under the root; what even those miss
 * (cycles kept only by one another) becomes the root's child, and its edges count for
 * nothing (DevTools numbers those nodes last, where Lengauer–Tarjan never looks at them).
 * The randomized tests check this against DevTools' code.
 */
export function dominators(snapshot: EdgeGraph, options: DominatorOptions = {}): DominatorTree {
  const { edges, firstEdge, nodeCount, nodeFieldCount, edgeFieldCount: efc } = snapshot;
  const toOff = snapshot.edgeOffsets.toNode;
  const essential = options.essential;
  const root = options.root ?? ROOT_ORDINAL;
  const size = nodeCount + 1;
  const { shift, inverse } = exactDivisor(nodeFieldCount);
  let reverse: ReverseEdges | undefined;
  const retainersOf = (): ReverseEdges => {
    if (reverse) return reverse;
    const given = options.reverse;
    reverse = typeof given === 'function' ? given() : (given ?? reverseEdges(snapshot, essential));
    return reverse;
  };

  // Depth-first numbering, 1-based. vertex: number → ordinal; parent: number → the
  // parent's number; num: ordinal → number, filled after the search (a scattered write
  // per node inside the search would wait on memory at every step), and in full (every
  // node gets a number), so a scratch array will do.
  const num = options.scratch ? options.scratch.subarray(0, size) : new Uint32Array(size);
  const vertex = new Uint32Array(size);
  const parent = new Uint32Array(size);
  // Visited bits: small enough to stay in cache, unlike `num`.
  const seen = new Uint32Array((nodeCount >>> 5) + 1);
  let n = 0;
  // The path being searched: each node's number and the ordinal of its next edge.
  let stackNumber: Uint32Array = new Uint32Array(1024);
  let stackEdge: Uint32Array = new Uint32Array(1024);
  let stackEnd: Uint32Array = new Uint32Array(1024);
  const counting = essential ?? allEdges(edges.length / efc);
  const dfs = (start: number, parentNumber: number) => {
    seen[start >>> 5] |= 1 << (start & 31);
    vertex[++n] = start;
    parent[n] = parentNumber;
    let depth = 0;
    stackNumber[0] = n;
    stackEdge[0] = firstEdge[start] / efc;
    stackEnd[0] = firstEdge[start + 1] / efc;
    while (depth >= 0) {
      const endOrdinal = stackEnd[depth];
      let o = stackEdge[depth];
      let w = -1;
      for (; o < endOrdinal; o++) {
        if ((counting[o >>> 5] & (1 << (o & 31))) === 0) continue;
        const t = Math.imul(edges[o * efc + toOff] >>> shift, inverse) >>> 0;
        if ((seen[t >>> 5] & (1 << (t & 31))) === 0) {
          w = t;
          o++;
          break;
        }
      }
      stackEdge[depth] = o;
      if (w < 0) {
        depth--;
        continue;
      }
      seen[w >>> 5] |= 1 << (w & 31);
      vertex[++n] = w;
      parent[n] = stackNumber[depth];
      if (++depth === stackNumber.length) {
        stackNumber = growUint32(stackNumber);
        stackEdge = growUint32(stackEdge);
        stackEnd = growUint32(stackEnd);
      }
      stackNumber[depth] = n;
      stackEdge[depth] = firstEdge[w] / efc;
      stackEnd[depth] = firstEdge[w + 1] / efc;
    }
  };
  const unseen = (v: number) => (seen[v >>> 5] & (1 << (v & 31))) === 0;
  dfs(root, 0);
  const reached = n;
  if (n < nodeCount) {
    // Nodes that nothing retains through a counting edge: each starts a DFS off the root.
    const { first } = retainersOf();
    for (let v = 0; v < nodeCount; v++) {
      if (unseen(v) && first[v] === first[v + 1]) dfs(v, 1);
    }
  }
  // Numbers above `searched` are the leftovers: children of the root, edges ignored.
  const searched = n;
  if (n < nodeCount) {
    for (let v = 0; v < nodeCount; v++) {
      if (unseen(v)) {
        vertex[++n] = v;
        parent[n] = 1;
      }
    }
  }
  for (let i = 1; i <= n; i++) num[vertex[i]] = i;

  // Retainers by number; a leftover's edges count for nothing (0 marks them).
  const { first, from } = retainersOf();
  const fromEnd = first[nodeCount];
  for (let k = 0; k < fromEnd; k++) {
    const v = num[from[k]];
    from[k] = v > searched ? 0 : v;
  }

  // Semidominators (Lengauer–Tarjan's eval/link with path compression), by number.
  const semi = new Uint32Array(size);
  const label = num; // no longer needed: reused
  const ancestor = new Uint32Array(size);
  for (let i = 0; i <= n; i++) {
    semi[i] = i;
    label[i] = i;
  }
  let stack: Uint32Array = new Uint32Array(1024);
  const compress = (v0: number): void => {
    let v = v0;
    let sp = 0;
    while (ancestor[ancestor[v]] !== 0) {
      if (++sp === stack.length) stack = growUint32(stack);
      stack[sp] = v;
      v = ancestor[v];
    }
    while (sp > 0) {
      const w = stack[sp--];
      const a = ancestor[w];
      if (semi[label[a]] < semi[label[w]]) label[w] = label[a];
      ancestor[w] = ancestor[a];
    }
  };
  for (let w = n; w >= 2; w--) {
    const ordinal = vertex[w];
    const pTo = first[ordinal + 1];
    // No counting retainer: as if the root were its only one.
    let best = 1;
    let any = false;
    for (let k = first[ordinal]; k < pTo; k++) {
      const v = from[k];
      if (v === 0) continue;
      if (!any) {
        any = true;
        best = w;
      }
      let u = v;
      if (ancestor[v] !== 0) {
        compress(v);
        u = label[v];
      }
      if (semi[u] < best) best = semi[u];
    }
    semi[w] = best;
    ancestor[w] = parent[w];
  }

  // Immediate dominators: the nearest ancestor of the parent at or above the semidominator.
  const idom = label; // labels are done with
  idom[1] = 1;
  for (let w = 2; w <= n; w++) {
    let d = parent[w];
    const s = semi[w];
    while (d > s) d = idom[d];
    idom[w] = d;
  }

  // Back to ordinals, into an array that is free now.
  const dominator = ancestor.subarray(0, nodeCount);
  for (let w = 1; w <= n; w++) dominator[vertex[w]] = vertex[idom[w]];
  return { dominator, order: vertex.subarray(1, n + 1), unreachable: nodeCount - reached };
}

/**
 * Retained size of every node: its self size plus the self sizes of all it dominates.
 * `selfSizes` is usually {@link shallowSizes}' result (what DevTools uses).
 */
export function retainedSizes(tree: DominatorTree, selfSizes: Float64Array): Float64Array {
  const { dominator, order } = tree;
  const retained = Float64Array.from(selfSizes);
  for (let i = order.length - 1; i > 0; i--) {
    const n = order[i];
    retained[dominator[n]] += retained[n];
  }
  return retained;
}

/** Children of each node in the dominator tree: `children[first[n] .. first[n + 1])`. */
export interface DominatorChildren {
  first: Uint32Array;
  children: Uint32Array;
}

/** `into`: arrays to fill instead of new ones (`first` of at least nodeCount + 1 entries, `children` of nodeCount − 1). */
export function dominatorChildren(
  tree: DominatorTree,
  root: number = ROOT_ORDINAL,
  into?: DominatorChildren,
): DominatorChildren {
  const { dominator } = tree;
  const count = dominator.length;
  const first = into ? into.first.subarray(0, count + 1).fill(0) : new Uint32Array(count + 1);
  for (let n = 0; n < count; n++) if (n !== root) first[dominator[n]]++;
  for (let n = 0, sum = 0; n <= count; n++) {
    sum += first[n];
    first[n] = sum;
  }
  const children = into
    ? into.children.subarray(0, Math.max(0, count - 1))
    : new Uint32Array(Math.max(0, count - 1));
  for (let n = count - 1; n >= 0; n--) if (n !== root) children[--first[dominator[n]]] = n;
  return { first, children };
}

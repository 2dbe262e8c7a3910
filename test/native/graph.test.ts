/**
 * The native graph steps (native/dominators.cc, native/ownership.cc) against their
 * JavaScript twins in model/snapshot/ on random graphs, array for array:
 * - the reversed edges, every node's dominator, the order and the unreachable count, on
 *   graphs with what the JavaScript code treats specially: edges that do not count,
 *   nodes nothing retains, cycles the root does not reach, self and parallel edges;
 * - the page-owned nodes, the essential edges and the self sizes, on snapshots with every
 *   node and edge type, user roots, DOM trees, WeakMap (ephemeron) edges and external
 *   strings.
 * Imports dist/ (the helper's loader is built there).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dominatorChildren,
  dominators,
  type EdgeGraph,
  type ReverseEdges,
  retainedSizes,
  reverseEdges,
} from '../../dist/model/snapshot/dominators.js';
import { graphKinds } from '../../dist/model/snapshot/graph.js';
import type { HeapSnapshot as DistHeapSnapshot } from '../../dist/model/snapshot/heap-snapshot.js';
import {
  essentialEdges,
  hasUserRoots,
  pageOwnedNodes,
  shallowSizes,
} from '../../dist/model/snapshot/ownership.js';
import {
  dominatorsNative,
  dominatorTreeOnThreadPool,
  ownershipStepsNative,
  retainedSizesNative,
  reverseEdgesNative,
  shallowSizesNative,
} from '../../dist/native/graph.js';
import { nativeSnapshotFunctions } from '../../dist/native/snapshot.js';
import { EDGE_TYPES, type HandNode, handSnapshot } from '../model/snapshot/snapshots.js';

const native = nativeSnapshotFunctions();
const NODE_FIELDS = 6;
const EDGE_FIELDS = 3;
const TO_NODE = 2;

interface RandomGraph {
  graph: EdgeGraph;
  essential: Uint32Array | undefined;
}

const graphArbitrary = fc
  .record({
    count: fc.integer({ min: 1, max: 60 }),
    perNode: fc.array(fc.array(fc.nat(), { maxLength: 5 }), { minLength: 60, maxLength: 60 }),
    counting: fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
    allCount: fc.boolean(),
  })
  .map(({ count, perNode, counting, allCount }): RandomGraph => {
    const targets = perNode.slice(0, count).map((list) => list.map((t) => t % count));
    const edgeCount = targets.reduce((sum, list) => sum + list.length, 0);
    const edges = new Uint32Array(edgeCount * EDGE_FIELDS);
    const firstEdge = new Uint32Array(count + 1);
    let e = 0;
    targets.forEach((list, v) => {
      firstEdge[v] = e;
      for (const t of list) {
        edges[e + TO_NODE] = t * NODE_FIELDS;
        e += EDGE_FIELDS;
      }
    });
    firstEdge[count] = e;
    const essential = new Uint32Array(Math.ceil(edgeCount / 32));
    for (let o = 0; o < edgeCount; o++) if (counting[o % 300]) essential[o >>> 5] |= 1 << (o & 31);
    return {
      graph: {
        edges,
        firstEdge,
        nodeCount: count,
        nodeFieldCount: NODE_FIELDS,
        edgeFieldCount: EDGE_FIELDS,
        edgeOffsets: { type: 0, nameOrIndex: 1, toNode: TO_NODE },
      } as EdgeGraph,
      essential: allCount ? undefined : essential,
    };
  });

function emptyReverse(graph: EdgeGraph): ReverseEdges {
  return {
    first: new Uint32Array(graph.nodeCount + 1),
    from: new Uint32Array(graph.edges.length / EDGE_FIELDS),
  };
}

describe.runIf(native)('native dominators', () => {
  it('reverse the edges exactly as the JavaScript code does', () => {
    fc.assert(
      fc.property(graphArbitrary, ({ graph, essential }) => {
        const js = reverseEdges(graph, essential);
        const ours = reverseEdgesNative(native!, graph, essential, emptyReverse(graph));
        expect(Array.from(ours.first)).toEqual(Array.from(js.first));
        const used = js.first[graph.nodeCount];
        expect(Array.from(ours.from.subarray(0, used))).toEqual(
          Array.from(js.from.subarray(0, used)),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('give every node the dominator, and the order, the JavaScript code gives', () => {
    let unreachable = 0;
    fc.assert(
      fc.property(graphArbitrary, ({ graph, essential }) => {
        const js = dominators(graph, { essential });
        const reverse = reverseEdgesNative(native!, graph, essential, emptyReverse(graph));
        const ours = dominatorsNative(native!, graph, essential, reverse);
        expect(Array.from(ours.dominator)).toEqual(Array.from(js.dominator));
        expect(Array.from(ours.order)).toEqual(Array.from(js.order));
        expect(ours.unreachable).toBe(js.unreachable);
        unreachable += js.unreachable > 0 ? 1 : 0;
      }),
      { numRuns: 500 },
    );
    // The graphs did exercise the handling of what the root does not reach.
    expect(unreachable).toBeGreaterThan(50);
  });

  it('builds the tree, retained sizes and children on the thread pool as the JavaScript code does', async () => {
    await fc.assert(
      fc.asyncProperty(
        graphArbitrary,
        fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 60, maxLength: 60 }),
        fc.boolean(),
        async ({ graph, essential }, sizes, roomy) => {
          const n = graph.nodeCount;
          const self = Float64Array.from(sizes.slice(0, n));
          const bits = essential ?? new Uint32Array(Math.ceil(graph.edges.length / 96)).fill(~0);
          const tree = dominators(graph, { essential: bits });
          const retained = retainedSizes(tree, self);
          const children = dominatorChildren(tree);
          // `from` with room for the children and the work list after them, or without.
          const reverse = {
            first: new Uint32Array(n + 1),
            from: new Uint32Array(Math.max(roomy ? 2 * n : 0, graph.edges.length / 3)),
          };
          const ours = await dominatorTreeOnThreadPool(native!, graph, bits, reverse);
          expect(Array.from(ours.tree.dominator)).toEqual(Array.from(tree.dominator));
          expect(Array.from(ours.tree.order)).toEqual(Array.from(tree.order));
          const oursRetained = retainedSizesNative(native!, ours.tree, self);
          expect(Array.from(oursRetained)).toEqual(Array.from(retained));
          expect(Array.from(ours.children.first)).toEqual(Array.from(children.first));
          expect(Array.from(ours.children.children)).toEqual(Array.from(children.children));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a graph whose edge points past the nodes, reading nothing out of bounds', () => {
    const graph = {
      edges: new Uint32Array([0, 0, 2 * NODE_FIELDS]),
      firstEdge: new Uint32Array([0, 3, 3]),
      nodeCount: 2,
      nodeFieldCount: NODE_FIELDS,
      edgeFieldCount: EDGE_FIELDS,
      edgeOffsets: { type: 0, nameOrIndex: 1, toNode: TO_NODE },
    } as EdgeGraph;
    expect(() => reverseEdgesNative(native!, graph, undefined, emptyReverse(graph))).toThrow(
      /outside the nodes/,
    );
    const reverse = { first: new Uint32Array(3), from: new Uint32Array(1) };
    expect(() => dominatorsNative(native!, graph, undefined, reverse)).toThrow(/outside the nodes/);
    // firstEdge past the edges, or arrays too short: a TypeError before any work.
    const past = { ...graph, firstEdge: new Uint32Array([0, 3, 6]) } as EdgeGraph;
    expect(() => reverseEdgesNative(native!, past, undefined, emptyReverse(graph))).toThrow(
      /not a valid edge graph/,
    );
    expect(() =>
      native!.reverseEdges(
        graph.edges,
        graph.firstEdge,
        2,
        EDGE_FIELDS,
        TO_NODE,
        1,
        3,
        null,
        new Uint32Array(2),
        new Uint32Array(1),
      ),
    ).toThrow(/first, from/);
  });
});

const NODE_KINDS = [
  'object',
  'object',
  'array',
  'hidden',
  'native',
  'synthetic',
  'string',
  'closure',
];

/** A random snapshot with every rule of ownership.ts in play. */
const snapshotArbitrary = fc.integer({ min: 3, max: 40 }).chain((count) =>
  fc.record({
    count: fc.constant(count),
    types: fc.array(fc.constantFrom(...NODE_KINDS), { minLength: count, maxLength: count }),
    sizes: fc.array(fc.integer({ min: 0, max: 2 ** 31 }), { minLength: count, maxLength: count }),
    external: fc.array(fc.boolean(), { minLength: count, maxLength: count }),
    edges: fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: count - 1 }),
        fc.integer({ min: 0, max: count - 1 }),
        fc.constantFrom(...EDGE_TYPES, 'ephemeron'),
        fc.boolean(),
      ),
      { maxLength: count * 4 },
    ),
    domTrees: fc.boolean(),
  }),
);

function randomSnapshot(g: {
  count: number;
  types: string[];
  sizes: number[];
  external: boolean[];
  edges: [number, number, string, boolean][];
  domTrees: boolean;
}) {
  const nodes = Array.from(
    { length: g.count },
    (_, i): HandNode => ({
      key: String(i),
      type: i === 0 ? 'synthetic' : g.types[i],
      name: g.external[i] ? 'system / ExternalStringData' : `N${i % 3}`,
      size: i === 0 ? 0 : g.sizes[i],
      edges: [],
    }),
  );
  // User roots (a global object through a shortcut edge) and, sometimes, DOM trees.
  nodes[0].edges!.push(['shortcut', 'global', '1']);
  nodes[1] = { ...nodes[1], type: 'object', name: 'global' };
  if (g.domTrees) {
    nodes[2] = { ...nodes[2], type: 'synthetic', name: '(Document DOM trees)' };
    nodes[0].edges!.push(['element', 1, '2']);
  }
  for (const [from, to, type, ownTable] of g.edges) {
    if (type === 'ephemeron') {
      // A WeakMap table's edge (named after its own id) or a key's (another id).
      const table = ownTable ? 2 * from + 1 : 2 * to + 1;
      const name = `${from} / part of key (Object @7) -> value (Object @9) pair in WeakMap (table @${table})`;
      nodes[from].edges!.push(['internal', name, String(to)]);
    } else {
      const name = type === 'element' || type === 'hidden' ? to : `e${to % 4}`;
      nodes[from].edges!.push([type, name, String(to)]);
    }
  }
  // Built by the test helper from src/; the same shape as dist/'s.
  return handSnapshot(nodes).snapshot as unknown as DistHeapSnapshot;
}

describe.runIf(native)('native ownership steps', () => {
  it('give the page-owned nodes, essential edges and self sizes of the JavaScript code', () => {
    let ephemeronsSkipped = 0;
    fc.assert(
      fc.property(snapshotArbitrary, (g) => {
        const snapshot = randomSnapshot(g);
        const kinds = graphKinds(snapshot);
        const steps = ownershipStepsNative(native!);
        const owned = pageOwnedNodes(snapshot, kinds);
        expect(Array.from(steps.pageOwned(snapshot, kinds))).toEqual(Array.from(owned));
        const js = essentialEdges(snapshot, kinds, owned);
        const ours = steps.essential(snapshot, kinds, owned);
        expect(Array.from(ours)).toEqual(Array.from(js));
        const external = snapshot.strings.indexOf('system / ExternalStringData');
        const count = snapshot.nodeCount;
        const jsSizes = shallowSizes(snapshot, kinds, external, new Uint32Array(count));
        expect(hasUserRoots(snapshot, kinds)).toBe(true);
        const nativeSizes = shallowSizesNative(
          native!,
          snapshot,
          kinds,
          external,
          new Uint32Array(count),
          new Uint32Array(count + 1),
        );
        // Both give up (undefined) when an owner's total passes 2^32 − 1.
        expect(nativeSizes && Array.from(nativeSizes)).toEqual(jsSizes && Array.from(jsSizes));
        // An ephemeron edge from its own table does not count: the case was met.
        for (const [from, , type, ownTable] of g.edges) {
          if (type === 'ephemeron' && ownTable && from !== 0) ephemeronsSkipped++;
        }
      }),
      { numRuns: 400 },
    );
    expect(ephemeronsSkipped).toBeGreaterThan(20);
  });
});

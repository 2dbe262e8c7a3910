/**
 * The native dominators (native/dominators.cc) against the JavaScript ones
 * (model/snapshot/dominators.ts) on random graphs: the reversed edges, every node's
 * dominator, the order and the unreachable count identical. The graphs have what the
 * JavaScript code treats specially: edges that do not count, nodes nothing retains,
 * cycles the root does not reach, self edges and parallel edges. Imports dist/ (the
 * helper's loader is built there).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nativeSnapshotFunctions } from '../../dist/formats/heapsnapshot-native.js';
import {
  dominators,
  type EdgeGraph,
  type ReverseEdges,
  reverseEdges,
} from '../../dist/model/snapshot/dominators.js';
import { dominatorsNative, reverseEdgesNative } from '../../dist/threads/native-dominators.js';

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

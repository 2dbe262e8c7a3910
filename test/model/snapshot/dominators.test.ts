/**
 * Dominators, retained sizes and self sizes on graphs small enough to work out by hand,
 * then on random graphs against two references: a textbook dominator computation
 * (iterate Dom(n) = {n} ∪ ⋂ Dom(p) to a fixed point) and Chrome DevTools' own code
 * through heap-snapshot-toolkit (every node's dominator and retained size must be equal).
 *
 * On random graphs the class totals (count, self size, retained size) and DevTools'
 * distances are compared too.
 *
 * Not tested here: real snapshots (devtools.test.ts, analyze.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupTotals } from '../../../src/model/snapshot/aggregate.js';
import { classifyNodes } from '../../../src/model/snapshot/classes.js';
import {
  dominatorChildren,
  dominators,
  retainedSizes,
} from '../../../src/model/snapshot/dominators.js';
import { graphKinds } from '../../../src/model/snapshot/graph.js';
import {
  essentialEdges,
  pageOwnedNodes,
  shallowSizes,
} from '../../../src/model/snapshot/ownership.js';
import { NO_DISTANCE, shortestPaths } from '../../../src/model/snapshot/paths.js';
import { devtoolsSnapshotOf, EDGE_TYPES, type HandNode, handSnapshot } from './snapshots.js';

function analyse(nodes: HandNode[]) {
  const hand = handSnapshot(nodes);
  const { snapshot } = hand;
  const kinds = graphKinds(snapshot);
  const essential = essentialEdges(snapshot, kinds, pageOwnedNodes(snapshot, kinds));
  const self = shallowSizes(snapshot, kinds);
  const tree = dominators(snapshot, { essential });
  const retained = retainedSizes(tree, self);
  const key = (ordinal: number) => nodes[ordinal].key;
  return {
    ...hand,
    tree,
    self,
    idom: (k: string) => key(tree.dominator[hand.ordinal[k]]),
    retained: (k: string) => retained[hand.ordinal[k]],
    selfOf: (k: string) => self[hand.ordinal[k]],
  };
}

// root ─shortcut→ G (the global object, a "user root")
// G → A, G → B, A → D, B → D (a diamond), D → C1 → C2 → C3 (a chain)
const DIAMOND_AND_CHAIN: HandNode[] = [
  { key: 'root', type: 'synthetic', name: '', size: 0, edges: [['shortcut', 'global', 'G']] },
  {
    key: 'G',
    type: 'object',
    name: 'Window',
    size: 10,
    edges: [
      ['property', 'a', 'A'],
      ['property', 'b', 'B'],
    ],
  },
  { key: 'A', type: 'object', name: 'A', size: 20, edges: [['property', 'd', 'D']] },
  { key: 'B', type: 'object', name: 'B', size: 30, edges: [['property', 'd', 'D']] },
  { key: 'D', type: 'object', name: 'D', size: 40, edges: [['property', 'next', 'C1']] },
  { key: 'C1', type: 'object', name: 'Item', size: 5, edges: [['property', 'next', 'C2']] },
  { key: 'C2', type: 'object', name: 'Item', size: 5, edges: [['property', 'next', 'C3']] },
  { key: 'C3', type: 'object', name: 'Item', size: 5 },
];

describe('dominators on hand-computed graphs', () => {
  it('a diamond and a chain', () => {
    const g = analyse(DIAMOND_AND_CHAIN);
    // Two paths reach D (via A and via B): only G is on both.
    expect(['G', 'A', 'B', 'D', 'C1', 'C2', 'C3'].map(g.idom)).toEqual([
      'root',
      'G',
      'G',
      'G',
      'D',
      'C1',
      'C2',
    ]);
    expect(g.idom('root')).toBe('root');
    // Retained: own size plus everything dominated.
    expect(g.retained('C3')).toBe(5);
    expect(g.retained('C2')).toBe(10);
    expect(g.retained('C1')).toBe(15);
    expect(g.retained('D')).toBe(40 + 15);
    expect(g.retained('A')).toBe(20); // D is not A's alone
    expect(g.retained('B')).toBe(30);
    expect(g.retained('G')).toBe(10 + 20 + 30 + 55);
    expect(g.retained('root')).toBe(115);
    expect(g.tree.unreachable).toBe(0);
  });

  it('weak edges, shortcuts and self edges do not retain', () => {
    const g = analyse([
      { key: 'root', type: 'synthetic', name: '', size: 0, edges: [['shortcut', 'global', 'G']] },
      {
        key: 'G',
        type: 'object',
        name: 'Window',
        size: 8,
        edges: [
          ['property', 'a', 'A'],
          ['property', 'b', 'B'],
          ['weak', 'w', 'X'],
          ['weak', 'w2', 'Y'],
        ],
      },
      // A's shortcut to Z does not count; B's property does: B dominates Z.
      { key: 'A', type: 'object', name: 'A', size: 16, edges: [['shortcut', 'z', 'Z']] },
      {
        key: 'B',
        type: 'object',
        name: 'B',
        size: 16,
        edges: [
          ['property', 'z', 'Z'],
          ['property', 'x', 'X'],
          ['property', 'self', 'B'],
        ],
      },
      { key: 'Z', type: 'object', name: 'Z', size: 100 },
      // X: a weak edge from G, a strong one from B: B dominates X.
      { key: 'X', type: 'object', name: 'X', size: 7 },
      // Y: only a weak edge: no retainer at all; it hangs off the root.
      { key: 'Y', type: 'object', name: 'Y', size: 3, edges: [['property', 'q', 'Q']] },
      { key: 'Q', type: 'object', name: 'Q', size: 2 },
    ]);
    expect(g.idom('Z')).toBe('B');
    expect(g.idom('X')).toBe('B');
    expect(g.retained('B')).toBe(16 + 100 + 7);
    expect(g.retained('A')).toBe(16);
    expect(g.retained('G')).toBe(8 + 16 + 123);
    expect(g.idom('Y')).toBe('root');
    expect(g.idom('Q')).toBe('Y');
    expect(g.retained('Y')).toBe(5);
    expect(g.retained('root')).toBe(8 + 16 + 123 + 5);
    expect(g.tree.unreachable).toBe(2);
  });

  it("the debugger's references do not change who dominates the program's objects", () => {
    // H is V8's (reached through the GC roots, not from the global): its edge to D is
    // skipped, so D stays dominated by G.
    const g = analyse([
      {
        key: 'root',
        type: 'synthetic',
        name: '',
        size: 0,
        edges: [
          ['shortcut', 'global', 'G'],
          ['element', 1, 'GC'],
        ],
      },
      { key: 'GC', type: 'synthetic', name: '(GC roots)', size: 0, edges: [['element', 1, 'H']] },
      { key: 'H', type: 'hidden', name: 'system / Foo', size: 4, edges: [['internal', 'x', 'D']] },
      { key: 'G', type: 'object', name: 'Window', size: 8, edges: [['property', 'd', 'D']] },
      { key: 'D', type: 'object', name: 'D', size: 50 },
    ]);
    expect(g.idom('D')).toBe('G');
    expect(g.retained('G')).toBe(58);
    expect(g.retained('H')).toBe(4);
  });

  it('a cycle that nothing reaches hangs off the root, node by node', async () => {
    const nodes: HandNode[] = [
      { key: 'root', type: 'synthetic', name: '', size: 0, edges: [['shortcut', 'global', 'G']] },
      { key: 'G', type: 'object', name: 'Window', size: 8, edges: [['property', 'x', 'X']] },
      { key: 'X', type: 'object', name: 'X', size: 1 },
      {
        key: 'U1',
        type: 'object',
        name: 'U',
        size: 10,
        edges: [
          ['property', 'next', 'U2'],
          ['property', 'x', 'X'],
          ['property', 'y', 'Y'],
        ],
      },
      { key: 'U2', type: 'object', name: 'U', size: 20, edges: [['property', 'next', 'U1']] },
      { key: 'Y', type: 'object', name: 'Y', size: 2 },
    ];
    const g = analyse(nodes);
    expect(g.idom('U1')).toBe('root');
    expect(g.idom('U2')).toBe('root');
    expect(g.retained('U1')).toBe(10);
    expect(g.retained('U2')).toBe(20);
    // Their edges count for nothing: X stays G's, Y (kept by U1 only) is the root's.
    expect(g.idom('X')).toBe('G');
    expect(g.idom('Y')).toBe('root');
    expect(g.retained('root')).toBe(41);
    expect(g.tree.unreachable).toBe(3);
    // As DevTools has it.
    const devtools = await devtoolsSnapshotOf(g.json);
    expect(Array.from(g.tree.dominator)).toEqual(Array.from(devtools.dominatorsTree));
  });

  it('an internal array reached from one object only is charged to it (DevTools shallow size)', () => {
    const g = analyse([
      { key: 'root', type: 'synthetic', name: '', size: 0, edges: [['shortcut', 'global', 'G']] },
      {
        key: 'G',
        type: 'object',
        name: 'Window',
        size: 8,
        edges: [
          ['property', 'o', 'O'],
          ['property', 'p', 'P'],
        ],
      },
      {
        key: 'O',
        type: 'object',
        name: 'Thing',
        size: 32,
        edges: [
          ['internal', 'properties', 'Props'],
          ['internal', 'elements', 'Shared'],
        ],
      },
      {
        key: 'P',
        type: 'object',
        name: 'Thing',
        size: 32,
        edges: [['internal', 'elements', 'Shared']],
      },
      // Owned by O alone, through a chain of internal nodes.
      {
        key: 'Props',
        type: 'array',
        name: '(object properties)',
        size: 40,
        edges: [['hidden', 0, 'Inner']],
      },
      { key: 'Inner', type: 'hidden', name: 'system / Inner', size: 16 },
      // Reached from O and P: keeps its own size.
      { key: 'Shared', type: 'array', name: '(object elements)', size: 24 },
    ]);
    expect(g.selfOf('O')).toBe(32 + 40 + 16);
    expect(g.selfOf('Props')).toBe(0);
    expect(g.selfOf('Inner')).toBe(0);
    expect(g.selfOf('P')).toBe(32);
    expect(g.selfOf('Shared')).toBe(24);
    // Sizes move, totals do not.
    expect(g.retained('root')).toBe(8 + 32 + 40 + 16 + 32 + 24);
    expect(g.retained('O')).toBe(88);
  });
});

// ---------------------------------------------------------------------------------------
// Random graphs
// ---------------------------------------------------------------------------------------

/** Dominator sets by the textbook fixed point; only for nodes reachable from 0. */
function textbookDominators(count: number, succ: number[][]): number[] {
  const preds: number[][] = Array.from({ length: count }, () => []);
  succ.forEach((list, from) => {
    for (const to of list) if (to !== from) preds[to].push(from);
  });
  const reach = new Set<number>([0]);
  const stack = [0];
  while (stack.length > 0) {
    for (const to of succ[stack.pop()!]) {
      if (!reach.has(to)) {
        reach.add(to);
        stack.push(to);
      }
    }
  }
  const all = [...reach];
  const dom = new Map<number, Set<number>>(all.map((n) => [n, new Set(n === 0 ? [0] : all)]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of all) {
      if (n === 0) continue;
      let meet: Set<number> | undefined;
      for (const p of preds[n]) {
        if (!reach.has(p)) continue;
        const d = dom.get(p)!;
        meet = meet ? new Set([...meet].filter((x) => d.has(x))) : new Set(d);
      }
      const next = new Set(meet ?? []);
      next.add(n);
      if (next.size !== dom.get(n)!.size) {
        dom.set(n, next);
        changed = true;
      }
    }
  }
  // The immediate dominator is the strict dominator with the most dominators itself.
  const idom = new Array<number>(count).fill(-1);
  for (const n of all) {
    if (n === 0) {
      idom[0] = 0;
      continue;
    }
    let best = -1;
    for (const d of dom.get(n)!) {
      if (d !== n && (best < 0 || dom.get(d)!.size > dom.get(best)!.size)) best = d;
    }
    idom[n] = best;
  }
  return idom;
}

const graphArbitrary = fc.integer({ min: 3, max: 40 }).chain((count) =>
  fc.record({
    count: fc.constant(count),
    edges: fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: count - 1 }),
        fc.integer({ min: 1, max: count - 1 }),
        fc.constantFrom(...EDGE_TYPES),
      ),
      { maxLength: count * 3 },
    ),
    sizes: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: count, maxLength: count }),
    types: fc.array(
      fc.constantFrom('object', 'object', 'array', 'hidden', 'string', 'closure', 'native', 'code'),
      {
        minLength: count,
        maxLength: count,
      },
    ),
  }),
);

/** Names that exercise DevTools' naming rules: plain-object shapes, DOM names. */
const NAMES = ['Item', 'Object', 'Object', '<div id="a">', 'Other'];

function graphNodes(g: {
  count: number;
  edges: [number, number, string][];
  sizes: number[];
  types: string[];
}) {
  return Array.from(
    { length: g.count },
    (_, i): HandNode => ({
      key: String(i),
      type: i === 0 ? 'synthetic' : g.types[i],
      name: i === 0 ? '' : NAMES[i % NAMES.length],
      size: i === 0 ? 0 : g.sizes[i],
      edges: g.edges
        .filter(([from]) => from === i)
        .map(([, to, type]) => [
          type,
          type === 'element' || type === 'hidden' ? to : `e${to % 4}`,
          String(to),
        ]),
    }),
  );
}

describe('dominators on random graphs', () => {
  it('equal the textbook definition on graphs of strong edges', () => {
    fc.assert(
      fc.property(graphArbitrary, fc.infiniteStream(fc.nat()), (g, picks) => {
        // A random tree first, so that the root reaches every node.
        const edges: [number, number, string][] = [];
        for (let n = 1; n < g.count; n++) edges.push([picks.next().value % n, n, 'property']);
        for (const [f, t] of g.edges) edges.push([f, t, 'property']);
        const nodes = graphNodes({ ...g, edges, types: g.types.map(() => 'object') });
        const { snapshot } = handSnapshot(nodes);
        const tree = dominators(snapshot);
        const succ = Array.from({ length: g.count }, (_, i) =>
          edges.filter(([f]) => f === i).map(([, t]) => t),
        );
        const expected = textbookDominators(g.count, succ);
        for (let n = 0; n < g.count; n++) {
          if (expected[n] >= 0) expect(tree.dominator[n], `idom(${n})`).toBe(expected[n]);
          else expect(tree.dominator[n], `idom(${n}), unreachable`).toBeLessThan(g.count);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("equal Chrome DevTools' on graphs with every edge and node type", async () => {
    await fc.assert(
      fc.asyncProperty(graphArbitrary, async (g) => {
        const nodes = graphNodes(g);
        // The root holds a global object (so that the "page-owned" rules come into play)
        // and V8's "(GC roots)"; DevTools fails on other edges from the root.
        nodes[0].edges = [
          ['shortcut', 'global', '1'],
          ['element', 1, '2'],
        ];
        nodes[1] = { ...nodes[1], type: 'object', name: 'global' };
        nodes[2] = { ...nodes[2], type: 'synthetic', name: '(GC roots)' };
        const { json, snapshot } = handSnapshot(nodes);
        const kinds = graphKinds(snapshot);
        const essential = essentialEdges(snapshot, kinds, pageOwnedNodes(snapshot, kinds));
        const self = shallowSizes(snapshot, kinds);
        const tree = dominators(snapshot, { essential });
        const retained = retainedSizes(tree, self);
        const devtools = await devtoolsSnapshotOf(json);
        const paths = shortestPaths(snapshot, kinds);
        for (let n = 0; n < g.count; n++) {
          expect(tree.dominator[n], `dominator of ${n}`).toBe(devtools.dominatorsTree[n]);
          expect(retained[n], `retained size of ${n}`).toBe(devtools.retainedSizes[n]);
          expect(self[n], `self size of ${n}`).toBe(devtools.nodes.getValue(n * 7 + 3));
          const distance = devtools.nodeDistances[n];
          expect(paths.distance[n], `distance of ${n}`).toBe(
            distance === -5 ? NO_DISTANCE : distance,
          );
        }
        // Totals per class: count, self size, retained size without double counting.
        const classes = classifyNodes(snapshot, kinds);
        const [totals] = groupTotals(
          dominatorChildren(tree),
          self,
          retained,
          [classes.classOf],
          [classes.names.length],
        );
        const ours: Record<string, [number, number, number]> = {};
        classes.names.forEach((name, c) => {
          if (totals.count[c] > 0) {
            ours[`,${name}`] = [totals.count[c], totals.selfSize[c], totals.retainedSize[c]];
          }
        });
        const theirs: Record<string, [number, number, number]> = {};
        for (const [key, a] of Object.entries(devtools.aggregatesWithFilter({}))) {
          const {
            count,
            self: selfSize,
            maxRet,
          } = a as { count: number; self: number; maxRet: number };
          theirs[key] = [count, selfSize, maxRet];
        }
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 150 },
    );
  });
});

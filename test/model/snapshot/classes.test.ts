/**
 * Class names as DevTools' Summary view groups nodes, on a hand-made graph with one
 * node of each kind; and the totals per class (nested objects of a class counted once).
 */
import { describe, expect, it } from 'vitest';
import { groupTotals } from '../../../src/model/snapshot/aggregate.js';
import { classifyNodes, inferInterfaceDefinitions } from '../../../src/model/snapshot/classes.js';
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
import { type HandNode, handSnapshot } from './snapshots.js';

const node = (
  key: string,
  type: string,
  name: string,
  edges: HandNode['edges'] = [],
): HandNode => ({
  key,
  type,
  name,
  size: 16,
  edges,
});

const GRAPH: HandNode[] = [
  {
    key: 'root',
    type: 'synthetic',
    name: '',
    size: 0,
    edges: ['h', 'c', 'f', 'r', 's', 'cs', 'div', 'p1', 'p2', 'p3', 'p4', 'p5', 'd1', 'd2'].map(
      (k, i) => ['element', i + 1, k] as [string, number, string],
    ),
  },
  node('h', 'hidden', 'system / Context'),
  node('c', 'code', 'some code'),
  node('f', 'closure', 'doWork'),
  node('r', 'regexp', '/ab+c/'),
  node('s', 'string', 'hello'),
  node('cs', 'concatenated string', 'hello world'),
  node('div', 'native', '<div id="main" class="x">'),
  // Plain objects: three of shape {a, b}, one {a, b, c} (too rare for a shape of its
  // own, so it takes {a, b}), one {c}.
  node('p1', 'object', 'Object', [
    ['property', 'a', 's'],
    ['property', 'b', 's'],
  ]),
  node('p2', 'object', 'Object', [
    ['property', 'a', 's'],
    ['property', 'b', 's'],
  ]),
  node('p3', 'object', 'Object', [
    ['property', 'a', 's'],
    ['property', 'b', 's'],
  ]),
  node('p4', 'object', 'Object', [
    ['property', 'a', 's'],
    ['property', 'b', 's'],
    ['property', 'c', 's'],
  ]),
  node('p5', 'object', 'Object', [['property', 'c', 's']]),
  // One name, constructors in two places.
  node('d1', 'object', 'Dup'),
  node('d2', 'object', 'Dup'),
];

describe('class names', () => {
  const { snapshot, ordinal } = handSnapshot(GRAPH, {
    locations: [
      ['d1', 7, 1, 2],
      ['d2', 8, 1, 2],
    ],
  });
  const kinds = graphKinds(snapshot);
  const classes = classifyNodes(snapshot, kinds);
  const nameOf = (key: string) => classes.names[classes.classOf[ordinal[key]]];

  it("follow DevTools' rules per node type", () => {
    expect(nameOf('h')).toBe('(system)');
    expect(nameOf('c')).toBe('(compiled code)');
    expect(nameOf('f')).toBe('Function');
    expect(nameOf('r')).toBe('RegExp');
    expect(nameOf('s')).toBe('(string)');
    expect(nameOf('cs')).toBe('(concatenated string)');
    expect(nameOf('div')).toBe('<div>');
    expect(nameOf('root')).toBe('(synthetic)');
  });

  it('name plain objects by their common shapes', () => {
    expect(inferInterfaceDefinitions(snapshot, kinds)).toEqual([
      { name: '{a, b}', properties: ['a', 'b'] },
    ]);
    expect(['p1', 'p2', 'p3', 'p4', 'p5'].map(nameOf)).toEqual([
      '{a, b}',
      '{a, b}',
      '{a, b}',
      '{a, b}',
      'Object',
    ]);
  });

  it('apply the shapes they are given', () => {
    const other = classifyNodes(snapshot, kinds, {
      interfaces: [{ name: '{c}', properties: ['c'] }],
    });
    const otherName = (key: string) => other.names[other.classOf[ordinal[key]]];
    expect(['p1', 'p4', 'p5'].map(otherName)).toEqual(['Object', '{c}', '{c}']);
  });

  it('split one name by constructor location', () => {
    const d1 = classes.classOf[ordinal.d1];
    const d2 = classes.classOf[ordinal.d2];
    expect(d1).not.toBe(d2);
    expect(classes.locations[d1]).toEqual({ scriptId: 7, line: 1, column: 2 });
    expect(classes.locations[d2]).toEqual({ scriptId: 8, line: 1, column: 2 });
  });

  it('read locations in any order, the last entry of a node winning', () => {
    // V8 writes them in node order (read with a cursor); these are not.
    const shuffled = handSnapshot(GRAPH, {
      locations: [
        ['d2', 9, 1, 2],
        ['d1', 7, 1, 2],
        ['d2', 8, 1, 2],
      ],
    });
    const other = classifyNodes(shuffled.snapshot, graphKinds(shuffled.snapshot));
    const d1 = other.classOf[shuffled.ordinal.d1];
    const d2 = other.classOf[shuffled.ordinal.d2];
    expect(other.locations[d1]).toEqual({ scriptId: 7, line: 1, column: 2 });
    expect(other.locations[d2]).toEqual({ scriptId: 8, line: 1, column: 2 });
    // In node order, with a repeated entry: the same rule.
    const ordered = handSnapshot(GRAPH, {
      locations: [
        ['d1', 7, 1, 2],
        ['d2', 9, 1, 2],
        ['d2', 8, 1, 2],
      ],
    });
    const again = classifyNodes(ordered.snapshot, graphKinds(ordered.snapshot));
    expect(again.locations[again.classOf[ordered.ordinal.d2]]).toEqual({
      scriptId: 8,
      line: 1,
      column: 2,
    });
    expect(again.locations[again.classOf[ordered.ordinal.d1]]).toEqual({
      scriptId: 7,
      line: 1,
      column: 2,
    });
  });
});

describe('totals per class', () => {
  it('count nested objects of one class once in the retained size', () => {
    // G holds a list Item → Item → Item and, beside it, one more Item.
    const nodes: HandNode[] = [
      { key: 'root', type: 'synthetic', name: '', size: 0, edges: [['shortcut', 'global', 'G']] },
      {
        key: 'G',
        type: 'object',
        name: 'Window',
        size: 8,
        edges: [
          ['property', 'list', 'I1'],
          ['property', 'alone', 'I4'],
        ],
      },
      { key: 'I1', type: 'object', name: 'Item', size: 10, edges: [['property', 'next', 'I2']] },
      { key: 'I2', type: 'object', name: 'Item', size: 20, edges: [['property', 'next', 'I3']] },
      { key: 'I3', type: 'object', name: 'Item', size: 30, edges: [['property', 'data', 'D']] },
      { key: 'D', type: 'object', name: 'Data', size: 100 },
      { key: 'I4', type: 'object', name: 'Item', size: 5 },
    ];
    const { snapshot } = handSnapshot(nodes);
    const kinds = graphKinds(snapshot);
    const self = shallowSizes(snapshot, kinds);
    const tree = dominators(snapshot, {
      essential: essentialEdges(snapshot, kinds, pageOwnedNodes(snapshot, kinds)),
    });
    const retained = retainedSizes(tree, self);
    const classes = classifyNodes(snapshot, kinds);
    const [t] = groupTotals(
      dominatorChildren(tree),
      self,
      retained,
      [classes.classOf],
      [classes.names.length],
    );
    const item = classes.names.indexOf('Item');
    expect(t.count[item]).toBe(4);
    expect(t.selfSize[item]).toBe(65);
    // I1 retains I2, I3 and D (160); I4 retains 5. Not 160 + 150 + 130 + 5.
    expect(t.retainedSize[item]).toBe(165);
    const data = classes.names.indexOf('Data');
    expect([t.count[data], t.selfSize[data], t.retainedSize[data]]).toEqual([1, 100, 100]);
  });
});

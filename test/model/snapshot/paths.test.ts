/**
 * Shortest retainer paths on a hand-made graph: the search goes through the program's
 * global object first, never follows a weak edge, and takes the fewest edges.
 */
import { describe, expect, it } from 'vitest';
import { edgeLabel, graphKinds } from '../../../src/model/snapshot/graph.js';
import {
  NO_DISTANCE,
  retainerPath,
  SYSTEM_DISTANCE,
  shortestPaths,
} from '../../../src/model/snapshot/paths.js';
import { type HandNode, handSnapshot } from './snapshots.js';

const GRAPH: HandNode[] = [
  {
    key: 'root',
    type: 'synthetic',
    name: '',
    size: 0,
    edges: [
      ['element', 1, 'GC'],
      ['shortcut', 'global', 'G'],
    ],
  },
  // V8's roots reach T in three edges, the program's global in four: the global wins.
  { key: 'GC', type: 'synthetic', name: '(GC roots)', size: 0, edges: [['element', 0, 'H']] },
  {
    key: 'H',
    type: 'hidden',
    name: 'system / Handles',
    size: 0,
    edges: [
      ['internal', 'x', 'T'],
      ['internal', 'y', 'S'],
    ],
  },
  {
    key: 'G',
    type: 'object',
    name: 'global',
    size: 8,
    edges: [
      ['weak', 'shortcut-but-weak', 'T'],
      ['property', 'cache', 'C'],
      ['property', 'long', 'L1'],
      ['weak', 'w', 'W'],
    ],
  },
  { key: 'C', type: 'object', name: 'Map', size: 8, edges: [['internal', 'table', 'A']] },
  { key: 'A', type: 'array', name: '', size: 8, edges: [['element', 7, 'T']] },
  { key: 'L1', type: 'object', name: 'Link', size: 8, edges: [['property', 'next', 'L2']] },
  { key: 'L2', type: 'object', name: 'Link', size: 8, edges: [['property', 'next', 'L3']] },
  { key: 'L3', type: 'object', name: 'Link', size: 8, edges: [['property', 'next', 'T']] },
  { key: 'T', type: 'object', name: 'Target', size: 8 },
  { key: 'W', type: 'object', name: 'OnlyWeak', size: 8 },
  { key: 'S', type: 'object', name: 'SystemOnly', size: 8 },
];

describe('shortest retainer paths', () => {
  const { snapshot, ordinal } = handSnapshot(GRAPH);
  const paths = shortestPaths(snapshot, graphKinds(snapshot));

  it('go through the global object, not through weak edges', () => {
    const hops = retainerPath(snapshot, paths, ordinal.T);
    expect(hops.map((h) => edgeLabel(snapshot, h.edge))).toEqual([
      '.global',
      '.cache',
      '{table}',
      '[7]',
    ]);
    expect(hops.map((h) => GRAPH[h.node].key)).toEqual(['G', 'C', 'A', 'T']);
    expect(paths.distance[ordinal.T]).toBe(4);
    expect(paths.distance[ordinal.G]).toBe(1);
  });

  it('reach what only V8 holds from its roots, at system distances', () => {
    const hops = retainerPath(snapshot, paths, ordinal.S);
    expect(hops.map((h) => GRAPH[h.node].key)).toEqual(['GC', 'H', 'S']);
    expect(paths.distance[ordinal.S]).toBe(SYSTEM_DISTANCE + 3);
  });

  it('are empty for what only weak edges reach', () => {
    expect(retainerPath(snapshot, paths, ordinal.W)).toEqual([]);
    expect(paths.distance[ordinal.W]).toBe(NO_DISTANCE);
    expect(retainerPath(snapshot, paths, ordinal.root)).toEqual([]);
  });
});

/**
 * heapscope's numbers against Chrome DevTools' own, on real snapshots: DevTools'
 * HeapSnapshot code runs through heap-snapshot-toolkit on the same file, and every
 * node's dominator, retained size, self size and distance must be equal, and every
 * class of the Summary view must have the same count, self size and retained size.
 *
 * The programs hold a bit of everything DevTools treats specially: WeakMap entries
 * (two edges per value), plain objects named by their shape, two classes with one name
 * from different scripts, closures, strings, arrays, a Map, a detached cycle.
 */

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeapSnapshot, readHeapSnapshot } from '../../../src/formats/heapsnapshot/index.js';
import { analyzeSnapshot, type SnapshotAnalysis } from '../../../src/model/snapshot/analyze.js';
import { NO_DISTANCE, shortestPaths } from '../../../src/model/snapshot/paths.js';
import { devtoolsSnapshot, inDir, runChild, snapshotDir } from './snapshots.js';

const PROGRAM = `
const v8 = require('node:v8');
const vm = require('node:vm');
class Leaky { constructor(i) { this.id = i; this.label = 'leaky-' + i; } }
globalThis.holder = new Map();
for (let i = 0; i < 3000; i++) holder.set(i, new Leaky(i));
// Plain objects of a few shapes; WeakMap values (ephemeron edges).
// (Small integers are not heap objects: V8 writes no edge for them, so \`age\` does not
// show in the shape.)
globalThis.points = Array.from({ length: 2000 }, (_, i) => ({ x: 'x' + i, y: 'y' + i }));
globalThis.people = Array.from({ length: 500 }, (_, i) => ({ name: 'p' + i, age: i, tags: [i] }));
const keys = Array.from({ length: 300 }, (_, i) => ({ key: i }));
globalThis.keys = keys;
globalThis.weak = new WeakMap(keys.map((k) => [k, { value: k.key, payload: 'v' + k.key }]));
// Two classes named Dup, from two scripts.
globalThis.dups = [
  ...Array.from({ length: 10 }, () => new (vm.runInThisContext('(class Dup { constructor() { this.a = 1; } })'))()),
  ...Array.from({ length: 20 }, () => new (vm.runInThisContext('(class Dup { constructor() { this.b = 2; this.c = 3; } })'))()),
];
// Closures over shared and private state; long and concatenated strings.
globalThis.counters = Array.from({ length: 100 }, (_, i) => { let n = i; return () => ++n; });
globalThis.text = Array.from({ length: 200 }, (_, i) => 'line ' + i).join('\\n');
globalThis.cons = 'a'.repeat(100) + 'b'.repeat(100);
v8.writeHeapSnapshot('plain.heapsnapshot');
`;

let dir: string;
let snapshot: HeapSnapshot;
let a: SnapshotAnalysis;
// biome-ignore lint/suspicious/noExplicitAny: DevTools' untyped internals
let devtools: any;
beforeAll(async () => {
  dir = snapshotDir();
  runChild(PROGRAM, dir);
  const path = inDir(dir, 'plain.heapsnapshot');
  snapshot = await readHeapSnapshot(path);
  a = analyzeSnapshot(snapshot);
  devtools = await devtoolsSnapshot(path);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function classKey(c: number): string {
  const location = a.classes.locations[c];
  const name = a.classes.names[c];
  return location ? `${location.scriptId},${location.line},${location.column},${name}` : `,${name}`;
}

describe("against DevTools' HeapSnapshot (heap-snapshot-toolkit)", () => {
  it('every node: dominator, retained size, self size and distance', () => {
    const paths = shortestPaths(snapshot, a.kinds);
    const fields = snapshot.nodeFieldCount;
    let differences = 0;
    for (let n = 0; n < snapshot.nodeCount; n++) {
      const theirDistance =
        devtools.nodeDistances[n] === -5 ? NO_DISTANCE : devtools.nodeDistances[n];
      if (
        a.dominators.dominator[n] !== devtools.dominatorsTree[n] ||
        a.retainedSizes[n] !== devtools.retainedSizes[n] ||
        a.selfSizes[n] !== devtools.nodes.getValue(n * fields + snapshot.nodeOffsets.selfSize) ||
        paths.distance[n] !== theirDistance
      ) {
        differences++;
      }
    }
    expect(differences).toBe(0);
    expect(snapshot.nodeCount).toBeGreaterThan(50_000);
  });

  it('every class of the Summary view: count, self size, retained size', () => {
    const theirs: Record<string, [number, number, number]> = {};
    for (const [key, agg] of Object.entries(devtools.aggregatesWithFilter({}))) {
      const { count, self, maxRet } = agg as { count: number; self: number; maxRet: number };
      theirs[key] = [count, self, maxRet];
    }
    const ours: Record<string, [number, number, number]> = {};
    for (let c = 0; c < a.classes.names.length; c++) {
      if (a.classTotals.count[c] === 0) continue;
      ours[classKey(c)] = [
        a.classTotals.count[c],
        a.classTotals.selfSize[c],
        a.classTotals.retainedSize[c],
      ];
    }
    expect(ours).toEqual(theirs);
    // The classes the program made are among them, named as DevTools names them.
    const names = new Set(a.classes.names.filter((_, c) => a.classTotals.count[c] > 0));
    for (const name of [
      'Leaky',
      'Map',
      'WeakMap',
      '{x, y}',
      '{name, tags}',
      '{payload}',
      'Dup',
      '(string)',
      '(concatenated string)',
      'Function',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(Object.keys(ours).filter((k) => k.endsWith(',Dup'))).toHaveLength(2);
  });
});

/**
 * Summaries of real snapshots of programs with known contents: 5,000 `Leaky` objects
 * kept in a Map, written by `v8.writeHeapSnapshot()`, and the same made under V8's
 * allocation tracker (inspector `HeapProfiler.startTrackingHeapObjects`) for sites.
 *
 * Expected figures come from the program (counts) and from V8's object layout (a
 * `Leaky` is three header words, map, properties and elements, plus its two fields in
 * the object: 5 words), and retained sizes from the raw nodes and edges of the file.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeapSnapshot, readHeapSnapshot } from '../../../src/formats/heapsnapshot/index.js';
import {
  analyzeSnapshot,
  type SnapshotAnalysis,
  SnapshotQueryError,
  summarizeSnapshot,
} from '../../../src/model/snapshot/analyze.js';
import { edgeName, nodeById } from '../../../src/model/snapshot/graph.js';
import { siteFrames } from '../../../src/model/snapshot/sites.js';
import { inDir, runChild, snapshotDir, wordSize } from './snapshots.js';

const N = 5000;

const PLAIN = `
const v8 = require('node:v8');
class Leaky { constructor(i) { this.id = i; this.label = 'leaky-' + i; } }
globalThis.holder = new Map();
for (let i = 0; i < ${N}; i++) holder.set(i, new Leaky(i));
v8.writeHeapSnapshot('leaky.heapsnapshot');
`;

const TRACKED = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const fd = fs.openSync('tracked.heapsnapshot', 'w');
session.on('HeapProfiler.addHeapSnapshotChunk', (m) => fs.writeSync(fd, m.params.chunk));
session.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true }, (error) => {
  if (error) throw error;
  class Leaky { constructor(i) { this.id = i; this.label = 'leaky-' + i; } }
  function makeLeaky(n) { const m = new Map(); for (let i = 0; i < n; i++) m.set(i, new Leaky(i)); return m; }
  globalThis.holder = makeLeaky(${N});
  session.post('HeapProfiler.takeHeapSnapshot', null, (error) => {
    if (error) throw error;
    fs.closeSync(fd);
    session.post('HeapProfiler.stopTrackingHeapObjects', () => process.exit(0));
  });
});
`;

let dir: string;
let word: number;
let plain: HeapSnapshot;
let a: SnapshotAnalysis;
beforeAll(async () => {
  dir = snapshotDir();
  runChild(PLAIN, dir);
  runChild(TRACKED, dir);
  word = wordSize();
  plain = await readHeapSnapshot(inDir(dir, 'leaky.heapsnapshot'));
  a = analyzeSnapshot(plain);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Raw facts from the file: the nodes of a type and name, and a named edge's target. */
function raw(snapshot: HeapSnapshot) {
  const { nodes, edges, firstEdge, nodeFieldCount: f, strings } = snapshot;
  const o = snapshot.nodeOffsets;
  return {
    nodesNamed: (type: string, name: string) => {
      const out: number[] = [];
      for (let n = 0; n < snapshot.nodeCount; n++) {
        if (
          snapshot.meta.nodeTypes[nodes[n * f + o.type]] === type &&
          strings.get(nodes[n * f + o.name]) === name
        ) {
          out.push(n);
        }
      }
      return out;
    },
    selfSize: (n: number) => nodes[n * f + o.selfSize],
    target: (n: number, name: string) => {
      for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += snapshot.edgeFieldCount) {
        if (edgeName(snapshot, e) === name) return edges[e + snapshot.edgeOffsets.toNode] / f;
      }
      throw new Error(`node ${n} has no edge ${name}`);
    },
  };
}

describe('a Map of 5,000 Leaky objects', () => {
  it('counts every Leaky, at 5 words each', () => {
    const summary = summarizeSnapshot(a, { top: 0 });
    const leaky = summary.classes.filter((c) => c.name === 'Leaky');
    expect(leaky).toHaveLength(1);
    expect(leaky[0].count).toBe(N);
    expect(leaky[0].selfSize).toBe(N * 5 * word);
    for (const n of raw(plain).nodesNamed('object', 'Leaky')) expect(a.selfSizes[n]).toBe(5 * word);
  });

  it("retains each Leaky's label and nothing else", () => {
    const r = raw(plain);
    const objects = r.nodesNamed('object', 'Leaky');
    let labels = 0;
    for (const n of objects) {
      const label = r.target(n, 'label');
      labels += r.selfSize(label);
      expect(a.retainedSizes[n]).toBe(5 * word + r.selfSize(label));
    }
    const row = summarizeSnapshot(a, { top: 0 }).classes.find((c) => c.name === 'Leaky')!;
    expect(row.retainedSize).toBe(N * 5 * word + labels);
  });

  it('the Map retains at least all its entries', () => {
    const r = raw(plain);
    const [global] = r.nodesNamed('object', 'global').filter((n) => {
      try {
        r.target(n, 'holder');
        return true;
      } catch {
        return false;
      }
    });
    const holder = r.target(global, 'holder');
    expect(
      plain.strings.get(plain.nodes[holder * plain.nodeFieldCount + plain.nodeOffsets.name]),
    ).toBe('Map');
    const entries = r.nodesNamed('object', 'Leaky').reduce((sum, n) => sum + a.retainedSizes[n], 0);
    expect(a.retainedSizes[holder]).toBeGreaterThanOrEqual(entries);
    // Entries are dominated by the Map: the Map's class retains at least as much.
    const map = summarizeSnapshot(a, { top: 0 }).classes.find((c) => c.name === 'Map')!;
    expect(map.retainedSize).toBeGreaterThanOrEqual(a.retainedSizes[holder]);
  });

  it('totals: the root retains every byte', () => {
    const summary = summarizeSnapshot(a);
    let total = 0;
    for (let n = 0; n < plain.nodeCount; n++)
      total += plain.nodes[n * plain.nodeFieldCount + plain.nodeOffsets.selfSize];
    expect(summary.totalSize).toBe(total);
    expect(summary.nodeCount).toBe(plain.nodeCount);
    expect(summary.classes.length).toBe(20);
    expect(summary.hasAllocationTraces).toBe(false);
  });

  it('the retainer path of a class goes from the global object through the Map', () => {
    const { path } = summarizeSnapshot(a, { path: 'Leaky' });
    expect(path).toBeDefined();
    const steps = path!.steps;
    expect(steps[0].node.className).toBe('global');
    expect(steps[1]).toMatchObject({
      edge: '.holder',
      edgeType: 'property',
      node: { className: 'Map' },
    });
    expect(steps.at(-1)!.node.className).toBe('Leaky');
    expect(path!.target).toEqual(steps.at(-1)!.node);
    expect(path!.distance).toBe(steps.length);
  });

  it('the retainer path of an object by id', () => {
    const target = raw(plain).nodesNamed('object', 'Leaky')[1234];
    const id = plain.nodes[target * plain.nodeFieldCount + plain.nodeOffsets.id];
    const { path } = summarizeSnapshot(a, { path: `@${id}` });
    expect(path!.target.id).toBe(id);
    expect(nodeById(plain, id)).toBe(target);
    expect(path!.steps.map((s) => s.node.className)).toContain('Map');
  });

  it('rejects what is not there', () => {
    expect(() => summarizeSnapshot(a, { path: 'NoSuchClass' })).toThrow(SnapshotQueryError);
    let maxId = 0;
    for (let n = 0; n < plain.nodeCount; n++) {
      maxId = Math.max(maxId, plain.nodes[n * plain.nodeFieldCount + plain.nodeOffsets.id]);
    }
    expect(() => summarizeSnapshot(a, { path: `@${maxId + 2}` })).toThrow(/no object with id @/);
    expect(() => summarizeSnapshot(a, { by: 'site' })).toThrow(/no allocation traces/);
  });
});

describe('with allocation traces', () => {
  it('puts every Leaky at its allocation site, makeLeaky', async () => {
    const snapshot = await readHeapSnapshot(inDir(dir, 'tracked.heapsnapshot'));
    const t = analyzeSnapshot(snapshot);
    const summary = summarizeSnapshot(t, { by: 'site', top: 0 });
    expect(summary.hasAllocationTraces).toBe(true);
    const objects = raw(snapshot).nodesNamed('object', 'Leaky');
    expect(objects).toHaveLength(N);
    const tops = new Set(objects.map((n) => siteFrames(snapshot, t.siteOf![n])[0]));
    expect([...tops]).toHaveLength(1);
    expect([...tops][0]).toMatch(/^makeLeaky \(.*:\d+:\d+\)$/);
    // The site's row holds them all (and what else makeLeaky allocated).
    const rows = summary.sites!.filter((s) => s.frames[0] === [...tops][0]);
    expect(rows).toHaveLength(1);
    expect(rows[0].count).toBeGreaterThanOrEqual(N);
    expect(rows[0].selfSize).toBeGreaterThanOrEqual(N * 5 * word);
    // The Map itself was made there too, and retains everything: its row retains it all.
    expect(rows[0].retainedSize).toBeGreaterThanOrEqual(
      summary.classes.find((c) => c.name === 'Leaky')!.retainedSize,
    );
  });
});

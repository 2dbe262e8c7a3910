/**
 * A known leak between two snapshots of one process: snapshot A, then 1,000
 * `LeakedThing`s pushed into a global array while 500 `Gone`s are dropped, snapshot B.
 * The comparison must show +1,000 LeakedThing (5 words each: three header words and two
 * fields), the 500 Gone as collected, and a retainer path through the array. A second
 * program does the same under V8's allocation tracker, for the growth by site.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeapSnapshot, readHeapSnapshot } from '../../../src/formats/heapsnapshot/index.js';
import {
  compareSnapshots,
  digestSnapshot,
  type SnapshotComparison,
} from '../../../src/model/snapshot/compare.js';
import { inDir, runChild, snapshotDir, wordSize } from './snapshots.js';

const LEAK = `
const v8 = require('node:v8');
class LeakedThing { constructor(i) { this.i = i; this.tag = 'leaked'; } }
class Gone { constructor(i) { this.i = i; } }
globalThis.leaks = [];
globalThis.temp = Array.from({ length: 500 }, (_, i) => new Gone(i));
v8.writeHeapSnapshot('a.heapsnapshot');
globalThis.temp = null;
for (let i = 0; i < 1000; i++) leaks.push(new LeakedThing(i));
v8.writeHeapSnapshot('b.heapsnapshot');
`;

const TRACKED_LEAK = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
let fd;
session.on('HeapProfiler.addHeapSnapshotChunk', (m) => fs.writeSync(fd, m.params.chunk));
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
async function snap(file) {
  fd = fs.openSync(file, 'w');
  await post('HeapProfiler.takeHeapSnapshot', null);
  fs.closeSync(fd);
}
class LeakedThing { constructor(i) { this.i = i; this.tag = 'leaked'; } }
function leakSome(n) { for (let i = 0; i < n; i++) leaks.push(new LeakedThing(i)); }
(async () => {
  await post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  globalThis.leaks = [];
  await snap('ta.heapsnapshot');
  leakSome(1000);
  await snap('tb.heapsnapshot');
  await post('HeapProfiler.stopTrackingHeapObjects');
  process.exit(0);
})();
`;

let dir: string;
let word: number;
let before: HeapSnapshot;
let after: HeapSnapshot;
let full: SnapshotComparison;
beforeAll(async () => {
  dir = snapshotDir();
  runChild(LEAK, dir);
  runChild(TRACKED_LEAK, dir);
  word = wordSize();
  before = await readHeapSnapshot(inDir(dir, 'a.heapsnapshot'));
  after = await readHeapSnapshot(inDir(dir, 'b.heapsnapshot'));
  full = compareSnapshots(before, after, { top: 0 });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('two snapshots of a leaking program', () => {
  it('finds +1,000 LeakedThing, all new: the class that grew most', () => {
    const c = full;
    const leaked = c.classes.find((r) => r.name === 'LeakedThing');
    expect(leaked).toMatchObject({
      countBefore: 0,
      countAfter: 1000,
      countDelta: 1000,
      added: 1000,
      removed: 0,
      sizeBefore: 0,
      sizeAfter: 1000 * 5 * word,
      sizeDelta: 1000 * 5 * word,
      addedSize: 1000 * 5 * word,
      retainedSize: 1000 * 5 * word,
    });
    expect(c.classes[0].name).toBe('LeakedThing');
    expect(c.added.count).toBeGreaterThanOrEqual(1000);
  });

  it('sees the dropped Gone objects as collected, not grown', () => {
    const c = full;
    expect(c.classes.find((r) => r.name === 'Gone')).toBeUndefined();
    expect(c.removed.count).toBeGreaterThanOrEqual(500);
    expect(c.before.objectCount - c.removed.count + c.added.count).toBe(c.after.objectCount);
  });

  it('gives the retainer path of the 1,000 new LeakedThings, through the global array', () => {
    const c = full;
    // The array holds each new LeakedThing: they hold the growth, one path shape for all.
    expect(c.paths[0]).toMatchObject({ className: 'LeakedThing', count: 1000, clusterCount: 1 });
    const cluster = c.paths[0].clusters[0];
    expect(cluster.count).toBe(1000);
    expect(cluster.retainedSize).toBe(1000 * 5 * word);
    const steps = cluster.path.steps;
    expect(steps[0].node.className).toBe('global');
    expect(steps.at(-2)).toMatchObject({ edge: '.leaks', node: { className: 'Array' } });
    expect(steps.at(-1)!.edgeType).toBe('element');
    expect(steps.at(-1)!.node.className).toBe('LeakedThing');
    expect(c.paths.length).toBeLessThanOrEqual(3);
  });

  it('gives the same result from a digest of the first snapshot', () => {
    expect(compareSnapshots(digestSnapshot(before), after)).toEqual(
      compareSnapshots(before, after),
    );
  });

  it('a snapshot against itself: nothing grew', () => {
    const c = compareSnapshots(after, after);
    expect(c.classes).toEqual([]);
    expect(c.added.count).toBe(0);
    expect(c.removed.count).toBe(0);
    expect(c.paths).toEqual([]);
  });
});

describe('with allocation traces', () => {
  it('puts the growth at its allocation site', async () => {
    const a = await readHeapSnapshot(inDir(dir, 'ta.heapsnapshot'));
    const b = await readHeapSnapshot(inDir(dir, 'tb.heapsnapshot'));
    const c = compareSnapshots(a, b, { top: 0 });
    expect(c.classes.find((r) => r.name === 'LeakedThing')).toMatchObject({
      added: 1000,
      countDelta: 1000,
    });
    const site = c.sites!.find((s) => /^leakSome \(/.test(s.frames[0]));
    expect(site).toBeDefined();
    expect(site!.added).toBeGreaterThanOrEqual(1000);
    expect(site!.addedSize).toBeGreaterThanOrEqual(1000 * 5 * word);
  });
});

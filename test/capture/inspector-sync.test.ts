// The route without the native helper tells objects older than tracking from the ones
// made after it by their heap-object ids (older ones' traces can be stale once the GC
// moves them). Ground truth: N instances of `Older` made before tracking starts, N of
// `Newer` after, found by name in a snapshot taken while tracking. Runs in a child
// process on NODE (CI's HEAPSCOPE_TEST_NODE tests other Node versions). Needs
// `npm run build` (dist/capture/inspector-sync.cjs).

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { NODE, ROOT, tempDir } from '../helpers/heapscope.js';

const N = 1000;

/** Prints `{ first, older: [min, max, count], newer: [min, max, count] }` as JSON. */
const SCRIPT = `
const sync = require(${JSON.stringify(join(ROOT, 'dist/capture/inspector-sync.cjs'))});
const v8 = require('node:v8');
const fs = require('node:fs');
class Older {}
class Newer {}
const older = Array.from({ length: ${N} }, () => new Older());
const session = sync.sharedSession();
const first = sync.startTrackingFromHere(session);
const newer = Array.from({ length: ${N} }, () => new Newer());
const file = v8.writeHeapSnapshot(process.argv[1]);
sync.stopTracking(session);
const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
const fields = snap.snapshot.meta.node_fields;
const stride = fields.length;
const [typeOff, nameOff, idOff] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('id')];
const objectType = snap.snapshot.meta.node_types[0].indexOf('object');
const ids = new Map([['Older', []], ['Newer', []]]);
for (let i = 0; i < snap.nodes.length; i += stride) {
  if (snap.nodes[i + typeOff] !== objectType) continue;
  ids.get(snap.strings[snap.nodes[i + nameOff]])?.push(snap.nodes[i + idOff]);
}
const range = (a) => [Math.min(...a), Math.max(...a), a.length];
console.log(JSON.stringify({ first, older: range(ids.get('Older')), newer: range(ids.get('Newer')), kept: older.length + newer.length }));
`;

it('starts tracking with an id between the objects older than tracking and the ones made after', () => {
  const dir = tempDir();
  try {
    const r = spawnSync(NODE, ['-e', SCRIPT, join(dir, 'tracked.heapsnapshot')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { first, older, newer } = JSON.parse(r.stdout) as {
      first: number;
      older: [number, number, number];
      newer: [number, number, number];
    };
    expect(older[2]).toBe(N);
    expect(newer[2]).toBe(N);
    // `HeapProfiler.getHeapObjectId` alone gives a fresh object 0, which would count
    // every older object whose trace went stale.
    expect(first).toBeGreaterThan(0);
    expect(older[1]).toBeLessThan(first);
    expect(newer[0]).toBeGreaterThanOrEqual(first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Tests of the streaming `.heapsnapshot` reader against real snapshots written by Node
 * child processes (one plain `v8.writeHeapSnapshot()`, one taken over the inspector
 * with allocation tracking on), compared field by field with `JSON.parse` of the same
 * file, and read in chunks of every small size to catch chunk-boundary bugs.
 *
 * Not tested here: snapshots over 512 MB (see bench/heapsnapshot-read.mjs).
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HeapSnapshot,
  HeapSnapshotError,
  parseHeapSnapshot,
  readHeapSnapshot,
} from '../../../src/formats/heapsnapshot/index.js';
import { expectSameNumbers, TRACKED_SNAPSHOT_META } from '../../helpers/heapsnapshot.js';

// ---------------------------------------------------------------------------------------
// Fixtures: real snapshots from child processes
// ---------------------------------------------------------------------------------------

/** Strings that exercise the string decoder: multi-byte UTF-8, escapes, an astral character. */
const TRICKY = ['€😀', 'quote " backslash \\ slash /', 'line\nbreak\ttab\r\u0001', 'Grüße, 日本語'];

/** 10,000 `Probe` instances kept in an array, plus the tricky strings. */
const PLAIN_CHILD = `
const v8 = require('node:v8');
class Probe { constructor(i) { this.i = i; } }
globalThis.keep = [];
for (let i = 0; i < 10000; i++) keep.push(new Probe(i));
globalThis.tricky = ${JSON.stringify(TRICKY)};
v8.writeHeapSnapshot(process.argv[1]);
`;

/** The same workload under allocation tracking, snapshot streamed over the inspector. */
const TRACKED_CHILD = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const fd = fs.openSync(process.argv[1], 'w');
session.on('HeapProfiler.addHeapSnapshotChunk', (m) => fs.writeSync(fd, m.params.chunk));
session.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true }, (error) => {
  if (error) throw error;
  class Probe { constructor(i) { this.i = i; } }
  function makeProbes(n) { const out = []; for (let i = 0; i < n; i++) out.push(new Probe(i)); return out; }
  globalThis.keep = makeProbes(10000);
  session.post('HeapProfiler.takeHeapSnapshot', null, (error) => {
    if (error) throw error;
    fs.closeSync(fd);
    // Tracking over the inspector keeps a timer alive: stop it and exit explicitly.
    session.post('HeapProfiler.stopTrackingHeapObjects', () => process.exit(0));
  });
});
`;

let dir: string;
let plainPath: string;
let trackedPath: string;
let plainBytes: Buffer;
let trackedBytes: Buffer;
// biome-ignore lint/suspicious/noExplicitAny: the wire format, as JSON.parse returns it
let plainJson: any;
// biome-ignore lint/suspicious/noExplicitAny: the wire format, as JSON.parse returns it
let trackedJson: any;

function runChild(script: string, out: string): void {
  execFileSync(process.execPath, ['-e', script, out], { stdio: 'pipe', timeout: 60_000 });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapscope-heapsnapshot-'));
  plainPath = join(dir, 'plain.heapsnapshot');
  trackedPath = join(dir, 'tracked.heapsnapshot');
  runChild(PLAIN_CHILD, plainPath);
  runChild(TRACKED_CHILD, trackedPath);
  plainBytes = readFileSync(plainPath);
  trackedBytes = readFileSync(trackedPath);
  plainJson = JSON.parse(plainBytes.toString('utf8'));
  trackedJson = JSON.parse(trackedBytes.toString('utf8'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

function expectSameStrings(actual: string[], expected: string[]) {
  expect(actual.length, 'strings.length').toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      expect.fail(
        `strings[${i}]: got ${JSON.stringify(actual[i])}, expected ${JSON.stringify(expected[i])}`,
      );
    }
  }
}

interface FlatTrace {
  id: number[];
  functionInfoIndex: number[];
  allocCount: number[];
  allocSize: number[];
  parent: number[];
}

/** Reference flattening of `trace_tree` by recursion over `JSON.parse`'s result. */
function flattenTrace(tree: number[]): FlatTrace {
  const flat: FlatTrace = {
    id: [],
    functionInfoIndex: [],
    allocCount: [],
    allocSize: [],
    parent: [],
  };
  const walk = (list: unknown[], parent: number) => {
    for (let i = 0; i < list.length; i += 5) {
      const index = flat.id.length;
      flat.id.push(list[i] as number);
      flat.functionInfoIndex.push(list[i + 1] as number);
      flat.allocCount.push(list[i + 2] as number);
      flat.allocSize.push(list[i + 3] as number);
      flat.parent.push(parent);
      walk(list[i + 4] as unknown[], index);
    }
  };
  walk(tree, -1);
  return flat;
}

// biome-ignore lint/suspicious/noExplicitAny: the wire format
function expectEqualsJson(snapshot: HeapSnapshot, json: any) {
  const meta = json.snapshot.meta;
  expect(snapshot.meta.nodeFields).toEqual(meta.node_fields);
  expect(snapshot.meta.edgeFields).toEqual(meta.edge_fields);
  expect(snapshot.meta.nodeTypes).toEqual(meta.node_types[meta.node_fields.indexOf('type')]);
  expect(snapshot.meta.edgeTypes).toEqual(meta.edge_types[meta.edge_fields.indexOf('type')]);
  expect(snapshot.meta.traceFunctionInfoFields).toEqual(meta.trace_function_info_fields);
  expect(snapshot.meta.traceNodeFields).toEqual(meta.trace_node_fields);
  expect(snapshot.meta.locationFields).toEqual(meta.location_fields);
  expect(snapshot.meta.sampleFields).toEqual(meta.sample_fields);
  expect(snapshot.nodeCount).toBe(json.snapshot.node_count);
  expect(snapshot.edgeCount).toBe(json.snapshot.edge_count);
  expectSameNumbers(snapshot.nodes, json.nodes, 'nodes');
  expectSameNumbers(snapshot.edges, json.edges, 'edges');
  expectSameStrings(snapshot.strings.toArray(), json.strings);
  expectSameNumbers(snapshot.traceFunctionInfos, json.trace_function_infos, 'trace_function_infos');
  expectSameNumbers(snapshot.locations, json.locations, 'locations');
  expectSameNumbers(snapshot.samples, json.samples, 'samples');
  const trace = flattenTrace(json.trace_tree);
  expect(snapshot.trace.count).toBe(trace.id.length);
  expectSameNumbers(snapshot.trace.id, trace.id, 'trace.id');
  expectSameNumbers(
    snapshot.trace.functionInfoIndex,
    trace.functionInfoIndex,
    'trace.functionInfoIndex',
  );
  expectSameNumbers(snapshot.trace.allocCount, trace.allocCount, 'trace.allocCount');
  expectSameNumbers(snapshot.trace.allocSize, trace.allocSize, 'trace.allocSize');
  expectSameNumbers(snapshot.trace.parent, trace.parent, 'trace.parent');
  for (let i = 0; i < trace.id.length; i++) {
    if (snapshot.trace.indexById.get(trace.id[i]) !== i) expect.fail(`indexById(${trace.id[i]})`);
  }
}

/** Everything the reader returns, compared between two reads of the same input. */
function expectSameSnapshot(a: HeapSnapshot, b: HeapSnapshot) {
  expect(a.meta).toEqual(b.meta);
  expect([a.nodeCount, a.edgeCount, a.traceFunctionCount]).toEqual([
    b.nodeCount,
    b.edgeCount,
    b.traceFunctionCount,
  ]);
  expectSameNumbers(a.nodes, b.nodes, 'nodes');
  expectSameNumbers(a.edges, b.edges, 'edges');
  expectSameNumbers(a.firstEdge, b.firstEdge, 'firstEdge');
  expectSameStrings(a.strings.toArray(), b.strings.toArray());
  expectSameNumbers(a.traceFunctionInfos, b.traceFunctionInfos, 'traceFunctionInfos');
  expectSameNumbers(a.locations, b.locations, 'locations');
  expectSameNumbers(a.samples, b.samples, 'samples');
  expectSameNumbers(a.trace.id, b.trace.id, 'trace.id');
  expectSameNumbers(a.trace.parent, b.trace.parent, 'trace.parent');
  expectSameNumbers(a.trace.allocSize, b.trace.allocSize, 'trace.allocSize');
}

function countNodes(snapshot: HeapSnapshot, type: string, name: string): number {
  const { nodes, nodeFieldCount: F, nodeOffsets, meta, strings } = snapshot;
  const typeIndex = meta.nodeTypes.indexOf(type);
  let count = 0;
  for (let p = 0; p < nodes.length; p += F) {
    if (
      nodes[p + nodeOffsets.type] === typeIndex &&
      strings.get(nodes[p + nodeOffsets.name]) === name
    ) {
      count++;
    }
  }
  return count;
}

function functionName(snapshot: HeapSnapshot, functionInfoIndex: number): string {
  const F = snapshot.meta.traceFunctionInfoFields.length;
  const p = functionInfoIndex * F + snapshot.traceFunctionInfoOffsets.name;
  return snapshot.strings.get(snapshot.traceFunctionInfos[p]) ?? '';
}

/** A hand-written snapshot: keys out of order, unknown keys, raw UTF-8 and every escape. */
function syntheticSnapshot(): string {
  const strings = [
    '',
    '(root)',
    'Probe',
    '€😀',
    'a "quoted" \\ back/slash',
    'ctl \b\f\n\r\t \u0000\u001f',
    '[not] {an} array,:',
  ];
  const escaped = '"esc \\u20ac\\uD83D\\uDE00 \\ud83d lone \\/ \\" \\\\ \\n\\u00e9"';
  return [
    '\n {"unknown_first": {"a": ["]", "}", {"b": [1, 2.5e3, true, null]}], "c": "\\"]"},',
    '"strings" : [',
    strings.map((s) => JSON.stringify(s)).join(' ,\n'),
    `, ${escaped}],`,
    '"nodes":[ 0,1,1,0,2,0,0\n,1,2,3,4294967295,1,7,0\n,1,3,5,64,0,8,1\n ],',
    '"trace_tree":[1,0,0,0,[7,1,3,96,[],8,2,1,4294967296,[9,1,0,0,[]]]],',
    '"snapshot":{"meta":',
    JSON.stringify(TRACKED_SNAPSHOT_META),
    ',"node_count":3,"edge_count":3,"trace_function_count":3,"extra":[[]]},',
    '"edges":[1,0,7,1,1,14,0,5,14],',
    '"trace_function_infos":[0,1,0,0,0,0,1,2,4,3,10,5,2,3,4,3,0,0],',
    '"samples":[1000,3,-5,7,9007199254740991,9],',
    '"locations":[7,3,10,5],',
    '"future":12.5e-3, "flag": false, "nothing": null',
    '}\n',
  ].join('');
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

describe('readHeapSnapshot on real snapshots', () => {
  it('equals JSON.parse of a plain v8.writeHeapSnapshot() file, field by field', async () => {
    const snapshot = await readHeapSnapshot(plainPath);
    expectEqualsJson(snapshot, plainJson);
    expect(snapshot.trace.count).toBe(0);
    expect(snapshot.traceFunctionInfos.length).toBe(0);
    for (const s of TRICKY.slice(1)) expect(snapshot.strings.toArray()).toContain(s);
    // V8 (Node 20) writes each non-ASCII character as \uXXXX of its low 16 bits, so 😀
    // (U+1F600) arrives as U+F600; the reader returns what is in the file.
    expect(snapshot.strings.toArray()).toContain(
      plainJson.strings.includes('€😀') ? '€😀' : '€\uf600',
    );
  });

  it('finds exactly the 10,000 Probe instances', async () => {
    const snapshot = await readHeapSnapshot(plainPath);
    expect(countNodes(snapshot, 'object', 'Probe')).toBe(10_000);
  });

  it('gives node offsets and a first-edge index consistent with the edges', async () => {
    const snapshot = await readHeapSnapshot(plainPath);
    const { nodes, nodeFieldCount: F, edgeFieldCount: E, nodeOffsets, firstEdge } = snapshot;
    expect(nodeOffsets).toMatchObject({ type: 0, name: 1, id: 2, selfSize: 3, edgeCount: 4 });
    expect(firstEdge.length).toBe(snapshot.nodeCount + 1);
    expect(firstEdge[0]).toBe(0);
    expect(firstEdge[snapshot.nodeCount]).toBe(snapshot.edges.length);
    for (let n = 0; n < snapshot.nodeCount; n++) {
      if (firstEdge[n + 1] - firstEdge[n] !== nodes[n * F + nodeOffsets.edgeCount] * E) {
        expect.fail(`firstEdge of node ${n}`);
      }
    }
  });

  it('flattens trace_tree and trace_function_infos of an allocation-tracking snapshot', async () => {
    const snapshot = await readHeapSnapshot(trackedPath);
    expectEqualsJson(snapshot, trackedJson);
    expect(snapshot.trace.count).toBeGreaterThan(1);
    expect(snapshot.trace.parent[0]).toBe(-1);
    for (let i = 1; i < snapshot.trace.count; i++) {
      if (snapshot.trace.parent[i] >= i) expect.fail(`parent of trace node ${i} comes after it`);
    }
    // The allocation site of the probes, with the exact count.
    let probes = 0;
    for (let i = 0; i < snapshot.trace.count; i++) {
      if (functionName(snapshot, snapshot.trace.functionInfoIndex[i]) === 'makeProbes') {
        probes += snapshot.trace.allocCount[i];
      }
    }
    expect(probes).toBeGreaterThanOrEqual(10_000);
    expect(countNodes(snapshot, 'object', 'Probe')).toBe(10_000);
    // Live Probe nodes point at trace nodes that exist.
    const { nodes, nodeFieldCount: F, nodeOffsets, strings } = snapshot;
    let resolved = 0;
    for (let p = 0; p < nodes.length; p += F) {
      if (strings.get(nodes[p + nodeOffsets.name]) !== 'Probe') continue;
      const index = snapshot.trace.indexById.get(nodes[p + nodeOffsets.traceNodeId]);
      if (
        index !== undefined &&
        functionName(snapshot, snapshot.trace.functionInfoIndex[index]) === 'makeProbes'
      ) {
        resolved++;
      }
    }
    expect(resolved).toBeGreaterThan(9_000);
  });

  it('gives identical results whatever the read size', async () => {
    const whole = parseHeapSnapshot(trackedBytes);
    for (const chunkSize of [4093, 65_536]) {
      expectSameSnapshot(await readHeapSnapshot(trackedPath, { chunkSize }), whole);
    }
  });

  it('reports progress up to the file size and honours an abort signal', async () => {
    const calls: [number, number][] = [];
    await readHeapSnapshot(plainPath, {
      chunkSize: 1 << 20,
      onProgress: (read, total) => calls.push([read, total]),
    });
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.at(-1)).toEqual([plainBytes.length, plainBytes.length]);
    const controller = new AbortController();
    const reading = readHeapSnapshot(plainPath, {
      chunkSize: 1 << 16,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(reading).rejects.toThrow(/abort/i);
  });
});

describe('parseHeapSnapshot chunk boundaries', () => {
  it('parses a real snapshot fed one byte at a time exactly like a single chunk', () => {
    const whole = parseHeapSnapshot(trackedBytes);
    expectSameSnapshot(parseHeapSnapshot(trackedBytes, { chunkSize: 1 }), whole);
    expectSameSnapshot(parseHeapSnapshot(trackedBytes, { chunkSize: 7 }), whole);
    expectSameSnapshot(parseHeapSnapshot(trackedBytes.toString('utf8')), whole);
  });

  it('decodes raw UTF-8, escapes, surrogate pairs and odd layout at every chunk size', () => {
    const text = syntheticSnapshot();
    const json = JSON.parse(text);
    const bytes = Buffer.from(text, 'utf8');
    const copy = Buffer.from(bytes);
    const whole = parseHeapSnapshot(bytes);
    expectEqualsJson(whole, json);
    expect(whole.strings.toArray()).toContain('€😀');
    expect(whole.strings.get(whole.strings.length - 1)).toBe('esc €😀 \ud83d lone / " \\ \né');
    expect(Array.from(whole.samples)).toEqual([1000, 3, -5, 7, 9007199254740991, 9]);
    expect(Array.from(whole.trace.allocSize)).toEqual([0, 96, 4294967296, 0]);
    expect(whole.nodes[7 + 3]).toBe(4294967295);
    for (let chunkSize = 1; chunkSize <= 64; chunkSize++) {
      expectSameSnapshot(parseHeapSnapshot(bytes, { chunkSize }), whole);
    }
    expect(bytes.equals(copy)).toBe(true); // the input is not modified
  });
});

describe('errors', () => {
  it('rejects a truncated file with a clear message, wherever it is cut', async () => {
    const cuts = [
      1,
      20,
      500,
      plainBytes.indexOf('"edges"') + 10,
      plainBytes.length - 20,
      plainBytes.length - 1,
    ];
    for (const cut of cuts) {
      expect(() => parseHeapSnapshot(plainBytes.subarray(0, cut)), `cut at ${cut}`).toThrow(
        /^heapsnapshot: truncated file: /,
      );
    }
    const truncated = join(dir, 'truncated.heapsnapshot');
    writeFileSync(truncated, plainBytes.subarray(0, Math.floor(plainBytes.length / 2)));
    await expect(readHeapSnapshot(truncated)).rejects.toThrow(
      /^heapsnapshot: truncated file: input ended inside "(nodes|edges|strings)" after \d+ bytes$/,
    );
  });

  it('rejects JSON that is not a heap snapshot', async () => {
    const foreign = join(dir, 'package.json');
    writeFileSync(foreign, readFileSync(new URL('../../../package.json', import.meta.url)));
    await expect(readHeapSnapshot(foreign)).rejects.toThrow(
      'heapsnapshot: not a V8 heap snapshot (no snapshot.meta)',
    );
    expect(() => parseHeapSnapshot('[1, 2, 3]')).toThrow(
      /^heapsnapshot: not a V8 heap snapshot \(expected a JSON object, found '\['/,
    );
    expect(() => parseHeapSnapshot('{"snapshot": {"meta": {}}}')).toThrow(/no "nodes" array/);
    expect(() => parseHeapSnapshot('{"nodes": {"a": 1}}')).toThrow(/"nodes" must be an array/);
  });

  it('rejects garbage', async () => {
    const garbage = join(dir, 'garbage.heapsnapshot');
    writeFileSync(garbage, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await expect(readHeapSnapshot(garbage)).rejects.toThrow(
      /^heapsnapshot: not a V8 heap snapshot \(expected a JSON object, found byte 0x89 at byte 0\)/,
    );
    expect(() => parseHeapSnapshot('')).toThrow('heapsnapshot: empty input');
    expect(() => parseHeapSnapshot('nonsense')).toThrow(HeapSnapshotError);
    const broken = Buffer.from(plainBytes);
    const at = broken.indexOf('"nodes":[') + 12;
    broken[at] = 0x78; // 'x'
    expect(() => parseHeapSnapshot(broken)).toThrow(
      new RegExp(`^heapsnapshot: unexpected 'x' in "nodes" .* at byte ${at}$`),
    );
    expect(() => parseHeapSnapshot(Buffer.concat([plainBytes, Buffer.from(' {}')]))).toThrow(
      /unexpected '\{' in the end of the file/,
    );
    const text = syntheticSnapshot();
    expect(() =>
      parseHeapSnapshot(text.replace('"flag": false', '"flag": false, "locations": []')),
    ).toThrow(/duplicate key "locations"/);
    expect(() => parseHeapSnapshot(text.replace('\\u20ac', '\\u20x'))).toThrow(
      /invalid escape in "strings"\[7\]/,
    );
  });

  it('rejects inconsistent contents instead of returning half data', () => {
    const text = syntheticSnapshot();
    expect(() => parseHeapSnapshot(text.replace('"edges":[1,0,7,', '"edges":[1,0,8,'))).toThrow(
      /^heapsnapshot: invalid snapshot: edge 0 points to nodes\[8\]/,
    );
    expect(() => parseHeapSnapshot(text.replace('"node_count":3', '"node_count":4'))).toThrow(
      /snapshot.node_count says 4/,
    );
    expect(() =>
      parseHeapSnapshot(text.replace(',1,2,3,4294967295,1,7,0', ',1,2,3,4294967295,2,7,0')),
    ).toThrow(/edge_count fields add up to 4 edges/);
    expect(() => parseHeapSnapshot(text.replace('4294967295', '4294967296'))).toThrow(
      /"nodes"\[10\] = 4294967296 .* is not an integer in \[0, 2\^32 - 1\]/,
    );
    expect(() => parseHeapSnapshot(text.replace('[1,0,0,0,[7', '[1,0,0,[7'))).toThrow(
      /malformed "trace_tree"/,
    );
  });
});

/**
 * The reader's worker threads (`readHeapSnapshot(path, { parallel })`): `nodes` and
 * `edges` parsed from their byte ranges in other threads must give exactly what JSON.parse
 * gives, and every malformed input the same error as the reader gives without workers.
 * Imports dist/ (the worker runs the compiled script): needs `npm run build`.
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEdgesEnd } from '../../../dist/formats/heapsnapshot/deferred.js';
import { parseHeapSnapshot, readHeapSnapshot } from '../../../dist/formats/heapsnapshot/index.js';
import { siteFrames } from '../../../dist/model/snapshot/sites.js';
import { expectSameNumbers, TRACKED_SNAPSHOT_META } from '../../helpers/heapsnapshot.js';

let dir: string;
let path: string;
let bytes: Buffer;
// biome-ignore lint/suspicious/noExplicitAny: the wire format, as JSON.parse returns it
let json: any;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapscope-heapsnapshot-workers-'));
  path = join(dir, 'plain.heapsnapshot');
  const child = `
    class Probe { constructor(i) { this.i = i; this.o = { s: 'p' + i }; } }
    globalThis.keep = [];
    for (let i = 0; i < 5000; i++) keep.push(new Probe(i));
    require('node:v8').writeHeapSnapshot(process.argv[1]);`;
  execFileSync(process.execPath, ['-e', child, path], { stdio: 'pipe', timeout: 60_000 });
  bytes = readFileSync(path);
  json = JSON.parse(bytes.toString('utf8'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the snapshot with `edit` applied to its text, written to a file. */
function variant(name: string, edit: (text: string) => string): string {
  const file = join(dir, `${name}.heapsnapshot`);
  const text = bytes.toString('utf8');
  const changed = edit(text);
  expect(changed, `the edit of ${name} applies`).not.toBe(text);
  writeFileSync(file, changed);
  return file;
}

/** The error each way of reading gives, as text. */
async function errors(file: string, native: boolean): Promise<[string, string]> {
  const message = (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: Error) => `${e.name}: ${e.message}`,
    );
  return [
    await message(readHeapSnapshot(file, { native, parallel: true })),
    await message(readHeapSnapshot(file, { native, parallel: false })),
  ];
}

// Off this thread: libuv's thread pool with the native helper, worker threads without.
describe.each([true, false])('readHeapSnapshot off this thread (native: %s)', (native) => {
  it('gives exactly what JSON.parse gives, in shared memory', async () => {
    const snapshot = await readHeapSnapshot(path, { native, parallel: true });
    // The arrays come from the workers (shared memory), not from this thread.
    expect(snapshot.nodes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(snapshot.edges.buffer).toBeInstanceOf(SharedArrayBuffer);
    expectSameNumbers(snapshot.nodes, json.nodes, 'nodes');
    expectSameNumbers(snapshot.edges, json.edges, 'edges');
    expect(snapshot.strings.toArray()).toEqual(json.strings);
    // Read after the scan, counted first (its length is not declared).
    expect(json.locations.length).toBeGreaterThan(0);
    expectSameNumbers(snapshot.locations, json.locations, 'locations');
    expect(snapshot.locations.length).toBe(json.locations.length);
    expect(snapshot.nodeCount).toBe(json.snapshot.node_count);
    const inline = await readHeapSnapshot(path, { native, parallel: false });
    expect(inline.nodes.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expectSameNumbers(snapshot.firstEdge, inline.firstEdge, 'firstEdge');
  });

  it('reads a file whose arrays span many read chunks', async () => {
    const snapshot = await readHeapSnapshot(path, { native, parallel: true, chunkSize: 4093 });
    expectSameNumbers(snapshot.edges, json.edges, 'edges');
  });

  it('reports malformed arrays exactly as the reader without workers does', async () => {
    const nodesAt = bytes.indexOf('"nodes":[') + 9;
    const edgesAt = bytes.indexOf('"edges":[') + 9;
    const cases: Record<string, string> = {
      'letter in nodes': variant(
        'letter-nodes',
        (t) => `${t.slice(0, nodesAt + 3)}x${t.slice(nodesAt + 4)}`,
      ),
      'letter in edges': variant(
        'letter-edges',
        (t) => `${t.slice(0, edgesAt + 200)}x${t.slice(edgesAt + 201)}`,
      ),
      'negative number': variant('negative', (t) => `${t.slice(0, edgesAt)}-${t.slice(edgesAt)}`),
      'number over 2^32': variant('huge', (t) => t.replace('"edges":[', '"edges":[4294967296')),
      'one node too many': variant('count', (t) =>
        t.replace(/"node_count":(\d+)/, (_, n) => `"node_count":${Number(n) - 1}`),
      ),
      'one edge too few': variant('edge-count', (t) =>
        t.replace(/"edge_count":(\d+)/, (_, n) => `"edge_count":${Number(n) + 1}`),
      ),
      'not an array': variant('object', (t) =>
        t.replace('"edges":[', '"edges":{"a":[').replace(/\]\s*,\s*"strings"/, ']},"strings"'),
      ),
    };
    for (const [what, file] of Object.entries(cases)) {
      const [withWorkers, without] = await errors(file, native);
      expect(without, what).toMatch(/^HeapSnapshotError: heapsnapshot: /);
      expect(withWorkers, what).toBe(without);
    }
  });

  it('checks the edges in the worker that parsed them, with the same errors', async () => {
    const file = (name: string, edit: (edges: number[]) => void) => {
      const copy = structuredClone(json);
      edit(copy.edges);
      const out = join(dir, `${name}.heapsnapshot`);
      writeFileSync(out, JSON.stringify(copy));
      return out;
    };
    const types: string[] = json.snapshot.meta.edge_types[0];
    const property = types.indexOf('property');
    const firstProperty = json.edges.findIndex(
      (v: number, i: number) => i % 3 === 0 && v === property,
    );
    const cases: Record<string, [string, RegExp]> = {
      'type beyond the types': [
        file('edge-type', (e) => {
          e[300] = types.length;
        }),
        /edge 100 has type 7, beyond the edge types/,
      ],
      'target inside a node': [
        file('edge-target', (e) => {
          e[302] += 1;
        }),
        /edge 100 points to nodes\[\d+\], not the start of a node/,
      ],
      'target beyond the nodes': [
        file('edge-beyond', (e) => {
          e[302] = json.nodes.length;
        }),
        /edge 100 points to nodes\[\d+\], not the start of a node/,
      ],
      'name beyond the strings': [
        file('edge-name', (e) => {
          e[firstProperty + 1] = json.strings.length;
        }),
        new RegExp(`edge ${firstProperty / 3} has name ${json.strings.length}, beyond the strings`),
      ],
    };
    for (const [what, [path, message]] of Object.entries(cases)) {
      const [withWorkers, without] = await errors(path, native);
      expect(without, what).toMatch(message);
      expect(withWorkers, what).toBe(without);
      const oneThread = await readHeapSnapshot(path, { native, parallel: true, threads: 1 }).then(
        () => 'no error',
        (e: Error) => `${e.name}: ${e.message}`,
      );
      expect(oneThread, what).toBe(without);
    }
    // Sound edges pass the worker's check: the plain file reads with one worker too.
    const snapshot = await readHeapSnapshot(path, { native, parallel: true, threads: 1 });
    expectSameNumbers(snapshot.nodes, json.nodes, 'nodes');
    expectSameNumbers(snapshot.edges, json.edges, 'edges');
    expect(snapshot.nodes.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('finds the end of the edges from the end of the file, by the key V8 writes next', () => {
    const edgesAt = bytes.indexOf('"edges":[') + 8;
    const edgesEnd = bytes.indexOf(']', edgesAt) + 1;
    const end = (file: string) => {
      const fd = openSync(file, 'r');
      try {
        return findEdgesEnd(fd, statSync(file).size, readFileSync(file).indexOf('"edges":[') + 8);
      } finally {
        closeSync(fd);
      }
    };
    expect(end(path)).toBe(edgesEnd);
    // The key's text inside a string literal (its quotes escaped) is not the key.
    const literal = variant('literal', (t) =>
      t.replace('"strings":["', '"strings":["],\\"trace_function_infos\\":['),
    );
    expect(end(literal)).toBe(edgesEnd);
    // Not after the edges at all: nothing found, the edges are scanned as before.
    const before = variant('key-first', (t) =>
      t
        .replace(/,\s*"trace_function_infos":\[[^\]]*\]/, '')
        .replace('"nodes":[', '"trace_function_infos":[],"nodes":['),
    );
    expect(end(before)).toBeUndefined();
  });

  it('reads snapshots whose keys V8 did not order, when the jump over the edges lands wrong', async () => {
    // `samples` between `edges` and `trace_function_infos`: the end found from the file's
    // end is past the samples; the worker finds its ']' earlier, and the file is read
    // again in order.
    const copy = structuredClone(json);
    const { snapshot, nodes, edges, trace_function_infos, trace_tree, locations, strings } = copy;
    const reordered = {
      snapshot,
      nodes,
      edges,
      samples: [5, 6, 7, 8],
      trace_function_infos,
      trace_tree,
      locations,
      strings,
    };
    reordered.snapshot.meta.sample_fields = ['timestamp_us', 'last_assigned_id'];
    const file = join(dir, 'reordered.heapsnapshot');
    writeFileSync(file, JSON.stringify(reordered));
    for (const threads of [1, 2]) {
      const read = await readHeapSnapshot(file, { native, parallel: true, threads });
      expectSameNumbers(read.edges, json.edges, 'edges');
      expectSameNumbers(read.nodes, json.nodes, 'nodes');
      expect(Array.from(read.samples)).toEqual([5, 6, 7, 8]);
      expectSameNumbers(read.locations, json.locations, 'locations');
      expect(read.strings.length).toBe(json.strings.length);
    }
  });

  it('reads a named pipe on this thread (workers cannot open it again)', async () => {
    const fifo = join(dir, `snapshot-${native}.fifo`);
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', path, fifo], { stdio: 'ignore' });
    const written = new Promise((resolve) => writer.once('close', resolve));
    const snapshot = await readHeapSnapshot(fifo, { native, parallel: true });
    expect(await written).toBe(0);
    expect(snapshot.edges.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expectSameNumbers(snapshot.edges, json.edges, 'edges');
  });

  it('reads on its own thread where no thread may be started (permission model)', () => {
    const reader = new URL('../../../dist/formats/heapsnapshot/index.js', import.meta.url).href;
    const analysis = new URL('../../../dist/threads/snapshot-analysis.js', import.meta.url).href;
    const script = `
      const { readHeapSnapshot } = await import(${JSON.stringify(reader)});
      const { analyzeSnapshotInParallel } = await import(${JSON.stringify(analysis)});
      const native = ${JSON.stringify(native)};
      const s = await readHeapSnapshot(process.argv[1], { native, parallel: true });
      const a = await analyzeSnapshotInParallel(s, { native, parallel: true });
      console.log(JSON.stringify({ shared: s.edges.buffer instanceof SharedArrayBuffer,
        nodes: s.nodeCount, edges: s.edges.length, retained: a.retainedSizes[0] }));`;
    const major = Number(process.versions.node.split('.')[0]);
    const permission = major >= 22 ? '--permission' : '--experimental-permission';
    const r = spawnSync(
      process.execPath,
      [permission, '--allow-fs-read=*', '--input-type=module', '-e', script, path],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.shared).toBe(false);
    expect(out.nodes).toBe(json.snapshot.node_count);
    expect(out.edges).toBe(json.edges.length);
    expect(out.retained).toBeGreaterThan(0);
  });

  it('stops at an abort while the arrays are parsed off this thread, and reads again after', async () => {
    const controller = new AbortController();
    const edgesAt = bytes.indexOf('"edges":[');
    const reading = readHeapSnapshot(path, {
      native,
      parallel: true,
      chunkSize: 64 * 1024,
      signal: controller.signal,
      // Once the edges have been handed off (they come before the strings).
      onProgress: (position) => {
        if (position > edgesAt) controller.abort();
      },
    });
    await expect(reading).rejects.toThrow(/abort/i);
    // Whatever was still running off this thread ends by itself; the next read is whole.
    const again = await readHeapSnapshot(path, { native, parallel: true });
    expectSameNumbers(again.edges, json.edges, 'edges');
  });

  it('reports a file truncated inside an array as truncated', async () => {
    const file = join(dir, 'truncated.heapsnapshot');
    writeFileSync(file, bytes.subarray(0, bytes.indexOf('"edges":[') + 1000));
    const [withWorkers, without] = await errors(file, native);
    expect(without).toMatch(/truncated file: input ended inside "edges"/);
    expect(withWorkers).toBe(without);
  });
});

/**
 * Negative lines and columns, as V8 (Node 24, 26) writes them for the functions of
 * vitest's module wrapper, which starts before the test file's first column: a
 * hand-built snapshot in V8's key order and layout, read every way the reader can.
 * Truth: the negative fields of `trace_function_infos` read as 0 (no position), the
 * other numbers as written; the `locations` entry with a negative column is dropped.
 */
describe('negative lines and columns (trace_function_infos, locations)', () => {
  // (root) > the wrapper (line 1, column -208) > allocateKnown (4:3) > a function at -2^31.
  const infos = [
    0, 1, 0, 0, 0, 0, 9, 6, 3, 240, 1, -208, 10, 2, 3, 240, 4, 3, 11, 4, 3, 240, -1, -2147483648,
  ];
  const readInfos = [
    0, 1, 0, 0, 0, 0, 9, 6, 3, 240, 1, 0, 10, 2, 3, 240, 4, 3, 11, 4, 3, 240, 0, 0,
  ];
  const locations = [7, 240, 0, -196, 14, 240, 3, 12];
  const text = [
    `{"snapshot":{"meta":${JSON.stringify(TRACKED_SNAPSHOT_META)},"node_count":3,"edge_count":2,"trace_function_count":4},`,
    '"nodes":[0,1,1,0,2,0,0\n,1,2,3,40,0,2,0\n,1,2,5,40,0,3,0],',
    '"edges":[1,5,7\n,1,5,14],',
    `"trace_function_infos":[${infos.join(',')}],`,
    '"trace_tree":[1,0,0,0,[2,1,1,40,[3,2,1,40,[4,3,0,0,[]]]]],',
    '"samples":[],',
    `"locations":[${locations.join('\n,')}],`,
    '"strings":["<dummy>","(root)","allocateKnown","/t/vt/a.test.mjs","deep","k",""]}',
  ].join('\n');
  let file: string;
  beforeAll(() => {
    file = join(dir, 'negative-columns.heapsnapshot');
    writeFileSync(file, text);
  });

  const ways: [string, () => Promise<ReturnType<typeof parseHeapSnapshot>>][] = [
    [
      'parsed in memory, a byte at a time',
      async () => parseHeapSnapshot(Buffer.from(text), { chunkSize: 1 }),
    ],
    ['read on this thread', () => readHeapSnapshot(file, { parallel: false })],
    [
      'read with the native helper, arrays off this thread',
      () => readHeapSnapshot(file, { native: true, parallel: true }),
    ],
    [
      'read without it, arrays in worker threads',
      () => readHeapSnapshot(file, { native: false, parallel: true }),
    ],
    [
      'read with one worker thread',
      () => readHeapSnapshot(file, { native: false, parallel: true, threads: 1 }),
    ],
  ];
  it.each(ways)('%s', async (_way, read) => {
    const snapshot = await read();
    expectSameNumbers(snapshot.traceFunctionInfos, readInfos, 'traceFunctionInfos');
    expectSameNumbers(snapshot.locations, [14, 240, 3, 12], 'locations');
    const frames = [1, 2, 3].map((t) => siteFrames(snapshot, t)[0]);
    expect(frames).toEqual([
      '(anonymous) (/t/vt/a.test.mjs:1)',
      'allocateKnown (/t/vt/a.test.mjs:4:3)',
      'deep (/t/vt/a.test.mjs)',
    ]);
  });

  it('still refuses a negative number elsewhere, and one under -2^31', () => {
    const at = (edit: (t: string) => string) => () => parseHeapSnapshot(Buffer.from(edit(text)));
    expect(at((t) => t.replace('"nodes":[0,1,1', '"nodes":[0,-1,1'))).toThrow(
      /"nodes"\[1\] = -… .* is not an integer in \[0, 2\^32 - 1\]/,
    );
    expect(at((t) => t.replace('-2147483648', '-2147483649'))).toThrow(
      /"trace_function_infos"\[23\] = -2147483649 .* is not an integer in \[-2\^31, 2\^32 - 1\]/,
    );
    expect(at((t) => t.replace('-208', '- 208'))).toThrow(/"trace_function_infos"/);
  });
});

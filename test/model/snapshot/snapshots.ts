/**
 * Test helpers for the heap-graph analyses: snapshots built by hand (small graphs whose
 * dominators and retained sizes can be worked out on paper) and real ones written by
 * Node child processes.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { type HeapSnapshot, parseHeapSnapshot } from '../../../src/formats/heapsnapshot/index.js';
import { NODE, tempDir } from '../../helpers/heapscope.js';

/** V8's node and edge types (Node 20–26 write these lists). */
export const NODE_TYPES = [
  'hidden',
  'array',
  'string',
  'object',
  'code',
  'closure',
  'regexp',
  'number',
  'native',
  'synthetic',
  'concatenated string',
  'sliced string',
  'symbol',
  'bigint',
  'object shape',
];
export const EDGE_TYPES = [
  'context',
  'element',
  'property',
  'internal',
  'hidden',
  'shortcut',
  'weak',
];

export interface HandNode {
  /** A key other nodes' edges name this node by. */
  key: string;
  type: string;
  name: string;
  size: number;
  /** [edge type, name (string) or index (number), target key]. */
  edges?: [string, string | number, string][];
  /** Snapshot object id; default 2 × position + 1. */
  id?: number;
  /** Trace node id (allocation site); default 0. */
  trace?: number;
}

export interface HandSnapshot {
  json: string;
  snapshot: HeapSnapshot;
  /** Ordinal of each node, by key. */
  ordinal: Record<string, number>;
}

/** Builds a `.heapsnapshot` JSON text from nodes (the first is the root) and parses it. */
export function handSnapshot(
  nodes: HandNode[],
  extra: { locations?: [string, number, number, number][] } = {},
): HandSnapshot {
  const strings: string[] = [''];
  const stringIndex = new Map<string, number>([['', 0]]);
  const str = (s: string) => {
    let i = stringIndex.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      stringIndex.set(s, i);
    }
    return i;
  };
  const ordinal: Record<string, number> = {};
  nodes.forEach((n, i) => {
    ordinal[n.key] = i;
  });
  const nodeFields = [
    'type',
    'name',
    'id',
    'self_size',
    'edge_count',
    'trace_node_id',
    'detachedness',
  ];
  const nodeNumbers: number[] = [];
  const edgeNumbers: number[] = [];
  nodes.forEach((n, i) => {
    const type = NODE_TYPES.indexOf(n.type);
    if (type < 0) throw new Error(`unknown node type ${n.type}`);
    const edges = n.edges ?? [];
    nodeNumbers.push(type, str(n.name), n.id ?? 2 * i + 1, n.size, edges.length, n.trace ?? 0, 0);
    for (const [edgeType, name, to] of edges) {
      const t = EDGE_TYPES.indexOf(edgeType);
      if (t < 0) throw new Error(`unknown edge type ${edgeType}`);
      if (ordinal[to] === undefined) throw new Error(`unknown node ${to}`);
      const byIndex = edgeType === 'element' || edgeType === 'hidden';
      edgeNumbers.push(
        t,
        byIndex ? Number(name) : str(String(name)),
        ordinal[to] * nodeFields.length,
      );
    }
  });
  const locations = (extra.locations ?? []).flatMap(([key, script, line, column]) => [
    ordinal[key] * nodeFields.length,
    script,
    line,
    column,
  ]);
  const json = JSON.stringify({
    snapshot: {
      meta: {
        node_fields: nodeFields,
        node_types: [NODE_TYPES, 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [EDGE_TYPES, 'string_or_number', 'node'],
        trace_function_info_fields: [],
        trace_node_fields: [],
        sample_fields: [],
        location_fields: ['object_index', 'script_id', 'line', 'column'],
      },
      node_count: nodes.length,
      edge_count: edgeNumbers.length / 3,
      trace_function_count: 0,
    },
    nodes: nodeNumbers,
    edges: edgeNumbers,
    trace_function_infos: [],
    trace_tree: [],
    samples: [],
    locations,
    strings,
  });
  return { json, snapshot: parseHeapSnapshot(json), ordinal };
}

/**
 * Runs `script` in a child Node (the one tests use) with `dir` as working directory;
 * the script writes its snapshots there.
 */
export function runChild(script: string, dir: string, args: string[] = []): void {
  execFileSync(NODE, ['-e', script, ...args], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
}

export function snapshotDir(): string {
  return tempDir('heapscope-snapshot-');
}

export function inDir(dir: string, file: string): string {
  return join(dir, file);
}

/** Whether the Node that writes the snapshots compresses pointers (then a tagged word is 4 bytes). */
export function wordSize(): number {
  const out = execFileSync(
    NODE,
    ['-p', 'process.config.variables.v8_enable_pointer_compression ? 4 : 8'],
    { encoding: 'utf8' },
  );
  return Number(out.trim());
}

/** DevTools' own analysis of a snapshot file, through heap-snapshot-toolkit. */
// biome-ignore lint/suspicious/noExplicitAny: heap-snapshot-toolkit exposes DevTools' untyped internals
export async function devtoolsSnapshot(path: string): Promise<any> {
  const { parse } = await import('heap-snapshot-toolkit');
  return parse(createReadStream(path, 'utf-8'));
}

/** DevTools' analysis of a snapshot held as text. */
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function devtoolsSnapshotOf(json: string): Promise<any> {
  const { Readable } = await import('node:stream');
  const { parse } = await import('heap-snapshot-toolkit');
  return parse(Readable.from([json]) as never);
}

/**
 * The heap-snapshot model: a V8 heap snapshot (`.heapsnapshot`) as typed arrays, the
 * field layout its header declares, and its allocation trace tree. The reader in
 * formats/heapsnapshot/ builds it; the analyses in this folder read it.
 */

import type { SnapshotStrings } from './strings.js';

/** Field names and enums from `snapshot.meta`. */
export interface HeapSnapshotMeta {
  /** Names of a node's fields, in order (`type`, `name`, `id`, `self_size`, `edge_count`, `trace_node_id`, `detachedness` on Node 20). */
  nodeFields: string[];
  /** Names of node types: the value of a node's `type` field indexes this list. */
  nodeTypes: string[];
  /** Names of an edge's fields, in order (`type`, `name_or_index`, `to_node`). */
  edgeFields: string[];
  /** Names of edge types: the value of an edge's `type` field indexes this list. */
  edgeTypes: string[];
  /** `function_id`, `name`, `script_name`, `script_id`, `line`, `column`. Empty if absent. */
  traceFunctionInfoFields: string[];
  /** `id`, `function_info_index`, `count`, `size`, `children`. Empty if absent. */
  traceNodeFields: string[];
  /** `object_index`, `script_id`, `line`, `column`. Empty if absent. */
  locationFields: string[];
  /** `timestamp_us`, `last_assigned_id`. Empty if absent. */
  sampleFields: string[];
}

/** Position of each known node field within a node's record; -1 when the snapshot has none. */
export interface NodeFieldOffsets {
  type: number;
  name: number;
  id: number;
  selfSize: number;
  edgeCount: number;
  traceNodeId: number;
  detachedness: number;
}

/** Position of each edge field within an edge's record. */
export interface EdgeFieldOffsets {
  type: number;
  nameOrIndex: number;
  toNode: number;
}

/** Position of each field within a `trace_function_infos` record; -1 when absent. */
export interface TraceFunctionInfoOffsets {
  functionId: number;
  name: number;
  scriptName: number;
  scriptId: number;
  /** 1-based; 0 means unknown. */
  line: number;
  /** 1-based; 0 means unknown. */
  column: number;
}

/**
 * The allocation trace tree, flattened: one entry per trace node, in the file's
 * (depth-first, parent before children) order, so `parent[i] < i`.
 */
export interface TraceTree {
  count: number;
  /** Trace node id, as referenced by a heap node's `trace_node_id`. */
  id: Uint32Array;
  /** Entry number in `traceFunctionInfos` (multiply by its field count for the flat offset). */
  functionInfoIndex: Uint32Array;
  /** Objects allocated at this exact stack (not including children). */
  allocCount: Float64Array;
  /** Bytes allocated at this exact stack (not including children). */
  allocSize: Float64Array;
  /** Index of the parent entry in these arrays; -1 for a root. */
  parent: Int32Array;
  /** Trace node id → index in these arrays. */
  indexById: Map<number, number>;
}

export interface HeapSnapshot {
  meta: HeapSnapshotMeta;
  nodeCount: number;
  edgeCount: number;
  /** Number of fields per node: `meta.nodeFields.length`. */
  nodeFieldCount: number;
  /** Number of fields per edge: `meta.edgeFields.length`. */
  edgeFieldCount: number;
  nodeOffsets: NodeFieldOffsets;
  edgeOffsets: EdgeFieldOffsets;
  /** Flat: `nodeFieldCount` numbers per node, as in the file. Node `i` starts at `i * nodeFieldCount`. */
  nodes: Uint32Array;
  /**
   * Flat: `edgeFieldCount` numbers per edge, as in the file. An edge's `to_node` is an
   * offset into `nodes` (a multiple of `nodeFieldCount`), not a node number.
   */
  edges: Uint32Array;
  /**
   * `nodeCount + 1` offsets into `edges` (already multiplied by `edgeFieldCount`): node
   * `i`'s edges are `edges[firstEdge[i] .. firstEdge[i + 1])`.
   */
  firstEdge: Uint32Array;
  /** The strings, decoded when asked for: `strings.get(i)`. */
  strings: SnapshotStrings;
  /** Number of `trace_function_infos` entries. */
  traceFunctionCount: number;
  traceFunctionInfoOffsets: TraceFunctionInfoOffsets;
  /**
   * Flat: `meta.traceFunctionInfoFields.length` numbers per entry; empty without allocation
   * tracking. `line` and `column` are 1-based, 0 when the function has no position in its
   * file.
   */
  traceFunctionInfos: Uint32Array;
  /** Flattened `trace_tree`; `count` 0 when the snapshot has none. */
  trace: TraceTree;
  /**
   * Flat: `meta.locationFields.length` numbers per entry (0-based line and column); may be
   * empty. Objects whose constructor has no position in its file have no entry.
   */
  locations: Uint32Array;
  /** Flat: `meta.sampleFields.length` numbers per entry; may be empty. */
  samples: Float64Array;
}

/** A trace tree with no entries: a snapshot taken without allocation tracking. */
export function emptyTraceTree(): TraceTree {
  return {
    count: 0,
    id: new Uint32Array(0),
    functionInfoIndex: new Uint32Array(0),
    allocCount: new Float64Array(0),
    allocSize: new Float64Array(0),
    parent: new Int32Array(0),
    indexById: new Map(),
  };
}

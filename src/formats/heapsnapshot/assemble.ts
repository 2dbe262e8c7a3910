// The snapshot put together once the whole file is read: every array checked against the
// header and against each other (lengths, types, names and targets in range).

import { isIndexNamedEdgeType } from '../../model/snapshot/graph.js';
import {
  type EdgeFieldOffsets,
  emptyTraceTree,
  type HeapSnapshot,
  type HeapSnapshotMeta,
  type NodeFieldOffsets,
  type TraceFunctionInfoOffsets,
} from '../../model/snapshot/heap-snapshot.js';
import { DeferredArray } from './deferred.js';
import { HeapSnapshotError, invalid } from './errors.js';
import { optionalCount, requiredOffset, stringList, typeNames } from './header.js';
import type { NumberArrayReader } from './numbers.js';
import type { StringArrayReader } from './strings.js';
import type { TraceTreeReader } from './trace-tree.js';

export interface Parts {
  header: unknown;
  nodes: NumberArrayReader | DeferredArray | undefined;
  edges: NumberArrayReader | DeferredArray | undefined;
  functionInfos: NumberArrayReader | undefined;
  locations: NumberArrayReader | DeferredArray | undefined;
  samples: NumberArrayReader | undefined;
  traceTree: TraceTreeReader | undefined;
  strings: StringArrayReader | undefined;
}

export function assemble(parts: Parts): HeapSnapshot {
  const header = parts.header as Record<string, unknown> | undefined;
  const rawMeta = header?.meta;
  if (typeof header !== 'object' || header === null || typeof rawMeta !== 'object' || !rawMeta) {
    throw new HeapSnapshotError('heapsnapshot: not a V8 heap snapshot (no snapshot.meta)');
  }
  for (const key of ['nodes', 'edges', 'strings'] as const) {
    if (!parts[key]) {
      throw new HeapSnapshotError(`heapsnapshot: not a V8 heap snapshot (no "${key}" array)`);
    }
  }
  const m = rawMeta as Record<string, unknown>;
  const nodeFields = stringList(m, 'node_fields', true);
  const edgeFields = stringList(m, 'edge_fields', true);
  const nodeOffsets: NodeFieldOffsets = {
    type: requiredOffset(nodeFields, 'type', 'nodes'),
    name: requiredOffset(nodeFields, 'name', 'nodes'),
    id: requiredOffset(nodeFields, 'id', 'nodes'),
    selfSize: requiredOffset(nodeFields, 'self_size', 'nodes'),
    edgeCount: requiredOffset(nodeFields, 'edge_count', 'nodes'),
    traceNodeId: nodeFields.indexOf('trace_node_id'),
    detachedness: nodeFields.indexOf('detachedness'),
  };
  const edgeOffsets: EdgeFieldOffsets = {
    type: requiredOffset(edgeFields, 'type', 'edges'),
    nameOrIndex: requiredOffset(edgeFields, 'name_or_index', 'edges'),
    toNode: requiredOffset(edgeFields, 'to_node', 'edges'),
  };
  const meta: HeapSnapshotMeta = {
    nodeFields,
    nodeTypes: typeNames(m, 'node_types', nodeOffsets.type),
    edgeFields,
    edgeTypes: typeNames(m, 'edge_types', edgeOffsets.type),
    traceFunctionInfoFields: stringList(m, 'trace_function_info_fields', false),
    traceNodeFields: stringList(m, 'trace_node_fields', false),
    locationFields: stringList(m, 'location_fields', false),
    sampleFields: stringList(m, 'sample_fields', false),
  };
  const strings = parts.strings!.result();
  const nodes = parts.nodes!.result();
  const edges = parts.edges!.result();
  const nodeFieldCount = nodeFields.length;
  const edgeFieldCount = edgeFields.length;

  // Lengths against the header's counts.
  if (nodes.length % nodeFieldCount !== 0) {
    throw invalid(
      `"nodes" has ${nodes.length} numbers, not a multiple of ${nodeFieldCount} fields`,
    );
  }
  if (edges.length % edgeFieldCount !== 0) {
    throw invalid(
      `"edges" has ${edges.length} numbers, not a multiple of ${edgeFieldCount} fields`,
    );
  }
  const nodeCount = nodes.length / nodeFieldCount;
  const edgeCount = edges.length / edgeFieldCount;
  const declaredNodes = optionalCount(header, 'node_count');
  const declaredEdges = optionalCount(header, 'edge_count');
  if (declaredNodes !== undefined && declaredNodes !== nodeCount) {
    throw invalid(`"nodes" holds ${nodeCount} nodes, snapshot.node_count says ${declaredNodes}`);
  }
  if (declaredEdges !== undefined && declaredEdges !== edgeCount) {
    throw invalid(`"edges" holds ${edgeCount} edges, snapshot.edge_count says ${declaredEdges}`);
  }

  // Nodes: type and name in range; first edge of each node.
  const nodeTypeCount = meta.nodeTypes.length;
  const stringCount = strings.length;
  // In shared memory when the edges are, so that other threads can walk the graph too.
  const firstEdge =
    edges.buffer instanceof SharedArrayBuffer
      ? new Uint32Array(new SharedArrayBuffer((nodeCount + 1) * Uint32Array.BYTES_PER_ELEMENT))
      : new Uint32Array(nodeCount + 1);
  let edgeOffset = 0;
  for (let n = 0, p = 0; n < nodeCount; n++, p += nodeFieldCount) {
    if (nodes[p + nodeOffsets.type] >= nodeTypeCount) {
      throw invalid(`node ${n} has type ${nodes[p + nodeOffsets.type]}, beyond the node types`);
    }
    if (nodes[p + nodeOffsets.name] >= stringCount) {
      throw invalid(`node ${n} has name ${nodes[p + nodeOffsets.name]}, beyond the strings`);
    }
    firstEdge[n] = edgeOffset;
    edgeOffset += nodes[p + nodeOffsets.edgeCount] * edgeFieldCount;
  }
  if (edgeOffset !== edges.length) {
    throw invalid(
      `the nodes' edge_count fields add up to ${edgeOffset / edgeFieldCount} edges, "edges" holds ${edgeCount}`,
    );
  }
  firstEdge[nodeCount] = edgeOffset;

  // Edges: type in range, target a node, name a string unless the type names an index.
  const edgeTypes = meta.edgeTypes;
  const byIndex = new Uint8Array(edgeTypes.length);
  for (let t = 0; t < edgeTypes.length; t++)
    byIndex[t] = isIndexNamedEdgeType(edgeTypes[t]) ? 1 : 0;
  const nodesLength = nodes.length;
  const summary = parts.edges instanceof DeferredArray ? parts.edges.summary : undefined;
  const checked =
    summary?.sound === true &&
    summary.maxName < stringCount &&
    summary.rules.nodesLength === nodesLength &&
    summary.rules.fieldCount === edgeFieldCount;
  for (let p = 0; !checked && p < edges.length; p += edgeFieldCount) {
    const type = edges[p + edgeOffsets.type];
    const to = edges[p + edgeOffsets.toNode];
    if (type >= edgeTypes.length) {
      throw invalid(`edge ${p / edgeFieldCount} has type ${type}, beyond the edge types`);
    }
    if (to >= nodesLength || to % nodeFieldCount !== 0) {
      throw invalid(
        `edge ${p / edgeFieldCount} points to nodes[${to}], not the start of a node (nodes has ${nodesLength} numbers)`,
      );
    }
    if (byIndex[type] === 0 && edges[p + edgeOffsets.nameOrIndex] >= stringCount) {
      throw invalid(
        `edge ${p / edgeFieldCount} has name ${edges[p + edgeOffsets.nameOrIndex]}, beyond the strings`,
      );
    }
  }

  // Allocation traces.
  const fiFields = meta.traceFunctionInfoFields;
  const traceFunctionInfos = parts.functionInfos?.result() ?? new Uint32Array(0);
  const traceFunctionInfoOffsets: TraceFunctionInfoOffsets = {
    functionId: fiFields.indexOf('function_id'),
    name: fiFields.indexOf('name'),
    scriptName: fiFields.indexOf('script_name'),
    scriptId: fiFields.indexOf('script_id'),
    line: fiFields.indexOf('line'),
    column: fiFields.indexOf('column'),
  };
  let traceFunctionCount = 0;
  if (traceFunctionInfos.length > 0) {
    if (fiFields.length === 0) {
      throw invalid(
        '"trace_function_infos" is present but snapshot.meta has no trace_function_info_fields',
      );
    }
    if (traceFunctionInfos.length % fiFields.length !== 0) {
      throw invalid(`"trace_function_infos" length is not a multiple of ${fiFields.length} fields`);
    }
    traceFunctionCount = traceFunctionInfos.length / fiFields.length;
    for (const offset of [traceFunctionInfoOffsets.name, traceFunctionInfoOffsets.scriptName]) {
      if (offset < 0) continue;
      for (let p = offset; p < traceFunctionInfos.length; p += fiFields.length) {
        if (traceFunctionInfos[p] >= stringCount) {
          throw invalid(
            `trace function info ${Math.floor(p / fiFields.length)} names string ${traceFunctionInfos[p]}, beyond the strings`,
          );
        }
      }
    }
  }
  noPositionBeforeTheFile(traceFunctionInfos, fiFields.length, [
    traceFunctionInfoOffsets.line,
    traceFunctionInfoOffsets.column,
  ]);
  // snapshot.trace_function_count is not checked: V8 writes it before serializing the
  // function infos, and allocation tracking can add entries in between (seen on Node 20:
  // 17 declared, 20 written).
  const trace = parts.traceTree?.result() ?? emptyTraceTree();
  if (trace.count > 0) {
    const standard = ['id', 'function_info_index', 'count', 'size', 'children'];
    if (meta.traceNodeFields.join() !== standard.join()) {
      throw invalid(`unsupported trace_node_fields ${JSON.stringify(meta.traceNodeFields)}`);
    }
    for (let i = 0; i < trace.count; i++) {
      if (trace.functionInfoIndex[i] >= traceFunctionCount) {
        throw invalid(
          `trace node ${trace.id[i]} refers to function info ${trace.functionInfoIndex[i]}, beyond the ${traceFunctionCount} entries`,
        );
      }
    }
  }
  const read = parts.locations?.result() ?? new Uint32Array(0);
  if (meta.locationFields.length > 0 && read.length % meta.locationFields.length !== 0) {
    throw invalid(`"locations" length is not a multiple of ${meta.locationFields.length} fields`);
  }
  const locations = withoutPositionsBeforeTheFile(
    read,
    meta.locationFields.length,
    ['script_id', 'line', 'column'].map((f) => meta.locationFields.indexOf(f)),
  );
  const samples = parts.samples?.resultFloat() ?? new Float64Array(0);
  if (meta.sampleFields.length > 0 && samples.length % meta.sampleFields.length !== 0) {
    throw invalid(`"samples" length is not a multiple of ${meta.sampleFields.length} fields`);
  }

  return {
    meta,
    nodeCount,
    edgeCount,
    nodeFieldCount,
    edgeFieldCount,
    nodeOffsets,
    edgeOffsets,
    nodes,
    edges,
    firstEdge,
    strings,
    traceFunctionCount,
    traceFunctionInfoOffsets,
    traceFunctionInfos,
    trace,
    locations,
    samples,
  };
}

/**
 * V8 writes a function's line and column as signed numbers (read as 32-bit two's
 * complement, numbers.ts): negative where the function starts before the file's text, in
 * a wrapper its loader compiled around it with a negative column offset (vitest's module
 * runner: line 1, column -208). That is no position in the file, written as V8 writes
 * "no position" in these 1-based fields: 0. Rewrites `infos` in place.
 */
function noPositionBeforeTheFile(infos: Uint32Array, stride: number, offsets: number[]): void {
  if (stride === 0) return;
  for (const offset of offsets) {
    if (offset < 0) continue;
    for (let p = offset; p < infos.length; p += stride) if ((infos[p] | 0) < 0) infos[p] = 0;
  }
}

/**
 * The `locations` entries (an object's constructor: script, 0-based line and column)
 * without those at a negative script id, line or column (see noPositionBeforeTheFile):
 * that object's class has no position. The same array when none is negative.
 */
function withoutPositionsBeforeTheFile(
  locations: Uint32Array,
  stride: number,
  offsets: number[],
): Uint32Array {
  const signed = offsets.filter((o) => o >= 0);
  if (stride === 0 || signed.length === 0) return locations;
  let kept = 0;
  next: for (let p = 0; p < locations.length; p += stride) {
    for (const o of signed) if ((locations[p + o] | 0) < 0) continue next;
    if (kept !== p) locations.copyWithin(kept, p, p + stride);
    kept += stride;
  }
  return kept === locations.length ? locations : locations.subarray(0, kept);
}

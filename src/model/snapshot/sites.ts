/**
 * Allocation sites of live objects: a snapshot taken while V8's allocation tracker ran
 * names, for each node, the trace-tree node (one per distinct call stack) that allocated
 * it (`trace_node_id`). Reliable in the first snapshot of a tracking session only (see
 * DESIGN.md: V8 stops updating the site of objects that already have an id).
 */

import { frameOfLocation } from '../frame.js';
import type { HeapSnapshot } from './heap-snapshot.js';

/** No site: the node has no trace id, or one the trace tree does not know. */
export const NO_SITE = 0xffffffff;

/** Index in `snapshot.trace` of each node's allocation site, or {@link NO_SITE}. */
export function allocationSites(snapshot: HeapSnapshot): Uint32Array {
  const { nodes, nodeFieldCount, nodeCount, trace } = snapshot;
  const off = snapshot.nodeOffsets.traceNodeId;
  const siteOf = new Uint32Array(nodeCount).fill(NO_SITE);
  if (off < 0 || trace.count === 0) return siteOf;
  let maxId = 0;
  for (let t = 0; t < trace.count; t++) if (trace.id[t] > maxId) maxId = trace.id[t];
  const indexById = new Uint32Array(maxId + 1).fill(NO_SITE);
  for (let t = 0; t < trace.count; t++) if (trace.parent[t] >= 0) indexById[trace.id[t]] = t;
  for (let n = 0, p = off; n < nodeCount; n++, p += nodeFieldCount) {
    const id = nodes[p];
    if (id !== 0 && id <= maxId) siteOf[n] = indexById[id];
  }
  return siteOf;
}

/** Whether the snapshot carries allocation traces (taken with allocation tracking on). */
export function hasAllocationTraces(snapshot: HeapSnapshot): boolean {
  return snapshot.trace.count > 1 && snapshot.nodeOffsets.traceNodeId >= 0;
}

/**
 * The call stack of a trace-tree node, allocating function first, as
 * `function (script:line:column)` frames (1-based; V8's tracker gives the position of
 * the function, not of the allocating line).
 */
export function siteFrames(snapshot: HeapSnapshot, traceIndex: number): string[] {
  const { trace, traceFunctionInfos, strings } = snapshot;
  const o = snapshot.traceFunctionInfoOffsets;
  const stride = snapshot.meta.traceFunctionInfoFields.length;
  const frames: string[] = [];
  // The tree's root is V8's synthetic "(root)": not a frame.
  for (let t = traceIndex; t >= 0 && trace.parent[t] >= 0; t = trace.parent[t]) {
    const base = trace.functionInfoIndex[t] * stride;
    frames.push(
      frameOfLocation({
        functionName: o.name >= 0 ? (strings.get(traceFunctionInfos[base + o.name]) ?? '') : '',
        scriptName:
          o.scriptName >= 0 ? (strings.get(traceFunctionInfos[base + o.scriptName]) ?? '') : '',
        line: o.line >= 0 ? traceFunctionInfos[base + o.line] : 0,
        column: o.column >= 0 ? traceFunctionInfos[base + o.column] : 0,
      }),
    );
  }
  return frames;
}

// The `snapshot` header: parsed with JSON.parse, and its field lists and counts checked.

import { isIndexNamedEdgeType } from '../../model/snapshot/graph.js';
import type { EdgeRules } from './edges.js';
import { HeapSnapshotError, invalid } from './errors.js';
import type { ValueScanner } from './tokens.js';

export function parseHeader(scanner: ValueScanner): unknown {
  try {
    return JSON.parse(scanner.text());
  } catch (error) {
    throw new HeapSnapshotError(
      `heapsnapshot: not a V8 heap snapshot ("snapshot" is not valid JSON: ${(error as Error).message})`,
    );
  }
}

export function stringList(
  meta: Record<string, unknown>,
  key: string,
  required: boolean,
): string[] {
  const value = meta[key];
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid(`snapshot.meta.${key} is not a list of strings`);
  }
  return value as string[];
}

/** The enum list of the `type` field: `types[fields.indexOf('type')]`. */
export function typeNames(
  meta: Record<string, unknown>,
  key: string,
  typeOffset: number,
): string[] {
  const types = meta[key];
  const names = Array.isArray(types) ? types[typeOffset] : undefined;
  if (!Array.isArray(names) || !names.every((v) => typeof v === 'string')) {
    throw invalid(`snapshot.meta.${key}[${typeOffset}] is not a list of type names`);
  }
  return names as string[];
}

export function requiredOffset(fields: string[], name: string, what: string): number {
  const offset = fields.indexOf(name);
  if (offset < 0) throw invalid(`${what} have no "${name}" field`);
  return offset;
}

/** The edge checks as the header states them, or undefined if it is incomplete or odd. */
export function edgeRulesOf(header: unknown): EdgeRules | undefined {
  try {
    const h = header as Record<string, unknown>;
    const m = h.meta as Record<string, unknown>;
    const nodeFields = stringList(m, 'node_fields', true);
    const edgeFields = stringList(m, 'edge_fields', true);
    const typeOffset = requiredOffset(edgeFields, 'type', 'edges');
    const edgeTypes = typeNames(m, 'edge_types', typeOffset);
    const nodeCount = optionalCount(h, 'node_count');
    if (nodeCount === undefined || nodeFields.length === 0) return undefined;
    return {
      fieldCount: edgeFields.length,
      typeOffset,
      nameOffset: requiredOffset(edgeFields, 'name_or_index', 'edges'),
      toOffset: requiredOffset(edgeFields, 'to_node', 'edges'),
      typeCount: edgeTypes.length,
      indexNamed: edgeTypes.map((t) => (isIndexNamedEdgeType(t) ? 1 : 0)),
      nodeFieldCount: nodeFields.length,
      nodesLength: nodeCount * nodeFields.length,
    };
  } catch {
    return undefined;
  }
}

export function optionalCount(header: Record<string, unknown>, key: string): number | undefined {
  const value = header[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(`snapshot.${key} is not a count`);
  }
  return value;
}

/**
 * What the heap-snapshot reader's tests share: the meta of their hand-made snapshots and an
 * element-wise check of number arrays.
 */
import { expect } from 'vitest';

/**
 * The `snapshot.meta` of a heap snapshot taken with allocation tracking on, with V8's
 * field lists and key order (Node 20 to 26): the header of the tests' hand-made snapshots.
 */
export const TRACKED_SNAPSHOT_META = {
  node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
  node_types: [['hidden', 'object'], 'string', 'number', 'number', 'number', 'number', 'number'],
  edge_fields: ['type', 'name_or_index', 'to_node'],
  edge_types: [['element', 'property'], 'string_or_number', 'node'],
  trace_function_info_fields: ['function_id', 'name', 'script_name', 'script_id', 'line', 'column'],
  trace_node_fields: ['id', 'function_info_index', 'count', 'size', 'children'],
  sample_fields: ['timestamp_us', 'last_assigned_id'],
  location_fields: ['object_index', 'script_id', 'line', 'column'],
};

/** Element-wise equality with a short message (vitest's diff of 10^6 numbers is slow). */
export function expectSameNumbers(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
): void {
  expect(actual.length, `${what}.length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

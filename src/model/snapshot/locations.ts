/**
 * Which `locations` entry belongs to a node (the constructor's script, line and column),
 * asked for node after node in order. A node's last entry wins. V8 writes the entries
 * roughly but not quite in node order (in a 100 MB snapshot of a Node.js program, the
 * second half interleaves), so they are sorted by node, as 8-byte keys with the entry's
 * position in the low bits, and a cursor walks them beside the nodes: 8 bytes an entry
 * instead of an index of 4 bytes a node (a third of the memory there).
 */

/** A function of the node ordinal, called with ordinals that never decrease; -1 for none. */
export type LocationLookup = (ordinal: number) => number;

export function locationLookup(
  loc: Uint32Array,
  fields: number,
  indexOffset: number,
  nodeFieldCount: number,
  nodeCount: number,
): LocationLookup {
  const entries = Math.floor(loc.length / fields);
  // Key: node offset × 2^bits + entry number, exact while under 2^53.
  const bits = Math.max(1, Math.ceil(Math.log2(entries + 1)));
  if (32 + bits > 53) return indexedLookup(loc, fields, indexOffset, nodeFieldCount, nodeCount);
  const scale = 2 ** bits;
  const keys = new Float64Array(entries);
  for (let k = 0; k < entries; k++) keys[k] = loc[k * fields + indexOffset] * scale + k;
  keys.sort();
  let cursor = 0;
  return (ordinal) => {
    const target = ordinal * nodeFieldCount;
    while (cursor < entries && Math.floor(keys[cursor] / scale) < target) cursor++;
    let found = -1;
    while (cursor < entries && Math.floor(keys[cursor] / scale) === target) {
      found = (keys[cursor] % scale) * fields;
      cursor++;
    }
    return found;
  };
}

/** An index entry per node: where the keys would not be exact. */
function indexedLookup(
  loc: Uint32Array,
  fields: number,
  indexOffset: number,
  nodeFieldCount: number,
  nodeCount: number,
): LocationLookup {
  const locationOf = new Int32Array(nodeCount).fill(-1);
  for (let i = 0; i + fields <= loc.length; i += fields) {
    const ordinal = loc[i + indexOffset] / nodeFieldCount;
    if (Number.isInteger(ordinal) && ordinal < nodeCount) locationOf[ordinal] = i;
  }
  return (ordinal) => locationOf[ordinal];
}

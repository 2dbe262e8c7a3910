/**
 * The location entry of each node, looked up node after node through the entries sorted
 * by node: the same answer as an index built from all the entries (the last entry of a
 * node wins), whether the entries come in node order, almost, or in any order, and for
 * node offsets up to 2^32.
 */

import { describe, expect, it } from 'vitest';
import { locationLookup } from '../../../src/model/snapshot/locations.js';

const FIELDS = 4;
const NODE_FIELDS = 7;

/** Entries `[object_index, script, line, column]` for these ordinals, in this order. */
function entries(ordinals: number[]): Uint32Array {
  return Uint32Array.from(ordinals.flatMap((o, k) => [o * NODE_FIELDS, 1, k, 0]));
}

function reference(loc: Uint32Array, nodeCount: number): number[] {
  const at = new Array<number>(nodeCount).fill(-1);
  for (let i = 0; i < loc.length; i += FIELDS) {
    const ordinal = loc[i] / NODE_FIELDS;
    if (Number.isInteger(ordinal) && ordinal < nodeCount) at[ordinal] = i;
  }
  return at;
}

function lookups(loc: Uint32Array, nodeCount: number): number[] {
  const at = locationLookup(loc, FIELDS, 0, NODE_FIELDS, nodeCount);
  return Array.from({ length: nodeCount }, (_, n) => at(n));
}

/** A deterministic pseudo-random sequence. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

describe('locationLookup', () => {
  const nodeCount = 5000;

  it.each([
    ['in node order', 0],
    ['almost in node order (as V8 writes them)', 0.01],
    ['with many out of place', 0.3],
    ['in any order', 1],
  ])('agrees with a full index for entries %s', (_what, disorder) => {
    for (let seed = 1; seed <= 5; seed++) {
      const next = random(seed);
      const ordinals: number[] = [];
      for (let n = 0; n < nodeCount; n++) {
        // Some nodes have no entry, some two (the later one wins).
        if (next() < 0.3) continue;
        ordinals.push(n);
        if (next() < 0.05) ordinals.push(n);
      }
      for (let k = 0; k < ordinals.length; k++) {
        if (next() < disorder) {
          const j = Math.floor(next() * ordinals.length);
          [ordinals[k], ordinals[j]] = [ordinals[j], ordinals[k]];
        }
      }
      // An entry that names no node's start, and one beyond the nodes.
      ordinals.push(nodeCount + 3);
      const loc = entries(ordinals);
      loc[1 * FIELDS] += 1;
      expect(lookups(loc, nodeCount)).toEqual(reference(loc, nodeCount));
    }
  });

  it('sorts node offsets up to 2^32 by their sort keys exactly', () => {
    const next = random(7);
    // Ordinals up to 600 million: node offsets up to 4.2e9, just under 2^32.
    const ordinals = Array.from({ length: 3000 }, () => Math.floor(next() * 600_000_000));
    for (let k = 0; k < 300; k++) ordinals.push(ordinals[Math.floor(next() * 3000)]);
    const loc = entries(ordinals);
    const last = new Map<number, number>();
    for (const [k, o] of ordinals.entries()) last.set(o, k * FIELDS);
    const queries = [...new Set([...ordinals, 1, 599_999_999])].sort((a, b) => a - b);
    const at = locationLookup(loc, FIELDS, 0, NODE_FIELDS, 600_000_000);
    const got = queries.map((o) => at(o));
    expect(got).toEqual(queries.map((o) => last.get(o) ?? -1));
  });

  it("lets the last of a node's entries win, wherever they are", () => {
    const loc = entries([2, 8, 5, 2, 5, 9]);
    const at = lookups(loc, 10);
    expect(at).toEqual(reference(loc, 10));
    expect(at[2]).toBe(3 * FIELDS);
    expect(at[5]).toBe(4 * FIELDS);
    expect(at[8]).toBe(1 * FIELDS);
    expect(at[3]).toBe(-1);
  });
});

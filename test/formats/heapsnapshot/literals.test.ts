/**
 * The strings' fast loop in native code (native/literals.cc) against the JavaScript one
 * (scanLiteralsInJs), on random runs of literals in V8's layout and out of it: escapes
 * (valid and not), raw UTF-8, `,` and `,\n` separators, other separators, a table that
 * fills up, and every place a chunk can end. Where each stops, and the table it leaves,
 * must be the same. Imports dist/ (the helper's loader is built there).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LiteralTable,
  scanLiterals,
  scanLiteralsInJs,
} from '../../../dist/formats/heapsnapshot/literals.js';
import { nativeSnapshotFunctions } from '../../../dist/native/snapshot.js';

const native = nativeSnapshotFunctions();

function table(bytes: number, entries: number): LiteralTable {
  return {
    bytes: new Uint8Array(bytes),
    length: 0,
    ends: new Uint32Array(entries),
    flags: new Uint8Array(entries),
    count: 0,
    stoppedAfter: false,
  };
}

/** Bodies as V8 writes them, and some it never would. */
const body = fc.oneof(
  fc.stringMatching(/^[a-z ]{0,6}$/),
  fc.constantFrom('\\"', '\\\\', '\\n', '\\u00e9', '\\u12', '\\q', 'é€', 'a\\', '\\/'),
  fc
    .array(fc.constantFrom('a', '\\n', 'é', '\\u0041', 'x'), { maxLength: 4 })
    .map((p) => p.join('')),
);
const separator = fc.constantFrom(',', ',', ',\n', ', ', ']');

describe.runIf(native)('scanLiterals in native code', () => {
  it('stops where the JavaScript loop stops and leaves the same table', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(body, separator), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 200 }),
        (literals, entries, room) => {
          const text = literals.map(([b, sep]) => `"${b}"${sep}`).join('');
          const buf = Buffer.from(`x${text}`);
          // Every end a chunk can have, from the first body (after `x"`).
          for (let end = 2; end <= buf.length; end++) {
            const js = table(room, entries);
            const ours = table(room, entries);
            const a = scanLiteralsInJs(buf, 2, end, js);
            const b = scanLiterals(buf, 2, end, ours);
            expect(b, `${JSON.stringify(text)} end ${end}`).toBe(a);
            expect(ours.length).toBe(js.length);
            expect(ours.count).toBe(js.count);
            expect(ours.stoppedAfter).toBe(js.stoppedAfter);
            expect(Array.from(ours.bytes.subarray(0, ours.length))).toEqual(
              Array.from(js.bytes.subarray(0, js.length)),
            );
            expect(Array.from(ours.ends.subarray(0, ours.count))).toEqual(
              Array.from(js.ends.subarray(0, js.count)),
            );
            expect(Array.from(ours.flags.subarray(0, ours.count))).toEqual(
              Array.from(js.flags.subarray(0, js.count)),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('goes on from a table that holds literals already', () => {
    const js = table(64, 8);
    const ours = table(64, 8);
    const first = Buffer.from('x"ab","c\\n"]');
    scanLiteralsInJs(first, 2, first.length, js);
    scanLiterals(first, 2, first.length, ours);
    const second = Buffer.from('x"dé",\n"f"]');
    expect(scanLiterals(second, 2, second.length, ours)).toBe(
      scanLiteralsInJs(second, 2, second.length, js),
    );
    expect(ours).toEqual(js);
    expect(ours.count).toBe(4);
    expect(Array.from(ours.flags.subarray(0, 4))).toEqual([0, 1, 2, 0]);
  });
});

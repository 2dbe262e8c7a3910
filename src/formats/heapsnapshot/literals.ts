/**
 * The fast loop for the `strings` array of a `.heapsnapshot` file: literal after
 * literal in V8's layout (`"…",\n"…",\n…`), each body copied into one byte table with
 * its end and flags. Like the number loop (numbers-fast.ts) it is a small
 * function of its own, which V8 optimizes early, and it stops at anything else (a
 * literal that runs past the chunk, no room, an invalid escape, another separator),
 * leaving that to the reader's state machine, which words any error.
 */

import { ESCAPED, NON_ASCII, validEscapes } from '../../model/snapshot/strings.js';
import { nativeSnapshotFunctions } from '../../native/snapshot.js';

/** The literals read so far: `bytes[ends[i − 1] .. ends[i])` is the body of literal `i`. */
export interface LiteralTable {
  bytes: Uint8Array;
  length: number;
  ends: Uint32Array;
  flags: Uint8Array;
  count: number;
  /** Where the loop stopped: inside a literal (at the start of its body) or after one. */
  stoppedAfter: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/** Where the native loop leaves the table's length, count and `stoppedAfter` (1 or 0). */
const nativeOut = new Float64Array(3);

/**
 * Reads literals from `buf[i..end)`, `i` being the first byte of a literal's body (just
 * after its opening quote); returns where it stopped (see `table.stoppedAfter`). In
 * native code where the helper is there (and `useNative`), else {@link scanLiteralsInJs}.
 */
export function scanLiterals(
  buf: Uint8Array,
  i: number,
  end: number,
  table: LiteralTable,
  useNative = true,
): number {
  const native = useNative ? nativeSnapshotFunctions() : undefined;
  if (!native) return scanLiteralsInJs(buf, i, end, table);
  const { bytes, length, ends, flags, count } = table;
  const stop = native.scanLiterals(buf, i, end, bytes, length, ends, flags, count, nativeOut);
  table.length = nativeOut[0];
  table.count = nativeOut[1];
  table.stoppedAfter = nativeOut[2] === 1;
  return stop;
}

/** {@link scanLiterals} in JavaScript. */
export function scanLiteralsInJs(
  buf: Uint8Array,
  i: number,
  end: number,
  table: LiteralTable,
): number {
  const { bytes, ends, flags } = table;
  let length = table.length;
  let count = table.count;
  let stop = i;
  let after = false;
  for (;;) {
    let j = i;
    let bits = 0;
    let escaped = 0;
    for (;;) {
      if (j >= end) break;
      const c = buf[j];
      if (c === QUOTE) break;
      bits |= c;
      if (c === BACKSLASH) {
        escaped = ESCAPED;
        j += 2;
      } else j++;
    }
    if (j >= end) break;
    const n = j - i;
    if (length + n > bytes.length || count === ends.length) break;
    if (n < 64) for (let k = i; k < j; k++) bytes[length++] = buf[k];
    else {
      bytes.set(buf.subarray(i, j), length);
      length += n;
    }
    if (escaped !== 0 && !validEscapes(bytes, length - n, length)) {
      length -= n;
      break;
    }
    ends[count] = length;
    flags[count] = escaped | ((bits & 0x80) !== 0 ? NON_ASCII : 0);
    count++;
    // After the literal: `,"` or `,\n"` goes on; anything else is the state machine's.
    stop = j + 1;
    after = true;
    let k = j + 1;
    if (k >= end || buf[k] !== COMMA) break;
    if (++k < end && buf[k] === NEWLINE) k++;
    if (k >= end || buf[k] !== QUOTE) break;
    i = k + 1;
    stop = i;
    after = false;
  }
  table.length = length;
  table.count = count;
  table.stoppedAfter = after;
  return stop;
}

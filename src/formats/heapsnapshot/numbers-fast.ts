/**
 * The fast path for a `nodes` or `edges` array whose byte range in the file is known:
 * a loop that does nothing but turn digits into numbers, for the layout V8 writes
 * (`[n,n,n\n,n,…\n]`: a comma, or a newline and a comma, after each number). Anything else
 * (other whitespace, a letter, a number over 2^32 − 1, more numbers than declared, a
 * file that changed) makes it give up and return `undefined`; the caller then parses
 * the range again with the general reader, which accepts any JSON layout and words the
 * error. A cold worker runs it about twice as fast as the general reader's state machine
 * (V8 optimizes the small loop sooner).
 */

import { readSync } from 'node:fs';
import { nativeSnapshotFunctions } from '../../native/snapshot.js';

/** Small reads keep the bytes in the core's cache while the loop goes over them. */
const CHUNK = 64 * 1024;
/** Bytes kept back at a chunk's end: a number and its separator fit (10 digits + "\n,"). */
const TAIL = 16;
const DIGIT_0 = 0x30;
const COMMA = 0x2c - DIGIT_0;
const NEWLINE = 0x0a - DIGIT_0;
const CLOSE = 0x5d - DIGIT_0;
/** Stops the digit loop at the end of the bytes read; not a valid separator. */
const SENTINEL = 0x20;
const U32_MAX = 0xffffffff;

/** Where the chunk loop stopped. */
export interface Progress {
  count: number;
  /** First byte not consumed: after a number's comma, or the start of the number it stopped at. */
  next: number;
  done: boolean;
}

/**
 * Parses the array in `[start, end)` of the open file `fd` (`start` at its '[', `end`
 * just after its ']') into `into`; returns the filled part, or `undefined` to say "use
 * the general reader". In native code where the helper is there (about twice as fast
 * again), else in {@link readNumbersInJs}.
 */
export function readNumbersFast(
  fd: number,
  start: number,
  end: number,
  into: Uint32Array,
  useNative = true,
): Uint32Array | undefined {
  const native = useNative ? nativeSnapshotFunctions() : undefined;
  if (!native) return readNumbersInJs(fd, start, end, into);
  const count = native.parseNumberRange(fd, start, end, into);
  return count < 0 ? undefined : into.subarray(0, count);
}

/** {@link readNumbersFast} in JavaScript. */
export function readNumbersInJs(
  fd: number,
  start: number,
  end: number,
  into: Uint32Array,
): Uint32Array | undefined {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, end - start) + 1);
  const room = buffer.length - 1;
  const progress: Progress = { count: 0, next: 0, done: false };
  let position = start;
  let kept = 0;
  for (;;) {
    const want = Math.min(room - kept, end - position);
    const bytesRead = want > 0 ? readSync(fd, buffer, kept, want, position) : 0;
    if (bytesRead < want) return undefined;
    const first = position === start;
    position += bytesRead;
    const length = kept + bytesRead;
    const last = position === end;
    buffer[length] = SENTINEL;
    if (first && buffer[0] !== 0x5b) return undefined;
    if (first && last && length === 2 && buffer[1] === 0x5d) return into.subarray(0, 0);
    // A number that starts before the limit ends within the bytes read.
    const limit = last ? length : length - TAIL;
    if (!parseChunk(buffer, first ? 1 : 0, limit, last ? length - 1 : -1, into, progress)) {
      return undefined;
    }
    if (progress.done) return into.subarray(0, progress.count);
    if (last) return undefined;
    kept = length - progress.next;
    buffer.copyWithin(0, progress.next, length);
  }
}

/**
 * The numbers that start in `buffer[i..limit)`, in V8's layout, into `into` from
 * `progress.count`; `close`: where the array's ']' must be, or -1 when it is not in
 * this chunk. Returns false at anything else (a number over 2^32 − 1, no room, another
 * separator), with `progress.next` at the start of that number, so that a general
 * parser can take over there. A function of its own, called per chunk, so that V8
 * optimizes it early. Reading past the bytes gives `undefined`, which `| 0` turns into
 * a non-digit: a long run of digits stops at the end of the buffer.
 */
export function parseChunk(
  buffer: Uint8Array,
  i: number,
  limit: number,
  close: number,
  into: Uint32Array,
  progress: Progress,
): boolean {
  let count = progress.count;
  const capacity = into.length;
  while (i < limit) {
    const at = i;
    let c = buffer[i] - DIGIT_0;
    if (c >>> 0 > 9) return stopAt(progress, count, at);
    let value = c;
    for (;;) {
      c = (buffer[++i] | 0) - DIGIT_0;
      if (c >>> 0 > 9) break;
      value = value * 10 + c;
    }
    if (value > U32_MAX || count === capacity) return stopAt(progress, count, at);
    if (c === NEWLINE) c = (buffer[++i] | 0) - DIGIT_0;
    if (c === COMMA) {
      into[count++] = value;
      i++;
    } else if (c === CLOSE && i === close) {
      into[count++] = value;
      progress.count = count;
      progress.next = i + 1;
      progress.done = true;
      return true;
    } else return stopAt(progress, count, at);
  }
  progress.count = count;
  progress.next = i;
  return true;
}

function stopAt(progress: Progress, count: number, at: number): false {
  progress.count = count;
  progress.next = at;
  return false;
}

/**
 * The numbers in the array in `[start, end)` of the open file `fd`, counted by their
 * commas (one more than the commas, none for `[]`): exact for any well-formed array.
 */
export function countNumbers(fd: number, start: number, end: number): number {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, end - start)));
  let commas = 0;
  let digits = false;
  for (let position = start; position < end; ) {
    const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    for (let i = 0; i < bytesRead; i++) {
      const c = buffer[i];
      if (c === 0x2c) commas++;
      else if (!digits && c >= 0x30 && c <= 0x39) digits = true;
    }
  }
  return digits ? commas + 1 : 0;
}

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
interface Progress {
  count: number;
  /** First byte not consumed. */
  next: number;
  done: boolean;
}

/**
 * Parses the array in `[start, end)` of the open file `fd` (`start` at its '[', `end`
 * just after its ']') into `into`; returns the filled part, or `undefined` to say "use
 * the general reader".
 */
export function readNumbersFast(
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
 * The numbers that start in `buffer[i..limit)`; `close`: where the array's ']' must
 * be, or -1 when it is not in this chunk. False on anything unexpected. A function of
 * its own, called per chunk, so that V8 optimizes it early.
 */
function parseChunk(
  buffer: Buffer,
  i: number,
  limit: number,
  close: number,
  into: Uint32Array,
  progress: Progress,
): boolean {
  let count = progress.count;
  const capacity = into.length;
  while (i < limit) {
    let c = buffer[i] - DIGIT_0;
    if (c >>> 0 > 9) return false;
    let value = c;
    for (;;) {
      c = buffer[++i] - DIGIT_0;
      if (c >>> 0 > 9) break;
      value = value * 10 + c;
    }
    if (value > U32_MAX || count === capacity) return false;
    into[count++] = value;
    if (c === NEWLINE) c = buffer[++i] - DIGIT_0;
    if (c === COMMA) i++;
    else if (c === CLOSE && i === close) {
      progress.count = count;
      progress.done = true;
      return true;
    } else return false;
  }
  progress.count = count;
  progress.next = i;
  return true;
}

// The general reader of a flat array of integers (`nodes`, `edges`, the trace function
// infos, `locations`, `samples`): any JSON layout, every error worded. V8's own layout
// goes through the fast loop of numbers-fast.ts first.

import { closeSync, openSync, readSync } from 'node:fs';
import type { ArrayJob } from './array-job.js';
import { HeapSnapshotError, notAnArray, unexpected } from './errors.js';
import { type Progress, parseChunk, readNumbersFast } from './numbers-fast.js';
import {
  A_AFTER,
  A_DONE,
  A_FIRST,
  A_IN_VALUE,
  A_NEXT,
  A_OPEN,
  A_SIGN,
  grow,
  isWhitespace,
  trim,
  U32_MAX,
  type ValueReader,
} from './tokens.js';

/** 1 MiB: two are in use at a time, and left behind as garbage after the read. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Bytes at a chunk's end left to the state machine: a number and "\n," fit (see parseChunk). */
const RUN_TAIL = 16;
/** Magnitude of the most negative 32-bit integer. */
const I32_MIN_MAGNITUDE = 2 ** 31;

/**
 * Arrays in which V8 writes signed 32-bit fields: the line and column of a function or
 * of an object's constructor. They go negative where code was compiled with a negative
 * column offset (vitest's module runner compiles each test file inside a wrapper that
 * starts before the file's first column, so the wrapper's functions sit at line 1,
 * column -208 or so; seen on Node 24 and 26). Their negative numbers are read as 32-bit
 * two's complement, which the fields' readers take back with `| 0` (assemble.ts).
 */
const SIGNED_ARRAYS: ReadonlySet<string> = new Set(['trace_function_infos', 'locations']);

/**
 * A flat array of non-negative integers into a Uint32Array (or, with `float`, of
 * integers up to 2^53 into a Float64Array). The hot loop of the reader: no allocation
 * per number, no strings. The arrays named in SIGNED_ARRAYS may also hold integers down
 * to -2^31, stored as their 32-bit two's complement.
 */
export class NumberArrayReader implements ValueReader {
  done = false;
  length = 0;
  array: Uint32Array | Float64Array;
  private state = A_OPEN;
  private value = 0;
  private negative = false;
  private readonly signed: boolean;
  private readonly progress: Progress = { count: 0, next: 0, done: false };

  /** `into`: a Uint32Array to fill (e.g. over a SharedArrayBuffer) instead of a new one. */
  constructor(
    private readonly key: string,
    private readonly float: boolean,
    capacity: number,
    into?: Uint32Array,
  ) {
    this.array = into ?? (float ? new Float64Array(capacity) : new Uint32Array(capacity));
    this.signed = !float && SIGNED_ARRAYS.has(key);
  }

  feed(buf: Buffer, start: number, end: number, base: number): number {
    if (this.float) return this.feedFloat(buf, start, end, base);
    let state = this.state;
    let value = this.value;
    let negative = this.negative;
    let array = this.array as Uint32Array;
    let capacity = array.length;
    let length = this.length;
    let i = start;
    // Numbers that start before this end within the chunk: the fast loop may take them.
    const runLimit = end - RUN_TAIL;
    const progress = this.progress;
    scan: while (i < end) {
      if ((state === A_NEXT || state === A_FIRST) && i < runLimit && length < capacity) {
        // V8's layout goes through the fast loop; where it stops, this state machine
        // takes over (and words any error).
        progress.count = length;
        parseChunk(buf, i, runLimit, -1, array, progress);
        if (progress.count > length) {
          length = progress.count;
          i = progress.next;
          state = A_NEXT;
          if (i >= end) break;
        }
      }
      let c = buf[i];
      if (state === A_IN_VALUE) {
        // Fast path: a run of "digits," stays in this loop.
        for (;;) {
          while (c >= 0x30 && c <= 0x39) {
            value = value * 10 + (c - 0x30);
            if (++i === end) break scan;
            c = buf[i];
          }
          if (length === capacity) {
            array = grow(array, length + 1);
            capacity = array.length;
          }
          if (negative) {
            if (value > I32_MIN_MAGNITUDE) throw this.outOfRange(`-${value}`, length, base + i);
            array[length++] = -value >>> 0;
            negative = false;
          } else {
            if (value > U32_MAX) throw this.outOfRange(String(value), length, base + i);
            array[length++] = value;
          }
          i++;
          if (c === 0x0a) {
            // V8 ends every node and edge with "\n,": stay on the fast path.
            state = A_AFTER;
            if (i === end) break scan;
            c = buf[i];
            if (c !== 0x2c) continue scan;
            i++;
          } else if (c !== 0x2c) break;
          state = A_NEXT;
          if (i === end) break scan;
          if (i < runLimit && length < capacity) continue scan;
          c = buf[i];
          if (c < 0x30 || c > 0x39) continue scan;
          // Starting from the first digit keeps `value` a small integer for V8.
          state = A_IN_VALUE;
          value = c - 0x30;
          if (++i === end) break scan;
          c = buf[i];
        }
        if (c === 0x5d) {
          state = A_DONE;
          break;
        }
        if (!isWhitespace(c)) throw this.unexpected(c, base + i - 1);
        state = A_AFTER;
      } else if (
        c >= 0x30 &&
        c <= 0x39 &&
        (state === A_NEXT || state === A_FIRST || state === A_SIGN)
      ) {
        value = c - 0x30;
        state = A_IN_VALUE;
        i++;
      } else if (state === A_SIGN) {
        throw this.unexpected(c, base + i);
      } else if (isWhitespace(c)) {
        i++;
      } else if (c === 0x2c && state === A_AFTER) {
        state = A_NEXT;
        i++;
      } else if (c === 0x5d && (state === A_AFTER || state === A_FIRST)) {
        state = A_DONE;
        i++;
        break;
      } else if (c === 0x5b && state === A_OPEN) {
        state = A_FIRST;
        i++;
      } else if (state === A_OPEN) {
        throw notAnArray(this.key, c, base + i);
      } else if (c === 0x2d && (state === A_NEXT || state === A_FIRST)) {
        if (!this.signed) throw this.outOfRange('-…', length, base + i);
        negative = true;
        state = A_SIGN;
        i++;
      } else {
        throw this.unexpected(c, base + i);
      }
    }
    this.state = state;
    this.value = value;
    this.negative = negative;
    this.array = array;
    this.length = length;
    this.done = state === A_DONE;
    return i;
  }

  /** Same grammar as `feed`, plus a leading '-', into a Float64Array. */
  private feedFloat(buf: Buffer, start: number, end: number, base: number): number {
    let state = this.state;
    let value = this.value;
    let array = this.array as Float64Array;
    let length = this.length;
    let i = start;
    for (; i < end; i++) {
      const c = buf[i];
      if (state === A_IN_VALUE) {
        if (c >= 0x30 && c <= 0x39) {
          value = value * 10 + (c - 0x30);
          continue;
        }
        if (value > Number.MAX_SAFE_INTEGER) throw this.outOfRange(String(value), length, base + i);
        if (length === array.length) array = grow(array, length + 1);
        array[length++] = this.negative ? -value : value;
        if (c === 0x2c) state = A_NEXT;
        else if (c === 0x5d) {
          state = A_DONE;
          i++;
          break;
        } else if (isWhitespace(c)) state = A_AFTER;
        else throw this.unexpected(c, base + i);
      } else if (
        c >= 0x30 &&
        c <= 0x39 &&
        (state === A_NEXT || state === A_FIRST || state === A_SIGN)
      ) {
        if (state !== A_SIGN) this.negative = false;
        value = c - 0x30;
        state = A_IN_VALUE;
      } else if (c === 0x2d && (state === A_NEXT || state === A_FIRST)) {
        this.negative = true;
        state = A_SIGN;
      } else if (isWhitespace(c) && state !== A_SIGN) {
        // skip
      } else if (c === 0x2c && state === A_AFTER) state = A_NEXT;
      else if (c === 0x5d && (state === A_AFTER || state === A_FIRST)) {
        state = A_DONE;
        i++;
        break;
      } else if (c === 0x5b && state === A_OPEN) state = A_FIRST;
      else if (state === A_OPEN) throw notAnArray(this.key, c, base + i);
      else throw this.unexpected(c, base + i);
    }
    this.state = state;
    this.value = value;
    this.array = array;
    this.length = length;
    this.done = state === A_DONE;
    return i;
  }

  private unexpected(c: number, offset: number): HeapSnapshotError {
    return unexpected(c, `"${this.key}" (expected an array of integers)`, offset);
  }

  private outOfRange(text: string, index: number, offset: number) {
    const limit = this.float
      ? 'a safe integer'
      : this.signed
        ? 'an integer in [-2^31, 2^32 - 1]'
        : 'an integer in [0, 2^32 - 1]';
    return new HeapSnapshotError(
      `heapsnapshot: "${this.key}"[${index}] = ${text} (ending at byte ${offset}) is not ${limit}; heapscope cannot read this snapshot`,
    );
  }

  result(): Uint32Array {
    return trim(this.array as Uint32Array, this.length);
  }

  resultFloat(): Float64Array {
    return trim(this.array as Float64Array, this.length);
  }
}

/**
 * Parses a JSON array of integers that lies in `[start, end)` of a file (the value of
 * `key`, possibly preceded by whitespace) into `into`, or into a bigger array when it
 * holds more numbers than `into` has room for. Synchronous: for the arrays the reading
 * thread parses itself (workers run the same two steps in array-task.ts).
 */
export function readNumberRange(range: ArrayJob, into: Uint32Array): Uint32Array {
  const fd = openSync(range.path, 'r');
  try {
    return (
      readNumbersFast(fd, range.start, range.end, into, range.native) ??
      readNumbersInOrder(fd, range, into)
    );
  } finally {
    closeSync(fd);
  }
}

/**
 * The general reader over a byte range of the open file `fd`: any JSON layout, and the
 * errors worded (where {@link readNumbersFast} gave up).
 */
export function readNumbersInOrder(fd: number, range: ArrayJob, into: Uint32Array): Uint32Array {
  const reader = new NumberArrayReader(range.key, false, into.length, into);
  const buffer = Buffer.allocUnsafe(
    Math.min(DEFAULT_CHUNK_SIZE, Math.max(1, range.end - range.start)),
  );
  let position = range.start;
  while (position < range.end && !reader.done) {
    const want = Math.min(buffer.length, range.end - position);
    const bytesRead = readSync(fd, buffer, 0, want, position);
    if (bytesRead === 0) break;
    position += reader.feed(buffer, 0, bytesRead, position);
  }
  if (!reader.done) {
    throw new HeapSnapshotError(`heapsnapshot: "${range.key}" changed while it was read`);
  }
  if (position < range.end) {
    // Its end was taken from what follows it (see findEdgesEnd), and that was wrong.
    throw new HeapSnapshotError(
      `heapsnapshot: "${range.key}" ends at byte ${position}, before byte ${range.end}`,
    );
  }
  return reader.result();
}

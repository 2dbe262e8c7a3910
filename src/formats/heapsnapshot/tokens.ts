// The tokenizer's pieces shared by the readers of the file's values: whitespace, a
// growable byte buffer, a scanner that collects or skips one JSON value, and the states
// and typed-array helpers of the array readers.

import { HeapSnapshotError, unexpected } from './errors.js';

/** Something that consumes one JSON value, possibly across many chunks. */
export interface ValueReader {
  done: boolean;
  /** Consumes bytes from `buf[start..end)`; returns the index after the last byte used. */
  feed(buf: Buffer, start: number, end: number, base: number): number;
}

export function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function skipWhitespace(buf: Buffer, i: number, end: number): number {
  while (i < end && isWhitespace(buf[i])) i++;
  return i;
}

/** Growable byte buffer. */
export class ByteSink {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.bytes = new Uint8Array(Math.max(1, capacity));
  }

  append(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.length + n > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < this.length + n) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    const bytes = this.bytes;
    let at = this.length;
    // Most pieces are short (a string literal): a loop beats a native call for each.
    if (n < 64) for (let i = start; i < end; i++) bytes[at++] = src[i];
    else bytes.set(src.subarray(start, end), at);
    this.length += n;
  }

  buffer(): Buffer {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.length);
  }
}

/**
 * Scans one JSON value without interpreting it, tracking strings and nesting only:
 * collects its bytes (for the header and keys, then `JSON.parse`d) or skips it
 * (unknown keys, possibly huge). Bytes outside strings must be JSON characters.
 */
export class ValueScanner implements ValueReader {
  done = false;
  private started = false;
  private primitive = false;
  private inString = false;
  private escaped = false;
  private depth = 0;
  private readonly sink: ByteSink | undefined;

  constructor(
    private readonly key: string,
    collect: boolean,
    private readonly maxBytes: number,
  ) {
    this.sink = collect ? new ByteSink() : undefined;
  }

  text(): string {
    return this.sink!.buffer().toString('utf8');
  }

  feed(buf: Buffer, start: number, end: number, base: number): number {
    let i = start;
    if (!this.started) {
      i = skipWhitespace(buf, i, end);
      if (i === end) return i;
      start = i;
      this.started = true;
      const c = buf[i];
      if (c === 0x7b || c === 0x5b) this.depth = 1;
      else if (c === 0x22) this.inString = true;
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
        this.primitive = true;
      } else throw unexpected(c, `"${this.key}" (expected a JSON value)`, base + i);
      i++;
    }
    let stop = -1;
    for (; i < end; i++) {
      const c = buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) {
          this.inString = false;
          if (this.depth === 0) {
            stop = i + 1;
            break;
          }
        }
      } else if (this.primitive) {
        if (c === 0x2c || c === 0x7d || c === 0x5d || isWhitespace(c)) {
          stop = i;
          break;
        }
        if (!isPrimitiveByte(c)) throw unexpected(c, `"${this.key}"`, base + i);
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          stop = i + 1;
          break;
        }
      } else if (!isPrimitiveByte(c) && c !== 0x2c && c !== 0x3a && !isWhitespace(c)) {
        throw unexpected(c, `"${this.key}"`, base + i);
      }
    }
    const stopAt = stop < 0 ? end : stop;
    if (this.sink) {
      if (this.sink.length + (stopAt - start) > this.maxBytes) {
        throw new HeapSnapshotError(
          `heapsnapshot: not a V8 heap snapshot ("${this.key}" is longer than ${this.maxBytes} bytes)`,
        );
      }
      this.sink.append(buf, start, stopAt);
    }
    if (stop >= 0) this.done = true;
    return stopAt;
  }
}

/** Letters, digits and signs that may appear in JSON numbers and literals. */
function isPrimitiveByte(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2b ||
    c === 0x2e ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x45
  );
}

// Array reader states, shared by the number, trace-tree and string readers.
export const A_OPEN = 0; // before '['
export const A_FIRST = 1; // after '[': a value or ']'
export const A_IN_VALUE = 2; // inside a number or a string
export const A_AFTER = 3; // after a value: ',' or ']'
export const A_NEXT = 4; // after ',': a value
export const A_DONE = 5;
export const A_SIGN = 6; // after '-'

export const U32_MAX = 0xffffffff;

export function grow<T extends Uint32Array | Int32Array | Float64Array>(array: T, min: number): T {
  let size = Math.max(array.length * 2, 1024);
  while (size < min) size *= 2;
  const bigger = new (array.constructor as new (n: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** The first `length` elements, copied only when the array has spare capacity. */
export function trim<T extends Uint32Array | Int32Array | Float64Array>(
  array: T,
  length: number,
): T {
  if (array.length === length) return array;
  return array.slice(0, length) as T;
}

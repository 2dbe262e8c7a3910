// The arrays the reading thread leaves to another (`nodes`, `edges`, `locations`): the
// parser only finds where each lies in the file, and for `edges` their end can be
// found from the file's end, so that their bytes are skipped.

import { readSync } from 'node:fs';
import type { EdgeRules, EdgeSummary } from './edges.js';
import { notAnArray } from './errors.js';
import { isWhitespace, skipWhitespace, type ValueReader } from './tokens.js';

/** `DeferredArray.length` of an array whose header declares no length (`locations`). */
export const UNKNOWN_LENGTH = -1;

/**
 * A `nodes` or `edges` array that someone else parses (a worker thread, from the file):
 * the parser only finds its extent, `[start, end)` in bytes, with a scan for the
 * closing ']' (these arrays hold nothing else that could contain one). What lies
 * between is checked by whoever parses it, with a {@link NumberArrayReader}.
 */
export class DeferredArray implements ValueReader {
  done = false;
  end = -1;
  /**
   * The byte after its ']', when known before its bytes are read (then they are not
   * scanned: whoever parses the range finds out whether a ']' is really there).
   */
  knownEnd: number | undefined;
  /** For `edges`: the checks whoever parses them can run (when the header allows). */
  rules: EdgeRules | undefined;
  /** Their outcome, if they were run. */
  summary: EdgeSummary | undefined;
  private opened = false;
  private array: Uint32Array | undefined;

  constructor(
    readonly key: string,
    /** Byte offset where the value starts (possibly at whitespace before '['). */
    readonly start: number,
    /** Numbers the header declares. */
    readonly length: number,
  ) {}

  feed(buf: Buffer, start: number, end: number, base: number): number {
    let i = start;
    if (!this.opened) {
      i = skipWhitespace(buf, i, end);
      if (i === end) return i;
      if (buf[i] !== 0x5b) throw notAnArray(this.key, buf[i], base + i);
      this.opened = true;
      i++;
    }
    if (this.knownEnd !== undefined) {
      if (base + end < this.knownEnd) return end;
      this.finishAt(this.knownEnd);
      return this.knownEnd - base;
    }
    const close = buf.indexOf(0x5d, i);
    if (close < 0 || close >= end) return end;
    this.done = true;
    this.end = base + close + 1;
    return close + 1;
  }

  finishAt(end: number): void {
    this.done = true;
    this.end = end;
  }

  fill(array: Uint32Array, summary?: EdgeSummary): void {
    this.array = array;
    this.summary = summary;
  }

  result(): Uint32Array {
    if (!this.array) throw new Error(`heapscope: "${this.key}" was deferred and never filled`);
    return this.array;
  }
}

/** The key V8 writes right after `edges`. */
const AFTER_EDGES = Buffer.from('"trace_function_infos"');

/**
 * The byte after the ']' of `edges` that begin at `start`, found by searching back from
 * the end of the file for the key V8 writes next (a raw `"` cannot occur inside a string
 * literal, where it is escaped, nor in the number arrays): `],"trace_function_infos":`,
 * with any whitespace. Undefined when it is not there.
 */
export function findEdgesEnd(fd: number, size: number, start: number): number | undefined {
  const window = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(size - start, 1)));
  let hi = size;
  while (hi - start >= AFTER_EDGES.length) {
    const lo = Math.max(start, hi - window.length);
    if (readSync(fd, window, 0, hi - lo, lo) !== hi - lo) return undefined;
    for (let at = window.lastIndexOf(AFTER_EDGES, hi - lo - AFTER_EDGES.length); at >= 0; ) {
      const end = edgesEndBefore(fd, lo + at, size);
      if (end !== undefined) return end;
      at = at > 0 ? window.lastIndexOf(AFTER_EDGES, at - 1) : -1;
    }
    if (lo === start) return undefined;
    // Overlap the windows by a key's length less one byte, for a key across the seam.
    hi = lo + AFTER_EDGES.length - 1;
  }
  return undefined;
}

/** For the key at `at`: the byte after the ']' before it, if `]` ws `,` ws key ws `:` is there. */
function edgesEndBefore(fd: number, at: number, size: number): number | undefined {
  const before = Buffer.allocUnsafe(Math.min(at, 64));
  const after = Buffer.allocUnsafe(Math.min(size - at - AFTER_EDGES.length, 64));
  readSync(fd, before, 0, before.length, at - before.length);
  readSync(fd, after, 0, after.length, at + AFTER_EDGES.length);
  if (after[skipWhitespace(after, 0, after.length)] !== 0x3a) return undefined;
  let i = before.length - 1;
  while (i >= 0 && isWhitespace(before[i])) i--;
  if (before[i] !== 0x2c) return undefined;
  i--;
  while (i >= 0 && isWhitespace(before[i])) i--;
  if (before[i] !== 0x5d) return undefined;
  return at - before.length + i + 1;
}

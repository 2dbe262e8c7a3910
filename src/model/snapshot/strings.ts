/**
 * The `strings` of a heap snapshot, kept as the bytes of their JSON literals and decoded
 * one at a time when asked for.
 *
 * A big snapshot holds millions of strings (every string value in the heap is one) and
 * an analysis looks at few of them: class names, property names on a retainer path.
 * Decoding them all up front would make millions of JavaScript strings for the reader to
 * keep and the garbage collector to copy. Here each literal's body stays in one shared
 * byte array; `get` decodes it with JSON's semantics (surrogate pairs and lone
 * surrogates included) and remembers the result.
 */

/** Flags of a literal: it contains a backslash escape / a byte ≥ 0x80 (raw UTF-8). */
export const ESCAPED = 1;
export const NON_ASCII = 2;

export class SnapshotStrings implements Iterable<string> {
  readonly length: number;
  /** Decoded strings, by index: a map, as an analysis asks for few of them (an array of millions of slots would take 8 bytes each). */
  private readonly cache = new Map<number, string>();
  private readonly bytes: Buffer;

  /**
   * `bytes[ends[i - 1] .. ends[i])` is the body of literal `i` (without its quotes; the
   * first starts at 0), `flags[i]` its {@link ESCAPED} / {@link NON_ASCII} bits.
   */
  constructor(
    bytes: Uint8Array,
    private readonly ends: Uint32Array,
    private readonly flags: Uint8Array,
    count: number,
  ) {
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = count;
  }

  /** String `i`; undefined beyond the end (like an array). */
  get(i: number): string | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    let text = this.cache.get(i);
    if (text === undefined) {
      const start = i === 0 ? 0 : this.ends[i - 1];
      text = decodeLiteral(this.bytes, start, this.ends[i], this.flags[i]);
      if (text === undefined) throw new Error(`heapsnapshot: invalid escape in "strings"[${i}]`);
      this.cache.set(i, text);
    }
    return text;
  }

  /**
   * Index of the first string equal to `text`, or -1. Texts of printable ASCII without
   * `"` or `\` are found by their bytes, without decoding: V8 escapes only characters
   * outside that set, so no escaped literal can equal such a text.
   */
  indexOf(text: string, fromIndex = 0): number {
    const from = Math.max(0, fromIndex);
    if (!/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(text)) {
      for (let i = from; i < this.length; i++) if (this.get(i) === text) return i;
      return -1;
    }
    if (text.length > 0) return this.indexOfBytes(Buffer.from(text, 'latin1'), from);
    for (let i = from; i < this.length; i++) {
      if (this.ends[i] === (i === 0 ? 0 : this.ends[i - 1])) return i;
    }
    return -1;
  }

  /**
   * {@link indexOf} for a non-empty text of printable ASCII: a search through all the
   * bytes for it (memmem), each find checked to be a whole literal.
   */
  private indexOfBytes(pattern: Buffer, from: number): number {
    const { bytes, ends } = this;
    const count = this.length;
    if (from >= count) return -1;
    const total = count === 0 ? 0 : ends[count - 1];
    for (
      let at = bytes.indexOf(pattern, from === 0 ? 0 : ends[from - 1]);
      at >= 0 && at < total;
    ) {
      const i = this.literalAt(at, from);
      const start = i === 0 ? 0 : ends[i - 1];
      if (start === at && ends[i] === at + pattern.length) return i;
      at = bytes.indexOf(pattern, at + 1);
    }
    return -1;
  }

  /** The literal whose body holds byte `at` (the first whose end is past it), from `lo` on. */
  private literalAt(at: number, lo: number): number {
    const ends = this.ends;
    let hi = this.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid] > at) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Whether string `i` may contain `needle` (printable ASCII without `"` or `\`), judged
   * from its bytes without decoding: false means it certainly does not.
   */
  mayContain(i: number, needle: string): boolean {
    if (!(i >= 0 && i < this.length)) return false;
    const bytes = this.bytes;
    const n = needle.length;
    const first = needle.charCodeAt(0);
    const last = this.ends[i] - n;
    for (let at = i === 0 ? 0 : this.ends[i - 1]; at <= last; at++) {
      if (bytes[at] !== first) continue;
      let k = 1;
      while (k < n && bytes[at + k] === needle.charCodeAt(k)) k++;
      if (k === n) return true;
    }
    return false;
  }

  /**
   * Indexes of the strings that may contain `needle` (as {@link mayContain} judges), in
   * order: one search through all the bytes instead of a look at each string.
   */
  mayContainAll(needle: string): number[] {
    const found: number[] = [];
    const pattern = Buffer.from(needle, 'latin1');
    const { bytes, ends } = this;
    const total = this.length === 0 ? 0 : ends[this.length - 1];
    let i = 0;
    for (let at = bytes.indexOf(pattern, 0); at >= 0 && at < total; ) {
      i = this.literalAt(at, i);
      const next = ends[i];
      if (at + pattern.length <= next) found.push(i);
      if (++i >= this.length) break;
      at = bytes.indexOf(pattern, next);
    }
    return found;
  }

  /** Every string, decoded (for small snapshots and tests). */
  toArray(): string[] {
    return Array.from({ length: this.length }, (_, i) => this.get(i)!);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.get(i)!;
  }
}

/** Whether every escape in an escaped literal's body is valid JSON. */
export function validEscapes(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (bytes[i] !== 0x5c) continue;
    if (i + 1 >= end) return false;
    const c = bytes[++i];
    if (c === 0x75) {
      if (i + 4 >= end) return false;
      for (let k = 1; k <= 4; k++) if (hexValue(bytes[i + k]) < 0) return false;
      i += 4;
    } else if (
      c !== 0x22 &&
      c !== 0x5c &&
      c !== 0x2f &&
      c !== 0x62 &&
      c !== 0x66 &&
      c !== 0x6e &&
      c !== 0x72 &&
      c !== 0x74
    ) {
      return false;
    }
  }
  return true;
}

/** Longest escaped literal decoded without `JSON.parse`, in UTF-16 code units. */
const MAX_UNESCAPE_UNITS = 8192;
const units = new Uint16Array(MAX_UNESCAPE_UNITS);

/** The text of a literal body; undefined on an invalid escape. */
export function decodeLiteral(
  bytes: Buffer,
  start: number,
  end: number,
  flags: number,
): string | undefined {
  if ((flags & ESCAPED) === 0) {
    return bytes.toString((flags & NON_ASCII) === 0 ? 'latin1' : 'utf8', start, end);
  }
  // V8 writes every non-ASCII character as \uXXXX, so escaped literals are ASCII.
  if ((flags & NON_ASCII) === 0 && end - start <= MAX_UNESCAPE_UNITS) {
    return unescapeAscii(bytes, start, end);
  }
  try {
    return JSON.parse(`"${bytes.toString('utf8', start, end)}"`) as string;
  } catch {
    return undefined;
  }
}

/** JSON string unescaping of ASCII bytes; undefined on an invalid escape. */
function unescapeAscii(bytes: Uint8Array, start: number, end: number): string | undefined {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = bytes[i];
    if (c === 0x5c) {
      c = bytes[++i];
      switch (c) {
        case 0x22: // "
        case 0x5c: // \
        case 0x2f: // /
          break;
        case 0x62: // b
          c = 0x08;
          break;
        case 0x66: // f
          c = 0x0c;
          break;
        case 0x6e: // n
          c = 0x0a;
          break;
        case 0x72: // r
          c = 0x0d;
          break;
        case 0x74: // t
          c = 0x09;
          break;
        case 0x75: {
          // u: four hex digits
          if (i + 4 >= end) return undefined;
          const h = (hexValue(bytes[i + 1]) << 12) | (hexValue(bytes[i + 2]) << 8);
          const l = (hexValue(bytes[i + 3]) << 4) | hexValue(bytes[i + 4]);
          if (h < 0 || l < 0) return undefined;
          c = h | l;
          i += 4;
          break;
        }
        default:
          return undefined;
      }
    }
    units[n++] = c;
  }
  return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
}

/** Value of an ASCII hex digit; a negative number (its sign survives a shift by ≤ 12) otherwise. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -0x10000;
}

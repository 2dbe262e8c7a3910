/**
 * Protocol buffers written field by field into chunks of bytes: what a pprof profile of
 * millions of locations needs, where building one object per message first (as an
 * encoder library does) costs several times the profile's own memory. Only what pprof's
 * messages use: varints (non-negative whole numbers below 2^53), packed varints, strings
 * and nested messages.
 */

const CHUNK = 1 << 20;

/** A message's bytes, appended to; nested messages are written into their own writer. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private buf: Uint8Array;
  private pos = 0;
  /** The writer nested messages are written into, reused. */
  private child: ProtoWriter | undefined;
  /** Bytes written so far. */
  length = 0;

  /**
   * `sink`, when given, takes each full chunk as it is written (and the rest from
   * `finish`): the message's bytes are then never all in memory.
   */
  constructor(
    private readonly chunkSize = CHUNK,
    private readonly sink?: (chunk: Uint8Array) => void,
  ) {
    this.buf = new Uint8Array(chunkSize);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) {
      const full = this.buf.subarray(0, this.pos);
      if (this.sink) this.sink(full);
      else this.chunks.push(full);
    }
    this.buf = new Uint8Array(Math.max(this.chunkSize, n));
    this.pos = 0;
  }

  /** A varint (0 ≤ n < 2^53). */
  varint(n: number): void {
    this.room(10);
    const b = this.buf;
    let p = this.pos;
    let v = n;
    while (v > 0x7f) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.length += p - this.pos;
    this.pos = p;
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    this.length += data.length;
  }

  /** A varint field; left out when 0, as proto3 does. */
  uint(field: number, n: number): void {
    if (n === 0) return;
    this.varint(field << 3);
    this.varint(n);
  }

  /** A packed repeated varint field; left out when empty. */
  packed(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    let size = 0;
    for (const v of values) size += varintSize(v);
    this.varint((field << 3) | 2);
    this.varint(size);
    for (const v of values) this.varint(v);
  }

  string(field: number, text: string): void {
    const data = Buffer.from(text, 'utf8');
    this.varint((field << 3) | 2);
    this.varint(data.length);
    this.bytes(data);
  }

  /** A nested message, written by `write` into a writer of its own. */
  message(field: number, write: (w: ProtoWriter) => void): void {
    this.child ??= new ProtoWriter(256);
    const inner = this.child;
    inner.chunks = [];
    inner.pos = 0;
    inner.length = 0;
    write(inner);
    this.varint((field << 3) | 2);
    this.varint(inner.length);
    for (const c of inner.finish()) this.bytes(c);
  }

  /** The bytes written, in chunks (the ones not given to the sink). */
  finish(): Uint8Array[] {
    const out = [...this.chunks];
    if (this.pos > 0) {
      const rest = this.buf.subarray(0, this.pos);
      if (this.sink) this.sink(rest);
      else out.push(rest);
    }
    return out;
  }
}

export function varintSize(n: number): number {
  let size = 1;
  let v = n;
  while (v > 0x7f) {
    size++;
    v = Math.floor(v / 0x80);
  }
  return size;
}

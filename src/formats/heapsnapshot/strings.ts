// The reader of `strings`: their literals' bodies into one byte table, decoded only when
// asked for (model/snapshot/strings.ts).

import { ESCAPED, NON_ASCII, SnapshotStrings, validEscapes } from '../../model/snapshot/strings.js';
import { HeapSnapshotError, notAnArray, unexpected } from './errors.js';
import { type LiteralTable, scanLiterals } from './literals.js';
import {
  A_AFTER,
  A_DONE,
  A_FIRST,
  A_IN_VALUE,
  A_NEXT,
  A_OPEN,
  ByteSink,
  grow,
  isWhitespace,
  type ValueReader,
} from './tokens.js';

/**
 * `strings`: an array of JSON string literals. Their bodies are copied, back to back,
 * into one byte array (a literal may span chunks: it simply continues there) and
 * decoded only when asked for (see {@link SnapshotStrings}); escapes are checked here,
 * so a malformed literal fails the read, not a later lookup.
 */
export class StringArrayReader implements ValueReader {
  done = false;
  count = 0;
  private state = A_OPEN;
  private hasEscape = false;
  /** OR of the current literal's bytes: bit 7 set when it holds raw UTF-8. */
  private bits = 0;
  /** Bytes of the current literal's escape sequence that spill into the next chunk. */
  private skip = 0;
  private readonly sink: ByteSink;
  private ends = new Uint32Array(1024);
  private flags = new Uint8Array(1024);

  /** `expectedBytes`: about how many bytes the literals take (the rest of the file). */
  constructor(
    expectedBytes: number,
    private readonly native: boolean,
  ) {
    this.sink = new ByteSink(Math.max(1024, Math.min(expectedBytes, 2 ** 31)));
  }

  feed(buf: Buffer, start: number, end: number, base: number): number {
    let state = this.state;
    let i = start;
    while (i < end) {
      if (state === A_IN_VALUE) {
        // Scan the literal's body for its closing quote.
        const bodyStart = i;
        let j = i + this.skip;
        this.skip = 0;
        let hasEscape = this.hasEscape;
        let bits = this.bits;
        while (j < end) {
          const c = buf[j];
          if (c === 0x22) break;
          bits |= c;
          if (c === 0x5c) {
            hasEscape = true;
            j += 2;
          } else j++;
        }
        if (j >= end) {
          // The literal continues in the next chunk.
          this.sink.append(buf, bodyStart, end);
          this.skip = j - end;
          this.hasEscape = hasEscape;
          this.bits = bits;
          i = end;
          break;
        }
        const literalStart = this.count === 0 ? 0 : this.ends[this.count - 1];
        this.sink.append(buf, bodyStart, j);
        if (hasEscape && !validEscapes(this.sink.bytes, literalStart, this.sink.length)) {
          throw new HeapSnapshotError(
            `heapsnapshot: invalid escape in "strings"[${this.count}] ending at byte ${base + j}`,
          );
        }
        this.push((hasEscape ? ESCAPED : 0) | ((bits & 0x80) !== 0 ? NON_ASCII : 0));
        this.hasEscape = false;
        this.bits = 0;
        state = A_AFTER;
        i = j + 1;
        continue;
      }
      const c = buf[i++];
      if (isWhitespace(c)) continue;
      if (c === 0x22 && (state === A_FIRST || state === A_NEXT)) {
        // A literal starts: V8's layout goes through the fast loop.
        i = this.scan(buf, i, end);
        state = this.table.stoppedAfter ? A_AFTER : A_IN_VALUE;
      } else if (c === 0x2c && state === A_AFTER) state = A_NEXT;
      else if (c === 0x5d && (state === A_AFTER || state === A_FIRST)) {
        state = A_DONE;
        break;
      } else if (c === 0x5b && state === A_OPEN) state = A_FIRST;
      else if (state === A_OPEN) throw notAnArray('strings', c, base + i - 1);
      else throw unexpected(c, '"strings" (expected an array of string literals)', base + i - 1);
    }
    this.state = state;
    this.done = state === A_DONE;
    return i;
  }

  private readonly table: LiteralTable = {
    bytes: new Uint8Array(0),
    length: 0,
    ends: new Uint32Array(0),
    flags: new Uint8Array(0),
    count: 0,
    stoppedAfter: false,
  };

  /** {@link scanLiterals} over this reader's arrays, from the body at `i`. */
  private scan(buf: Buffer, i: number, end: number): number {
    const table = this.table;
    table.bytes = this.sink.bytes;
    table.length = this.sink.length;
    table.ends = this.ends;
    table.flags = this.flags;
    table.count = this.count;
    const stop = scanLiterals(buf, i, end, table, this.native);
    this.sink.length = table.length;
    this.count = table.count;
    return stop;
  }

  private push(flags: number): void {
    if (this.count === this.ends.length) {
      this.ends = grow(this.ends, this.count + 1);
      const bigger = new Uint8Array(this.ends.length);
      bigger.set(this.flags);
      this.flags = bigger;
    }
    this.ends[this.count] = this.sink.length;
    this.flags[this.count] = flags;
    this.count++;
  }

  result(): SnapshotStrings {
    return new SnapshotStrings(
      this.sink.bytes.subarray(0, this.sink.length),
      this.ends.subarray(0, this.count),
      this.flags.subarray(0, this.count),
      this.count,
    );
  }
}

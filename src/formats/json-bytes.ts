/**
 * JSON read straight from the file's bytes, without first decoding the whole file into one
 * string: a 400 MB profile is then never a 400 MB string (V8 refuses strings past about
 * 512 MB) plus its parsed tree at once. The elements of one top-level array can be handed
 * to a callback as they are read (`onElement`), so that a reader turns each into its own
 * record and the parsed element is garbage at once.
 *
 * Values are what `JSON.parse` gives for the same text. Anything that is not valid JSON
 * throws `JsonBytesError`; the caller then reads the text with `JSON.parse` for V8's
 * verdict and the position (see `json-text.ts`): this reader does not describe errors.
 */

export class JsonBytesError extends Error {
  override name = 'JsonBytesError';
}

export interface JsonBytesOptions {
  /** Called now and then with the bytes read so far and the total, and once at the end. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called for each element of the array under `key` of the top-level object, in order,
   * with the object's members read so far; what it returns replaces the element. Return
   * `undefined` from `accept` to keep the plain array instead.
   */
  elements?: {
    key: string;
    accept: (
      members: Record<string, unknown>,
    ) => ((value: unknown, index: number) => unknown) | undefined;
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Parses JSON text given as UTF-8 bytes. */
export function parseJsonBytes(bytes: Buffer, options: JsonBytesOptions = {}): unknown {
  const p = new Parser(bytes, options.onProgress);
  p.skipSpace();
  const value = options.elements && p.peek() === 0x7b ? p.object(options.elements) : p.value();
  p.skipSpace();
  if (p.pos !== bytes.length) p.fail();
  options.onProgress?.(bytes.length, bytes.length);
  return value;
}

class Parser {
  pos = 0;
  /** Array elements read since the last progress call. */
  private sinceProgress = 0;
  constructor(
    private readonly b: Buffer,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {}

  /** Every 16,384 array elements, the progress. */
  tick(): void {
    if (this.onProgress && ++this.sinceProgress >= 16_384) {
      this.sinceProgress = 0;
      this.onProgress(this.pos, this.b.length);
    }
  }

  fail(): never {
    throw new JsonBytesError(`invalid JSON at byte ${this.pos}`);
  }

  peek(): number {
    return this.pos < this.b.length ? this.b[this.pos]! : -1;
  }

  skipSpace(): void {
    const b = this.b;
    let i = this.pos;
    while (i < b.length) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.pos = i;
  }

  expect(c: number): void {
    this.skipSpace();
    if (this.b[this.pos] !== c) this.fail();
    this.pos++;
  }

  value(): unknown {
    this.skipSpace();
    const c = this.peek();
    if (c === QUOTE) return this.string();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    return this.fail();
  }

  literal<T>(word: string, v: T): T {
    for (let k = 0; k < word.length; k++) {
      if (this.b[this.pos + k] !== word.charCodeAt(k)) this.fail();
    }
    this.pos += word.length;
    return v;
  }

  number(): number {
    const b = this.b;
    const start = this.pos;
    let i = start;
    if (b[i] === 0x2d) i++;
    const digits0 = i;
    if (b[i] === 0x30) i++;
    else if (b[i]! >= 0x31 && b[i]! <= 0x39) i = this.digits(i);
    else this.fail();
    const intEnd = i;
    let plain = true;
    if (b[i] === 0x2e) {
      plain = false;
      i = this.digits(i + 1);
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      plain = false;
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      i = this.digits(i);
    }
    this.pos = i;
    if (plain && intEnd - digits0 <= 15) {
      let n = 0;
      for (let k = digits0; k < intEnd; k++) n = n * 10 + (b[k]! - 0x30);
      return start === digits0 ? n : -n;
    }
    return Number(b.toString('latin1', start, i));
  }

  /** One or more digits from byte `i`: the index after the last (fails at `i` if none). */
  digits(i: number): number {
    const b = this.b;
    if (!(b[i]! >= 0x30 && b[i]! <= 0x39)) {
      this.pos = i;
      this.fail();
    }
    do i++;
    while (b[i]! >= 0x30 && b[i]! <= 0x39);
    return i;
  }

  string(): string {
    const b = this.b;
    const start = this.pos + 1;
    let i = start;
    let ascii = true;
    while (true) {
      if (i >= b.length) {
        this.pos = i;
        this.fail();
      }
      const c = b[i]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) return this.escapedString();
      if (c < 0x20) {
        this.pos = i;
        this.fail();
      }
      if (c >= 0x80) ascii = false;
      i++;
    }
    this.pos = i + 1;
    return ascii ? b.toString('latin1', start, i) : b.toString('utf8', start, i);
  }

  /** A string with escapes: found, then read by JSON.parse (rare in profiles). */
  escapedString(): string {
    const b = this.b;
    const start = this.pos;
    let i = start + 1;
    while (i < b.length && b[i] !== QUOTE) {
      if (b[i]! < 0x20) break;
      i += b[i] === BACKSLASH ? 2 : 1;
    }
    if (i >= b.length || b[i] !== QUOTE) {
      this.pos = i;
      this.fail();
    }
    this.pos = i + 1;
    try {
      return JSON.parse(b.toString('utf8', start, i + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail();
    }
  }

  /** An array (at its `[`); with `each`, each element is replaced by what `each` returns. */
  array(each?: (value: unknown, index: number) => unknown): unknown[] {
    const out: unknown[] = [];
    if (this.opensEmpty(0x5d)) return out;
    do {
      const v = this.value();
      out.push(each ? each(v, out.length) : v);
      this.tick();
    } while (this.another(0x5d));
    return out;
  }

  /** An object (at its `{`); see `JsonBytesOptions.elements`. */
  object(elements?: JsonBytesOptions['elements']): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.opensEmpty(0x7d)) return out;
    do {
      this.skipSpace();
      if (this.peek() !== QUOTE) this.fail();
      const key = this.string();
      this.expect(0x3a);
      let v: unknown;
      const each = elements && key === elements.key ? elements.accept(out) : undefined;
      if (each) {
        this.skipSpace();
        v = this.peek() === 0x5b ? this.array(each) : this.value();
      } else v = this.value();
      // As JSON.parse: "__proto__" is an own member, not the prototype.
      if (key === '__proto__') {
        Object.defineProperty(out, key, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else out[key] = v;
    } while (this.another(0x7d));
    return out;
  }

  /** Past an array's or object's opening byte: true if `close` follows (and is read). */
  opensEmpty(close: number): boolean {
    this.pos++;
    this.skipSpace();
    if (this.peek() !== close) return false;
    this.pos++;
    return true;
  }

  /** After an element or member: true at a comma, false at `close` (either read). */
  another(close: number): boolean {
    this.skipSpace();
    const c = this.peek();
    if (c === 0x2c) {
      this.pos++;
      return true;
    }
    if (c === close) {
      this.pos++;
      return false;
    }
    return this.fail();
  }
}

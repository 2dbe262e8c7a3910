// The push parser of the top-level object: keys in any order, each value handed to its
// reader (header, number arrays, trace tree, strings), unknown keys skipped.

import type { HeapSnapshot } from '../../model/snapshot/heap-snapshot.js';
import { assemble } from './assemble.js';
import { DeferredArray, UNKNOWN_LENGTH } from './deferred.js';
import { describeByte, HeapSnapshotError, unexpected } from './errors.js';
import { edgeRulesOf, parseHeader } from './header.js';
import { NumberArrayReader } from './numbers.js';
import { StringArrayReader } from './strings.js';
import { skipWhitespace, type ValueReader, ValueScanner } from './tokens.js';
import { TraceTreeReader } from './trace-tree.js';

// Top-level states.
const T_START = 0; // before '{'
const T_KEY_OR_CLOSE = 1; // after '{'
const T_KEY = 2; // after ','
const T_IN_KEY = 3;
const T_COLON = 4;
const T_VALUE = 5;
const T_AFTER_VALUE = 6;
const T_END = 7; // after the final '}'

const MAX_KEY_BYTES = 4096;
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface HeapSnapshotParserOptions {
  /** Size of the whole input when known; bounds preallocation from (possibly bogus) counts. */
  totalBytes?: number;
  /**
   * Leave `nodes` and `edges` arrays of at least `minLength` numbers (as the header
   * declares them) to someone else: the parser only finds where each one lies in the
   * input and hands it to `onArray`, whose owner must `fill` it before `end()`.
   */
  defer?: {
    minLength: number;
    onArray: (array: DeferredArray) => void;
    /**
     * Where the deferred array `key` that starts at byte `start` ends, if the caller can
     * tell without the bytes between (see {@link HeapSnapshotParser.jumpTarget}).
     */
    endOf?: (key: string, start: number) => number | undefined;
  };
  /** `false`: the strings' fast loop in JavaScript even where the native helper is there. */
  native?: boolean;
}

/**
 * Incremental parser: `write()` chunks of the file in order, then `end()`. Keeps no
 * reference to a chunk after `write()` returns, so callers may reuse their buffers.
 */
export class HeapSnapshotParser {
  private state = T_START;
  private base = 0; // bytes consumed before the current chunk
  private key = '';
  private keyReader: ValueScanner | undefined;
  private reader: ValueReader | undefined;
  private readonly seen = new Set<string>();
  private readonly totalBytes: number | undefined;
  private failed: HeapSnapshotError | undefined;

  private readonly defer: HeapSnapshotParserOptions['defer'];
  private readonly native: boolean;

  private header: unknown;
  private nodes: NumberArrayReader | DeferredArray | undefined;
  private edges: NumberArrayReader | DeferredArray | undefined;
  private functionInfos: NumberArrayReader | undefined;
  private locations: NumberArrayReader | DeferredArray | undefined;
  private samples: NumberArrayReader | undefined;
  private traceTree: TraceTreeReader | undefined;
  private strings: StringArrayReader | undefined;

  constructor(options: HeapSnapshotParserOptions = {}) {
    this.totalBytes = options.totalBytes;
    this.defer = options.defer;
    this.native = options.native !== false;
  }

  write(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.feed(buf);
    } catch (error) {
      this.failed =
        error instanceof HeapSnapshotError
          ? error
          : new HeapSnapshotError(`heapsnapshot: ${(error as Error).message}`, { cause: error });
      throw this.failed;
    }
    this.base += buf.length;
  }

  /**
   * A byte the caller may jump to instead of writing the bytes before it: the end of the
   * deferred array being read, when its end was known from the start (`defer.endOf`).
   * Undefined when the next bytes must be written.
   */
  jumpTarget(): number | undefined {
    const reader = this.reader;
    if (this.state !== T_VALUE || !(reader instanceof DeferredArray)) return undefined;
    const to = reader.knownEnd;
    return to !== undefined && to > this.base ? to : undefined;
  }

  /** Goes on after the deferred array as if its bytes up to {@link jumpTarget} were written. */
  jump(): void {
    const to = this.jumpTarget();
    if (to === undefined) throw new Error('heapsnapshot: nothing to jump over');
    const reader = this.reader as DeferredArray;
    reader.finishAt(to);
    this.base = to;
    this.defer!.onArray(reader);
    this.reader = undefined;
    this.state = T_AFTER_VALUE;
  }

  end(): HeapSnapshot {
    if (this.failed) throw this.failed;
    if (this.state !== T_END) {
      if (this.base === 0) throw new HeapSnapshotError('heapsnapshot: empty input');
      const where =
        this.state === T_VALUE || this.state === T_COLON || this.state === T_IN_KEY
          ? `inside "${this.key || '(key)'}"`
          : 'inside the top-level object';
      throw new HeapSnapshotError(
        `heapsnapshot: truncated file: input ended ${where} after ${this.base} bytes`,
      );
    }
    return assemble({
      header: this.header,
      nodes: this.nodes,
      edges: this.edges,
      functionInfos: this.functionInfos,
      locations: this.locations,
      samples: this.samples,
      traceTree: this.traceTree,
      strings: this.strings,
    });
  }

  private feed(buf: Buffer): void {
    const end = buf.length;
    const base = this.base;
    let i = 0;
    while (i < end) {
      switch (this.state) {
        case T_START: {
          i = skipWhitespace(buf, i, end);
          if (i === end) break;
          if (buf[i] !== 0x7b) {
            throw new HeapSnapshotError(
              `heapsnapshot: not a V8 heap snapshot (expected a JSON object, found ${describeByte(buf[i])} at byte ${base + i})`,
            );
          }
          i++;
          this.state = T_KEY_OR_CLOSE;
          break;
        }
        case T_KEY_OR_CLOSE:
        case T_KEY: {
          i = skipWhitespace(buf, i, end);
          if (i === end) break;
          const c = buf[i];
          if (c === 0x22) {
            this.keyReader = new ValueScanner('object key', true, MAX_KEY_BYTES);
            this.state = T_IN_KEY;
          } else if (c === 0x7d && this.state === T_KEY_OR_CLOSE) {
            i++;
            this.state = T_END;
          } else {
            throw unexpected(buf[i], 'the top-level object (expected a key)', base + i);
          }
          break;
        }
        case T_IN_KEY: {
          const reader = this.keyReader!;
          i = reader.feed(buf, i, end, base);
          if (reader.done) {
            this.key = JSON.parse(reader.text()) as string;
            this.keyReader = undefined;
            if (this.seen.has(this.key)) {
              throw new HeapSnapshotError(
                `heapsnapshot: duplicate key "${this.key}" in the top-level object`,
              );
            }
            this.seen.add(this.key);
            this.state = T_COLON;
          }
          break;
        }
        case T_COLON: {
          i = skipWhitespace(buf, i, end);
          if (i === end) break;
          if (buf[i] !== 0x3a) throw unexpected(buf[i], `"${this.key}" (expected ':')`, base + i);
          i++;
          this.reader = this.readerFor(this.key, base + i);
          this.state = T_VALUE;
          break;
        }
        case T_VALUE: {
          const reader = this.reader!;
          i = reader.feed(buf, i, end, base);
          if (reader.done) {
            if (this.key === 'snapshot') this.header = parseHeader(reader as ValueScanner);
            if (reader instanceof DeferredArray) this.defer!.onArray(reader);
            this.reader = undefined;
            this.state = T_AFTER_VALUE;
          }
          break;
        }
        case T_AFTER_VALUE: {
          i = skipWhitespace(buf, i, end);
          if (i === end) break;
          const c = buf[i];
          if (c === 0x2c) this.state = T_KEY;
          else if (c === 0x7d) this.state = T_END;
          else throw unexpected(c, `the top-level object after "${this.key}"`, base + i);
          i++;
          break;
        }
        case T_END: {
          i = skipWhitespace(buf, i, end);
          if (i < end) {
            throw unexpected(buf[i], 'the end of the file (after the top-level object)', base + i);
          }
          break;
        }
      }
    }
  }

  /** The reader of the value of `key`, which starts at byte `offset`. */
  private readerFor(key: string, offset: number): ValueReader {
    // Preallocation is bounded by the input size: each number takes at least 2 bytes.
    const bound = this.totalBytes === undefined ? 1 << 20 : Math.ceil(this.totalBytes / 2) + 1;
    switch (key) {
      case 'snapshot':
        return new ValueScanner('snapshot', true, MAX_HEADER_BYTES);
      case 'nodes':
        this.nodes = this.numbers(
          key,
          offset,
          bound,
          this.declaredLength('node_count', 'node_fields'),
        );
        return this.nodes;
      case 'edges':
        this.edges = this.numbers(
          key,
          offset,
          bound,
          this.declaredLength('edge_count', 'edge_fields'),
        );
        if (this.edges instanceof DeferredArray) {
          this.edges.rules = edgeRulesOf(this.header);
          this.edges.knownEnd = this.defer?.endOf?.(key, offset);
        }
        return this.edges;
      case 'trace_function_infos':
        this.functionInfos = new NumberArrayReader(
          key,
          false,
          Math.min(
            bound,
            this.expectedLength('trace_function_count', 'trace_function_info_fields'),
          ),
        );
        return this.functionInfos;
      case 'locations':
        // Its length is not declared: read after the scan, where it can be counted first
        // (growing it as it is read left up to twice its size behind as garbage).
        this.locations = this.defer
          ? new DeferredArray(key, offset, UNKNOWN_LENGTH)
          : new NumberArrayReader(key, false, 1024);
        return this.locations;
      case 'samples':
        this.samples = new NumberArrayReader(key, true, 1024);
        return this.samples;
      case 'trace_tree':
        this.traceTree = new TraceTreeReader();
        return this.traceTree;
      case 'strings':
        this.strings = new StringArrayReader((this.totalBytes ?? 0) - offset, this.native);
        return this.strings;
      default:
        return new ValueScanner(key, false, 0);
    }
  }

  /** A reader of `nodes` or `edges`, or a deferred array when the header says it is big. */
  private numbers(
    key: string,
    offset: number,
    bound: number,
    declared: number | undefined,
  ): NumberArrayReader | DeferredArray {
    if (
      this.defer &&
      declared !== undefined &&
      declared >= this.defer.minLength &&
      declared <= bound
    ) {
      return new DeferredArray(key, offset, declared);
    }
    return new NumberArrayReader(key, false, Math.min(bound, Math.max(declared ?? 1 << 16, 1)));
  }

  /** `count × fields.length` from the header if it came first. */
  private declaredLength(countKey: string, fieldsKey: string): number | undefined {
    const header = this.header as Record<string, unknown> | undefined;
    const meta = header?.meta as Record<string, unknown> | undefined;
    const count = header?.[countKey];
    const fields = meta?.[fieldsKey];
    if (
      typeof count === 'number' &&
      Number.isSafeInteger(count) &&
      count >= 0 &&
      Array.isArray(fields) &&
      fields.length > 0
    ) {
      return count * fields.length;
    }
    return undefined;
  }

  private expectedLength(countKey: string, fieldsKey: string): number {
    return Math.max(this.declaredLength(countKey, fieldsKey) ?? 1 << 16, 1);
  }
}

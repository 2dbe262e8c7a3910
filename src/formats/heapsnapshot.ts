/**
 * Streaming reader for V8 heap snapshots (`.heapsnapshot`).
 *
 * A heap snapshot is one JSON object written by V8's `HeapSnapshotJSONSerializer`
 * (`v8.writeHeapSnapshot()`, `HeapProfiler.takeHeapSnapshot` over the inspector,
 * Chrome DevTools):
 *
 * ```text
 * {"snapshot":{"meta":{"node_fields":[…],"node_types":[[…],…],"edge_fields":[…],…},
 *              "node_count":N,"edge_count":E,"trace_function_count":F},
 *  "nodes":[…N × node_fields numbers…],
 *  "edges":[…E × edge_fields numbers…],
 *  "trace_function_infos":[…F × trace_function_info_fields numbers…],
 *  "trace_tree":[id,function_info_index,count,size,[children as flat 5-tuples…]],
 *  "samples":[…], "locations":[…],
 *  "strings":["…",…]}
 * ```
 *
 * `trace_function_infos` and `trace_tree` are filled only when the snapshot was taken
 * while allocation tracking was on (`HeapProfiler.startTrackingHeapObjects` with
 * `trackAllocations: true`).
 *
 * Snapshots of big heaps are gigabytes, and `JSON.parse` cannot take a string over
 * ~512 MB. This reader never holds the file as one string: a hand-written tokenizer
 * runs over the raw bytes chunk by chunk, parses only the small `snapshot` header with
 * `JSON.parse`, and writes the numeric arrays digit by digit into typed arrays.
 * Keys may come in any order; unknown keys are skipped.
 *
 * Limits (documented choices):
 * - Numbers in `nodes`, `edges`, `trace_function_infos`, `locations` and the trace
 *   tree's ids and function indexes must be integers in [0, 2^32 − 1]. V8 writes ids,
 *   indexes and counts as 32-bit values, but `self_size` is a `size_t`: a node over
 *   4 GiB (say, the backing store of a 5 GB ArrayBuffer) makes the reader throw a
 *   `HeapSnapshotError` naming the value, rather than doubling the memory of every
 *   snapshot with a Float64Array. `samples` and the trace tree's `count` / `size` are
 *   Float64Array (exact up to 2^53).
 * - Fractions and exponents are rejected: V8 never writes them.
 * - String literals are decoded leniently: invalid UTF-8 becomes U+FFFD, as with
 *   `Buffer.toString`. Note that V8 itself writes every non-ASCII character as a
 *   `\uXXXX` escape of the code point's low 16 bits, so characters outside the BMP
 *   (emoji) already arrive mangled in snapshots V8 wrote; the reader returns exactly
 *   what `JSON.parse` would.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { isIndexNamedEdgeType } from '../model/snapshot/graph.js';
import { nativeSnapshotFunctions } from '../native/snapshot.js';
import { warmWorkers } from '../threads/pool.js';
import type { EdgeRules, EdgeSummary } from './heapsnapshot-edges.js';
import { type LiteralTable, scanLiterals } from './heapsnapshot-literals.js';
import {
  countNumbers,
  type Progress,
  parseChunk,
  readNumbersFast,
} from './heapsnapshot-numbers.js';
import {
  type ArrayJob,
  parseArrayInWorker,
  parseArrayNatively,
  type RunningArrayJob,
  workersAvailable,
} from './heapsnapshot-workers.js';
import { ESCAPED, NON_ASCII, SnapshotStrings, validEscapes } from './snapshot-strings.js';

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/** Field names and enums from `snapshot.meta`. */
export interface HeapSnapshotMeta {
  /** Names of a node's fields, in order (`type`, `name`, `id`, `self_size`, `edge_count`, `trace_node_id`, `detachedness` on Node 20). */
  nodeFields: string[];
  /** Names of node types: the value of a node's `type` field indexes this list. */
  nodeTypes: string[];
  /** Names of an edge's fields, in order (`type`, `name_or_index`, `to_node`). */
  edgeFields: string[];
  /** Names of edge types: the value of an edge's `type` field indexes this list. */
  edgeTypes: string[];
  /** `function_id`, `name`, `script_name`, `script_id`, `line`, `column`. Empty if absent. */
  traceFunctionInfoFields: string[];
  /** `id`, `function_info_index`, `count`, `size`, `children`. Empty if absent. */
  traceNodeFields: string[];
  /** `object_index`, `script_id`, `line`, `column`. Empty if absent. */
  locationFields: string[];
  /** `timestamp_us`, `last_assigned_id`. Empty if absent. */
  sampleFields: string[];
}

/** Position of each known node field within a node's record; -1 when the snapshot has none. */
export interface NodeFieldOffsets {
  type: number;
  name: number;
  id: number;
  selfSize: number;
  edgeCount: number;
  traceNodeId: number;
  detachedness: number;
}

/** Position of each edge field within an edge's record. */
export interface EdgeFieldOffsets {
  type: number;
  nameOrIndex: number;
  toNode: number;
}

/** Position of each field within a `trace_function_infos` record; -1 when absent. */
export interface TraceFunctionInfoOffsets {
  functionId: number;
  name: number;
  scriptName: number;
  scriptId: number;
  /** 1-based; 0 means unknown. */
  line: number;
  /** 1-based; 0 means unknown. */
  column: number;
}

/**
 * The allocation trace tree, flattened: one entry per trace node, in the file's
 * (depth-first, parent before children) order, so `parent[i] < i`.
 */
export interface TraceTree {
  count: number;
  /** Trace node id, as referenced by a heap node's `trace_node_id`. */
  id: Uint32Array;
  /** Entry number in `traceFunctionInfos` (multiply by its field count for the flat offset). */
  functionInfoIndex: Uint32Array;
  /** Objects allocated at this exact stack (not including children). */
  allocCount: Float64Array;
  /** Bytes allocated at this exact stack (not including children). */
  allocSize: Float64Array;
  /** Index of the parent entry in these arrays; -1 for a root. */
  parent: Int32Array;
  /** Trace node id → index in these arrays. */
  indexById: Map<number, number>;
}

export interface HeapSnapshot {
  meta: HeapSnapshotMeta;
  nodeCount: number;
  edgeCount: number;
  /** Number of fields per node: `meta.nodeFields.length`. */
  nodeFieldCount: number;
  /** Number of fields per edge: `meta.edgeFields.length`. */
  edgeFieldCount: number;
  nodeOffsets: NodeFieldOffsets;
  edgeOffsets: EdgeFieldOffsets;
  /** Flat: `nodeFieldCount` numbers per node, as in the file. Node `i` starts at `i * nodeFieldCount`. */
  nodes: Uint32Array;
  /**
   * Flat: `edgeFieldCount` numbers per edge, as in the file. An edge's `to_node` is an
   * offset into `nodes` (a multiple of `nodeFieldCount`), not a node number.
   */
  edges: Uint32Array;
  /**
   * `nodeCount + 1` offsets into `edges` (already multiplied by `edgeFieldCount`): node
   * `i`'s edges are `edges[firstEdge[i] .. firstEdge[i + 1])`.
   */
  firstEdge: Uint32Array;
  /** The strings, decoded when asked for: `strings.get(i)`. */
  strings: SnapshotStrings;
  /** Number of `trace_function_infos` entries. */
  traceFunctionCount: number;
  traceFunctionInfoOffsets: TraceFunctionInfoOffsets;
  /** Flat: `meta.traceFunctionInfoFields.length` numbers per entry; empty without allocation tracking. */
  traceFunctionInfos: Uint32Array;
  /** Flattened `trace_tree`; `count` 0 when the snapshot has none. */
  trace: TraceTree;
  /** Flat: `meta.locationFields.length` numbers per entry; may be empty. */
  locations: Uint32Array;
  /** Flat: `meta.sampleFields.length` numbers per entry; may be empty. */
  samples: Float64Array;
}

/** Every error this reader throws; messages start with `heapsnapshot: `. */
export class HeapSnapshotError extends Error {
  override name = 'HeapSnapshotError';
}

export interface ParseHeapSnapshotOptions {
  /** Feed the parser this many bytes at a time (default: all at once). For tests of chunk boundaries. */
  chunkSize?: number;
}

export interface ReadHeapSnapshotOptions {
  /** Called after each chunk is parsed (`totalBytes` is 0 for a pipe, whose size is unknown). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Aborting stops the read at the next chunk and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes per read (default 1 MiB). Small values are for tests of chunk boundaries. */
  chunkSize?: number;
  /**
   * Parse `nodes` and `edges` in worker threads while this thread reads the rest:
   * `'auto'` (default) when the machine has more than one core and they hold at least
   * 8M numbers (a snapshot of ~100 MB or more); `true` always, `false` never.
   */
  workers?: boolean | 'auto';
  /**
   * Worker threads for the arrays, at most (default: one fewer than the cores, at most
   * 2, or 2 with `workers: true`). With one, it takes the bigger array and this thread
   * parses the other after the strings.
   */
  threads?: number;
  /**
   * Use the native helper where this Node has one (default true): its loops parse the
   * arrays, and on the main thread libuv's thread pool takes the place of worker threads.
   * `false`: JavaScript and worker threads only.
   */
  native?: boolean;
}

// ---------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------

/** 1 MiB: two are in use at a time, and left behind as garbage after the read. */
const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Numbers below which a worker costs more (~30 ms to start) than it saves. */
const MIN_WORKER_ARRAY = 8 * 1024 * 1024;
/** `DeferredArray.length` of an array whose header declares no length (`locations`). */
const UNKNOWN_LENGTH = -1;
/** Files from which a worker is started before the header says whether it is needed. */
const WARM_WORKERS_BYTES = 32 * 1024 * 1024;

/**
 * Reads a `.heapsnapshot` file of any size. Memory stays close to the size of the
 * resulting typed arrays plus two read buffers; the file is never held as a string.
 * Throws a {@link HeapSnapshotError} for a truncated, foreign or malformed file.
 */
export async function readHeapSnapshot(
  path: string,
  options: ReadHeapSnapshotOptions = {},
): Promise<HeapSnapshot> {
  const jumps = { allowed: true, made: false };
  try {
    return await readSnapshotFile(path, options, jumps);
  } catch (error) {
    // A jump rests on V8's key order; whatever went wrong after one, the file is read
    // again in order, which gives the authoritative result or error.
    if (!jumps.made || options.signal?.aborted) throw error;
    return readSnapshotFile(path, options, { allowed: false, made: false });
  }
}

/** `jumps.allowed`: may skip the bytes of `edges` when their end can be found from the file's end. */
async function readSnapshotFile(
  path: string,
  options: ReadHeapSnapshotOptions,
  jumps: { allowed: boolean; made: boolean },
): Promise<HeapSnapshot> {
  const { onProgress, signal } = options;
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  signal?.throwIfAborted();
  const file = await open(path, 'r');
  // Two buffers: the next read runs in the thread pool while this thread parses.
  const buffers = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)];
  let pending: Promise<{ bytesRead: number }> | undefined;
  const workers = options.workers ?? 'auto';
  const jobs: RunningArrayJob[] = [];
  const filled: Promise<void>[] = [];
  const local: DeferredArray[] = [];
  let noThreads = false;
  let workerFailure: Error | undefined;
  try {
    const stats = await file.stat();
    // A pipe has no size and cannot be read at an offset: read it in order.
    const regular = stats.isFile();
    const totalBytes = regular ? stats.size : 0;
    // Off this thread, the file is opened again by its name: only a regular file (not a pipe).
    // Where the native helper is there, on libuv's thread pool; else in worker threads.
    const native = options.native !== false && isMainThread ? nativeSnapshotFunctions() : undefined;
    const useWorkers =
      workers !== false &&
      regular &&
      (native
        ? workers === true || availableParallelism() > 1
        : workersAvailable(workers === true));
    // Threads for the arrays besides this one, which has the strings to read too.
    const slots = Math.max(
      1,
      options.threads ?? (workers === true ? 2 : Math.min(2, availableParallelism() - 1)),
    );
    if (useWorkers && !native && (workers === true || totalBytes >= WARM_WORKERS_BYTES)) {
      // Loaded while this thread reads up to the arrays.
      warmWorkers(slots);
    }
    const toWorker = (array: DeferredArray) => {
      const { key, start, end, length, rules } = array;
      const range: ArrayJob = { path, key, start, end, length, rules, native: options.native };
      let job: RunningArrayJob;
      try {
        job = native ? parseArrayNatively(range, native) : parseArrayInWorker(range);
      } catch {
        // No thread to be had (e.g. Node's permission model without --allow-worker).
        noThreads = true;
        local.push(array);
        return;
      }
      jobs.push(job);
      filled.push(
        job.result.then(
          ({ numbers, summary }) => array.fill(numbers, summary),
          (error: Error) => {
            workerFailure ??= error;
          },
        ),
      );
    };
    // With one worker for two arrays, the first waits for the second: the worker takes
    // the bigger, this thread the other once it has read the rest of the file.
    let held: DeferredArray | undefined;
    const defer = useWorkers
      ? {
          minLength: workers === true ? 0 : MIN_WORKER_ARRAY,
          onArray: (array: DeferredArray) => {
            if (array.length === UNKNOWN_LENGTH) return void local.push(array);
            if (slots >= 2) return toWorker(array);
            if (!held) {
              held = array;
              return;
            }
            const [bigger, smaller] = array.length >= held.length ? [array, held] : [held, array];
            held = undefined;
            toWorker(bigger);
            local.push(smaller);
          },
          // The end of `edges`, found from the file's end, lets this thread skip them
          // (the worker reads them) and the worker start as soon as they begin.
          endOf: (key: string, start: number) =>
            jumps.allowed && key === 'edges' ? findEdgesEnd(file.fd, totalBytes, start) : undefined,
        }
      : undefined;
    const parser = new HeapSnapshotParser({
      totalBytes: regular ? totalBytes : undefined,
      defer,
      native: options.native,
    });
    let position = 0;
    let which = 0;
    const at = () => (regular ? position : null);
    pending = file.read(buffers[which], 0, chunkSize, at());
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      signal?.throwIfAborted();
      const chunk = buffers[which];
      position += bytesRead;
      which ^= 1;
      pending = file.read(buffers[which], 0, chunkSize, at());
      parser.write(chunk.subarray(0, bytesRead));
      const to = parser.jumpTarget();
      if (to !== undefined) {
        await pending;
        parser.jump();
        jumps.made = true;
        position = to;
        pending = file.read(buffers[which], 0, chunkSize, at());
      }
      onProgress?.(position, totalBytes);
    }
    signal?.throwIfAborted();
    if (held) local.push(held);
    for (const array of local) {
      const { key, start, end } = array;
      const unknown = array.length === UNKNOWN_LENGTH;
      const length = unknown ? countNumbers(file.fd, start, end) : array.length;
      // Shared, so that the analysis can hand it to a worker too, if there can be one.
      const bytes = length * Uint32Array.BYTES_PER_ELEMENT;
      const buffer = noThreads || unknown ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes);
      const range: ArrayJob = { path, key, start, end, length, native: options.native };
      array.fill(readNumberRange(range, new Uint32Array(buffer)));
    }
    await Promise.all(filled);
    if (workerFailure) {
      throw new HeapSnapshotError(workerFailure.message, { cause: workerFailure });
    }
    return parser.end();
  } finally {
    for (const job of jobs) job.cancel();
    if (pending) await pending.catch(() => undefined);
    await file.close();
  }
}

/**
 * Parses a whole snapshot held in memory, through the same tokenizer as
 * {@link readHeapSnapshot}. For small inputs (a string is limited to ~512 MB).
 */
export function parseHeapSnapshot(
  text: string | Uint8Array,
  options: ParseHeapSnapshotOptions = {},
): HeapSnapshot {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const chunkSize = checkChunkSize(options.chunkSize ?? Math.max(bytes.length, 1));
  const parser = new HeapSnapshotParser({ totalBytes: bytes.length });
  for (let i = 0; i < bytes.length; i += chunkSize) {
    parser.write(bytes.subarray(i, Math.min(i + chunkSize, bytes.length)));
  }
  return parser.end();
}

function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`heapsnapshot: chunkSize must be a positive integer, got ${size}`);
  }
  return size;
}

// ---------------------------------------------------------------------------------------
// Push parser: top level
// ---------------------------------------------------------------------------------------

/** Something that consumes one JSON value, possibly across many chunks. */
interface ValueReader {
  done: boolean;
  /** Consumes bytes from `buf[start..end)`; returns the index after the last byte used. */
  feed(buf: Buffer, start: number, end: number, base: number): number;
}

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

function parseHeader(scanner: ValueScanner): unknown {
  try {
    return JSON.parse(scanner.text());
  } catch (error) {
    throw new HeapSnapshotError(
      `heapsnapshot: not a V8 heap snapshot ("snapshot" is not valid JSON: ${(error as Error).message})`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Tokenizer pieces
// ---------------------------------------------------------------------------------------

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWhitespace(buf: Buffer, i: number, end: number): number {
  while (i < end && isWhitespace(buf[i])) i++;
  return i;
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16)}`;
}

function unexpected(c: number, where: string, offset: number): HeapSnapshotError {
  return new HeapSnapshotError(
    `heapsnapshot: unexpected ${describeByte(c)} in ${where} at byte ${offset}`,
  );
}

function notAnArray(key: string, c: number, offset: number): HeapSnapshotError {
  return new HeapSnapshotError(
    `heapsnapshot: "${key}" must be an array, found ${describeByte(c)} at byte ${offset}`,
  );
}

/** Growable byte buffer. */
class ByteSink {
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
class ValueScanner implements ValueReader {
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
const A_OPEN = 0; // before '['
const A_FIRST = 1; // after '[': a value or ']'
const A_IN_VALUE = 2; // inside a number or a string
const A_AFTER = 3; // after a value: ',' or ']'
const A_NEXT = 4; // after ',': a value
const A_DONE = 5;
const A_SIGN = 6; // after '-'

const U32_MAX = 0xffffffff;
/** Bytes at a chunk's end left to the state machine: a number and "\n," fit (see parseChunk). */
const RUN_TAIL = 16;

function grow<T extends Uint32Array | Int32Array | Float64Array>(array: T, min: number): T {
  let size = Math.max(array.length * 2, 1024);
  while (size < min) size *= 2;
  const bigger = new (array.constructor as new (n: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** The first `length` elements, copied only when the array has spare capacity. */
function trim<T extends Uint32Array | Int32Array | Float64Array>(array: T, length: number): T {
  if (array.length === length) return array;
  return array.slice(0, length) as T;
}

/**
 * A flat array of non-negative integers into a Uint32Array (or, with `float`, of
 * integers up to 2^53 into a Float64Array). The hot loop of the reader: no allocation
 * per number, no strings.
 */
export class NumberArrayReader implements ValueReader {
  done = false;
  length = 0;
  array: Uint32Array | Float64Array;
  private state = A_OPEN;
  private value = 0;
  private negative = false;
  private readonly progress: Progress = { count: 0, next: 0, done: false };

  /** `into`: a Uint32Array to fill (e.g. over a SharedArrayBuffer) instead of a new one. */
  constructor(
    private readonly key: string,
    private readonly float: boolean,
    capacity: number,
    into?: Uint32Array,
  ) {
    this.array = into ?? (float ? new Float64Array(capacity) : new Uint32Array(capacity));
  }

  feed(buf: Buffer, start: number, end: number, base: number): number {
    if (this.float) return this.feedFloat(buf, start, end, base);
    let state = this.state;
    let value = this.value;
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
          if (value > U32_MAX) throw this.outOfRange(String(value), length, base + i);
          if (length === capacity) {
            array = grow(array, length + 1);
            capacity = array.length;
          }
          array[length++] = value;
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
      } else if (c >= 0x30 && c <= 0x39 && (state === A_NEXT || state === A_FIRST)) {
        value = c - 0x30;
        state = A_IN_VALUE;
        i++;
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
        throw this.outOfRange('-…', length, base + i);
      } else {
        throw this.unexpected(c, base + i);
      }
    }
    this.state = state;
    this.value = value;
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
    const limit = this.float ? 'a safe integer' : 'an integer in [0, 2^32 - 1]';
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

/**
 * Parses a JSON array of integers that lies in `[start, end)` of a file (the value of
 * `key`, possibly preceded by whitespace) into `into`, or into a bigger array when it
 * holds more numbers than `into` has room for. Synchronous: for the arrays the reading
 * thread parses itself (workers run the same two steps in heapsnapshot-array-task.ts).
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

/**
 * `trace_tree`: `[id, function_info_index, count, size, [children…]]` where the
 * children list holds further flat 5-tuples. Flattened with an explicit stack of
 * parent indexes.
 */
class TraceTreeReader implements ValueReader {
  done = false;
  count = 0;
  id = new Uint32Array(1024);
  functionInfoIndex = new Uint32Array(1024);
  allocCount = new Float64Array(1024);
  allocSize = new Float64Array(1024);
  parent = new Int32Array(1024);
  private state = A_OPEN;
  private value = 0;
  /** Position within the current tuple: 0–3 numbers, 4 the children list. */
  private field = 0;
  /** Index of the tuple whose children list each open array holds; -1 for the outer list. */
  private readonly stack: number[] = [];

  feed(buf: Buffer, start: number, end: number, base: number): number {
    let state = this.state;
    let value = this.value;
    let i = start;
    for (; i < end; i++) {
      const c = buf[i];
      if (state === A_IN_VALUE) {
        if (c >= 0x30 && c <= 0x39) {
          value = value * 10 + (c - 0x30);
          continue;
        }
        this.store(value, base + i);
        if (c === 0x2c) state = A_NEXT;
        else if (c === 0x5d) state = this.close(i, base);
        else if (isWhitespace(c)) state = A_AFTER;
        else throw this.unexpected(c, base + i);
        if (state === A_DONE) {
          i++;
          break;
        }
      } else if (state === A_FIRST || state === A_NEXT) {
        if (c >= 0x30 && c <= 0x39) {
          if (this.field === 4) throw this.malformed('expected a children list', base + i);
          value = c - 0x30;
          state = A_IN_VALUE;
        } else if (c === 0x5b) {
          if (this.field !== 4) throw this.malformed('unexpected nested list', base + i);
          this.stack.push(this.count - 1);
          this.field = 0;
          state = A_FIRST;
        } else if (c === 0x5d && state === A_FIRST) {
          state = this.close(i, base);
          if (state === A_DONE) {
            i++;
            break;
          }
        } else if (!isWhitespace(c)) throw this.unexpected(c, base + i);
      } else if (state === A_AFTER) {
        if (c === 0x2c) state = A_NEXT;
        else if (c === 0x5d) {
          state = this.close(i, base);
          if (state === A_DONE) {
            i++;
            break;
          }
        } else if (!isWhitespace(c)) throw this.unexpected(c, base + i);
      } else if (state === A_OPEN) {
        if (c === 0x5b) {
          this.stack.push(-1);
          state = A_FIRST;
        } else if (!isWhitespace(c)) throw notAnArray('trace_tree', c, base + i);
      }
    }
    this.state = state;
    this.value = value;
    this.done = state === A_DONE;
    return i;
  }

  /** Handles ']': ends a children list (completing its tuple) or the whole tree. */
  private close(i: number, base: number): number {
    if (this.field !== 0) throw this.malformed('a node has fewer than 5 fields', base + i);
    this.stack.pop();
    if (this.stack.length === 0) return A_DONE;
    this.field = 0; // the parent tuple is complete
    return A_AFTER;
  }

  private store(value: number, offset: number): void {
    const field = this.field;
    if (field === 0) {
      if (value > U32_MAX) throw this.malformed(`id ${value} does not fit in 32 bits`, offset);
      if (this.count === this.id.length) this.growAll();
      const n = this.count++;
      this.id[n] = value;
      this.parent[n] = this.stack[this.stack.length - 1];
    } else if (field === 1) {
      if (value > U32_MAX) throw this.malformed(`function index ${value} is too large`, offset);
      this.functionInfoIndex[this.count - 1] = value;
    } else if (field === 2) {
      if (value > Number.MAX_SAFE_INTEGER)
        throw this.malformed(`count ${value} is too large`, offset);
      this.allocCount[this.count - 1] = value;
    } else {
      if (value > Number.MAX_SAFE_INTEGER)
        throw this.malformed(`size ${value} is too large`, offset);
      this.allocSize[this.count - 1] = value;
    }
    this.field = field + 1;
  }

  private growAll(): void {
    const min = this.count + 1;
    this.id = grow(this.id, min);
    this.functionInfoIndex = grow(this.functionInfoIndex, min);
    this.allocCount = grow(this.allocCount, min);
    this.allocSize = grow(this.allocSize, min);
    this.parent = grow(this.parent, min);
  }

  private unexpected(c: number, offset: number): HeapSnapshotError {
    return unexpected(c, '"trace_tree"', offset);
  }

  private malformed(what: string, offset: number): HeapSnapshotError {
    return new HeapSnapshotError(`heapsnapshot: malformed "trace_tree": ${what} at byte ${offset}`);
  }

  result(): TraceTree {
    const count = this.count;
    const id = trim(this.id, count);
    const indexById = new Map<number, number>();
    for (let i = 0; i < count; i++) indexById.set(id[i], i);
    if (indexById.size !== count) {
      throw new HeapSnapshotError('heapsnapshot: malformed "trace_tree": duplicate trace node ids');
    }
    return {
      count,
      id,
      functionInfoIndex: trim(this.functionInfoIndex, count),
      allocCount: trim(this.allocCount, count),
      allocSize: trim(this.allocSize, count),
      parent: trim(this.parent, count),
      indexById,
    };
  }
}

/**
 * `strings`: an array of JSON string literals. Their bodies are copied, back to back,
 * into one byte array (a literal may span chunks: it simply continues there) and
 * decoded only when asked for (see {@link SnapshotStrings}); escapes are checked here,
 * so a malformed literal fails the read, not a later lookup.
 */
class StringArrayReader implements ValueReader {
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

function invalid(message: string): HeapSnapshotError {
  return new HeapSnapshotError(`heapsnapshot: invalid snapshot: ${message}`);
}

function stringList(meta: Record<string, unknown>, key: string, required: boolean): string[] {
  const value = meta[key];
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid(`snapshot.meta.${key} is not a list of strings`);
  }
  return value as string[];
}

/** The enum list of the `type` field: `types[fields.indexOf('type')]`. */
function typeNames(meta: Record<string, unknown>, key: string, typeOffset: number): string[] {
  const types = meta[key];
  const names = Array.isArray(types) ? types[typeOffset] : undefined;
  if (!Array.isArray(names) || !names.every((v) => typeof v === 'string')) {
    throw invalid(`snapshot.meta.${key}[${typeOffset}] is not a list of type names`);
  }
  return names as string[];
}

function requiredOffset(fields: string[], name: string, what: string): number {
  const offset = fields.indexOf(name);
  if (offset < 0) throw invalid(`${what} have no "${name}" field`);
  return offset;
}

/** The edge checks as the header states them, or undefined if it is incomplete or odd. */
function edgeRulesOf(header: unknown): EdgeRules | undefined {
  try {
    const h = header as Record<string, unknown>;
    const m = h.meta as Record<string, unknown>;
    const nodeFields = stringList(m, 'node_fields', true);
    const edgeFields = stringList(m, 'edge_fields', true);
    const typeOffset = requiredOffset(edgeFields, 'type', 'edges');
    const edgeTypes = typeNames(m, 'edge_types', typeOffset);
    const nodeCount = optionalCount(h, 'node_count');
    if (nodeCount === undefined || nodeFields.length === 0) return undefined;
    return {
      fieldCount: edgeFields.length,
      typeOffset,
      nameOffset: requiredOffset(edgeFields, 'name_or_index', 'edges'),
      toOffset: requiredOffset(edgeFields, 'to_node', 'edges'),
      typeCount: edgeTypes.length,
      indexNamed: edgeTypes.map((t) => (isIndexNamedEdgeType(t) ? 1 : 0)),
      nodeFieldCount: nodeFields.length,
      nodesLength: nodeCount * nodeFields.length,
    };
  } catch {
    return undefined;
  }
}

function optionalCount(header: Record<string, unknown>, key: string): number | undefined {
  const value = header[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(`snapshot.${key} is not a count`);
  }
  return value;
}

interface Parts {
  header: unknown;
  nodes: NumberArrayReader | DeferredArray | undefined;
  edges: NumberArrayReader | DeferredArray | undefined;
  functionInfos: NumberArrayReader | undefined;
  locations: NumberArrayReader | DeferredArray | undefined;
  samples: NumberArrayReader | undefined;
  traceTree: TraceTreeReader | undefined;
  strings: StringArrayReader | undefined;
}

function assemble(parts: Parts): HeapSnapshot {
  const header = parts.header as Record<string, unknown> | undefined;
  const rawMeta = header?.meta;
  if (typeof header !== 'object' || header === null || typeof rawMeta !== 'object' || !rawMeta) {
    throw new HeapSnapshotError('heapsnapshot: not a V8 heap snapshot (no snapshot.meta)');
  }
  for (const key of ['nodes', 'edges', 'strings'] as const) {
    if (!parts[key]) {
      throw new HeapSnapshotError(`heapsnapshot: not a V8 heap snapshot (no "${key}" array)`);
    }
  }
  const m = rawMeta as Record<string, unknown>;
  const nodeFields = stringList(m, 'node_fields', true);
  const edgeFields = stringList(m, 'edge_fields', true);
  const nodeOffsets: NodeFieldOffsets = {
    type: requiredOffset(nodeFields, 'type', 'nodes'),
    name: requiredOffset(nodeFields, 'name', 'nodes'),
    id: requiredOffset(nodeFields, 'id', 'nodes'),
    selfSize: requiredOffset(nodeFields, 'self_size', 'nodes'),
    edgeCount: requiredOffset(nodeFields, 'edge_count', 'nodes'),
    traceNodeId: nodeFields.indexOf('trace_node_id'),
    detachedness: nodeFields.indexOf('detachedness'),
  };
  const edgeOffsets: EdgeFieldOffsets = {
    type: requiredOffset(edgeFields, 'type', 'edges'),
    nameOrIndex: requiredOffset(edgeFields, 'name_or_index', 'edges'),
    toNode: requiredOffset(edgeFields, 'to_node', 'edges'),
  };
  const meta: HeapSnapshotMeta = {
    nodeFields,
    nodeTypes: typeNames(m, 'node_types', nodeOffsets.type),
    edgeFields,
    edgeTypes: typeNames(m, 'edge_types', edgeOffsets.type),
    traceFunctionInfoFields: stringList(m, 'trace_function_info_fields', false),
    traceNodeFields: stringList(m, 'trace_node_fields', false),
    locationFields: stringList(m, 'location_fields', false),
    sampleFields: stringList(m, 'sample_fields', false),
  };
  const strings = parts.strings!.result();
  const nodes = parts.nodes!.result();
  const edges = parts.edges!.result();
  const nodeFieldCount = nodeFields.length;
  const edgeFieldCount = edgeFields.length;

  // Lengths against the header's counts.
  if (nodes.length % nodeFieldCount !== 0) {
    throw invalid(
      `"nodes" has ${nodes.length} numbers, not a multiple of ${nodeFieldCount} fields`,
    );
  }
  if (edges.length % edgeFieldCount !== 0) {
    throw invalid(
      `"edges" has ${edges.length} numbers, not a multiple of ${edgeFieldCount} fields`,
    );
  }
  const nodeCount = nodes.length / nodeFieldCount;
  const edgeCount = edges.length / edgeFieldCount;
  const declaredNodes = optionalCount(header, 'node_count');
  const declaredEdges = optionalCount(header, 'edge_count');
  if (declaredNodes !== undefined && declaredNodes !== nodeCount) {
    throw invalid(`"nodes" holds ${nodeCount} nodes, snapshot.node_count says ${declaredNodes}`);
  }
  if (declaredEdges !== undefined && declaredEdges !== edgeCount) {
    throw invalid(`"edges" holds ${edgeCount} edges, snapshot.edge_count says ${declaredEdges}`);
  }

  // Nodes: type and name in range; first edge of each node.
  const nodeTypeCount = meta.nodeTypes.length;
  const stringCount = strings.length;
  // In shared memory when the edges are, so that other threads can walk the graph too.
  const firstEdge =
    edges.buffer instanceof SharedArrayBuffer
      ? new Uint32Array(new SharedArrayBuffer((nodeCount + 1) * Uint32Array.BYTES_PER_ELEMENT))
      : new Uint32Array(nodeCount + 1);
  let edgeOffset = 0;
  for (let n = 0, p = 0; n < nodeCount; n++, p += nodeFieldCount) {
    if (nodes[p + nodeOffsets.type] >= nodeTypeCount) {
      throw invalid(`node ${n} has type ${nodes[p + nodeOffsets.type]}, beyond the node types`);
    }
    if (nodes[p + nodeOffsets.name] >= stringCount) {
      throw invalid(`node ${n} has name ${nodes[p + nodeOffsets.name]}, beyond the strings`);
    }
    firstEdge[n] = edgeOffset;
    edgeOffset += nodes[p + nodeOffsets.edgeCount] * edgeFieldCount;
  }
  if (edgeOffset !== edges.length) {
    throw invalid(
      `the nodes' edge_count fields add up to ${edgeOffset / edgeFieldCount} edges, "edges" holds ${edgeCount}`,
    );
  }
  firstEdge[nodeCount] = edgeOffset;

  // Edges: type in range, target a node, name a string unless the type names an index.
  const edgeTypes = meta.edgeTypes;
  const byIndex = new Uint8Array(edgeTypes.length);
  for (let t = 0; t < edgeTypes.length; t++)
    byIndex[t] = isIndexNamedEdgeType(edgeTypes[t]) ? 1 : 0;
  const nodesLength = nodes.length;
  const summary = parts.edges instanceof DeferredArray ? parts.edges.summary : undefined;
  const checked =
    summary?.sound === true &&
    summary.maxName < stringCount &&
    summary.rules.nodesLength === nodesLength &&
    summary.rules.fieldCount === edgeFieldCount;
  for (let p = 0; !checked && p < edges.length; p += edgeFieldCount) {
    const type = edges[p + edgeOffsets.type];
    const to = edges[p + edgeOffsets.toNode];
    if (type >= edgeTypes.length) {
      throw invalid(`edge ${p / edgeFieldCount} has type ${type}, beyond the edge types`);
    }
    if (to >= nodesLength || to % nodeFieldCount !== 0) {
      throw invalid(
        `edge ${p / edgeFieldCount} points to nodes[${to}], not the start of a node (nodes has ${nodesLength} numbers)`,
      );
    }
    if (byIndex[type] === 0 && edges[p + edgeOffsets.nameOrIndex] >= stringCount) {
      throw invalid(
        `edge ${p / edgeFieldCount} has name ${edges[p + edgeOffsets.nameOrIndex]}, beyond the strings`,
      );
    }
  }

  // Allocation traces.
  const fiFields = meta.traceFunctionInfoFields;
  const traceFunctionInfos = parts.functionInfos?.result() ?? new Uint32Array(0);
  const traceFunctionInfoOffsets: TraceFunctionInfoOffsets = {
    functionId: fiFields.indexOf('function_id'),
    name: fiFields.indexOf('name'),
    scriptName: fiFields.indexOf('script_name'),
    scriptId: fiFields.indexOf('script_id'),
    line: fiFields.indexOf('line'),
    column: fiFields.indexOf('column'),
  };
  let traceFunctionCount = 0;
  if (traceFunctionInfos.length > 0) {
    if (fiFields.length === 0) {
      throw invalid(
        '"trace_function_infos" is present but snapshot.meta has no trace_function_info_fields',
      );
    }
    if (traceFunctionInfos.length % fiFields.length !== 0) {
      throw invalid(`"trace_function_infos" length is not a multiple of ${fiFields.length} fields`);
    }
    traceFunctionCount = traceFunctionInfos.length / fiFields.length;
    for (const offset of [traceFunctionInfoOffsets.name, traceFunctionInfoOffsets.scriptName]) {
      if (offset < 0) continue;
      for (let p = offset; p < traceFunctionInfos.length; p += fiFields.length) {
        if (traceFunctionInfos[p] >= stringCount) {
          throw invalid(
            `trace function info ${Math.floor(p / fiFields.length)} names string ${traceFunctionInfos[p]}, beyond the strings`,
          );
        }
      }
    }
  }
  // snapshot.trace_function_count is not checked: V8 writes it before serializing the
  // function infos, and allocation tracking can add entries in between (seen on Node 20:
  // 17 declared, 20 written).
  const trace = parts.traceTree?.result() ?? emptyTraceTree();
  if (trace.count > 0) {
    const standard = ['id', 'function_info_index', 'count', 'size', 'children'];
    if (meta.traceNodeFields.join() !== standard.join()) {
      throw invalid(`unsupported trace_node_fields ${JSON.stringify(meta.traceNodeFields)}`);
    }
    for (let i = 0; i < trace.count; i++) {
      if (trace.functionInfoIndex[i] >= traceFunctionCount) {
        throw invalid(
          `trace node ${trace.id[i]} refers to function info ${trace.functionInfoIndex[i]}, beyond the ${traceFunctionCount} entries`,
        );
      }
    }
  }
  const locations = parts.locations?.result() ?? new Uint32Array(0);
  if (meta.locationFields.length > 0 && locations.length % meta.locationFields.length !== 0) {
    throw invalid(`"locations" length is not a multiple of ${meta.locationFields.length} fields`);
  }
  const samples = parts.samples?.resultFloat() ?? new Float64Array(0);
  if (meta.sampleFields.length > 0 && samples.length % meta.sampleFields.length !== 0) {
    throw invalid(`"samples" length is not a multiple of ${meta.sampleFields.length} fields`);
  }

  return {
    meta,
    nodeCount,
    edgeCount,
    nodeFieldCount,
    edgeFieldCount,
    nodeOffsets,
    edgeOffsets,
    nodes,
    edges,
    firstEdge,
    strings,
    traceFunctionCount,
    traceFunctionInfoOffsets,
    traceFunctionInfos,
    trace,
    locations,
    samples,
  };
}

function emptyTraceTree(): TraceTree {
  return {
    count: 0,
    id: new Uint32Array(0),
    functionInfoIndex: new Uint32Array(0),
    allocCount: new Float64Array(0),
    allocSize: new Float64Array(0),
    parent: new Int32Array(0),
    indexById: new Map(),
  };
}

export { SnapshotStrings } from './snapshot-strings.js';

/**
 * Streaming reader for V8 heap snapshots (`.heapsnapshot`): the entry points.
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
 *   tree's ids and function indexes must be integers in [0, 2^32 − 1], except the
 *   signed lines and columns of `trace_function_infos` and `locations` (down to −2^31;
 *   negative ones, before the file's text, are no position: see assemble.ts). V8 writes ids,
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
 *
 * The files of this folder, one job each: options.ts (what the entry points take),
 * schedule.ts (which thread parses which big array), off-thread.ts and array-task.ts
 * (that parsing on libuv's thread pool or in a worker), parser.ts (the top-level push
 * parser), tokens.ts (its pieces), numbers.ts and numbers-fast.ts (number arrays),
 * deferred.ts (arrays left to other threads), strings.ts and literals.ts (the strings),
 * trace-tree.ts (allocation traces), header.ts (the `snapshot` header), assemble.ts (the
 * checks across arrays), errors.ts. The snapshot itself is model/snapshot/heap-snapshot.ts.
 */

import { open } from 'node:fs/promises';
import type { HeapSnapshot } from '../../model/snapshot/heap-snapshot.js';
import { DEFAULT_CHUNK_SIZE } from './numbers.js';
import type { ParseHeapSnapshotOptions, ReadHeapSnapshotOptions } from './options.js';
import { HeapSnapshotParser } from './parser.js';
import { ArrayPlacement } from './schedule.js';

export type {
  EdgeFieldOffsets,
  HeapSnapshot,
  HeapSnapshotMeta,
  NodeFieldOffsets,
  TraceFunctionInfoOffsets,
  TraceTree,
} from '../../model/snapshot/heap-snapshot.js';
export { SnapshotStrings } from '../../model/snapshot/strings.js';
export { HeapSnapshotError } from './errors.js';
export type { ParseHeapSnapshotOptions, ReadHeapSnapshotOptions } from './options.js';
export { HeapSnapshotParser, type HeapSnapshotParserOptions } from './parser.js';

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
  let placement: ArrayPlacement | undefined;
  try {
    const stats = await file.stat();
    // A pipe has no size and cannot be read at an offset: read it in order.
    const regular = stats.isFile();
    const totalBytes = regular ? stats.size : 0;
    placement = new ArrayPlacement({
      path,
      fd: file.fd,
      regular,
      totalBytes,
      options,
      jumpsAllowed: jumps.allowed,
    });
    const parser = new HeapSnapshotParser({
      totalBytes: regular ? totalBytes : undefined,
      defer: placement.defer,
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
    await placement.finish();
    return parser.end();
  } finally {
    placement?.cancel();
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

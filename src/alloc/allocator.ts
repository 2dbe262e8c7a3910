/**
 * The one interface heapscope's allocators share, their statistics, and the checks
 * every allocator makes on a request.
 *
 * Pointers are byte offsets into the allocator's `buffer` (not into its region), so a
 * block at `ptr` is `new Uint8Array(allocator.buffer, ptr, size)` and typed arrays over
 * the whole buffer index it directly. 0 is a valid pointer when the region starts at 0.
 * Allocators are not thread-safe: a `SharedArrayBuffer` lets workers read and write
 * the blocks, but one thread must do all the allocating.
 */
import { AlignmentError, SizeError } from './errors.js';

export interface Allocator {
  /** The memory blocks live in. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /**
   * A block of at least `size` bytes (a positive integer) whose address is a multiple of
   * `align` (a power of two; default 8). Throws OutOfMemoryError, SizeError or AlignmentError.
   */
  alloc(size: number, align?: number): number;
  /** Releases a live block. Throws DoubleFreeError or ForeignPointerError. */
  free(ptr: number): void;
  /**
   * Resizes a live block, moving it when needed; the first min(old, new) bytes are kept
   * and the block keeps the alignment it was allocated with. On failure the old block
   * is untouched. Returns the (possibly new) pointer.
   */
  realloc(ptr: number, size: number): number;
  /** Frees every block at once. */
  reset(): void;
  stats(): AllocatorStats;
}

/**
 * What an allocator holds. For every allocator
 * `bytesInUse + overheadBytes + freeBytes === capacity`.
 */
export interface AllocatorStats {
  /** Bytes under management: the region, less what alignment trimmed off its ends. */
  capacity: number;
  /** Bytes of live blocks, as requested. */
  bytesInUse: number;
  blocksInUse: number;
  /** The largest `bytesInUse` so far (since creation; `reset()` does not clear it). */
  peakBytesInUse: number;
  /** The largest `blocksInUse` so far. */
  peakBlocksInUse: number;
  /** Allocations so far (`alloc`, and `realloc` once per call) and the bytes they asked for. */
  totalBlocks: number;
  totalBytes: number;
  /** Bytes a new block can be carved from: free blocks with their headers, the untouched tail, free slots. */
  freeBytes: number;
  /** The longest run of contiguous free bytes. */
  largestFreeBytes: number;
  /** Bytes neither in use nor free: headers, rounding, alignment padding, and freed-but-unreclaimed space. */
  overheadBytes: number;
  /**
   * External fragmentation, 0..1: `1 − largestFreeBytes / freeBytes` (0 when nothing is free).
   * 0 means all free memory is one range; near 1 means it is scattered in small pieces.
   */
  fragmentation: number;
}

/** The part of a buffer an allocator manages. */
export interface RegionOptions {
  /** First byte of the region in the buffer (default 0). */
  byteOffset?: number;
  /** Length of the region (default: to the end of the buffer). */
  byteLength?: number;
}

/** Creates the memory for an allocator: `new ArrayBuffer(n)`, or a SharedArrayBuffer when `shared`. */
export function createBuffer(byteLength: number, shared = false): ArrayBuffer | SharedArrayBuffer {
  return shared ? new SharedArrayBuffer(byteLength) : new ArrayBuffer(byteLength);
}

/** The [start, end) byte range of a region, checked against the buffer. */
export function regionOf(
  buffer: ArrayBuffer | SharedArrayBuffer,
  options: RegionOptions,
  who: string,
): { start: number; end: number } {
  const start = options.byteOffset ?? 0;
  const length = options.byteLength ?? buffer.byteLength - start;
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > buffer.byteLength
  ) {
    throw new RangeError(
      `${who}: region [${start}, ${start + length}) is not inside the buffer (${buffer.byteLength} bytes)`,
    );
  }
  if (start + length > 0xffff_fff0) {
    throw new RangeError(`${who}: regions must end below 4 GiB (pointers are 32-bit offsets)`);
  }
  return { start, end: start + length };
}

export const DEFAULT_ALIGN = 8;
/** The largest alignment a request may ask for. */
export const MAX_ALIGN = 1 << 16;

/** Throws SizeError unless `size` is a positive safe integer. */
export function checkSize(size: number, who: string): void {
  if (!Number.isSafeInteger(size) || size <= 0) throw new SizeError(size, who);
}

/** Throws AlignmentError unless `align` is a power of two from 1 to MAX_ALIGN. */
export function checkAlign(align: number, who: string): void {
  if (
    !Number.isSafeInteger(align) ||
    align < 1 ||
    align > MAX_ALIGN ||
    (align & (align - 1)) !== 0
  ) {
    throw new AlignmentError(align, who, `alignment must be a power of two from 1 to ${MAX_ALIGN}`);
  }
}

/** Rounds `n` up to a multiple of `align` (a power of two). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Bookkeeping every allocator keeps the same way. */
export class UsageCounters {
  bytesInUse = 0;
  blocksInUse = 0;
  peakBytesInUse = 0;
  peakBlocksInUse = 0;
  totalBlocks = 0;
  totalBytes = 0;

  allocated(size: number): void {
    this.bytesInUse += size;
    this.blocksInUse++;
    this.totalBytes += size;
    this.totalBlocks++;
    this.updatePeak();
  }

  freed(size: number): void {
    this.bytesInUse -= size;
    this.blocksInUse--;
  }

  /** Every live block freed at once (`reset()`). */
  freedAll(): void {
    this.bytesInUse = 0;
    this.blocksInUse = 0;
  }

  resized(oldSize: number, newSize: number): void {
    this.bytesInUse += newSize - oldSize;
    this.totalBytes += newSize;
    this.totalBlocks++;
    this.updatePeak();
  }

  private updatePeak(): void {
    if (this.bytesInUse > this.peakBytesInUse) this.peakBytesInUse = this.bytesInUse;
    if (this.blocksInUse > this.peakBlocksInUse) this.peakBlocksInUse = this.blocksInUse;
  }

  stats(
    capacity: number,
    freeBytes: number,
    largestFreeBytes: number,
    overheadBytes: number,
  ): AllocatorStats {
    return {
      capacity,
      bytesInUse: this.bytesInUse,
      blocksInUse: this.blocksInUse,
      peakBytesInUse: this.peakBytesInUse,
      peakBlocksInUse: this.peakBlocksInUse,
      totalBlocks: this.totalBlocks,
      totalBytes: this.totalBytes,
      freeBytes,
      largestFreeBytes,
      overheadBytes,
      fragmentation: freeBytes > 0 ? 1 - largestFreeBytes / freeBytes : 0,
    };
  }
}

/** Copies `length` bytes inside one buffer (ranges may overlap). */
export function copyWithin(
  bytes: Uint8Array,
  target: number,
  source: number,
  length: number,
): void {
  if (length > 0 && target !== source) bytes.copyWithin(target, source, source + length);
}

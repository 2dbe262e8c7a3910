/**
 * A bump (arena) allocator: blocks are carved one after another from the start of the
 * region; nothing is reused until `reset()`.
 *
 * `free(ptr)` checks the pointer and ends the block's life (for statistics and double-free
 * detection) but reclaims no memory: the block's bytes count as overhead until `reset()`
 * frees everything at once. `realloc` of the most recent block grows or shrinks it in
 * place; any other block is copied to the end. Blocks have no headers; the only
 * overhead is alignment padding and freed blocks. Bookkeeping lives in JavaScript (the
 * start and size of every block since the last reset, in address order, found by binary
 * search), so the buffer holds nothing but block contents.
 */
import {
  type Allocator,
  type AllocatorStats,
  alignUp,
  checkAlign,
  checkSize,
  copyWithin,
  DEFAULT_ALIGN,
  type RegionOptions,
  regionOf,
  UsageCounters,
} from './allocator.js';
import { DoubleFreeError, ForeignPointerError, OutOfMemoryError } from './errors.js';

const WHO = 'BumpAllocator';

export class BumpAllocator implements Allocator {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  private readonly bytes: Uint8Array;
  private readonly start: number;
  private readonly end: number;
  private top: number;
  /** Starts of the blocks allocated since the last reset, in increasing order. */
  private ptrs = new Float64Array(64);
  /** Their sizes; −1 − size once freed. */
  private sizes = new Float64Array(64);
  private count = 0;
  /** Alignment of live blocks allocated with more than the default, kept for moves by realloc. */
  private readonly aligns = new Map<number, number>();
  private readonly counters = new UsageCounters();
  /** Bytes of blocks freed since the last reset. */
  private deadBytes = 0;

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, options: RegionOptions = {}) {
    this.buffer = buffer;
    this.bytes = new Uint8Array(buffer);
    const { start, end } = regionOf(buffer, options, WHO);
    this.start = start;
    this.end = end;
    this.top = start;
  }

  alloc(size: number, align = DEFAULT_ALIGN): number {
    checkSize(size, WHO);
    checkAlign(align, WHO);
    const ptr = alignUp(this.top, align);
    if (ptr + size > this.end) {
      throw new OutOfMemoryError(size, align, this.largestPossible(), WHO);
    }
    this.top = ptr + size;
    this.push(ptr, size);
    if (align > DEFAULT_ALIGN) this.aligns.set(ptr, align);
    this.counters.allocated(size);
    return ptr;
  }

  free(ptr: number): void {
    const i = this.liveIndex(ptr);
    const size = this.sizes[i]!;
    this.sizes[i] = -1 - size;
    this.aligns.delete(ptr);
    this.deadBytes += size;
    this.counters.freed(size);
  }

  realloc(ptr: number, size: number): number {
    const i = this.liveIndex(ptr);
    const old = this.sizes[i]!;
    checkSize(size, WHO);
    if (ptr + old === this.top) {
      if (ptr + size > this.end) {
        throw new OutOfMemoryError(size, 1, this.end - ptr, WHO);
      }
      this.top = ptr + size;
      this.sizes[i] = size;
      this.counters.resized(old, size);
      return ptr;
    }
    const align = this.aligns.get(ptr) ?? DEFAULT_ALIGN;
    const next = alignUp(this.top, align);
    if (next + size > this.end)
      throw new OutOfMemoryError(size, align, this.largestPossible(), WHO);
    copyWithin(this.bytes, next, ptr, Math.min(old, size));
    this.top = next + size;
    this.sizes[i] = -1 - old;
    this.deadBytes += old;
    this.push(next, size);
    if (align > DEFAULT_ALIGN) {
      this.aligns.delete(ptr);
      this.aligns.set(next, align);
    }
    this.counters.resized(old, size);
    return next;
  }

  /** Frees every block and rewinds to the start of the region. */
  reset(): void {
    this.counters.freedAll();
    this.count = 0;
    this.aligns.clear();
    this.top = this.start;
    this.deadBytes = 0;
  }

  stats(): AllocatorStats {
    const capacity = this.end - this.start;
    const free = this.end - this.top;
    return this.counters.stats(capacity, free, free, capacity - free - this.counters.bytesInUse);
  }

  /** Bytes freed but not reclaimed (they are reclaimed by `reset()`). */
  get unreclaimedBytes(): number {
    return this.deadBytes;
  }

  private largestPossible(): number {
    return Math.max(0, this.end - alignUp(this.top, DEFAULT_ALIGN));
  }

  private push(ptr: number, size: number): void {
    if (this.count === this.ptrs.length) {
      const ptrs = new Float64Array(this.count * 2);
      const sizes = new Float64Array(this.count * 2);
      ptrs.set(this.ptrs);
      sizes.set(this.sizes);
      this.ptrs = ptrs;
      this.sizes = sizes;
    }
    this.ptrs[this.count] = ptr;
    this.sizes[this.count] = size;
    this.count++;
  }

  /** Index of the live block at `ptr`; throws ForeignPointerError or DoubleFreeError. */
  private liveIndex(ptr: number): number {
    if (!Number.isSafeInteger(ptr)) throw new ForeignPointerError(ptr, WHO, 'it is not an integer');
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.ptrs[mid]!;
      if (at < ptr) lo = mid + 1;
      else if (at > ptr) hi = mid - 1;
      else {
        if (this.sizes[mid]! < 0) throw new DoubleFreeError(ptr, WHO);
        return mid;
      }
    }
    throw new ForeignPointerError(
      ptr,
      WHO,
      ptr >= this.start && ptr < this.end
        ? 'it is not the start of a block allocated since the last reset'
        : `it is outside the region [${this.start}, ${this.end})`,
    );
  }
}

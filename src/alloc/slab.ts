/**
 * A slab (fixed-size block, pool) allocator: the region is cut into equal slots of
 * `blockSize` bytes (rounded up to the slab's alignment), and every allocation takes one.
 *
 * Allocation and free are O(1): free slots sit on a stack (most recently freed reused
 * first). Bookkeeping lives outside the buffer (one state byte, one size word and one
 * stack entry per slot), so blocks have no headers; the overhead of a live block is
 * its slot's unused tail. Requests larger than `blockSize` are refused with SizeError,
 * and requests for more alignment than the slots have with AlignmentError.
 */
import {
  type Allocator,
  type AllocatorStats,
  alignUp,
  checkAlign,
  checkSize,
  DEFAULT_ALIGN,
  type RegionOptions,
  regionOf,
  UsageCounters,
} from './allocator.js';
import {
  AlignmentError,
  DoubleFreeError,
  ForeignPointerError,
  OutOfMemoryError,
  SizeError,
} from './errors.js';

const WHO = 'SlabAllocator';
const NEVER = 0;
const LIVE = 1;
const FREED = 2;

export interface SlabOptions extends RegionOptions {
  /** The largest request the slab serves; every block takes a slot of this size. */
  blockSize: number;
  /** Alignment of every slot (a power of two; default 8). */
  align?: number;
}

export class SlabAllocator implements Allocator {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Requests up to this many bytes are served. */
  readonly blockSize: number;
  /** Bytes per slot: `blockSize` rounded up to the alignment. */
  readonly slotSize: number;
  /** Alignment every slot has. */
  readonly align: number;
  /** Number of slots. */
  readonly slots: number;
  private readonly first: number;
  private readonly state: Uint8Array;
  private readonly sizes: Uint32Array;
  private readonly stack: Int32Array;
  private stackTop = 0;
  private readonly counters = new UsageCounters();

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, options: SlabOptions) {
    this.buffer = buffer;
    checkSize(options.blockSize, WHO);
    this.align = options.align ?? DEFAULT_ALIGN;
    checkAlign(this.align, WHO);
    this.blockSize = options.blockSize;
    this.slotSize = alignUp(options.blockSize, this.align);
    const { start, end } = regionOf(buffer, options, WHO);
    this.first = alignUp(start, this.align);
    this.slots = Math.max(0, Math.floor((end - this.first) / this.slotSize));
    if (this.slots === 0)
      throw new RangeError(`${WHO}: region too small for one ${this.slotSize}-byte slot`);
    this.state = new Uint8Array(this.slots);
    this.sizes = new Uint32Array(this.slots);
    this.stack = new Int32Array(this.slots);
    this.reset();
  }

  alloc(size: number, align = DEFAULT_ALIGN): number {
    checkSize(size, WHO);
    checkAlign(align, WHO);
    this.checkFits(size, align);
    if (this.stackTop === 0) throw new OutOfMemoryError(size, align, 0, WHO);
    const slot = this.stack[--this.stackTop]!;
    this.state[slot] = LIVE;
    this.sizes[slot] = size;
    this.counters.allocated(size);
    return this.first + slot * this.slotSize;
  }

  free(ptr: number): void {
    const slot = this.liveSlot(ptr);
    this.state[slot] = FREED;
    this.stack[this.stackTop++] = slot;
    this.counters.freed(this.sizes[slot]!);
  }

  /** Resizes in place: any size up to `blockSize` fits the block's slot. */
  realloc(ptr: number, size: number): number {
    const slot = this.liveSlot(ptr);
    checkSize(size, WHO);
    this.checkFits(size, 1);
    this.counters.resized(this.sizes[slot]!, size);
    this.sizes[slot] = size;
    return ptr;
  }

  /** Frees every slot. */
  reset(): void {
    this.state.fill(NEVER);
    for (let i = 0; i < this.slots; i++) this.stack[i] = this.slots - 1 - i;
    this.stackTop = this.slots;
    this.counters.freedAll();
  }

  stats(): AllocatorStats {
    let longest = 0;
    let run = 0;
    for (let i = 0; i < this.slots; i++) {
      run = this.state[i] === LIVE ? 0 : run + 1;
      if (run > longest) longest = run;
    }
    const capacity = this.slots * this.slotSize;
    const free = this.stackTop * this.slotSize;
    return this.counters.stats(
      capacity,
      free,
      longest * this.slotSize,
      capacity - free - this.counters.bytesInUse,
    );
  }

  private checkFits(size: number, align: number): void {
    if (size > this.blockSize) {
      throw new SizeError(size, WHO, `the slab's blocks hold at most ${this.blockSize} bytes`);
    }
    if (align > this.align) {
      throw new AlignmentError(align, WHO, `the slab's slots are aligned to ${this.align} bytes`);
    }
  }

  private liveSlot(ptr: number): number {
    const offset = ptr - this.first;
    if (!Number.isSafeInteger(ptr) || offset < 0 || offset >= this.slots * this.slotSize) {
      throw new ForeignPointerError(
        ptr,
        WHO,
        `it is outside the slots [${this.first}, ${this.first + this.slots * this.slotSize})`,
      );
    }
    if (offset % this.slotSize !== 0) {
      throw new ForeignPointerError(
        ptr,
        WHO,
        `it is not at the start of a ${this.slotSize}-byte slot`,
      );
    }
    const slot = offset / this.slotSize;
    const state = this.state[slot];
    if (state === FREED) throw new DoubleFreeError(ptr, WHO);
    if (state !== LIVE) throw new ForeignPointerError(ptr, WHO, 'its slot is not allocated');
    return slot;
  }
}

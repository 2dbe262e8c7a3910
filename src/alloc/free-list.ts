/**
 * A free-list allocator: first fit over an explicit doubly linked list of free blocks,
 * with splitting and immediate coalescing (boundary tags), headers inside the buffer.
 *
 * Layout. Every block starts on an 8-byte boundary and is a multiple of 8 bytes long,
 * at least 16. Its first word (u32, native byte order) is its size with two flags in
 * the low bits: bit 0 "in use", bit 1 "the block before is in use".
 *
 * ```
 * in use:  [size|flags][requested size][payload ...........................]
 * free:    [size|flags][next free     ][prev free][ ........ ][size (footer)]
 *           b           b+4            b+8                     b+size-4
 * ```
 *
 * A live block costs 8 bytes of header plus rounding to 8 (and a remainder under 16
 * bytes that was not worth splitting off). Free blocks count whole (header included)
 * in `freeBytes`, since a new block reuses the header. Adjacent free blocks are always
 * merged, so the largest free block is the longest free range. Free blocks are added at
 * the head of the list (LIFO), and allocation takes the first that fits.
 *
 * Pointers are checked exactly: two bitmaps outside the buffer (1 bit per 8 bytes each)
 * mark the starts of live blocks and of blocks freed whose memory has not been handed out
 * again. A freed pointer is reported as a double free until its memory is reused;
 * after that, as a foreign pointer (or, if a new block starts at the very same address,
 * it is that block — as in C). Writes past a block's end through the raw buffer can
 * corrupt headers; `verify()` walks the heap and reports such damage.
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

const WHO = 'FreeListAllocator';
const IN_USE = 1;
const PREV_IN_USE = 2;
const FLAGS = 7;
const HEADER = 8;
const GRANULE = 8;
/** The smallest block: a free block needs its header, two links and a footer. */
const MIN_BLOCK = 16;
const NIL = 0xffff_ffff;

export class FreeListAllocator implements Allocator {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  private readonly bytes: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly start: number;
  private readonly end: number;
  private head = NIL;
  private freeBytes = 0;
  private readonly live: Uint32Array;
  private readonly freed: Uint32Array;
  /** Alignment of live blocks allocated with more than 8, kept for moves by realloc. */
  private readonly aligns = new Map<number, number>();
  private readonly counters = new UsageCounters();

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, options: RegionOptions = {}) {
    this.buffer = buffer;
    const region = regionOf(buffer, options, WHO);
    this.start = alignUp(region.start, GRANULE);
    this.end = Math.floor(region.end / GRANULE) * GRANULE;
    if (this.end - this.start < MIN_BLOCK) {
      throw new RangeError(`${WHO}: region too small (at least ${MIN_BLOCK} aligned bytes)`);
    }
    this.bytes = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
    const words = Math.ceil((this.end - this.start) / GRANULE / 32);
    this.live = new Uint32Array(words);
    this.freed = new Uint32Array(words);
    this.reset();
  }

  alloc(size: number, align = DEFAULT_ALIGN): number {
    checkSize(size, WHO);
    checkAlign(align, WHO);
    const ptr = this.carve(size, align);
    this.counters.allocated(size);
    return ptr;
  }

  free(ptr: number): void {
    const b = this.liveBlock(ptr);
    this.counters.freed(this.u32[(b + 4) >>> 2]!);
    this.release(b);
  }

  realloc(ptr: number, size: number): number {
    const b = this.liveBlock(ptr);
    checkSize(size, WHO);
    const old = this.u32[(b + 4) >>> 2]!;
    const need = blockSizeFor(size);
    const have = this.sizeAt(b);
    if (need <= have) {
      this.shrink(b, need);
    } else {
      const n = b + have;
      const nSize = n < this.end && !(this.u32[n >>> 2]! & IN_USE) ? this.sizeAt(n) : 0;
      if (have + nSize < need) {
        // Move: carve first, so that a failure leaves the old block as it was.
        const moved = this.carve(size, this.aligns.get(ptr) ?? DEFAULT_ALIGN);
        copyWithin(this.bytes, moved, ptr, Math.min(old, size));
        this.release(b);
        this.counters.resized(old, size);
        return moved;
      }
      // Grow in place into the free block that follows.
      this.unlink(n);
      const total = have + nSize;
      const flags = this.u32[b >>> 2]! & FLAGS;
      if (total - need >= MIN_BLOCK) {
        this.u32[b >>> 2] = need | flags;
        this.link(b + need, total - need, PREV_IN_USE);
      } else {
        this.u32[b >>> 2] = total | flags;
        this.setPrevInUse(b + total, true);
      }
      clearRange(this.freed, this.granule(b), this.granule(b + this.sizeAt(b)));
    }
    this.u32[(b + 4) >>> 2] = size;
    this.counters.resized(old, size);
    return ptr;
  }

  /** Frees every block: the region becomes one free block. */
  reset(): void {
    this.live.fill(0);
    this.freed.fill(0);
    this.aligns.clear();
    this.head = NIL;
    this.freeBytes = 0;
    this.link(this.start, this.end - this.start, PREV_IN_USE);
    this.counters.freedAll();
  }

  stats(): AllocatorStats {
    let largest = 0;
    for (let b = this.head; b !== NIL; b = this.u32[(b + 4) >>> 2]!) {
      largest = Math.max(largest, this.sizeAt(b));
    }
    const capacity = this.end - this.start;
    return this.counters.stats(
      capacity,
      this.freeBytes,
      largest,
      capacity - this.freeBytes - this.counters.bytesInUse,
    );
  }

  /**
   * Walks the whole heap and checks its structure: block sizes tile the region, flags
   * agree with neighbours, no two free blocks touch, the free list holds exactly the
   * free blocks, footers match, the bitmaps match the live blocks. Returns the problems
   * found (empty when the heap is sound).
   */
  verify(): string[] {
    const problems: string[] = [];
    const freeBlocks = new Set<number>();
    let prevFree = false;
    let prevInUse = true;
    let live = 0;
    let b = this.start;
    while (b < this.end) {
      const h = this.u32[b >>> 2]!;
      const size = h - (h & FLAGS);
      if (size < MIN_BLOCK || size % GRANULE !== 0 || b + size > this.end) {
        problems.push(`block at ${b} has a bad size ${size}`);
        return problems;
      }
      if (Boolean(h & PREV_IN_USE) !== prevInUse) {
        problems.push(`block at ${b}: "previous in use" flag is wrong`);
      }
      const inUse = Boolean(h & IN_USE);
      if (inUse !== testBit(this.live, this.granule(b + HEADER))) {
        problems.push(`block at ${b}: live bitmap disagrees with its header`);
      }
      if (inUse) {
        live++;
        const requested = this.u32[(b + 4) >>> 2]!;
        if (requested + HEADER > size) problems.push(`block at ${b}: payload exceeds the block`);
      } else {
        if (prevFree) problems.push(`free blocks at ${b} and before it were not merged`);
        if (this.u32[(b + size - 4) >>> 2] !== size)
          problems.push(`free block at ${b}: bad footer`);
        freeBlocks.add(b);
      }
      prevFree = !inUse;
      prevInUse = inUse;
      b += size;
    }
    if (b !== this.end) problems.push(`blocks end at ${b}, not at ${this.end}`);
    let listed = 0;
    let freeSum = 0;
    let prev = NIL;
    for (let f = this.head; f !== NIL; f = this.u32[(f + 4) >>> 2]!) {
      if (!freeBlocks.has(f)) {
        problems.push(`free list holds ${f}, which is not a free block`);
        break;
      }
      if (this.u32[(f + 8) >>> 2] !== prev) problems.push(`free block at ${f}: bad back link`);
      prev = f;
      listed++;
      freeSum += this.sizeAt(f);
    }
    if (listed !== freeBlocks.size) {
      problems.push(`free list holds ${listed} blocks; the heap has ${freeBlocks.size}`);
    }
    if (freeSum !== this.freeBytes)
      problems.push(`free bytes ${this.freeBytes}, counted ${freeSum}`);
    let liveBits = 0;
    for (const word of this.live) liveBits += popcount(word);
    if (liveBits !== live)
      problems.push(`live bitmap marks ${liveBits} blocks; the heap has ${live}`);
    if (live !== this.counters.blocksInUse) {
      problems.push(`${live} blocks in use, counters say ${this.counters.blocksInUse}`);
    }
    return problems;
  }

  /** Finds, splits and marks a block for `size` bytes at `align`; throws OutOfMemoryError. */
  private carve(size: number, align: number): number {
    const a = Math.max(align, GRANULE);
    const need = blockSizeFor(size);
    for (let b = this.head; b !== NIL; b = this.u32[(b + 4) >>> 2]!) {
      const have = this.sizeAt(b);
      if (have < need) continue;
      let gap = 0;
      if (a > GRANULE) {
        gap = alignUp(b + HEADER, a) - HEADER - b;
        if (gap > 0 && gap < MIN_BLOCK) gap += a; // too small to stay a free block
        if (gap + need > have) continue;
      }
      return this.place(b, gap, need, size, align);
    }
    let largest = 0;
    for (let b = this.head; b !== NIL; b = this.u32[(b + 4) >>> 2]!) {
      largest = Math.max(largest, this.sizeAt(b) - HEADER);
    }
    throw new OutOfMemoryError(size, align, largest, WHO);
  }

  private place(b: number, gap: number, need: number, size: number, align: number): number {
    const have = this.sizeAt(b);
    const prevFlag = this.u32[b >>> 2]! & PREV_IN_USE;
    this.unlink(b);
    let blk = b;
    let flags = prevFlag;
    if (gap > 0) {
      this.link(b, gap, prevFlag); // the leading part stays free
      blk = b + gap;
      flags = 0;
    }
    const rest = have - gap - need;
    let blkSize = need;
    if (rest >= MIN_BLOCK) {
      this.link(blk + need, rest, PREV_IN_USE);
    } else {
      blkSize = need + rest;
      this.setPrevInUse(blk + blkSize, true);
    }
    this.u32[blk >>> 2] = blkSize | IN_USE | flags;
    this.u32[(blk + 4) >>> 2] = size;
    const ptr = blk + HEADER;
    clearRange(this.freed, this.granule(blk), this.granule(blk + blkSize));
    setBit(this.live, this.granule(ptr));
    if (align > DEFAULT_ALIGN) this.aligns.set(ptr, align);
    return ptr;
  }

  /** Frees block `b` (already checked) and merges it with free neighbours. */
  private release(b: number): void {
    const ptr = b + HEADER;
    clearBit(this.live, this.granule(ptr));
    setBit(this.freed, this.granule(ptr));
    this.aligns.delete(ptr);
    let start = b;
    let size = this.sizeAt(b);
    let prevFlag = this.u32[b >>> 2]! & PREV_IN_USE;
    const n = b + size;
    if (n < this.end && !(this.u32[n >>> 2]! & IN_USE)) {
      size += this.sizeAt(n);
      this.unlink(n);
    }
    if (!prevFlag) {
      const prevSize = this.u32[(b - 4) >>> 2]!;
      start = b - prevSize;
      size += prevSize;
      prevFlag = this.u32[start >>> 2]! & PREV_IN_USE;
      this.unlink(start);
    }
    this.link(start, size, prevFlag);
    this.setPrevInUse(start + size, false);
  }

  /** Cuts live block `b` down to `need` bytes, freeing the rest when it is big enough. */
  private shrink(b: number, need: number): void {
    const have = this.sizeAt(b);
    if (have - need < MIN_BLOCK) return;
    const flags = this.u32[b >>> 2]! & FLAGS;
    this.u32[b >>> 2] = need | flags;
    let restSize = have - need;
    const n = b + have;
    if (n < this.end && !(this.u32[n >>> 2]! & IN_USE)) {
      restSize += this.sizeAt(n);
      this.unlink(n);
    }
    this.link(b + need, restSize, PREV_IN_USE);
    this.setPrevInUse(b + need + restSize, false);
  }

  /** Writes a free block's header and footer and puts it at the head of the free list. */
  private link(b: number, size: number, prevFlag: number): void {
    this.u32[b >>> 2] = size | prevFlag;
    this.u32[(b + size - 4) >>> 2] = size;
    this.u32[(b + 4) >>> 2] = this.head;
    this.u32[(b + 8) >>> 2] = NIL;
    if (this.head !== NIL) this.u32[(this.head + 8) >>> 2] = b;
    this.head = b;
    this.freeBytes += size;
  }

  private unlink(b: number): void {
    const next = this.u32[(b + 4) >>> 2]!;
    const prev = this.u32[(b + 8) >>> 2]!;
    if (prev === NIL) this.head = next;
    else this.u32[(prev + 4) >>> 2] = next;
    if (next !== NIL) this.u32[(next + 8) >>> 2] = prev;
    this.freeBytes -= this.sizeAt(b);
  }

  private setPrevInUse(b: number, inUse: boolean): void {
    if (b >= this.end) return;
    const h = this.u32[b >>> 2]!;
    this.u32[b >>> 2] = inUse ? h | PREV_IN_USE : h & ~PREV_IN_USE;
  }

  private sizeAt(b: number): number {
    const h = this.u32[b >>> 2]!;
    return h - (h & FLAGS);
  }

  private granule(addr: number): number {
    return (addr - this.start) / GRANULE;
  }

  /** The block of a live pointer; throws DoubleFreeError or ForeignPointerError. */
  private liveBlock(ptr: number): number {
    if (!Number.isSafeInteger(ptr) || ptr < this.start + HEADER || ptr >= this.end) {
      throw new ForeignPointerError(
        ptr,
        WHO,
        `it is outside the region's payloads [${this.start + HEADER}, ${this.end})`,
      );
    }
    if ((ptr - this.start) % GRANULE !== 0) {
      throw new ForeignPointerError(ptr, WHO, 'it is not on an 8-byte boundary');
    }
    const g = this.granule(ptr);
    if (testBit(this.live, g)) return ptr - HEADER;
    if (testBit(this.freed, g)) throw new DoubleFreeError(ptr, WHO);
    throw new ForeignPointerError(ptr, WHO);
  }
}

/** Block size (header included) for a request of `size` bytes. */
function blockSizeFor(size: number): number {
  return Math.max(MIN_BLOCK, alignUp(size + HEADER, GRANULE));
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5]! |= 1 << (i & 31);
}

function clearBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5]! &= ~(1 << (i & 31));
}

function testBit(bits: Uint32Array, i: number): boolean {
  return (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
}

function popcount(word: number): number {
  let n = 0;
  for (let w = word >>> 0; w !== 0; w >>>= 1) n += w & 1;
  return n;
}

/** Clears bits [from, to), a word at a time. */
function clearRange(bits: Uint32Array, from: number, to: number): void {
  if (from >= to) return;
  const first = from >>> 5;
  const last = (to - 1) >>> 5;
  const head = ~0 << (from & 31); // bits from..31 of the first word
  const tail = ~0 >>> (31 - ((to - 1) & 31)); // bits 0..to-1 of the last word
  if (first === last) {
    bits[first]! &= ~(head & tail);
    return;
  }
  bits[first]! &= ~head;
  for (let w = first + 1; w < last; w++) bits[w] = 0;
  bits[last]! &= ~tail;
}

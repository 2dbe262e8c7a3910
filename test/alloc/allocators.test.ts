/**
 * Property-based tests of the three allocators: random sequences of alloc, free,
 * realloc and bad requests, checked after every step against a reference model (a Map
 * of live blocks, each filled with its own byte pattern): blocks never overlap and stay
 * inside the region, contents survive every other operation, no byte is lost
 * (in use + overhead + free = capacity), and the statistics equal the model's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AlignmentError,
  type Allocator,
  AllocatorError,
  type AllocatorStats,
  BumpAllocator,
  DoubleFreeError,
  ForeignPointerError,
  FreeListAllocator,
  OutOfMemoryError,
  SizeError,
  SlabAllocator,
} from '../../src/alloc/index.js';

type Op =
  | { kind: 'alloc'; size: number; alignLog: number }
  | { kind: 'free'; pick: number }
  | { kind: 'realloc'; pick: number; size: number }
  | { kind: 'doubleFree'; pick: number }
  | { kind: 'foreign'; pick: number; delta: number }
  | { kind: 'reset' };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }) },
  { weight: 3, arbitrary: fc.integer({ min: 65, max: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 401, max: 3000 }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 50,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      size: sizeArb,
      alignLog: fc.oneof(
        { weight: 4, arbitrary: fc.constant(3) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 8 }) },
      ),
    }),
  },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  {
    weight: 20,
    arbitrary: fc.record({ kind: fc.constant('realloc' as const), pick: fc.nat(), size: sizeArb }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('doubleFree' as const), pick: fc.nat() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('foreign' as const),
      pick: fc.nat(),
      delta: fc.constantFrom(1, 3, 4, 7, 0.5, -1_000_000, 1_000_000),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

interface LiveBlock {
  size: number;
  align: number;
  pattern: number;
}

interface Subject {
  name: string;
  make(): { allocator: Allocator; start: number; end: number; buffer: ArrayBufferLike };
  /** Bytes of bookkeeping inside the region per live block, at least. */
  minOverheadPerBlock: number;
  /** Whether an out-of-memory answer was right, given the stats before the request. */
  oomIsRight(before: AllocatorStats, size: number, align: number, model: Model): boolean;
  /** Requests the allocator refuses outright (slab: too big or too aligned). */
  refuses?(size: number, align: number): 'size' | 'align' | undefined;
  verify?(allocator: Allocator): string[];
}

interface Model {
  live: Map<number, LiveBlock>;
  freed: Set<number>;
  peakBytes: number;
  peakBlocks: number;
  totalBytes: number;
  totalBlocks: number;
  /** Bump only: the end of the last block (where the next one goes). */
  top: number;
}

const CAPACITY = 4096;
const REGION_OFFSET = 40;
const REGION_LENGTH = 3000;
const SENTINEL = 0xa5;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

const subjects: Subject[] = [
  {
    name: 'FreeListAllocator',
    make: () => {
      const buffer = new ArrayBuffer(CAPACITY);
      return { allocator: new FreeListAllocator(buffer), start: 0, end: CAPACITY, buffer };
    },
    minOverheadPerBlock: 8,
    // First fit finds any free block big enough; for align <= 8 that is the whole rule.
    oomIsRight: (before, size, align) =>
      align > 8 || Math.max(16, alignUp(size + 8, 8)) > before.largestFreeBytes,
    verify: (a) => (a as FreeListAllocator).verify(),
  },
  {
    name: 'FreeListAllocator (region inside a SharedArrayBuffer)',
    make: () => {
      const buffer = new SharedArrayBuffer(CAPACITY);
      new Uint8Array(buffer).fill(SENTINEL);
      const allocator = new FreeListAllocator(buffer, {
        byteOffset: REGION_OFFSET + 3,
        byteLength: REGION_LENGTH,
      });
      // The region is trimmed to 8-byte boundaries: [48, 3040).
      return { allocator, start: 48, end: 3040, buffer };
    },
    minOverheadPerBlock: 8,
    oomIsRight: (before, size, align) =>
      align > 8 || Math.max(16, alignUp(size + 8, 8)) > before.largestFreeBytes,
    verify: (a) => (a as FreeListAllocator).verify(),
  },
  {
    name: 'BumpAllocator',
    make: () => {
      const buffer = new ArrayBuffer(CAPACITY);
      new Uint8Array(buffer).fill(SENTINEL);
      const allocator = new BumpAllocator(buffer, {
        byteOffset: REGION_OFFSET,
        byteLength: REGION_LENGTH,
      });
      return { allocator, start: REGION_OFFSET, end: REGION_OFFSET + REGION_LENGTH, buffer };
    },
    minOverheadPerBlock: 0,
    oomIsRight: (_before, size, align, model) =>
      alignUp(model.top, align) + size > REGION_OFFSET + REGION_LENGTH,
  },
  {
    name: 'SlabAllocator',
    make: () => {
      const buffer = new ArrayBuffer(CAPACITY);
      new Uint8Array(buffer).fill(SENTINEL);
      const allocator = new SlabAllocator(buffer, {
        blockSize: 100,
        align: 16,
        byteOffset: 5,
        byteLength: CAPACITY - 5,
      });
      // Slots of 112 bytes from 16: 36 slots, [16, 4048).
      return { allocator, start: 16, end: 16 + 36 * 112, buffer };
    },
    minOverheadPerBlock: 0,
    oomIsRight: (_before, _size, _align, model) => model.live.size === 36,
    refuses: (size, align) => (size > 100 ? 'size' : align > 16 ? 'align' : undefined),
  },
];

function fill(bytes: Uint8Array, ptr: number, size: number, pattern: number): void {
  for (let i = 0; i < size; i++) bytes[ptr + i] = (pattern + i * 7) & 0xff;
}

function expectPattern(bytes: Uint8Array, ptr: number, size: number, pattern: number): void {
  for (let i = 0; i < size; i++) {
    if (bytes[ptr + i] !== ((pattern + i * 7) & 0xff)) {
      throw new Error(`block ${ptr}: byte ${i} was overwritten`);
    }
  }
}

function checkInvariants(
  subject: Subject,
  allocator: Allocator,
  model: Model,
  region: { start: number; end: number; buffer: ArrayBufferLike },
): void {
  const s = allocator.stats();
  let bytes = 0;
  for (const b of model.live.values()) bytes += b.size;
  expect(s.bytesInUse).toBe(bytes);
  expect(s.blocksInUse).toBe(model.live.size);
  expect(s.peakBytesInUse).toBe(model.peakBytes);
  expect(s.peakBlocksInUse).toBe(model.peakBlocks);
  expect(s.totalBytes).toBe(model.totalBytes);
  expect(s.totalBlocks).toBe(model.totalBlocks);
  // No byte lost.
  expect(s.bytesInUse + s.overheadBytes + s.freeBytes).toBe(s.capacity);
  expect(s.overheadBytes).toBeGreaterThanOrEqual(subject.minOverheadPerBlock * s.blocksInUse);
  expect(s.largestFreeBytes).toBeLessThanOrEqual(s.freeBytes);
  expect(s.fragmentation).toBeGreaterThanOrEqual(0);
  expect(s.fragmentation).toBeLessThanOrEqual(1);
  expect(s.fragmentation).toBe(s.freeBytes > 0 ? 1 - s.largestFreeBytes / s.freeBytes : 0);
  // Blocks lie inside the region, aligned, and never overlap; their contents are intact.
  const sorted = [...model.live.entries()].sort((a, b) => a[0] - b[0]);
  const view = new Uint8Array(region.buffer);
  let prevEnd = region.start;
  for (const [ptr, b] of sorted) {
    expect(ptr % b.align).toBe(0);
    expect(ptr).toBeGreaterThanOrEqual(prevEnd);
    prevEnd = ptr + b.size;
    expectPattern(view, ptr, b.size, b.pattern);
  }
  expect(prevEnd).toBeLessThanOrEqual(region.end);
  if (subject.verify) expect(subject.verify(allocator)).toEqual([]);
}

function expectUnchanged(allocator: Allocator, before: AllocatorStats): void {
  expect(allocator.stats()).toEqual(before);
}

function run(subject: Subject, ops: Op[]): void {
  const region = subject.make();
  const { allocator } = region;
  const view = new Uint8Array(region.buffer);
  const outside = [...view.subarray(0, region.start), ...view.subarray(region.end)];
  const model: Model = {
    live: new Map(),
    freed: new Set(),
    peakBytes: 0,
    peakBlocks: 0,
    totalBytes: 0,
    totalBlocks: 0,
    top: region.start,
  };
  let pattern = 1;
  const liveBytes = () => [...model.live.values()].reduce((n, b) => n + b.size, 0);
  const updatePeak = () => {
    model.peakBytes = Math.max(model.peakBytes, liveBytes());
    model.peakBlocks = Math.max(model.peakBlocks, model.live.size);
  };
  const pick = (n: number) => {
    const ptrs = [...model.live.keys()];
    return ptrs.length > 0 ? ptrs[n % ptrs.length] : undefined;
  };

  for (const op of ops) {
    const before = allocator.stats();
    switch (op.kind) {
      case 'alloc': {
        const align = 2 ** op.alignLog;
        const refusal = subject.refuses?.(op.size, align);
        if (refusal) {
          expect(() => allocator.alloc(op.size, align)).toThrow(
            refusal === 'size' ? SizeError : AlignmentError,
          );
          expectUnchanged(allocator, before);
          break;
        }
        let ptr: number;
        try {
          ptr = allocator.alloc(op.size, align);
        } catch (e) {
          expect(e).toBeInstanceOf(OutOfMemoryError);
          expect(subject.oomIsRight(before, op.size, align, model)).toBe(true);
          expectUnchanged(allocator, before);
          break;
        }
        expect(model.live.has(ptr)).toBe(false);
        fill(view, ptr, op.size, pattern);
        model.live.set(ptr, { size: op.size, align, pattern: pattern++ });
        model.freed.delete(ptr);
        model.totalBytes += op.size;
        model.totalBlocks++;
        model.top = ptr + op.size;
        updatePeak();
        break;
      }
      case 'free': {
        const ptr = pick(op.pick);
        if (ptr === undefined) break;
        allocator.free(ptr);
        model.live.delete(ptr);
        model.freed.add(ptr);
        break;
      }
      case 'realloc': {
        const ptr = pick(op.pick);
        if (ptr === undefined) break;
        const old = model.live.get(ptr)!;
        if (subject.refuses?.(op.size, 1)) {
          expect(() => allocator.realloc(ptr, op.size)).toThrow(SizeError);
          expectUnchanged(allocator, before);
          break;
        }
        let moved: number;
        try {
          moved = allocator.realloc(ptr, op.size);
        } catch (e) {
          expect(e).toBeInstanceOf(OutOfMemoryError);
          expectUnchanged(allocator, before);
          break;
        }
        expectPattern(view, moved, Math.min(old.size, op.size), old.pattern);
        fill(view, moved, op.size, pattern);
        model.live.delete(ptr);
        if (moved !== ptr) model.freed.add(ptr);
        model.freed.delete(moved);
        model.live.set(moved, { size: op.size, align: old.align, pattern: pattern++ });
        model.totalBytes += op.size;
        model.totalBlocks++;
        if (moved + op.size > model.top) model.top = moved + op.size;
        updatePeak();
        break;
      }
      case 'doubleFree': {
        const freed = [...model.freed].filter((p) => !model.live.has(p));
        if (freed.length === 0) break;
        const ptr = freed[op.pick % freed.length]!;
        let error: unknown;
        try {
          allocator.free(ptr);
        } catch (e) {
          error = e;
        }
        // A freed pointer is a double free until its memory is handed out again;
        // after that (free list only) it is just not a block start.
        expect(error).toBeInstanceOf(
          subject.name.startsWith('FreeList') ? AllocatorError : DoubleFreeError,
        );
        expect(error instanceof DoubleFreeError || error instanceof ForeignPointerError).toBe(true);
        expectUnchanged(allocator, before);
        break;
      }
      case 'foreign': {
        const base = pick(op.pick) ?? region.start;
        const ptr = base + op.delta;
        if (model.live.has(ptr) || model.freed.has(ptr)) break;
        expect(() => allocator.free(ptr)).toThrow(ForeignPointerError);
        expect(() => allocator.realloc(ptr, 8)).toThrow(ForeignPointerError);
        expectUnchanged(allocator, before);
        break;
      }
      case 'reset': {
        allocator.reset();
        model.live.clear();
        model.freed.clear();
        model.top = region.start;
        break;
      }
    }
    checkInvariants(subject, allocator, model, region);
  }

  // Freeing everything gives all memory back as one free range (bump: after reset).
  for (const ptr of [...model.live.keys()]) allocator.free(ptr);
  model.live.clear();
  if (subject.name === 'BumpAllocator') allocator.reset();
  const s = allocator.stats();
  expect(s.bytesInUse).toBe(0);
  expect(s.freeBytes).toBe(s.capacity);
  expect(s.largestFreeBytes).toBe(s.capacity);
  expect(s.fragmentation).toBe(0);
  // Nothing outside the region was touched.
  expect([...view.subarray(0, region.start), ...view.subarray(region.end)]).toEqual(outside);
}

describe.each(subjects)('$name', (subject) => {
  it('keeps blocks apart, bytes accounted and stats equal to a reference model', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => run(subject, ops)),
      { numRuns: 150 },
    );
  });
});

/**
 * Every bad request gets its own error class, code and message, and leaves the
 * allocator exactly as it was: same statistics, same block contents, and it goes on
 * working.
 */
import { describe, expect, it } from 'vitest';
import {
  AlignmentError,
  type Allocator,
  AllocatorError,
  BumpAllocator,
  DoubleFreeError,
  ForeignPointerError,
  FreeListAllocator,
  OutOfMemoryError,
  SizeError,
  SlabAllocator,
} from '../../src/alloc/index.js';

const makers: [string, () => Allocator][] = [
  ['BumpAllocator', () => new BumpAllocator(new ArrayBuffer(1024))],
  ['FreeListAllocator', () => new FreeListAllocator(new ArrayBuffer(1024))],
  ['SlabAllocator', () => new SlabAllocator(new ArrayBuffer(1024), { blockSize: 64 })],
];

/**
 * Runs `bad`, expects `type` with `code`, and checks that nothing changed (statistics
 * and every byte of the buffer) and that the allocator still works.
 */
function expectClean(
  allocator: Allocator,
  bad: () => unknown,
  type: new (...args: never[]) => AllocatorError,
  code: string,
  message: RegExp,
): void {
  const before = allocator.stats();
  const bytes = new Uint8Array(allocator.buffer).slice();
  let error: unknown;
  try {
    bad();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(AllocatorError);
  expect((error as AllocatorError).code).toBe(code);
  expect((error as Error).message).toMatch(message);
  expect(allocator.stats()).toEqual(before);
  expect(new Uint8Array(allocator.buffer)).toEqual(bytes);
  if (allocator instanceof FreeListAllocator) expect(allocator.verify()).toEqual([]);
  if (allocator.stats().freeBytes >= 64) {
    const p = allocator.alloc(16);
    allocator.free(allocator.realloc(p, 20));
  }
}

describe.each(makers)('%s', (_name, make) => {
  it('out of memory', () => {
    const a = make();
    if (a instanceof SlabAllocator) while (a.stats().freeBytes > 0) a.alloc(64);
    expectClean(
      a,
      () => a.alloc(a instanceof SlabAllocator ? 64 : 5000),
      OutOfMemoryError,
      'ERR_ALLOC_OUT_OF_MEMORY',
      /out of memory: cannot allocate/,
    );
  });

  it('out of memory when the allocator is full', () => {
    const a = make();
    const held: number[] = [];
    try {
      for (;;) held.push(a.alloc(64));
    } catch (e) {
      expect(e).toBeInstanceOf(OutOfMemoryError);
    }
    expect(held.length).toBeGreaterThan(0);
    const before = a.stats();
    expect(() => a.alloc(64)).toThrow(OutOfMemoryError);
    expect(a.stats()).toEqual(before);
    a.free(held.pop()!);
    if (a instanceof BumpAllocator) {
      // An arena reclaims nothing on free, only on reset.
      expect(() => a.alloc(64)).toThrow(OutOfMemoryError);
      a.reset();
    }
    expect(a.alloc(64)).toBeTypeOf('number');
  });

  it('realloc that cannot grow leaves the old block intact', () => {
    const a = make();
    const p = a.alloc(32);
    const q = a.alloc(16);
    new Uint8Array(a.buffer, p, 32).set(Array.from({ length: 32 }, (_, i) => i));
    const before = a.stats();
    expect(() => a.realloc(p, 5000)).toThrow(
      a instanceof SlabAllocator ? SizeError : OutOfMemoryError,
    );
    expect(a.stats()).toEqual(before);
    expect([...new Uint8Array(a.buffer, p, 32)]).toEqual(Array.from({ length: 32 }, (_, i) => i));
    a.free(p);
    a.free(q);
  });

  it('double free', () => {
    const a = make();
    const p = a.alloc(16);
    a.free(p);
    expectClean(
      a,
      () => a.free(p),
      DoubleFreeError,
      'ERR_ALLOC_DOUBLE_FREE',
      /double free of block/,
    );
    expectClean(a, () => a.realloc(p, 8), DoubleFreeError, 'ERR_ALLOC_DOUBLE_FREE', /double free/);
  });

  it('foreign pointers: interior, outside the region, not an integer, never allocated', () => {
    const a = make();
    const p = a.alloc(32);
    for (const bad of [p + 1, p + 8, -16, 1 << 20, p + 0.5, Number.NaN]) {
      expectClean(
        a,
        () => a.free(bad),
        ForeignPointerError,
        'ERR_ALLOC_FOREIGN_POINTER',
        /bad pointer/,
      );
    }
    a.free(p);
  });

  it('alignment that is not a power of two, or too large', () => {
    const a = make();
    for (const bad of [0, 3, 12, -8, 1.5, 1 << 17]) {
      expectClean(
        a,
        () => a.alloc(8, bad),
        AlignmentError,
        'ERR_ALLOC_ALIGNMENT',
        /bad alignment .*power of two/,
      );
    }
  });

  it('size 0, negative or fractional sizes', () => {
    const a = make();
    for (const bad of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectClean(
        a,
        () => a.alloc(bad),
        SizeError,
        'ERR_ALLOC_SIZE',
        /bad size .*positive integer/,
      );
    }
    const p = a.alloc(8);
    expectClean(a, () => a.realloc(p, 0), SizeError, 'ERR_ALLOC_SIZE', /bad size 0/);
    a.free(p);
  });
});

describe('SlabAllocator', () => {
  it('refuses blocks larger than its slots and alignment beyond its slots', () => {
    const a = new SlabAllocator(new ArrayBuffer(1024), { blockSize: 64, align: 8 });
    expectClean(a, () => a.alloc(65), SizeError, 'ERR_ALLOC_SIZE', /hold at most 64 bytes/);
    expectClean(a, () => a.alloc(8, 16), AlignmentError, 'ERR_ALLOC_ALIGNMENT', /aligned to 8/);
  });
});

describe('FreeListAllocator', () => {
  it('reports a freed pointer as a double free until its memory is handed out again', () => {
    const heap = new FreeListAllocator(new ArrayBuffer(1024));
    const a = heap.alloc(16); // block of 24 bytes at 0, payload at 8
    const b = heap.alloc(16); // block at 24, payload at 32
    const c = heap.alloc(16); // keeps a and b away from the free tail
    expect([a, b, c]).toEqual([8, 32, 56]);
    heap.free(a);
    expect(() => heap.free(a)).toThrow(DoubleFreeError);
    heap.free(b); // merges with a's block
    expect(() => heap.free(b)).toThrow(DoubleFreeError);
    expect(() => heap.free(a)).toThrow(DoubleFreeError);
    const d = heap.alloc(40); // reuses the merged 48 bytes: same start as a
    expect(d).toBe(a);
    expect(() => heap.free(b)).toThrow(ForeignPointerError); // now inside d
    expect(heap.verify()).toEqual([]);
    heap.free(d);
    heap.free(c);
    expect(heap.stats().largestFreeBytes).toBe(1024);
  });

  it('grows in place into a free neighbour, and shrinks in place', () => {
    const heap = new FreeListAllocator(new ArrayBuffer(1024));
    const a = heap.alloc(16);
    const b = heap.alloc(100);
    heap.alloc(8);
    heap.free(b);
    expect(heap.realloc(a, 100)).toBe(a);
    expect(heap.realloc(a, 8)).toBe(a);
    // a (16 bytes at 0) and c (16 bytes at 136), 8 bytes of header each, no padding;
    // free: 120 bytes between them and 872 at the end.
    expect(heap.stats()).toMatchObject({
      bytesInUse: 16,
      overheadBytes: 16,
      freeBytes: 992,
      largestFreeBytes: 872,
      fragmentation: 1 - 872 / 992,
    });
    expect(heap.verify()).toEqual([]);
  });

  it('honours large alignments and keeps them when realloc moves a block', () => {
    const heap = new FreeListAllocator(new ArrayBuffer(1 << 16));
    const p = heap.alloc(10, 4096);
    expect(p % 4096).toBe(0);
    heap.alloc(10);
    const q = heap.realloc(p, 5000);
    expect(q).not.toBe(p);
    expect(q % 4096).toBe(0);
    expect(heap.verify()).toEqual([]);
  });
});

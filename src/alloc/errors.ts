/**
 * The errors heapscope's allocators throw. Every one is thrown before the allocator
 * changes anything, so after catching one the allocator is exactly as it was: same
 * blocks, same contents, same statistics.
 */

/** Base class of every allocator error; `code` is stable for programs to test. */
export class AllocatorError extends Error {
  override name = 'AllocatorError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** No free range is large enough for the request (with its header and alignment). */
export class OutOfMemoryError extends AllocatorError {
  override name = 'OutOfMemoryError';
  constructor(
    readonly size: number,
    readonly align: number,
    /** The largest request (at the default alignment) that would have succeeded. */
    readonly largestPossible: number,
    allocator: string,
  ) {
    super(
      `${allocator}: out of memory: cannot allocate ${size} bytes (align ${align}); ` +
        `the largest block that fits now is ${largestPossible} bytes`,
      'ERR_ALLOC_OUT_OF_MEMORY',
    );
  }
}

/** `free` or `realloc` of a block that was already freed. */
export class DoubleFreeError extends AllocatorError {
  override name = 'DoubleFreeError';
  constructor(
    readonly ptr: number,
    allocator: string,
  ) {
    super(`${allocator}: double free of block ${ptr}`, 'ERR_ALLOC_DOUBLE_FREE');
  }
}

/** A pointer that is not the start of a live block of this allocator. */
export class ForeignPointerError extends AllocatorError {
  override name = 'ForeignPointerError';
  constructor(
    readonly ptr: number,
    allocator: string,
    detail = 'it is not the start of a block this allocator handed out',
  ) {
    super(`${allocator}: bad pointer ${ptr}: ${detail}`, 'ERR_ALLOC_FOREIGN_POINTER');
  }
}

/** An alignment that is not a power of two, or larger than the allocator supports. */
export class AlignmentError extends AllocatorError {
  override name = 'AlignmentError';
  constructor(
    readonly align: number,
    allocator: string,
    detail = 'alignment must be a power of two',
  ) {
    super(`${allocator}: bad alignment ${align}: ${detail}`, 'ERR_ALLOC_ALIGNMENT');
  }
}

/**
 * A size that is not a positive integer (size 0 included: ask for at least one byte,
 * and use `free` to release a block), or larger than the allocator can ever serve.
 */
export class SizeError extends AllocatorError {
  override name = 'SizeError';
  constructor(
    readonly size: number,
    allocator: string,
    detail = 'size must be a positive integer number of bytes',
  ) {
    super(`${allocator}: bad size ${size}: ${detail}`, 'ERR_ALLOC_SIZE');
  }
}

/** A tracked read or write outside the block it names. */
export class OutOfBoundsError extends AllocatorError {
  override name = 'OutOfBoundsError';
  constructor(
    readonly ptr: number,
    readonly offset: number,
    readonly length: number,
    readonly blockSize: number,
  ) {
    super(
      `access of ${length} bytes at offset ${offset} is outside block ${ptr} ` +
        `(${blockSize} bytes)`,
      'ERR_ALLOC_OUT_OF_BOUNDS',
    );
  }
}

/**
 * `trackAllocator`: an Allocator that records every block of another one with the
 * JavaScript call stack that asked for it, and writes a DHAT profile.
 */
import type { Allocator, AllocatorStats } from './allocator.js';
import { HeapTracker, type TrackOptions } from './heap-tracker.js';
import { TrackedHeap } from './tracked-heap.js';

export class TrackedAllocator extends TrackedHeap implements Allocator {
  constructor(
    /** The allocator being tracked. Call it only through this wrapper, or blocks go unseen. */
    readonly allocator: Allocator,
    options: TrackOptions = {},
  ) {
    const tracker = new HeapTracker({ accesses: true, ...options });
    super(tracker, () => allocator.buffer, 'arena-heap', [
      `Blocks of a ${allocator.constructor.name} over a ${allocator.buffer.byteLength}-byte ` +
        `${allocator.buffer.constructor.name}.`,
    ]);
  }

  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.allocator.buffer;
  }

  alloc(size: number, align?: number): number {
    let ptr: number;
    try {
      ptr = this.allocator.alloc(size, align);
    } catch (e) {
      this.tracker.anomalies.failedAllocations++;
      throw e;
    }
    this.tracker.allocated(ptr, size, this.tracker.stack(this.alloc));
    return ptr;
  }

  free(ptr: number): void {
    this.allocator.free(ptr);
    this.tracker.freed(ptr);
  }

  realloc(ptr: number, size: number): number {
    let moved: number;
    try {
      moved = this.allocator.realloc(ptr, size);
    } catch (e) {
      this.tracker.anomalies.failedAllocations++;
      throw e;
    }
    this.tracker.reallocated(ptr, moved, size, this.tracker.stack(this.realloc));
    return moved;
  }

  reset(): void {
    this.allocator.reset();
    this.tracker.freedAll();
  }

  stats(): AllocatorStats {
    return this.allocator.stats();
  }
}

/**
 * Wraps an allocator so that every `alloc`, `realloc` and `free` is recorded with its
 * call stack, and reads and writes made through the wrapper's accessors (`read32`,
 * `writeBytes`...) are counted per block. `toProfile()` / `writeProfile(path)` give
 * the DHAT profile. Options: `stackDepth` (12), `clock` (`allocs` or `µs`),
 * `accesses` (true), `cmd`, `cwd`.
 */
export function trackAllocator(allocator: Allocator, options: TrackOptions = {}): TrackedAllocator {
  return new TrackedAllocator(allocator, options);
}

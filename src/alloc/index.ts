/**
 * `heapscope/alloc`: allocators you control, measured exactly.
 *
 * Allocators over an ArrayBuffer or SharedArrayBuffer behind one small interface
 * (`alloc(size, align)`, `free(ptr)`, `realloc(ptr, size)`, `reset()`, `stats()`):
 * - BumpAllocator: an arena; `free` ends a block's life but reclaims nothing until `reset()`.
 * - FreeListAllocator: first fit, splitting and coalescing, 8-byte headers in the buffer.
 * - SlabAllocator: equal slots, O(1) alloc and free.
 *
 * `trackAllocator(allocator)` records every block with its JavaScript call stack, and
 * reads and writes made through its accessors, and writes a DHAT profile that
 * `heapscope report` and Valgrind's dh_view open. `trackWasmHeap(instance)` does the
 * same for a WebAssembly module's heap through its exported malloc and free.
 *
 * Hooks (`onAlloc`, `onFree`, `onRealloc` in the options of either) see every
 * operation with its pointer, size and group; `group(name, fn)` tags the blocks
 * allocated inside it, and the profile splits by group.
 *
 * ```js
 * import { FreeListAllocator, trackAllocator } from 'heapscope/alloc';
 * const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 20)));
 * const p = heap.alloc(16);
 * heap.write32(p, 0, 42);
 * heap.free(p);
 * heap.writeProfile('heap.json');
 * ```
 */
export {
  type Allocator,
  type AllocatorStats,
  createBuffer,
  DEFAULT_ALIGN,
  MAX_ALIGN,
  type RegionOptions,
} from './allocator.js';
export { BumpAllocator } from './bump.js';
export {
  AlignmentError,
  AllocatorError,
  DoubleFreeError,
  ForeignPointerError,
  OutOfBoundsError,
  OutOfMemoryError,
  SizeError,
} from './errors.js';
export { FreeListAllocator } from './free-list.js';
export { currentGroup, group } from './group.js';
export type {
  TrackAnomalies,
  TrackClock,
  TrackOptions,
} from './heap-tracker.js';
export type { AllocEvent, FreeEvent, ReallocEvent } from './hook-events.js';
export { SlabAllocator, type SlabOptions } from './slab.js';
export { TrackedAllocator, trackAllocator } from './track-allocator.js';
export {
  TrackedWasmHeap,
  trackWasmHeap,
  WASM_HEAP_PRESETS,
  type WasmHeapFunctions,
  type WasmHeapPreset,
  type WasmInstanceLike,
  type WasmMemoryLike,
} from './track-wasm.js';
export { TrackedHeap } from './tracked-heap.js';

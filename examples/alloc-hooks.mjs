// Hooks and groups on a tracked allocator: count live blocks per group as they come and go.
//   npm run build && node examples/alloc-hooks.mjs
import { FreeListAllocator, group, trackAllocator } from '../dist/alloc/index.js';

const live = new Map(); // group -> live bytes, kept by the hooks
const add = (g, n) => live.set(g ?? '(none)', (live.get(g ?? '(none)') ?? 0) + n);

const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 20)), {
  onAlloc: ({ size, group }) => add(group, size),
  onFree: ({ size, allocGroup }) => add(allocGroup, -size),
  onRealloc: ({ oldSize, oldGroup, size, group }) => {
    add(oldGroup, -oldSize);
    add(group, size);
  },
});

const tokens = group('parse', () => Array.from({ length: 1000 }, () => heap.alloc(24)));
const page = group('render', () => heap.alloc(4096));
for (const t of tokens.slice(500)) heap.free(t);
group('render', () => heap.realloc(page, 8192));

console.log(Object.fromEntries(live), heap.stats().bytesInUse);
heap.writeProfile('alloc-hooks.json');

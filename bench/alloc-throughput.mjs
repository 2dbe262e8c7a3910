#!/usr/bin/env node
// Alloc/free throughput of heapscope/alloc's allocators against plain JavaScript for the
// same workload, interleaved in one run. Each operation frees the block in a random slot
// of a window of live blocks (if any), allocates a new block of a random size there, and
// touches its first and last byte. Sizes 16–256 bytes (skewed small), window 1,000 blocks.
//
// - FreeListAllocator, SlabAllocator (256-byte slots): alloc + free per operation.
// - BumpAllocator: free only ends the block's life; when the arena is full it is reset
//   (the arena pattern: everything in it dies together), so live blocks are dropped.
// - trackAllocator(FreeListAllocator): the cost of recording each block's call stack.
// - new Uint8Array(size): one ArrayBuffer per block, freed by the garbage collector.
// - new Array(size / 8): a plain JS array of numbers with as many 8-byte slots.
// - view: new Uint8Array(big, offset, size) over one shared buffer (no allocator; offsets
//   taken round-robin, so blocks may alias — it is the cost of the view object alone).
// - slice: big.slice(offset, offset + size), a copy into a new ArrayBuffer.
//
// Time includes garbage collection. Run with `npm run build` first.
//
//   node bench/alloc-throughput.mjs [--ops 200000] [--rounds 5] [--window 1000]
import {
  BumpAllocator,
  FreeListAllocator,
  OutOfMemoryError,
  SlabAllocator,
  trackAllocator,
} from '../dist/alloc/index.js';
import { numberOption } from './lib/args.mjs';

const OPS = numberOption('ops', 200_000);
const ROUNDS = numberOption('rounds', 5);
const WINDOW = numberOption('window', 1000);
const ARENA = 1 << 20;

// A fixed pseudo-random workload (mulberry32), the same for every variant.
let seed = 0x5eed;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const sizes = new Uint16Array(OPS);
const slots = new Uint32Array(OPS);
for (let i = 0; i < OPS; i++) {
  sizes[i] = 16 + Math.floor(240 * random() ** 2);
  slots[i] = Math.floor(random() * WINDOW);
}

function withAllocator(make) {
  return () => {
    const a = make();
    const u8 = new Uint8Array(a.buffer);
    const live = new Int32Array(WINDOW).fill(-1);
    for (let i = 0; i < OPS; i++) {
      const slot = slots[i];
      if (live[slot] >= 0) a.free(live[slot]);
      const size = sizes[i];
      const p = a.alloc(size);
      u8[p] = 1;
      u8[p + size - 1] = 2;
      live[slot] = p;
    }
    return a;
  };
}

function bump() {
  const a = new BumpAllocator(new ArrayBuffer(ARENA));
  const u8 = new Uint8Array(a.buffer);
  const live = new Int32Array(WINDOW).fill(-1);
  for (let i = 0; i < OPS; i++) {
    const slot = slots[i];
    if (live[slot] >= 0) a.free(live[slot]);
    const size = sizes[i];
    let p;
    try {
      p = a.alloc(size);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError)) throw e;
      a.reset();
      live.fill(-1);
      p = a.alloc(size);
    }
    u8[p] = 1;
    u8[p + size - 1] = 2;
    live[slot] = p;
  }
  return a;
}

function withObjects(make) {
  return () => {
    const live = new Array(WINDOW).fill(null);
    for (let i = 0; i < OPS; i++) {
      const b = make(sizes[i]);
      b[0] = 1;
      b[b.length - 1] = 2;
      live[slots[i]] = b;
    }
    return live;
  };
}

const big = new ArrayBuffer(ARENA);
let offset = 0;
const nextOffset = () => {
  const o = offset;
  offset = (offset + 256) & (ARENA - 1);
  return o;
};

const variants = {
  FreeListAllocator: withAllocator(() => new FreeListAllocator(new ArrayBuffer(ARENA))),
  SlabAllocator: withAllocator(() => new SlabAllocator(new ArrayBuffer(ARENA), { blockSize: 256 })),
  BumpAllocator: bump,
  'trackAllocator(FreeList)': withAllocator(() =>
    trackAllocator(new FreeListAllocator(new ArrayBuffer(ARENA)), { accesses: false }),
  ),
  'new Uint8Array(size)': withObjects((size) => new Uint8Array(size)),
  'new Array(size / 8)': withObjects((size) => new Array((size + 7) >> 3).fill(0)),
  'view new Uint8Array(buf, off, len)': withObjects(
    (size) => new Uint8Array(big, nextOffset(), size),
  ),
  'slice buf.slice(off, off + len)': withObjects((size) => {
    const o = nextOffset();
    return new Uint8Array(big.slice(o, o + size));
  }),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const run of Object.values(variants)) run(); // warm up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(variants)) {
    const t0 = process.hrtime.bigint();
    run();
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}

const base = median(times.FreeListAllocator);
console.log(
  `alloc/free throughput: ${OPS.toLocaleString('en-US')} operations (free + alloc 16–256 B + ` +
    `touch 2 bytes), ${WINDOW.toLocaleString('en-US')} live; median of ${ROUNDS} rounds, ` +
    `Node ${process.version}`,
);
console.log('');
console.log(
  `${'variant'.padEnd(36)}${'ms'.padStart(9)}${'ns/op'.padStart(9)}${'Mops/s'.padStart(9)}  vs FreeListAllocator`,
);
for (const name of Object.keys(variants)) {
  const ms = median(times[name]);
  const ratio = ms / base;
  console.log(
    `${name.padEnd(36)}${ms.toFixed(1).padStart(9)}${((ms * 1e6) / OPS).toFixed(0).padStart(9)}` +
      `${(OPS / ms / 1000).toFixed(2).padStart(9)}  ${name === 'FreeListAllocator' ? 'baseline' : ratio >= 1 ? `${ratio.toFixed(2)}× slower` : `${(1 / ratio).toFixed(2)}× faster`}`,
  );
}

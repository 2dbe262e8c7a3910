/**
 * trackWasmHeap on a real WebAssembly module (test/fixtures/wasm/heap.wasm, built from
 * heap.c with clang): the module's own counters of what its malloc handed out are the
 * ground truth the profile must equal, and JavaScript glue with known call sites
 * allocates known blocks through the exports.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type TrackedWasmHeap,
  trackWasmHeap,
  type WasmInstanceLike,
} from '../../src/alloc/index.js';
import { totals } from '../../src/model/metrics.js';
import { validateProfile } from '../../src/model/validate.js';
import { ROOT } from '../helpers/heapscope.js';

/** The module's exports as JavaScript sees them (i32 results come back as signed numbers). */
interface HeapModule {
  malloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
  calloc(count: number, size: number): number;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_realloc(ptr: number, oldSize: number, newSize: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  heap_live_blocks(): number;
  heap_live_bytes(): number;
  heap_total_blocks(): number;
  heap_total_bytes(): number;
  node_size(): number;
  node_init(node: number, next: number, value: number): void;
  node_next(node: number): number;
  list_sum(head: number): number;
  make_list(count: number): number;
  free_list(head: number): void;
  memory: { buffer: ArrayBuffer };
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => WasmInstanceLike;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const BYTES = readFileSync(join(ROOT, 'test/fixtures/wasm/heap.wasm'));
const MODULE = new wasm.Module(BYTES);

function instantiate(): WasmInstanceLike {
  return new wasm.Instance(MODULE, {});
}

const SOURCE = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');

/** The frame string of the call `callee` on the one line holding `code` (outside quotes). */
function frameAt(fn: string, code: string, callee: string): string {
  const lines = SOURCE.flatMap((l, i) => (l.includes(code) && !l.includes(`'${code}'`) ? [i] : []));
  if (lines.length !== 1) throw new Error(`"${code}" is on ${lines.length} lines`);
  const line = lines[0]!;
  return `${fn} (test/alloc/wasm.test.ts:${line + 1}:${SOURCE[line]!.indexOf(callee) + 1})`;
}

function siteOf(heap: TrackedWasmHeap, fn: string) {
  const profile = heap.toProfile();
  const found = profile.programPoints.filter((p) =>
    profile.frames[p.stack[0]!]!.startsWith(`${fn} (`),
  );
  if (found.length !== 1) throw new Error(`${found.length} program points at ${fn}`);
  return found[0]!;
}

// JavaScript glue, like the code wasm-bindgen or Emscripten generate: allocation calls
// into the module from known lines.
function buildList(m: HeapModule, n: number): number {
  let head = 0;
  for (let i = 0; i < n; i++) {
    const node = m.malloc(m.node_size());
    m.node_init(node, head, i);
    head = node;
  }
  return head;
}
function freeList(m: HeapModule, head: number): void {
  for (let node = head; node !== 0; ) {
    const next = m.node_next(node);
    m.free(node);
    node = next;
  }
}
/** A vector of u32 that doubles its capacity: malloc(16), then realloc to 32, 64, ... bytes. */
function pushAll(m: HeapModule, count: number): { ptr: number; cap: number } {
  let cap = 4;
  let ptr = m.malloc(cap * 4);
  for (let i = 0; i < count; i++) {
    if (i === cap) {
      cap *= 2;
      ptr = m.realloc(ptr, cap * 4);
    }
    new DataView(m.memory.buffer).setUint32(ptr + i * 4, i, true);
  }
  return { ptr, cap };
}
function zeroed(m: HeapModule, n: number): number {
  return m.calloc(n, 4);
}

describe('trackWasmHeap on a real wasm module (C, its own malloc)', () => {
  it('profiles the blocks JavaScript allocates through the exports, exactly', () => {
    const heap = trackWasmHeap(instantiate()); // the libc preset: malloc, free, realloc, calloc
    const m = heap.exports as unknown as HeapModule;
    expect(m.node_size()).toBe(16);

    const list = buildList(m, 100);
    expect(m.list_sum(list)).toBe(4950); // the C code walked the nodes JavaScript allocated
    const vec = pushAll(m, 100); // 16 -> 32 -> 64 -> 128 -> 256 -> 512 bytes
    expect(vec.cap).toBe(128);
    const z = zeroed(m, 10);
    const empty = m.malloc(0);
    expect(empty).not.toBe(0);

    // The module's own count of what its malloc handed out, against the profile.
    const profile = heap.toProfile();
    expect(validateProfile(profile)).toEqual([]);
    const t = totals(profile);
    expect(t.totalBlocks).toBe(m.heap_total_blocks());
    expect(t.totalBytes).toBe(m.heap_total_bytes());
    expect(t.endBlocks).toBe(m.heap_live_blocks());
    expect(t.endBytes).toBe(m.heap_live_bytes());
    expect(m.heap_total_blocks()).toBe(100 + 6 + 1 + 1);
    expect(m.heap_total_bytes()).toBe(1600 + (16 + 32 + 64 + 128 + 256 + 512) + 40 + 0);

    expect(profile.mode).toBe('wasm-heap');
    expect(profile.hasAccesses).toBe(false);
    expect(siteOf(heap, 'buildList')).toMatchObject({
      totalBytes: 1600,
      totalBlocks: 100,
      endBytes: 1600,
      endBlocks: 100,
      maxBytes: 1600,
      maxBlocks: 100,
    });
    // pushAll has two sites: its malloc, and its realloc (five reallocs, each freeing the last block).
    const vecSites = profile.programPoints.filter((p) =>
      profile.frames[p.stack[0]!]!.startsWith('pushAll ('),
    );
    expect(vecSites.map((p) => [p.totalBytes, p.totalBlocks, p.endBytes, p.endBlocks])).toEqual(
      expect.arrayContaining([
        [16, 1, 0, 0],
        [32 + 64 + 128 + 256 + 512, 5, 512, 1],
      ]),
    );
    expect(siteOf(heap, 'zeroed')).toMatchObject({ totalBytes: 40, totalBlocks: 1 });
    expect(profile.frames[siteOf(heap, 'buildList').stack[0]!]).toBe(
      frameAt('buildList', 'const node = m.malloc(m.node_size());', 'malloc('),
    );
    expect(profile.frames[siteOf(heap, 'zeroed').stack[0]!]).toBe(
      frameAt('zeroed', 'return m.calloc(n, 4);', 'calloc('),
    );

    freeList(m, list);
    m.free(vec.ptr);
    m.free(z);
    m.free(empty);
    const after = totals(heap.toProfile());
    expect(m.heap_live_blocks()).toBe(0);
    expect(after).toMatchObject({ endBytes: 0, endBlocks: 0, peakBytes: 1600 + 512 + 40 });
    expect(heap.anomalies).toEqual({
      unknownFrees: 0,
      unseenFrees: 0,
      failedAllocations: 0,
      hookErrors: 0,
    });
  });

  it("does not see the module's internal malloc calls, and says so", () => {
    const heap = trackWasmHeap(instantiate());
    const m = heap.exports as unknown as HeapModule;
    const own = buildList(m, 10);
    const internal = m.make_list(50); // 50 mallocs inside the module
    expect(m.heap_total_blocks()).toBe(60);
    expect(totals(heap.toProfile()).totalBlocks).toBe(10);
    freeList(m, internal); // 50 frees from JavaScript of blocks it never saw allocated
    m.free_list(own); // 10 frees inside the module, unseen
    expect(m.heap_live_blocks()).toBe(0);
    const profile = heap.toProfile();
    expect(totals(profile)).toMatchObject({ totalBlocks: 10, endBlocks: 10 });
    expect(heap.anomalies.unknownFrees).toBe(50);
    expect(profile.heapscope?.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/calls the module's own code makes to its allocator are not seen/),
        '50 frees of blocks not allocated through the tracker (not in the profile).',
      ]),
    );
    // The module reuses the freed nodes' addresses: the tracker counts the unseen frees then.
    buildList(m, 10);
    expect(heap.anomalies.unseenFrees).toBe(10);
    expect(totals(heap.toProfile())).toMatchObject({ totalBlocks: 20, endBlocks: 10 });
  });

  it("tracks wasm-bindgen's __wbindgen_malloc / _realloc / _free with the preset", () => {
    const heap = trackWasmHeap(instantiate(), 'wasm-bindgen');
    const m = heap.exports as unknown as HeapModule;
    const p = m.__wbindgen_malloc(24, 8);
    const q = m.__wbindgen_realloc(p, 24, 48, 8);
    m.__wbindgen_free(q, 48, 8);
    m.malloc(8); // not part of the preset: untracked
    const profile = heap.toProfile();
    expect(totals(profile)).toMatchObject({ totalBytes: 72, totalBlocks: 2, endBytes: 0 });
    expect(m.heap_total_bytes()).toBe(72 + 8);
  });

  it('counts JavaScript reads and writes through the accessors, across memory growth', () => {
    const heap = trackWasmHeap(instantiate(), 'libc', { accesses: true });
    const m = heap.exports as unknown as HeapModule;
    const node = m.malloc(16);
    heap.write32(node, 0, 0);
    heap.write32(node, 4, 42);
    const before = m.memory.buffer;
    const big = m.malloc(200_000); // grows memory: the old ArrayBuffer is detached
    expect(m.memory.buffer).not.toBe(before);
    heap.writeF64(big, 199_992, 1.5);
    expect(heap.readF64(big, 199_992)).toBe(1.5);
    expect(m.list_sum(node)).toBe(42); // the module sees what the accessor wrote
    expect(heap.read32(node, 4)).toBe(42);
    expect(() => heap.read32(node, 14)).toThrow(/outside block/);
    const profile = heap.toProfile();
    expect(profile.hasAccesses).toBe(true);
    const site = profile.programPoints.find((p) => p.totalBytes === 16)!;
    expect(site).toMatchObject({ readBytes: 4, writeBytes: 8, accesses: [-4, 1, -4, 2, -8, 0] });
  });

  it('rejects export names the module does not have, and unknown presets', () => {
    expect(() => trackWasmHeap(instantiate(), { malloc: 'nope', free: 'free' })).toThrow(
      'the wasm instance exports no function "nope"',
    );
    expect(() =>
      trackWasmHeap(instantiate(), { malloc: 'malloc', free: 'free', realloc: 'rea' }),
    ).toThrow(/no function "rea"/);
    expect(() =>
      trackWasmHeap(instantiate(), { malloc: 'malloc', free: 'free', memory: 'mem' }),
    ).toThrow(/exports no memory "mem"/);
    expect(() => trackWasmHeap(instantiate(), 'rust' as 'libc')).toThrow(
      /unknown wasm heap preset/,
    );
  });
});

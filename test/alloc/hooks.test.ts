/**
 * Hooks and groups on tracked allocators: the test's own log of what it asked the
 * allocator to do (and what the allocator returned) is the ground truth. Hooks must
 * see exactly those operations, with their sizes and groups; counts kept by hooks
 * must equal the allocator's own statistics; the profile split by group must hold the
 * same figures; and a hook that throws must leave allocator and tracker agreeing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// The built package, as users load it: both entry points share one stack of open groups.
import * as builtAlloc from '../../dist/alloc/index.js';
import { group as measuredGroup } from '../../dist/index.js';
import {
  type AllocEvent,
  currentGroup,
  type FreeEvent,
  FreeListAllocator,
  group,
  type ReallocEvent,
  SlabAllocator,
  type TrackOptions,
  trackAllocator,
  trackWasmHeap,
  type WasmInstanceLike,
} from '../../src/alloc/index.js';
import type { Profile } from '../../src/model/profile.js';
import { validateProfile } from '../../src/model/validate.js';
import { ROOT } from '../helpers/heapscope.js';

const SOURCE = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');

function frameAt(fn: string, code: string, callee: string): string {
  const lines = SOURCE.flatMap((l, i) => (l.includes(code) && !l.includes(`'${code}'`) ? [i] : []));
  if (lines.length !== 1) throw new Error(`"${code}" is on ${lines.length} lines`);
  const line = lines[0]!;
  return `${fn} (test/alloc/hooks.test.ts:${line + 1}:${SOURCE[line]!.indexOf(callee) + 1})`;
}

interface Tally {
  live: Map<number, { size: number; group: string | undefined }>;
  totalBytes: Map<string, number>;
  totalBlocks: Map<string, number>;
  events: (AllocEvent | FreeEvent | ReallocEvent)[];
}

const NO_GROUP = '(none)';
const add = (m: Map<string, number>, k: string | undefined, v: number) =>
  m.set(k ?? NO_GROUP, (m.get(k ?? NO_GROUP) ?? 0) + v);

/** Hooks that keep their own count of live and total blocks per group. */
function tallyHooks(): { tally: Tally; hooks: TrackOptions } {
  const tally: Tally = {
    live: new Map(),
    totalBytes: new Map(),
    totalBlocks: new Map(),
    events: [],
  };
  const born = (ptr: number, size: number, g: string | undefined) => {
    expect(tally.live.has(ptr), `block ${ptr} handed out twice`).toBe(false);
    tally.live.set(ptr, { size, group: g });
    add(tally.totalBytes, g, size);
    add(tally.totalBlocks, g, 1);
  };
  const died = (ptr: number, size: number, g: string | undefined) => {
    expect(tally.live.get(ptr)).toEqual({ size, group: g });
    tally.live.delete(ptr);
  };
  return {
    tally,
    hooks: {
      onAlloc: (e) => {
        tally.events.push(e);
        born(e.ptr, e.size, e.group);
      },
      onFree: (e) => {
        tally.events.push(e);
        died(e.ptr, e.size, e.allocGroup);
      },
      onRealloc: (e) => {
        tally.events.push(e);
        died(e.oldPtr, e.oldSize, e.oldGroup);
        born(e.ptr, e.size, e.group);
      },
    },
  };
}

/** Live and total figures per group in a profile whose group is the outermost frame. */
function byGroup(profile: Profile) {
  const out = new Map<string, { total: number; blocks: number; end: number; endBlocks: number }>();
  for (const pp of profile.programPoints) {
    const outer = profile.frames[pp.stack[pp.stack.length - 1]!]!;
    const m = /^\[group (.*)\]$/.exec(outer);
    const g = m ? m[1]! : NO_GROUP;
    const row = out.get(g) ?? { total: 0, blocks: 0, end: 0, endBlocks: 0 };
    row.total += pp.totalBytes;
    row.blocks += pp.totalBlocks;
    row.end += pp.endBytes ?? 0;
    row.endBlocks += pp.endBlocks ?? 0;
    out.set(g, row);
  }
  return out;
}

function liveByGroup(tally: Tally) {
  const out = new Map<string, { bytes: number; blocks: number }>();
  for (const { size, group: g } of tally.live.values()) {
    const row = out.get(g ?? NO_GROUP) ?? { bytes: 0, blocks: 0 };
    row.bytes += size;
    row.blocks++;
    out.set(g ?? NO_GROUP, row);
  }
  return out;
}

type Op =
  | { kind: 'alloc'; size: number; group: string | undefined }
  | { kind: 'free'; pick: number; group: string | undefined }
  | { kind: 'realloc'; pick: number; size: number; group: string | undefined }
  | { kind: 'reset' };

const groupArb = fc.constantFrom(undefined, 'parse', 'render');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      size: fc.integer({ min: 1, max: 300 }),
      group: groupArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat(), group: groupArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('realloc' as const),
      pick: fc.nat(),
      size: fc.integer({ min: 1, max: 400 }),
      group: groupArb,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

function inGroup<T>(g: string | undefined, fn: () => T): T {
  return g === undefined ? fn() : group(g, fn);
}

describe('hooks on trackAllocator', () => {
  it('see exactly the operations made, and their counts equal the allocator and the profile', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const { tally, hooks } = tallyHooks();
        const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 16)), hooks);
        const mine: number[] = [];
        const expected: {
          kind: string;
          ptr: number;
          size: number;
          group?: string;
          oldPtr?: number;
        }[] = [];
        for (const op of ops) {
          if (op.kind === 'alloc') {
            const ptr = inGroup(op.group, () => heap.alloc(op.size));
            mine.push(ptr);
            expected.push({
              kind: 'alloc',
              ptr,
              size: op.size,
              ...(op.group ? { group: op.group } : {}),
            });
          } else if (op.kind === 'free' && mine.length > 0) {
            const [ptr] = mine.splice(op.pick % mine.length, 1);
            const size = heap.sizeOf(ptr!)!;
            inGroup(op.group, () => heap.free(ptr!));
            expected.push({
              kind: 'free',
              ptr: ptr!,
              size,
              ...(op.group ? { group: op.group } : {}),
            });
          } else if (op.kind === 'realloc' && mine.length > 0) {
            const i = op.pick % mine.length;
            const old = mine[i]!;
            const ptr = inGroup(op.group, () => heap.realloc(old, op.size));
            mine[i] = ptr;
            expected.push({
              kind: 'realloc',
              oldPtr: old,
              ptr,
              size: op.size,
              ...(op.group ? { group: op.group } : {}),
            });
          } else if (op.kind === 'reset') {
            for (const ptr of mine) expected.push({ kind: 'free', ptr, size: heap.sizeOf(ptr)! });
            mine.length = 0;
            heap.reset();
          }
        }
        // Every operation, in order, seen once by the right hook. (A reset frees in the
        // tracker's own order; compare those as sets.)
        const seen = tally.events.map((e) =>
          'oldPtr' in e
            ? {
                kind: 'realloc',
                oldPtr: e.oldPtr,
                ptr: e.ptr,
                size: e.size,
                ...(e.group ? { group: e.group } : {}),
              }
            : 'allocGroup' in e
              ? { kind: 'free', ptr: e.ptr, size: e.size, ...(e.group ? { group: e.group } : {}) }
              : { kind: 'alloc', ptr: e.ptr, size: e.size, ...(e.group ? { group: e.group } : {}) },
        );
        const sortKey = (x: { kind: string; ptr: number }) => `${x.kind}:${x.ptr}`;
        expect([...seen].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
          [...expected].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
        );
        expect(seen.length).toBe(expected.length);

        // The hooks' counts against the allocator's own statistics.
        const stats = heap.stats();
        expect(tally.live.size).toBe(stats.blocksInUse);
        expect([...tally.live.values()].reduce((a, b) => a + b.size, 0)).toBe(stats.bytesInUse);
        expect(new Set(tally.live.keys())).toEqual(new Set(mine));

        // The profile split by group against the hooks' counts.
        const profile = heap.toProfile();
        expect(validateProfile(profile)).toEqual([]);
        const split = byGroup(profile);
        const live = liveByGroup(tally);
        for (const g of new Set([...split.keys(), ...live.keys(), ...tally.totalBytes.keys()])) {
          expect(split.get(g)?.end ?? 0, `live bytes of ${g}`).toBe(live.get(g)?.bytes ?? 0);
          expect(split.get(g)?.endBlocks ?? 0, `live blocks of ${g}`).toBe(
            live.get(g)?.blocks ?? 0,
          );
          expect(split.get(g)?.total ?? 0, `total bytes of ${g}`).toBe(
            tally.totalBytes.get(g) ?? 0,
          );
          expect(split.get(g)?.blocks ?? 0, `total blocks of ${g}`).toBe(
            tally.totalBlocks.get(g) ?? 0,
          );
        }
        expect(heap.anomalies.hookErrors).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  function allocInParse(heap: ReturnType<typeof trackAllocator>): number {
    return group('parse', () => heap.alloc(24)); // the parse allocation
  }

  it("gives the allocation's stack on request, and the free's allocation group", () => {
    const events: (AllocEvent | FreeEvent)[] = [];
    const heap = trackAllocator(new SlabAllocator(new ArrayBuffer(4096), { blockSize: 32 }), {
      onAlloc: (e) => events.push(e),
      onFree: (e) => events.push(e),
    });
    const p = allocInParse(heap);
    group('render', () => heap.free(p));
    const [a, f] = events as [AllocEvent, FreeEvent];
    expect(a).toMatchObject({ ptr: p, size: 24, group: 'parse' });
    expect(a.stack[0]).toBe(frameAt('(anonymous)', 'the parse allocation', 'alloc(24)'));
    expect(a.stack).toContain(frameAt('allocInParse', 'the parse allocation', 'group('));
    expect(f).toMatchObject({ ptr: p, size: 24, group: 'render', allocGroup: 'parse' });
    expect(f.stack).toEqual(a.stack);
    expect(currentGroup()).toBeUndefined();
  });

  it("tags blocks inside heapscope's measuring group() too, innermost group first", () => {
    const groups: (string | undefined)[] = [];
    const heap = builtAlloc.trackAllocator(
      new builtAlloc.FreeListAllocator(new ArrayBuffer(4096)),
      {
        onAlloc: (e) => groups.push(e.group),
      },
    );
    measuredGroup('outer', () => {
      heap.alloc(8);
      builtAlloc.group('inner', () => heap.alloc(8));
      heap.alloc(8);
    });
    heap.alloc(8);
    expect(groups).toEqual(['outer', 'inner', 'outer', undefined]);
  });

  it('keeps an async group open until its promise settles', async () => {
    const groups: (string | undefined)[] = [];
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(4096)), {
      onAlloc: (e) => groups.push(e.group),
    });
    await group('io', async () => {
      await new Promise((r) => setTimeout(r, 1));
      heap.alloc(8);
    });
    heap.alloc(8);
    expect(groups).toEqual(['io', undefined]);
  });
});

describe('a hook that throws', () => {
  it('surfaces from the call, after allocator and tracker both recorded the operation', () => {
    let n = 0;
    let lost = 0;
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(4096)), {
      onAlloc: (e) => {
        if (++n === 3) {
          lost = e.ptr;
          throw new Error('hook failed');
        }
      },
      onFree: () => {
        throw new Error('free hook failed');
      },
    });
    const a = heap.alloc(16);
    const b = heap.alloc(32);
    expect(() => heap.alloc(48)).toThrow('hook failed');
    expect(heap.stats()).toMatchObject({ blocksInUse: 3, bytesInUse: 96 });
    expect(heap.sizeOf(lost)).toBe(48);
    expect(() => heap.free(a)).toThrow('free hook failed');
    expect(heap.stats()).toMatchObject({ blocksInUse: 2, bytesInUse: 80 });
    expect(heap.sizeOf(a)).toBeUndefined();
    // reset() retires every block though each hook call throws, then reports the first error.
    expect(() => heap.reset()).toThrow('free hook failed');
    expect(heap.stats()).toMatchObject({ blocksInUse: 0, bytesInUse: 0 });
    expect(heap.sizeOf(b)).toBeUndefined();
    expect(heap.anomalies.hookErrors).toBe(4);
    const t = heap.toProfile().programPoints.reduce((s, pp) => s + (pp.endBlocks ?? 0), 0);
    expect(t).toBe(0);
    // The allocator still works.
    const c = heap.alloc(8);
    expect(heap.sizeOf(c)).toBe(8);
  });

  it('goes to onHookError when given, and the operation returns normally', () => {
    const errors: unknown[] = [];
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(4096)), {
      onRealloc: () => {
        throw new Error('realloc hook failed');
      },
      onHookError: (error, event) => errors.push([(error as Error).message, 'oldPtr' in event]),
    });
    const p = heap.alloc(16);
    const q = heap.realloc(p, 64);
    expect(heap.sizeOf(q)).toBe(64);
    expect(errors).toEqual([['realloc hook failed', true]]);
    expect(heap.anomalies.hookErrors).toBe(1);
  });
});

interface HeapModule {
  malloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
  calloc(count: number, size: number): number;
  heap_live_blocks(): number;
  heap_live_bytes(): number;
  heap_total_blocks(): number;
  heap_total_bytes(): number;
}

describe('hooks on trackWasmHeap (a real wasm module with its own malloc)', () => {
  it("count exactly what the module's allocator counts, per group", () => {
    const wasm = (
      globalThis as unknown as {
        WebAssembly: {
          Instance: new (m: object, i?: object) => WasmInstanceLike;
          Module: new (b: Uint8Array) => object;
        };
      }
    ).WebAssembly;
    const instance = new wasm.Instance(
      new wasm.Module(readFileSync(join(ROOT, 'test/fixtures/wasm/heap.wasm'))),
      {},
    );
    const { tally, hooks } = tallyHooks();
    const heap = trackWasmHeap(instance, 'libc', hooks);
    const m = heap.exports as unknown as HeapModule;
    const kept: number[] = [];
    group('a', () => {
      for (let i = 0; i < 50; i++) kept.push(m.malloc(8 + i));
    });
    group('b', () => {
      for (let i = 0; i < 20; i++) m.free(kept.pop()!);
      kept.push(m.calloc(10, 4));
      kept[0] = m.realloc(kept[0]!, 500);
    });
    expect(tally.live.size).toBe(m.heap_live_blocks());
    expect([...tally.live.values()].reduce((a, b) => a + b.size, 0)).toBe(m.heap_live_bytes());
    const split = byGroup(heap.toProfile());
    const live = liveByGroup(tally);
    expect(live.get('a')).toEqual({
      bytes: [...Array(30).keys()].slice(1).reduce((s, i) => s + 8 + i, 0),
      blocks: 29,
    });
    expect(live.get('b')).toEqual({ bytes: 40 + 500, blocks: 2 });
    expect(split.get('a')).toMatchObject({ end: live.get('a')!.bytes, endBlocks: 29 });
    expect(split.get('b')).toMatchObject({ end: 540, endBlocks: 2, total: 540, blocks: 2 });
  });
});

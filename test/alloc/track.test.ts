/**
 * trackAllocator: known call sites allocate known blocks, and the DHAT figures come out
 * exact — counted by hand from DHAT's definitions for a fixed scenario, and computed by
 * brute force from the event log for random ones.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BumpAllocator,
  DoubleFreeError,
  ForeignPointerError,
  FreeListAllocator,
  OutOfBoundsError,
  OutOfMemoryError,
  SlabAllocator,
  type TrackedAllocator,
  trackAllocator,
} from '../../src/alloc/index.js';
import { readDhat, writeDhat } from '../../src/formats/dhat.js';
import type { Profile, ProgramPoint } from '../../src/model/profile.js';
import { validateProfile } from '../../src/model/validate.js';

const SOURCE = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');

/** The frame string of the call `callee` on the (only) line holding `code`, as V8 places it. */
function frameAt(fn: string, code: string, callee: string): string {
  const lines = SOURCE.flatMap((l, i) => (l.includes(code) && !l.includes(`'${code}'`) ? [i] : []));
  if (lines.length !== 1) throw new Error(`"${code}" is on ${lines.length} lines`);
  const line = lines[0]!;
  return `${fn} (test/alloc/track.test.ts:${line + 1}:${SOURCE[line]!.indexOf(callee) + 1})`;
}

/** The program point whose allocation site is `fn` and whose caller is `caller` (if given). */
function pp(profile: Profile, fn: string, caller?: string): ProgramPoint {
  const found = profile.programPoints.filter((p) => {
    const [site, parent] = p.stack.map((i) => profile.frames[i]!);
    return site?.startsWith(`${fn} (`) && (!caller || parent?.startsWith(`${caller} (`));
  });
  if (found.length !== 1) throw new Error(`${found.length} program points at ${fn} < ${caller}`);
  return found[0]!;
}

// The scenario's allocation sites: each is one line of code.
function makeNode(heap: TrackedAllocator, value: number): number {
  const p = heap.alloc(16);
  heap.write32(p, 0, value);
  heap.writeF64(p, 8, value / 2);
  return p;
}
function firstBatch(heap: TrackedAllocator, nodes: number[]): void {
  for (let i = 0; i < 10; i++) nodes.push(makeNode(heap, i));
}
function secondBatch(heap: TrackedAllocator, nodes: number[]): void {
  for (let i = 10; i < 15; i++) nodes.push(makeNode(heap, i));
}
function makeBuffer(heap: TrackedAllocator, n: number): number {
  return heap.alloc(n);
}
function grow(heap: TrackedAllocator, p: number, n: number): number {
  return heap.realloc(p, n);
}
function sumNodes(heap: TrackedAllocator, nodes: number[]): number {
  let sum = 0;
  for (const p of nodes) sum += heap.read32(p, 0);
  return sum;
}

/**
 * Time is counted in allocations. t=1..10: ten 16-byte nodes; t=11: a 1,000-byte
 * buffer (live 1,160: a peak, frozen by the next free); five nodes freed; t=12: the
 * buffer grows to 2,000 (realloc = free + alloc); t=13..17: five more nodes (live 2,160,
 * the global peak at t=17); the buffer is freed. t-end = 17.
 */
function scenario(heap: TrackedAllocator): number {
  const nodes: number[] = [];
  firstBatch(heap, nodes);
  let buf = makeBuffer(heap, 1000);
  heap.writeBytes(buf, 0, new Uint8Array(100).fill(7));
  expect([...heap.readBytes(buf, 10, 20)]).toEqual(new Array(20).fill(7));
  let sum = sumNodes(heap, nodes);
  for (const p of nodes.splice(0, 5)) heap.free(p);
  buf = grow(heap, buf, 2000);
  expect([...heap.readBytes(buf, 0, 50)]).toEqual(new Array(50).fill(7));
  secondBatch(heap, nodes);
  sum += sumNodes(heap, nodes);
  heap.free(buf);
  return sum;
}

describe('trackAllocator', () => {
  it('gives exact DHAT figures per call stack for a known scenario', () => {
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 16)));
    expect(scenario(heap)).toBe(45 + 95);
    const profile = heap.toProfile();
    expect(validateProfile(profile)).toEqual([]);
    expect(profile).toMatchObject({
      mode: 'arena-heap',
      hasLifetimes: true,
      hasAccesses: true,
      timeUnit: 'allocs',
      timeUnitLarge: 'Mallocs',
      endTime: 17,
      peakTime: 17,
    });
    expect(profile.programPoints).toHaveLength(4);
    // Nodes 0..9 born at t=1..10; 0..4 freed at t=11 (lived 10..6), 5..9 live to 17 (11..7).
    // Offsets 0-3: one write per node, one read for nodes 0..4, two for 5..9: 25.
    expect(pp(profile, 'makeNode', 'firstBatch')).toMatchObject({
      totalBytes: 160,
      totalBlocks: 10,
      totalLifetimes: 40 + 45,
      maxBytes: 160,
      maxBlocks: 10,
      peakBytes: 80,
      peakBlocks: 5,
      endBytes: 80,
      endBlocks: 5,
      readBytes: 15 * 4,
      writeBytes: 10 * 12,
      accesses: [-4, 25, -4, 0, -8, 10],
    });
    // Nodes 10..14 born at t=13..17, live at the end (lived 4..0), read once each.
    expect(pp(profile, 'makeNode', 'secondBatch')).toMatchObject({
      totalBytes: 80,
      totalBlocks: 5,
      totalLifetimes: 4 + 3 + 2 + 1 + 0,
      maxBytes: 80,
      maxBlocks: 5,
      peakBytes: 80,
      peakBlocks: 5,
      endBytes: 80,
      endBlocks: 5,
      readBytes: 5 * 4,
      writeBytes: 5 * 12,
      accesses: [-4, 10, -4, 0, -8, 5],
    });
    // Born at t=11, reallocated (freed) at t=12. 100 bytes written, 20 read from offset 10.
    expect(pp(profile, 'makeBuffer')).toMatchObject({
      totalBytes: 1000,
      totalBlocks: 1,
      totalLifetimes: 1,
      maxBytes: 1000,
      maxBlocks: 1,
      peakBytes: 0,
      peakBlocks: 0,
      endBytes: 0,
      endBlocks: 0,
      readBytes: 20,
      writeBytes: 100,
      accesses: [-10, 1, -20, 2, -70, 1, -900, 0],
    });
    // Born at t=12, freed at t=17; 2,000 bytes is over DHAT's 1,024-byte limit for `acc`.
    const grown = pp(profile, 'grow');
    expect(grown).toMatchObject({
      totalBytes: 2000,
      totalBlocks: 1,
      totalLifetimes: 5,
      maxBytes: 2000,
      maxBlocks: 1,
      peakBytes: 2000,
      peakBlocks: 1,
      endBytes: 0,
      endBlocks: 0,
      readBytes: 50,
      writeBytes: 0,
    });
    expect(grown.accesses).toBeUndefined();
    // The stacks start at the caller's line: nothing of the tracker's own code.
    const frames = profile.frames.join('\n');
    expect(frames).not.toMatch(/src\/alloc\//);
    const first = (p: ProgramPoint) => profile.frames[p.stack[0]!];
    expect(first(pp(profile, 'makeNode', 'firstBatch'))).toBe(
      frameAt('makeNode', 'const p = heap.alloc(16);', 'alloc('),
    );
    expect(first(pp(profile, 'makeBuffer'))).toBe(
      frameAt('makeBuffer', 'return heap.alloc(n);', 'alloc('),
    );
    expect(first(pp(profile, 'grow'))).toBe(
      frameAt('grow', 'return heap.realloc(p, n);', 'realloc('),
    );
    expect(profile.frames[pp(profile, 'makeNode', 'secondBatch').stack[1]!]).toBe(
      frameAt(
        'secondBatch',
        'for (let i = 10; i < 15; i++) nodes.push(makeNode(heap, i));',
        'makeNode(',
      ),
    );
    // The DHAT file reads back to the same profile.
    expect(readDhat(writeDhat(profile))).toEqual(profile);
  });

  it('keeps one program point per site with stackDepth 1, with its true maximum', () => {
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 16)), {
      stackDepth: 1,
    });
    scenario(heap);
    const profile = heap.toProfile();
    expect(profile.programPoints).toHaveLength(3);
    expect(pp(profile, 'makeNode')).toMatchObject({
      stack: [expect.any(Number)],
      totalBytes: 240,
      totalBlocks: 15,
      totalLifetimes: 95,
      maxBytes: 160,
      maxBlocks: 10,
      peakBytes: 160,
      peakBlocks: 10,
      endBytes: 160,
      endBlocks: 10,
      accesses: [-4, 35, -4, 0, -8, 15],
    });
  });

  it('measures lifetimes in microseconds when asked', () => {
    const heap = trackAllocator(new BumpAllocator(new ArrayBuffer(1 << 16)), { clock: 'µs' });
    scenario(heap);
    const profile = heap.toProfile();
    expect(profile.timeUnit).toBe('µs');
    expect(profile.timeUnitLarge).toBe('s');
    expect(profile.peakTime).toBeLessThanOrEqual(profile.endTime);
    expect(pp(profile, 'grow').totalBlocks).toBe(1);
    for (const p of profile.programPoints) expect(p.totalLifetimes).toBeGreaterThanOrEqual(0);
  });

  it('counts no accesses when told not to, and leaves rb, wb and acc out', () => {
    const heap = trackAllocator(new SlabAllocator(new ArrayBuffer(1 << 16), { blockSize: 2048 }), {
      accesses: false,
    });
    scenario(heap);
    const profile = heap.toProfile();
    expect(profile.hasAccesses).toBe(false);
    for (const p of profile.programPoints) {
      expect(p.readBytes).toBeUndefined();
      expect(p.accesses).toBeUndefined();
    }
    expect(pp(profile, 'grow').totalBytes).toBe(2000);
  });

  it('frees everything on reset()', () => {
    const heap = trackAllocator(new BumpAllocator(new ArrayBuffer(4096)), { stackDepth: 1 });
    for (let i = 0; i < 4; i++) makeBuffer(heap, 100);
    heap.reset();
    makeBuffer(heap, 50);
    const p = pp(heap.toProfile(), 'makeBuffer');
    expect(p).toMatchObject({ totalBlocks: 5, peakBytes: 400, endBytes: 50, endBlocks: 1 });
    expect(heap.stats().bytesInUse).toBe(50);
  });

  it('rejects bad accesses and bad frees without changing anything', () => {
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(4096)));
    const p = makeBuffer(heap, 16);
    heap.write32(p, 12, 0xdeadbeef);
    const before = JSON.stringify(heap.toProfile().programPoints);
    const stats = heap.stats();
    expect(() => heap.read32(p, 13)).toThrow(OutOfBoundsError);
    expect(() => heap.read8(p, -1)).toThrow(OutOfBoundsError);
    expect(() => heap.writeBytes(p, 10, new Uint8Array(7))).toThrow(
      /access of 7 bytes at offset 10 is outside block \d+ \(16 bytes\)/,
    );
    expect(() => heap.readF64(p + 8)).toThrow(ForeignPointerError);
    expect(() => heap.free(p + 8)).toThrow(ForeignPointerError);
    expect(() => heap.alloc(1 << 20)).toThrow(OutOfMemoryError);
    heap.free(p);
    expect(() => heap.free(p)).toThrow(DoubleFreeError);
    expect(() => heap.read8(p)).toThrow(ForeignPointerError);
    const after = heap.toProfile().programPoints;
    // The only change is the free itself.
    const was = JSON.parse(before) as ProgramPoint[];
    expect(after).toEqual(was.map((x) => ({ ...x, endBytes: 0, endBlocks: 0 })));
    expect(heap.stats()).toEqual({
      ...stats,
      bytesInUse: 0,
      blocksInUse: 0,
      freeBytes: 4096,
      largestFreeBytes: 4096,
      overheadBytes: 0,
      fragmentation: 0,
    });
    expect(heap.anomalies.failedAllocations).toBe(1);
  });

  it('records accesses little-endian and across realloc copies', () => {
    const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(4096)));
    const p = heap.alloc(8);
    heap.write32(p, 0, 0x01020304);
    expect(heap.read8(p, 0)).toBe(4);
    expect(heap.read16(p, 2)).toBe(0x0102);
    heap.write16(p, 4, 0xabcd);
    heap.write8(p, 6, 0x7f);
    const q = heap.realloc(p, 64);
    expect(heap.read32(q, 0)).toBe(0x01020304);
    expect(heap.read16(q, 4)).toBe(0xabcd);
    expect(heap.read8(q, 6)).toBe(0x7f);
    heap.writeF64(q, 56, Math.PI);
    expect(heap.readF64(q, 56)).toBe(Math.PI);
    expect(heap.sizeOf(q)).toBe(64);
    expect(heap.sizeOf(p === q ? -1 : p)).toBeUndefined();
  });
});

// ---- Random scenarios against a brute-force reference --------------------------------

type SiteName = 'siteA' | 'siteB' | 'siteC';

function siteA(heap: TrackedAllocator, size: number): number {
  return heap.alloc(size);
}
function siteB(heap: TrackedAllocator, size: number): number {
  return heap.alloc(size);
}
function siteC(heap: TrackedAllocator, p: number, size: number): number {
  return heap.realloc(p, size);
}

type Step =
  | { op: 'alloc'; at: 'a' | 'b'; size: number }
  | { op: 'free'; pick: number }
  | { op: 'realloc'; pick: number; size: number };

/** What the program did, in order; `t` is the allocation clock at the event. */
type LogEvent =
  | { kind: 'alloc'; id: number; site: SiteName; size: number; t: number }
  | { kind: 'free'; id: number; t: number };

interface Expected {
  tb: number;
  tbk: number;
  tl: number;
  mb: number;
  mbk: number;
  gb: number;
  gbk: number;
  eb: number;
  ebk: number;
}

/** DHAT's figures from the event log, the slow obvious way: a full snapshot at every new maximum. */
function reference(log: LogEvent[], end: number): { sites: Map<SiteName, Expected>; tg: number } {
  const sites = new Map<SiteName, Expected>();
  const blocks = new Map<number, { site: SiteName; size: number; t: number }>();
  const cur = new Map<SiteName, { bytes: number; blocks: number }>();
  let live = 0;
  let max = 0;
  let tg = 0;
  let snapshot = new Map<SiteName, { bytes: number; blocks: number }>();
  for (const ev of log) {
    if (ev.kind === 'alloc') {
      blocks.set(ev.id, ev);
      const e = sites.get(ev.site) ?? {
        tb: 0,
        tbk: 0,
        tl: 0,
        mb: 0,
        mbk: 0,
        gb: 0,
        gbk: 0,
        eb: 0,
        ebk: 0,
      };
      sites.set(ev.site, e);
      const c = cur.get(ev.site) ?? { bytes: 0, blocks: 0 };
      cur.set(ev.site, c);
      c.bytes += ev.size;
      c.blocks++;
      e.tb += ev.size;
      e.tbk++;
      if (c.bytes > e.mb) {
        e.mb = c.bytes;
        e.mbk = c.blocks;
      }
      live += ev.size;
      if (live > max) {
        max = live;
        tg = ev.t;
        snapshot = new Map([...cur].map(([k, v]) => [k, { ...v }]));
      }
    } else {
      const b = blocks.get(ev.id)!;
      blocks.delete(ev.id);
      const c = cur.get(b.site)!;
      c.bytes -= b.size;
      c.blocks--;
      live -= b.size;
      sites.get(b.site)!.tl += ev.t - b.t;
    }
  }
  for (const b of blocks.values()) sites.get(b.site)!.tl += end - b.t;
  for (const [s, e] of sites) {
    e.gb = snapshot.get(s)?.bytes ?? 0;
    e.gbk = snapshot.get(s)?.blocks ?? 0;
    e.eb = cur.get(s)?.bytes ?? 0;
    e.ebk = cur.get(s)?.blocks ?? 0;
  }
  return { sites, tg };
}

describe('trackAllocator on random programs', () => {
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      op: fc.constant('alloc' as const),
      at: fc.constantFrom('a' as const, 'b' as const),
      size: fc.integer({ min: 1, max: 300 }),
    }),
    fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
    fc.record({
      op: fc.constant('realloc' as const),
      pick: fc.nat(),
      size: fc.integer({ min: 1, max: 300 }),
    }),
  );

  it('matches a brute-force computation of every DHAT figure', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 80 }), (steps) => {
        const heap = trackAllocator(new FreeListAllocator(new ArrayBuffer(1 << 16)), {
          stackDepth: 1,
        });
        const log: LogEvent[] = [];
        const live = new Map<number, number>(); // ptr -> block id
        let t = 0;
        let id = 0;
        for (const s of steps) {
          if (s.op === 'alloc') {
            const p = (s.at === 'a' ? siteA : siteB)(heap, s.size);
            log.push({
              kind: 'alloc',
              id: ++id,
              site: s.at === 'a' ? 'siteA' : 'siteB',
              size: s.size,
              t: ++t,
            });
            live.set(p, id);
            continue;
          }
          const ptrs = [...live.keys()];
          if (ptrs.length === 0) continue;
          const p = ptrs[s.pick % ptrs.length]!;
          const old = live.get(p)!;
          live.delete(p);
          if (s.op === 'free') {
            heap.free(p);
            log.push({ kind: 'free', id: old, t });
          } else {
            // A realloc is one allocation: the old block dies when the new one is born.
            const q = siteC(heap, p, s.size);
            t++;
            log.push({ kind: 'free', id: old, t });
            log.push({ kind: 'alloc', id: ++id, site: 'siteC', size: s.size, t });
            live.set(q, id);
          }
        }
        const profile = heap.toProfile();
        const { sites, tg } = reference(log, t);
        expect(profile.endTime).toBe(t);
        expect(profile.peakTime).toBe(tg);
        expect(profile.programPoints).toHaveLength(sites.size);
        for (const [name, e] of sites) {
          expect(pp(profile, name)).toMatchObject({
            totalBytes: e.tb,
            totalBlocks: e.tbk,
            totalLifetimes: e.tl,
            maxBytes: e.mb,
            maxBlocks: e.mbk,
            peakBytes: e.gb,
            peakBlocks: e.gbk,
            endBytes: e.eb,
            endBlocks: e.ebk,
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * The recorder behind `trackAllocator` and `trackWasmHeap`: every block's allocation
 * site, size and birth time, per-site running figures, the global peak, and (when
 * enabled) reads and writes per block, turned into a DHAT profile on demand.
 *
 * Figures follow Valgrind DHAT's definitions, measured exactly:
 * - `tb`/`tbk`: bytes and blocks allocated at the site. A `realloc` counts as freeing
 *   the old block and allocating a new one at the realloc's call stack (as DHAT does).
 * - `mb`/`mbk`: the site's own largest live bytes at any moment, and its live blocks
 *   at that moment (a true per-site maximum, like dhat-rs; Valgrind's DHAT only
 *   updates it at global peaks).
 * - `gb`/`gbk` at t-gmax, the first moment total live bytes reached their maximum;
 *   `eb`/`ebk` at t-end, when the profile is made.
 * - `tl`: the sum of block lifetimes; blocks still live count up to t-end.
 * - `rb`/`wb`: bytes read and written through the accessors; `acc`: per-offset access
 *   counts (saturating at 65,535) for sites whose blocks all have one size of at most
 *   1,024 bytes, run-length encoded as DHAT writes them.
 *
 * Time (`tu`) is either `allocs` — the number of allocations so far, so a block's
 * lifetime is how many allocations happened while it lived (exact and repeatable) — or
 * `µs` since tracking began.
 *
 * Groups and hooks: a block is tagged with the innermost `group()` open when it is
 * allocated, and a site is a call stack within a group (the profile puts the group as
 * the outermost frame, `[group name]`, so its tree splits by group first). Hooks
 * (`onAlloc`, `onFree`, `onRealloc`) are called synchronously once the tracker has
 * recorded the operation, so a hook that throws leaves allocator and tracker agreeing.
 *
 * The peak is found without copying every site at every new maximum: a new maximum
 * is "pending" until the next free, which freezes it (a sequence number); a site
 * saves its figures as of the last frozen peak just before it next changes.
 */

import { ProfileBuilder } from '../model/builder.js';
import type { RawLocation } from '../model/frame.js';
import type { HeapscopeMeta, Profile } from '../model/profile.js';
import { thisCommandLine } from '../util/command-line.js';
import { currentGroup } from '../util/open-groups.js';
import { ForeignPointerError, OutOfBoundsError } from './errors.js';
import { AllocEvent, FreeEvent, ReallocEvent } from './hook-events.js';
import { frameFormatter, programFrames, StackTable } from './stack.js';

export type TrackClock = 'allocs' | 'µs';

export interface TrackOptions {
  /**
   * Frames kept per call stack (default 12, as Valgrind's `--num-callers`). Capturing a
   * stack costs a few microseconds and grows with the depth.
   */
  stackDepth?: number;
  /** Time unit of lifetimes: `allocs` (default) or `µs`. */
  clock?: TrackClock;
  /** Count reads and writes made through the accessors (DHAT's `rb`, `wb`, `acc`). */
  accesses?: boolean;
  /** Blocks up to this many bytes get per-offset access counts (default 1,024, DHAT's limit). */
  accessHistogramLimit?: number;
  /** Lifetime under which DHAT's viewer calls blocks short-lived (`tuth`; default 10). */
  shortLivedThreshold?: number;
  /** Command recorded in the profile (default: this process's command line). */
  cmd?: string;
  /** Directory frame paths are shown relative to (default: the working directory). */
  cwd?: string;
  /** Called after every allocation (alloc, calloc; a realloc of a null pointer). */
  onAlloc?: (event: AllocEvent) => void;
  /** Called after every free, and for each block a `reset()` ends. */
  onFree?: (event: FreeEvent) => void;
  /** Called after every realloc of a live block (instead of onFree and onAlloc). */
  onRealloc?: (event: ReallocEvent) => void;
  /**
   * Receives what a hook threw (counted in `anomalies.hookErrors`); the operation then
   * returns normally. Without it, the error is thrown from the operation, after the
   * operation and its record are complete (an allocation's block stays allocated).
   */
  onHookError?: (error: unknown, event: AllocEvent | FreeEvent | ReallocEvent) => void;
}

/** What the tracker saw that the profile cannot show as blocks. */
export interface TrackAnomalies {
  /** Frees of pointers no tracked allocation returned (e.g. blocks the wasm module allocated itself). */
  unknownFrees: number;
  /** Allocations that returned an address the tracker thought live: freed unseen, counted freed then. */
  unseenFrees: number;
  /** Allocation calls that failed (threw, or returned 0 from wasm). */
  failedAllocations: number;
  /** Calls of a hook that threw. */
  hookErrors: number;
}

interface Site {
  stack: number;
  group: string | undefined;
  totalBytes: number;
  totalBlocks: number;
  totalLifetimes: number;
  curBytes: number;
  curBlocks: number;
  maxBytes: number;
  maxBlocks: number;
  /** Figures as of the frozen peak `peakSeq`. */
  peakBytes: number;
  peakBlocks: number;
  peakSeq: number;
  readBytes: number;
  writeBytes: number;
  /** Size of every retired block so far: -1 none yet, -2 mixed. */
  blockSize: number;
  /** Summed per-offset access counts of retired blocks (when `blockSize` >= 0). */
  histogram: Float64Array | null;
}

interface Block {
  site: Site;
  /** The call stack that allocated the block (for hooks). */
  stack: number;
  size: number;
  born: number;
  histogram: Uint16Array | null;
}

const MAX_ACCESS_COUNT = 0xffff;

export class HeapTracker {
  readonly anomalies: TrackAnomalies = {
    unknownFrees: 0,
    unseenFrees: 0,
    failedAllocations: 0,
    hookErrors: 0,
  };
  private readonly stacks: StackTable;
  /** Sites outside every group, by stack id; sites of each group likewise. */
  private readonly sites: Site[] = [];
  private readonly groupSites = new Map<string, Site[]>();
  private format: ((loc: RawLocation) => string) | undefined;
  private readonly blocks = new Map<number, Block>();
  private readonly clock: TrackClock;
  private readonly started = performance.now();
  private allocations = 0;
  private readonly countAccesses: boolean;
  private readonly histogramLimit: number;
  private liveBytes = 0;
  private liveBlocks = 0;
  private maxLiveBytes = 0;
  private peakTime = 0;
  private peakSeq = 0;
  private peakPending = false;

  constructor(private readonly options: TrackOptions = {}) {
    this.stacks = new StackTable(options.stackDepth ?? 12);
    this.clock = options.clock ?? 'allocs';
    this.countAccesses = options.accesses ?? false;
    this.histogramLimit = options.accessHistogramLimit ?? 1024;
  }

  /** Interns the caller's stack; `entry` is the public function the caller called. */
  stack(entry: (...args: never[]) => unknown): number {
    return this.stacks.capture(entry);
  }

  get tracksAccesses(): boolean {
    return this.countAccesses;
  }

  /** Blocks the tracker holds as live. */
  get liveBlockCount(): number {
    return this.liveBlocks;
  }

  /** Size of a live tracked block, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.blocks.get(ptr)?.size;
  }

  allocated(ptr: number, size: number, stack: number): void {
    const group = currentGroup();
    this.record(ptr, size, stack, group, this.tick());
    const hook = this.options.onAlloc;
    if (hook) this.call(hook, new AllocEvent(ptr, size, group, this.frameSource, stack));
  }

  /**
   * A realloc: one allocation event, at which the old block dies and the new one is
   * born (so the old block's lifetime includes the realloc, as a free at that moment).
   */
  reallocated(old: number, ptr: number, size: number, stack: number): void {
    const now = this.tick();
    const group = currentGroup();
    const oldBlock = this.retire(old);
    this.record(ptr, size, stack, group, now);
    if (!oldBlock) {
      const onAlloc = this.options.onAlloc;
      if (onAlloc) this.call(onAlloc, new AllocEvent(ptr, size, group, this.frameSource, stack));
      return;
    }
    const hook = this.options.onRealloc;
    if (!hook) return;
    const { size: oldSize, site } = oldBlock;
    this.call(
      hook,
      new ReallocEvent(old, oldSize, site.group, ptr, size, group, this.frameSource, stack),
    );
  }

  /** Calls a hook; what it throws is counted, then handed to `onHookError` or rethrown. */
  private call<E extends AllocEvent | FreeEvent | ReallocEvent>(
    hook: (event: E) => void,
    event: E,
  ): void {
    try {
      hook(event);
    } catch (error) {
      this.anomalies.hookErrors++;
      const onError = this.options.onHookError;
      if (!onError) throw error;
      onError(error, event);
    }
  }

  private readonly frameSource = (stack: number): readonly string[] => this.frames(stack);

  /** The frame strings of an interned stack, as the profile shows them. */
  private frames(stack: number): string[] {
    this.format ??= frameFormatter(this.options.cwd ?? process.cwd());
    const frames = programFrames(this.stacks.stacks[stack]!).map(this.format);
    return frames.length > 0 ? frames : ['(no JavaScript frames)'];
  }

  /** Advances the allocation clock; returns the time of the allocation. */
  private tick(): number {
    return this.clock === 'allocs' ? ++this.allocations : this.now();
  }

  private record(
    ptr: number,
    size: number,
    stack: number,
    group: string | undefined,
    born: number,
  ): void {
    if (this.blocks.has(ptr)) {
      this.anomalies.unseenFrees++;
      this.freed(ptr);
    }
    const site = this.siteOf(stack, group);
    this.touch(site);
    site.totalBytes += size;
    site.totalBlocks++;
    site.curBytes += size;
    site.curBlocks++;
    if (site.curBytes > site.maxBytes) {
      site.maxBytes = site.curBytes;
      site.maxBlocks = site.curBlocks;
    }
    this.liveBytes += size;
    this.liveBlocks++;
    if (this.liveBytes > this.maxLiveBytes) {
      this.maxLiveBytes = this.liveBytes;
      this.peakTime = born;
      this.peakPending = true;
    }
    const histogram =
      this.countAccesses && size <= this.histogramLimit ? new Uint16Array(size) : null;
    this.blocks.set(ptr, { site, stack, size, born, histogram });
  }

  /** Records a free; false when the pointer is not a tracked live block. */
  freed(ptr: number): boolean {
    const block = this.retire(ptr);
    if (!block) return false;
    const hook = this.options.onFree;
    if (hook) {
      const { size, site, stack } = block;
      this.call(
        hook,
        new FreeEvent(ptr, size, currentGroup(), site.group, this.frameSource, stack),
      );
    }
    return true;
  }

  /** Ends a block's life in the figures; undefined when the pointer is not a tracked live block. */
  private retire(ptr: number): Block | undefined {
    const block = this.blocks.get(ptr);
    if (!block) {
      this.anomalies.unknownFrees++;
      return undefined;
    }
    if (this.peakPending) {
      this.peakSeq++;
      this.peakPending = false;
    }
    const site = block.site;
    this.touch(site);
    site.curBytes -= block.size;
    site.curBlocks--;
    site.totalLifetimes += this.time() - block.born;
    mergeHistogram(site, block);
    this.liveBytes -= block.size;
    this.liveBlocks--;
    this.blocks.delete(ptr);
    return block;
  }

  /**
   * Frees every tracked block (an allocator's `reset()`). Every block is retired even
   * when a hook throws; the first error is thrown at the end.
   */
  freedAll(): void {
    let first: { error: unknown } | undefined;
    for (const ptr of [...this.blocks.keys()]) {
      try {
        this.freed(ptr);
      } catch (error) {
        first ??= { error };
      }
    }
    if (first) throw first.error;
  }

  /**
   * Checks an access of `length` bytes at `offset` in block `ptr`, counts it when
   * accesses are tracked, and returns its address. Throws ForeignPointerError or OutOfBoundsError.
   */
  access(ptr: number, offset: number, length: number, write: boolean): number {
    const block = this.blocks.get(ptr);
    if (!block) {
      throw new ForeignPointerError(
        ptr,
        'tracked heap',
        'it is not a live tracked block (accessors take the pointer alloc returned and an offset)',
      );
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > block.size) {
      throw new OutOfBoundsError(ptr, offset, length, block.size);
    }
    if (this.countAccesses) {
      if (write) block.site.writeBytes += length;
      else block.site.readBytes += length;
      const h = block.histogram;
      if (h) {
        for (let i = offset; i < offset + length; i++) if (h[i]! < MAX_ACCESS_COUNT) h[i]!++;
      }
    }
    return ptr + offset;
  }

  /** The profile as of now (the tracker keeps recording afterwards). */
  toProfile(mode: string, notes: string[] = []): Profile {
    const end = this.time();
    // Blocks still live are retired at t-end, as DHAT does at exit, without changing the tracker.
    const extra = new Map<
      Site,
      { lifetimes: number; blockSize: number; histogram: Float64Array | null }
    >();
    for (const block of this.blocks.values()) {
      const site = block.site;
      let e = extra.get(site);
      if (!e) {
        e = {
          lifetimes: 0,
          blockSize: site.blockSize,
          histogram: site.histogram ? site.histogram.slice() : null,
        };
        extra.set(site, e);
      }
      e.lifetimes += end - block.born;
      mergeHistogram(e, block);
    }
    const builder = new ProfileBuilder({
      mode,
      verb: 'Allocated',
      hasLifetimes: true,
      hasAccesses: this.countAccesses,
      timeUnit: this.clock,
      timeUnitLarge: this.clock === 'allocs' ? 'Mallocs' : 's',
      shortLivedThreshold: this.options.shortLivedThreshold ?? 10,
      cmd: this.options.cmd ?? thisCommandLine(),
      pid: process.pid,
      endTime: end,
      peakTime: this.peakTime,
    });
    for (const site of this.allSites()) {
      if (site.totalBlocks === 0) continue;
      const atPeak = this.peakPending || site.peakSeq !== this.peakSeq;
      const e = extra.get(site);
      const blockSize = e ? e.blockSize : site.blockSize;
      const histogram = e ? e.histogram : site.histogram;
      const frames = this.frames(site.stack);
      if (site.group !== undefined) frames.push(groupFrame(site.group));
      builder.add({
        frames,
        totalBytes: site.totalBytes,
        totalBlocks: site.totalBlocks,
        totalLifetimes: site.totalLifetimes + (e?.lifetimes ?? 0),
        maxBytes: site.maxBytes,
        maxBlocks: site.maxBlocks,
        peakBytes: atPeak ? site.curBytes : site.peakBytes,
        peakBlocks: atPeak ? site.curBlocks : site.peakBlocks,
        endBytes: site.curBytes,
        endBlocks: site.curBlocks,
        ...(this.countAccesses
          ? {
              readBytes: site.readBytes,
              writeBytes: site.writeBytes,
              ...(blockSize >= 0 && histogram ? { accesses: encodeAccesses(histogram) } : {}),
            }
          : {}),
      });
    }
    const { unknownFrees, unseenFrees, failedAllocations, hookErrors } = this.anomalies;
    const allNotes = [
      this.clock === 'allocs'
        ? 'Time unit "allocs": the number of allocations so far (alloc, calloc and realloc each count 1).'
        : 'Time unit "µs": microseconds since tracking began.',
      ...notes,
      ...(unknownFrees > 0
        ? [
            `${unknownFrees} frees of blocks not allocated through the tracker (not in the profile).`,
          ]
        : []),
      ...(unseenFrees > 0
        ? [
            `${unseenFrees} blocks were freed without the tracker seeing it (their address was ` +
              'handed out again); they count as freed at that moment.',
          ]
        : []),
      ...(failedAllocations > 0 ? [`${failedAllocations} allocation calls failed.`] : []),
      ...(hookErrors > 0 ? [`${hookErrors} hook calls threw.`] : []),
      ...(this.groupSites.size > 0
        ? ['Blocks allocated inside a group() have the group as their outermost frame.']
        : []),
    ];
    const meta: HeapscopeMeta = {
      version: 1,
      capture: 'exact',
      exact: { total: true, end: true, peak: true },
      peak: { method: 'exact' },
      node: process.version,
      notes: allNotes,
    };
    return builder.build(meta);
  }

  private *allSites(): Iterable<Site> {
    for (const site of this.sites) if (site) yield site;
    for (const sites of this.groupSites.values()) for (const site of sites) if (site) yield site;
  }

  private siteOf(stack: number, group: string | undefined): Site {
    let sites = this.sites;
    if (group !== undefined) {
      let s = this.groupSites.get(group);
      if (!s) {
        s = [];
        this.groupSites.set(group, s);
      }
      sites = s;
    }
    let site = sites[stack];
    if (!site) {
      site = {
        stack,
        group,
        totalBytes: 0,
        totalBlocks: 0,
        totalLifetimes: 0,
        curBytes: 0,
        curBlocks: 0,
        maxBytes: 0,
        maxBlocks: 0,
        peakBytes: 0,
        peakBlocks: 0,
        peakSeq: this.peakSeq,
        readBytes: 0,
        writeBytes: 0,
        blockSize: -1,
        histogram: null,
      };
      sites[stack] = site;
    }
    return site;
  }

  /** Saves the site's figures as of the last frozen peak before they change. */
  private touch(site: Site): void {
    if (site.peakSeq !== this.peakSeq) {
      site.peakBytes = site.curBytes;
      site.peakBlocks = site.curBlocks;
      site.peakSeq = this.peakSeq;
    }
  }

  private time(): number {
    return this.clock === 'allocs' ? this.allocations : this.now();
  }

  private now(): number {
    return Math.round((performance.now() - this.started) * 1000);
  }
}

/** The outermost frame of a group's sites. */
export function groupFrame(group: string): string {
  return `[group ${group}]`;
}

/**
 * Adds a retired block's access counts to its site, as DHAT does: a site keeps counts
 * only while all its blocks have one size.
 */
function mergeHistogram(
  into: { blockSize: number; histogram: Float64Array | null },
  block: Block,
): void {
  if (into.blockSize === -2) return;
  if (into.blockSize === -1) {
    into.blockSize = block.size;
    into.histogram = block.histogram ? Float64Array.from(block.histogram) : null;
    return;
  }
  if (into.blockSize !== block.size) {
    into.blockSize = -2;
    into.histogram = null;
    return;
  }
  const h = into.histogram;
  const b = block.histogram;
  if (!h || !b) return;
  for (let i = 0; i < h.length; i++) h[i] = Math.min(MAX_ACCESS_COUNT, h[i]! + b[i]!);
}

/** DHAT's `acc` encoding: a run of three or more equal counts `v` is written `-n, v`. */
export function encodeAccesses(counts: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < counts.length) {
    const v = Math.min(MAX_ACCESS_COUNT, counts[i]!);
    let j = i + 1;
    while (j < counts.length && Math.min(MAX_ACCESS_COUNT, counts[j]!) === v) j++;
    const run = j - i;
    if (run >= 3) out.push(-run, v);
    else for (let k = 0; k < run; k++) out.push(v);
    i = j;
  }
  return out;
}

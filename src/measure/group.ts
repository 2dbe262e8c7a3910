// group(): named sections of a program whose allocations add up across calls, like
// tracking-allocator's groups.
//
// Each call of group() is a cheap-mode region. Regions nest: a group inside another is
// counted in the outer one too (its bytes are the outer's bytes) and has its own record;
// heapscope's bookkeeping for the inner one is counted in neither.
//
// Blocks of a tracked allocator (`heapscope/alloc`) allocated inside a group are tagged
// with the innermost open group.
//
// Async code: the counters are process-wide. A group whose function awaits counts
// everything the process allocates until the promise settles, including other code
// that runs meanwhile; two groups open at the same time each count the other's
// allocations. Their sum then exceeds what was allocated. For attribution per site,
// use measure(fn, { exact: true }) or a Profiler.

import { closeGroup, openGroup, openGroupAt, openGroupCount } from '../util/open-groups.js';
import { ledger } from './ledger.js';
import {
  calibration,
  isThenable,
  type RegionFigures,
  type RegionHooks,
  type RegionRun,
  registerWarmup,
  runInRegion,
} from './region.js';

export interface GroupOptions {
  /**
   * Also measure retained bytes: two full GCs before and after each call (a few ms on
   * a small heap). Off by default, so that a group costs microseconds.
   */
  retained?: boolean;
}

/** Totals of one group over all its calls so far. */
export interface GroupStats {
  name: string;
  calls: number;
  /** Bytes allocated in the group's calls (nested groups' bytes included). */
  allocatedBytes: number;
  /** Bytes the calls left reachable (calls with `retained: true` only). */
  retainedBytes: number;
  /** Calls that measured retained bytes. */
  retainedCalls: number;
  /** GCs during the calls. */
  gcCount: number;
  /** Growth of external memory over the calls. */
  externalBytes: number;
  /** Groups that were open when a call of this one started (its outer groups, for sync code). */
  within: string[];
  /** True when a figure could be off: no native helper, or an async call before the async constant was known. */
  approximate: boolean;
}

/**
 * One group's totals. Records come from a pool made when this module loads, with room
 * for the names of outer groups: starting a new group inside a region allocates
 * nothing there (no new object would then look retained to a region around it).
 */
class GroupRecord {
  name: string | undefined = undefined;
  // Numbers in an array of doubles: updating them never allocates.
  readonly n = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5].fill(0);
  readonly within: (string | undefined)[] = new Array(WITHIN).fill(undefined);
  withinCount = 0;
  approximate = false;

  reset(name: string | undefined): void {
    this.name = name;
    this.n.fill(0);
    this.within.fill(undefined);
    this.withinCount = 0;
    this.approximate = false;
  }

  hasWithin(name: string): boolean {
    for (let i = 0; i < this.withinCount; i++) if (this.within[i] === name) return true;
    return false;
  }
}
/** Outer group names a record keeps (more are dropped). */
const WITHIN = 16;
/** Records in the pool; past it, records are allocated as needed. */
const POOL = 64;
const CALLS = 0;
const ALLOCATED = 1;
const RETAINED = 2;
const RETAINED_CALLS = 3;
const GCS = 4;
const EXTERNAL = 5;

const pool: GroupRecord[] = Array.from({ length: POOL }, () => new GroupRecord());
let used = 0;

function find(name: string): GroupRecord | undefined {
  for (let i = 0; i < used; i++) if (pool[i]!.name === name) return pool[i];
  return undefined;
}

function create(name: string): GroupRecord {
  if (used === pool.length) pool.push(new GroupRecord());
  const r = pool[used++]!;
  r.reset(name);
  return r;
}

/** Finds or creates the record of `name` and notes the groups open around it (no allocation). */
function enterGroup(name: string): void {
  const rec = find(name) ?? create(name);
  const count = openGroupCount();
  for (let i = 0; i < count; i++) {
    const o = openGroupAt(i)!;
    if (rec.withinCount < WITHIN && !rec.hasWithin(o)) rec.within[rec.withinCount++] = o;
  }
  openGroup(name);
}

function add(rec: GroupRecord, f: RegionFigures, async: boolean): void {
  rec.n[CALLS]!++;
  rec.n[ALLOCATED] = rec.n[ALLOCATED]! + f.allocatedBytes;
  if (f.retainedBytes !== undefined) {
    rec.n[RETAINED] = rec.n[RETAINED]! + f.retainedBytes;
    rec.n[RETAINED_CALLS]!++;
  }
  rec.n[GCS] = rec.n[GCS]! + f.gcCount;
  rec.n[EXTERNAL] = rec.n[EXTERNAL]! + f.externalBytes;
  if (f.approximate || (async && calibration().async === undefined)) rec.approximate = true;
}

/** Constant hooks (no closure per call: a group nested in another allocates nothing in it). */
const GROUP_HOOKS: RegionHooks<undefined> = {
  atEntry: (name) => {
    enterGroup(name as string);
  },
  onFigures: (f, name, kind) => {
    closeGroup(name as string);
    const rec = find(name as string);
    if (rec) add(rec, f, kind === 'async');
  },
};

/**
 * Runs `fn` as part of the group `name` and returns what it returns (for an async
 * function, a promise that settles once the group's figures are in). Figures add up
 * in `groupStats()`.
 */
export function group<T>(name: string, fn: () => T, options?: GroupOptions): T {
  const run = runInRegion(fn, options?.retained === true, GROUP_HOOKS, name);
  if (isThenable(run)) {
    return (run as Promise<RegionRun<Awaited<T>>>).then(valueOfRun) as T;
  }
  return (run as RegionRun<T>).value;
}

function valueOfRun<T>(r: RegionRun<T>): T {
  return r.value;
}

// Compile the group paths (nested, retained, new records) before anything is measured.
const WARM = '\u0000heapscope-warm-up';
registerWarmup(() => {
  group(WARM, () => group(`${WARM}-inner`, () => 0, { retained: true }), { retained: true });
  removeWhere((name) => name.startsWith(WARM));
});

/** The totals of every group so far, in the order the groups were first seen. */
export function groupStats(): GroupStats[] {
  return pool.slice(0, used).map((r) => ({
    name: r.name!,
    calls: r.n[CALLS]!,
    allocatedBytes: r.n[ALLOCATED]!,
    retainedBytes: r.n[RETAINED]!,
    retainedCalls: r.n[RETAINED_CALLS]!,
    gcCount: r.n[GCS]!,
    externalBytes: r.n[EXTERNAL]!,
    within: r.within.slice(0, r.withinCount) as string[],
    approximate: r.approximate || !ledger.exactGcCounts,
  }));
}

function removeWhere(drop: (name: string) => boolean): void {
  const kept = pool.slice(0, used).filter((r) => !drop(r.name!));
  const dropped = pool.slice(0, used).filter((r) => drop(r.name!));
  for (const r of dropped) r.reset(undefined);
  pool.splice(0, used, ...kept, ...dropped);
  used = kept.length;
}

/** Forgets every group's totals (groups still open count into fresh records). */
export function resetGroups(): void {
  removeWhere(() => true);
}

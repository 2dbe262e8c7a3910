// checkLeak's exact step: do the values the calls make keep piling up, and what keeps them?
//
// One span with V8's allocation tracker on: N calls, a heap snapshot, 2N more calls,
// another snapshot. V8 gives an object its id at the first snapshot that sees it and
// ids only grow, so an object of either snapshot whose id is at least the span's first
// id was made inside the span. The figure is the growth of those objects from the first
// snapshot to the second, per call of the second phase. What a call leaves in flight
// (a socket's last request, the newest entries of a bounded cache) is in both
// snapshots alike and cancels out; a leak adds its objects in the 2N calls. Only the
// program's values count (V8's code, shapes and feedback left out, as in exact mode);
// objects that optimized code made past the tracker still have ids, so they count too.
//
// Why N then 2N: when the span starts, a structure that holds one entry per call so far
// (an array, a Map's table) has about N entries if N is the number of calls made so
// far; the first phase takes it to 2N, the second to 4N, and a table whose capacity
// doubles must grow within the second phase. Then its new table is in the second
// snapshot and its old one in the first, and the difference is the growth.
//
// Sites: each new value is charged to the code that keeps it. Its shortest retainer
// path from the roots (as in a snapshot view) reaches the span's objects at one that an
// older object holds; that one's own site, or, when the older holder keeps it in an
// internal array made in the span (an array's elements, an object's property store, a
// Map's table), the site that made that array: the `push` or `set` of the code that
// keeps the value, rather than the Node internals that allocated it. Growth per site is
// the second snapshot's bytes charged there minus the first's. Sites of objects that
// the first snapshot saw come from it (V8 stops following an object's site once it has
// an id); the second snapshot gives the others.

import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeapSnapshot } from '../formats/heapsnapshot/index.js';
import { profileFromTrackedSnapshot, programValues } from '../formats/tracked-snapshot.js';
import type { RawLocation } from '../model/frame.js';
import type { Profile } from '../model/profile.js';
import { isProgramFrame, programSite } from '../model/program-frames.js';
import { edgeSource, graphKinds } from '../model/snapshot/graph.js';
import { NO_EDGE, shortestPaths } from '../model/snapshot/paths.js';
import {
  deoptimizeAll,
  frameRoles,
  heapscopeTrackedBatch,
  heapscopeTrackedBatchAsync,
  readSnapshotSync,
} from './exact.js';
import { ledger } from './ledger.js';
import { type FrameRoles, programFrames, programProfile, type Site } from './sites.js';
import { acquireTracker, releaseTracker } from './state.js';

/** The exact step's result. */
export interface LeakSpan {
  /** Calls between the two snapshots (2N; N ran before the first). */
  iterations: number;
  /** Growth of the program's values made in the span, per call between the snapshots. */
  bytesPerIteration: number;
  /** Where the growth is kept (see the module comment), user code first, most bytes first. */
  sites: Site[];
  /** The span as a DHAT-model profile: its allocations, and what was live at its end. */
  profile: Profile;
}

let seq = 0;

/**
 * Runs `fn` N times, snapshots, 2N times, snapshots, with allocation tracking on, and
 * measures the growth. Synchronous when `fn` is (`isAsync` false). Throws where exact
 * mode cannot run (no native helper, the tracker in use).
 */
export function leakSpan(
  fn: () => unknown,
  isAsync: boolean,
  n: number,
): LeakSpan | Promise<LeakSpan> {
  const addon = acquireTracker('checkLeak');
  const id = `${process.pid}-${++seq}`;
  const paths = [1, 2].map((k) => join(tmpdir(), `heapscope-leak-${id}-${k}.heapsnapshot`));
  let tracking = false;
  let first = 0;
  const startHr = process.hrtime.bigint();
  const stop = () => {
    if (tracking) {
      addon.stopTracking();
      ledger.reinstallGcCounting();
      tracking = false;
    }
    releaseTracker();
  };
  const cleanup = () => {
    for (const p of paths) rmSync(p, { force: true });
  };
  try {
    deoptimizeAll();
    addon.startTracking(true);
    tracking = true;
    first = addon.gcStats().firstTrackedObjectId;
  } catch (e) {
    stop();
    throw e;
  }
  const finish = (): LeakSpan => {
    try {
      addon.writeSnapshot(paths[1]!);
    } finally {
      stop();
    }
    try {
      const s2 = readSnapshotSync(paths[1]!);
      const span = measureSpan(readSnapshotSync(paths[0]!), s2, first, 2 * n);
      return { ...span, profile: spanProfile(s2, first, startHr) };
    } finally {
      cleanup();
    }
  };
  if (!isAsync) {
    try {
      heapscopeTrackedBatch(fn, n);
      addon.writeSnapshot(paths[0]!);
      heapscopeTrackedBatch(fn, 2 * n);
    } catch (e) {
      stop();
      cleanup();
      throw e;
    }
    return finish();
  }
  const drained = () => new Promise<void>((resolve) => setImmediate(resolve));
  return (async () => {
    try {
      await heapscopeTrackedBatchAsync(fn, n);
      await drained();
      addon.writeSnapshot(paths[0]!);
      await heapscopeTrackedBatchAsync(fn, 2 * n);
      await drained();
    } catch (e) {
      stop();
      cleanup();
      throw e;
    }
    return finish();
  })();
}

/** The span's values in one snapshot, charged to the site that keeps each. */
interface Charged {
  /** Bytes per trace-node id. */
  bytes: Map<number, number>;
  blocks: Map<number, number>;
  total: number;
}

/**
 * Charges each program value made in the span (id ≥ `first`) to the trace node that
 * keeps it. `siteOfId` gives the trace node of objects an earlier snapshot saw.
 */
function charge(snap: HeapSnapshot, first: number, siteOfId?: Map<number, number>): Charged {
  const { nodes, edges, firstEdge, nodeFieldCount: nf, edgeFieldCount: ef, nodeCount } = snap;
  const { id: idOff, selfSize: sizeOff, traceNodeId: traceOff } = snap.nodeOffsets;
  const { type: eTypeOff, toNode: toOff } = snap.edgeOffsets;
  const kinds = graphKinds(snap);
  const value = programValues(snap);
  const paths = shortestPaths(snap, kinds);
  const inSpan = (n: number) => nodes[n * nf + idOff]! >= first;
  const siteOf = (n: number): number => {
    const objectId = nodes[n * nf + idOff]!;
    const known = siteOfId?.get(objectId);
    if (known !== undefined) return known;
    return traceOff >= 0 ? nodes[n * nf + traceOff]! : 0;
  };
  const parentOf = (n: number): number => {
    const e = paths.via[n]!;
    return e === NO_EDGE ? -1 : edgeSource(snap, e);
  };
  // top[n]: the span's object nearest the roots on n's path (n itself at worst), -1 when
  // none; computed once per node, walking up to the first node already known.
  const top = new Int32Array(nodeCount).fill(-2);
  const stack: number[] = [];
  const topOf = (n: number): number => {
    let m = n;
    while (m >= 0 && top[m] === -2) {
      stack.push(m);
      m = parentOf(m);
    }
    let above = m >= 0 ? top[m]! : -1;
    while (stack.length > 0) {
      const k = stack.pop()!;
      above = above >= 0 ? above : inSpan(k) ? k : -1;
      top[k] = above;
    }
    return top[n]!;
  };
  // The site that keeps a top object: that of an internal array made in the span through
  // which its holder also reaches it, or its own.
  const keeperOf = new Map<number, number>();
  const keeper = (t: number): number => {
    let site = keeperOf.get(t);
    if (site !== undefined) return site;
    site = siteOf(t);
    const holder = parentOf(t);
    if (holder >= 0) {
      for (let e = firstEdge[holder]!; e < firstEdge[holder + 1]!; e += ef) {
        if (edges[e + eTypeOff] !== kinds.edgeInternal && edges[e + eTypeOff] !== kinds.edgeHidden)
          continue;
        const store = edges[e + toOff]! / nf;
        if (store === t || !inSpan(store) || siteOf(store) === 0) continue;
        if (reaches(snap, store, t)) {
          site = siteOf(store);
          break;
        }
      }
    }
    keeperOf.set(t, site);
    return site;
  };
  const bytes = new Map<number, number>();
  const blocks = new Map<number, number>();
  let total = 0;
  for (let n = 0; n < nodeCount; n++) {
    if (!value[n] || !inSpan(n)) continue;
    const size = nodes[n * nf + sizeOff]!;
    total += size;
    const t = topOf(n);
    const site = t >= 0 ? keeper(t) : siteOf(n);
    bytes.set(site, (bytes.get(site) ?? 0) + size);
    blocks.set(site, (blocks.get(site) ?? 0) + 1);
  }
  return { bytes, blocks, total };
}

/** Whether `from` has a direct edge to `to`. */
function reaches(snap: HeapSnapshot, from: number, to: number): boolean {
  const target = to * snap.nodeFieldCount;
  const { toNode } = snap.edgeOffsets;
  for (let e = snap.firstEdge[from]!; e < snap.firstEdge[from + 1]!; e += snap.edgeFieldCount) {
    if (snap.edges[e + toNode] === target) return true;
  }
  return false;
}

/** The span's allocations and live objects as a profile of the program's sites. */
function spanProfile(snap: HeapSnapshot, first: number, startHr: bigint): Profile {
  const { formatFrame, roles } = frameRoles();
  const full = profileFromTrackedSnapshot(snap, {
    cmd: [process.argv0, ...process.argv.slice(1)].join(' '),
    pid: process.pid,
    endTimeUs: Number((process.hrtime.bigint() - startHr) / 1000n),
    firstTrackedObjectId: first,
    formatFrame,
    meta: {
      node: process.version,
      v8: process.versions.v8,
      cwd: process.cwd(),
      notes: [
        "checkLeak's exact step: N calls, a snapshot, 2N calls; live at the end of the 3N calls",
        'frame positions are those of the function (V8 records no allocating line)',
      ],
    },
  });
  return programProfile(full, roles);
}

function measureSpan(
  s1: HeapSnapshot,
  s2: HeapSnapshot,
  first: number,
  calls: number,
): Omit<LeakSpan, 'profile'> {
  // Trace nodes of the span's objects as the first snapshot saw them.
  const siteOfId = new Map<number, number>();
  const { id: idOff, traceNodeId: traceOff } = s1.nodeOffsets;
  if (traceOff >= 0) {
    for (let n = 0, p = 0; n < s1.nodeCount; n++, p += s1.nodeFieldCount) {
      if (s1.nodes[p + idOff]! >= first)
        siteOfId.set(s1.nodes[p + idOff]!, s1.nodes[p + traceOff]!);
    }
  }
  const before = charge(s1, first);
  const after = charge(s2, first, siteOfId);
  return {
    iterations: calls,
    bytesPerIteration: (after.total - before.total) / calls,
    sites: grownSites(s2, before, after),
  };
}

/** Frames of a trace node, allocating function first, in the program's terms. */
function traceStack(
  snap: HeapSnapshot,
  traceId: number,
  formatFrame: (loc: RawLocation) => string,
  roles: FrameRoles,
): string[] | undefined {
  const { trace, traceFunctionInfos, strings } = snap;
  const o = snap.traceFunctionInfoOffsets;
  const stride = snap.meta.traceFunctionInfoFields.length;
  const frames: string[] = [];
  for (let t = trace.indexById.get(traceId) ?? -1; t >= 0 && trace.parent[t]! >= 0; ) {
    const base = trace.functionInfoIndex[t]! * stride;
    frames.push(
      formatFrame({
        functionName: strings.get(traceFunctionInfos[base + o.name]!) ?? '',
        scriptName: strings.get(traceFunctionInfos[base + o.scriptName]!) ?? '',
        line: traceFunctionInfos[base + o.line]!,
        column: traceFunctionInfos[base + o.column]!,
      }),
    );
    t = trace.parent[t]!;
  }
  return programFrames(frames, roles);
}

function grownSites(snap: HeapSnapshot, before: Charged, after: Charged): Site[] {
  const { formatFrame, roles } = frameRoles();
  // Sites are merged by their stack first (a value and the array storing it can share
  // one once `push` is set aside), then the first snapshot's bytes taken from the second's.
  const bySite = new Map<string, Site>();
  const traceIds = new Set([...before.bytes.keys(), ...after.bytes.keys()]);
  for (const t of traceIds) {
    const frames = traceStack(snap, t, formatFrame, roles);
    if (!frames) continue;
    const stack = programSite(frames);
    const key = stack.join('\n');
    let site = bySite.get(key);
    if (!site) {
      site = { stack, allocatedBytes: 0, allocatedBlocks: 0, retainedBytes: 0, retainedBlocks: 0 };
      bySite.set(key, site);
    }
    const index = snap.trace.indexById.get(t);
    if (index !== undefined) {
      site.allocatedBytes += snap.trace.allocSize[index]!;
      site.allocatedBlocks += snap.trace.allocCount[index]!;
    }
    site.retainedBytes += (after.bytes.get(t) ?? 0) - (before.bytes.get(t) ?? 0);
    site.retainedBlocks += (after.blocks.get(t) ?? 0) - (before.blocks.get(t) ?? 0);
  }
  const user = (s: Site) => (s.stack.some(isProgramFrame) ? 0 : 1);
  return [...bySite.values()]
    .filter((s) => s.retainedBytes > 0)
    .sort((a, b) => user(a) - user(b) || b.retainedBytes - a.retainedBytes);
}

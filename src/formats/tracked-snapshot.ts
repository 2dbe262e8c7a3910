/**
 * A heap snapshot taken while V8's allocation tracker ran, read as a DHAT-model Profile.
 *
 * Such a snapshot carries the tracker's trace tree: one node per distinct allocation
 * stack, with the exact number and size of every allocation made there, collected
 * objects included (`tb`/`tbk`). Each live object in the snapshot names the trace node
 * that allocated it (`trace_node_id`), which gives live-at-end per site (`eb`/`ebk`).
 * The snapshot itself is taken after a full GC, so "live" means reachable.
 */
import { ProfileBuilder } from '../model/builder.js';
import {
  frameOfLocation,
  NATIVE_FILE,
  type RawLocation,
  UNTRACED_SITE_FRAME,
} from '../model/frame.js';
import type { HeapscopeMeta, Profile, ProgramPointExtras } from '../model/profile.js';
import { builtinNames } from '../model/snapshot/builtins.js';
import type { HeapSnapshot } from './heapsnapshot/index.js';

export interface TrackedSnapshotOptions {
  cmd: string;
  pid: number;
  /** Time from the start of tracking to the snapshot, in µs. */
  endTimeUs: number;
  /** Turns a tracker location into a frame string; default `fn (script:line:col)`. */
  formatFrame?: (loc: RawLocation) => string;
  /**
   * Recognises the profiler's own frames: whatever was allocated with one of them on the
   * stack was allocated by the profiler, and is left out.
   */
  isOwnFrame?: (loc: RawLocation) => boolean;
  /**
   * Snapshot object id of the first object made after tracking began. Older objects'
   * trace ids are ignored: V8 does not update them when the GC moves those objects, so
   * they name whichever dead object last lay at the new address.
   */
  firstTrackedObjectId?: number;
  /** Live bytes per frame-stack at the global peak, when something measured it. */
  peak?: PeakEstimate;
  /**
   * false when live-at-end may have lost objects (traces V8 stopped following): the
   * profile says `exact.end: false`. Default true.
   */
  endExact?: boolean;
  meta: Omit<HeapscopeMeta, 'exact' | 'peak' | 'version' | 'capture'> & {
    peak?: HeapscopeMeta['peak'];
  };
}

export interface PeakEstimate {
  timeUs: number;
  method: 'sampled-at-peak' | 'exact';
  /** Live bytes and blocks at the peak, keyed by `siteKey` of the stack. */
  bySite: Map<string, { bytes: number; blocks: number }>;
}

/**
 * Identifies a stack by function names and scripts only: V8's sampling profiler and its
 * allocation tracker do not always agree on positions (a collected script has none).
 */
export function siteKey(stack: readonly RawLocation[]): string {
  return stack.map((l) => `${l.functionName}\t${l.scriptName}`).join('\n');
}

/**
 * Snapshot node types that are V8's own metadata rather than JavaScript values: code,
 * hidden classes ("object shape"), feedback and other internals V8 creates while a
 * function runs and charges to its frames. Live-at-end figures (`eb`/`ebk`) leave them
 * out; `heapscope.endByType` on each program point still lists them.
 */
export const V8_INTERNAL_TYPES: ReadonlySet<string> = new Set([
  'hidden',
  'code',
  'object shape',
  'synthetic',
]);

/** Holders whose references do not make a value the program's: compiled code and feedback. */
const METADATA_HOLDER_TYPES: ReadonlySet<string> = new Set(['code', 'object shape']);
/**
 * GC roots that hold what V8's own C++ code is using at the moment of the snapshot (the
 * snapshot is taken from inside the exit handler, with V8's runtime mid-call).
 */
const METADATA_HOLDER_ROOTS: ReadonlySet<string> = new Set([
  '(Handle scope)',
  '(Strong roots)',
  '(Identity map)',
]);

/**
 * Which nodes hold JavaScript values the program made, as opposed to V8's own records.
 *
 * V8 parses and compiles partly outside the allocation tracker's view, and keeps some
 * values of its own at a site (a literal's boilerplate, held by its allocation site;
 * function names held by compiled-code records). Such objects can sit at an address
 * whose trace still names a dead object of your code, or be charged to the literal that
 * made them. They are told apart by what holds them: a value counts when something
 * other than V8's code and feedback records holds it, and that holder is itself a
 * program value or a plain container (property or element storage, a scope, a GC root).
 * Computed as the greatest fixpoint, so cycles among program values stay in.
 */
export function programValues(snap: HeapSnapshot): Uint8Array {
  const stride = snap.nodeFieldCount;
  const { type: typeOff, name: nameOff } = snap.nodeOffsets;
  const edgeStride = snap.edgeFieldCount;
  const { type: edgeTypeOff, toNode: toOff } = snap.edgeOffsets;
  const weak = snap.meta.edgeTypes.indexOf('weak');
  const types = snap.meta.nodeTypes;
  const internalType = new Uint8Array(types.length);
  const metadataType = new Uint8Array(types.length);
  types.forEach((t, i) => {
    internalType[i] = V8_INTERNAL_TYPES.has(t) ? 1 : 0;
    metadataType[i] = METADATA_HOLDER_TYPES.has(t) ? 1 : 0;
  });
  const syntheticType = types.indexOf('synthetic');
  const n = snap.nodeCount;
  const value = new Uint8Array(n);
  const metadata = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const t = snap.nodes[i * stride + typeOff]!;
    const name = snap.strings.get(snap.nodes[i * stride + nameOff]!) ?? '';
    metadata[i] =
      metadataType[t] || (t === syntheticType && METADATA_HOLDER_ROOTS.has(name)) ? 1 : 0;
    value[i] = internalType[t] || name.startsWith('system / ') ? 0 : 1;
  }
  const eligible = value.slice();
  // Holders that make a node the program's, counted while every eligible node is presumed a value.
  const holders = new Uint32Array(n);
  for (let h = 0; h < n; h++) {
    if (metadata[h]) continue;
    for (let e = snap.firstEdge[h]!; e < snap.firstEdge[h + 1]!; e += edgeStride) {
      if (snap.edges[e + edgeTypeOff] === weak) continue;
      const to = snap.edges[e + toOff]! / stride;
      if (eligible[to]) holders[to]!++;
    }
  }
  const work: number[] = [];
  for (let i = 0; i < n; i++) if (eligible[i] && holders[i] === 0) work.push(i);
  while (work.length > 0) {
    const h = work.pop()!;
    if (!value[h]) continue;
    value[h] = 0;
    for (let e = snap.firstEdge[h]!; e < snap.firstEdge[h + 1]!; e += edgeStride) {
      if (snap.edges[e + edgeTypeOff] === weak) continue;
      const to = snap.edges[e + toOff]! / stride;
      if (value[to] && --holders[to]! === 0) work.push(to);
    }
  }
  return value;
}

/**
 * Locations the trace gives without a place, given one where the snapshot can tell it:
 * V8's built-ins (no script, script id 0) are named in full and placed in `native`
 * (`Array.prototype.push (native)`); an unnamed function called by Node's module
 * loader (`Module._compile`, or its anonymous callers on Node 26) whose script died is
 * that module's top level, line 1, column 1, where V8 puts every module's top level.
 */
function locateUnpositioned(
  snap: HeapSnapshot,
  rawOf: (fi: number) => RawLocation,
): Map<number, RawLocation> {
  const { functionId: fiId, scriptId: fiScriptId } = snap.traceFunctionInfoOffsets;
  const fiStride = snap.meta.traceFunctionInfoFields.length;
  const located = new Map<number, RawLocation>();
  const builtins = new Map<number, number>();
  const unnamedDead = new Set<number>();
  for (let fi = 0; fi < snap.traceFunctionCount; fi++) {
    const loc = rawOf(fi);
    if (loc.line > 0) continue;
    if (!loc.scriptName) {
      const scriptId = fiScriptId >= 0 ? snap.traceFunctionInfos[fi * fiStride + fiScriptId] : 0;
      if (scriptId === 0 && fiId >= 0 && isBuiltinName(loc.functionName)) {
        builtins.set(fi, snap.traceFunctionInfos[fi * fiStride + fiId]!);
      }
    } else if (loc.functionName === '' || loc.functionName === '(anonymous)') {
      unnamedDead.add(fi);
    }
  }
  if (unnamedDead.size > 0) {
    const trace = snap.trace;
    for (let t = 0; t < trace.count; t++) {
      const fi = trace.functionInfoIndex[t]!;
      const parent = trace.parent[t]!;
      if (!unnamedDead.has(fi) || parent < 0 || located.has(fi)) continue;
      const caller = rawOf(trace.functionInfoIndex[parent]!);
      if (caller.scriptName.startsWith('node:internal/modules/')) {
        located.set(fi, { ...rawOf(fi), line: 1, column: 1 });
      }
    }
  }
  if (builtins.size > 0) {
    const names = builtinNames(snap, new Set(builtins.values()));
    for (const [fi, id] of builtins) {
      const loc = rawOf(fi);
      located.set(fi, {
        ...loc,
        functionName: names.get(id) ?? loc.functionName,
        scriptName: NATIVE_FILE,
      });
    }
  }
  return located;
}

/** A built-in's name, as opposed to V8's pseudo-frames (`(root)`, `(V8 API)`, `(program)`). */
function isBuiltinName(name: string): boolean {
  return name !== '' && !name.startsWith('(');
}

/** Reads the trace tree and live objects of a tracked snapshot into a Profile. */
export function profileFromTrackedSnapshot(
  snap: HeapSnapshot,
  options: TrackedSnapshotOptions,
): Profile {
  const trace = snap.trace;
  if (trace.count === 0) {
    throw new Error('heapsnapshot has no allocation traces (was allocation tracking on?)');
  }
  const fiFields = snap.meta.traceFunctionInfoFields;
  const fiStride = fiFields.length;
  const fiName = fiFields.indexOf('name');
  const fiScript = fiFields.indexOf('script_name');
  const fiLine = fiFields.indexOf('line');
  const fiColumn = fiFields.indexOf('column');
  const formatFrame = options.formatFrame ?? frameOfLocation;
  const rawOf = (fi: number): RawLocation => {
    const base = fi * fiStride;
    return {
      functionName: snap.strings.get(snap.traceFunctionInfos[base + fiName]!) ?? '',
      scriptName: snap.strings.get(snap.traceFunctionInfos[base + fiScript]!) ?? '',
      line: snap.traceFunctionInfos[base + fiLine]!,
      column: snap.traceFunctionInfos[base + fiColumn]!,
    };
  };
  const located = locateUnpositioned(snap, rawOf);
  const frameOfFunction = new Map<number, { loc: RawLocation; frame: string } | null>();
  const frameOf = (fi: number) => {
    let f = frameOfFunction.get(fi);
    if (f === undefined) {
      const loc = located.get(fi) ?? rawOf(fi);
      f = options.isOwnFrame?.(loc) ? null : { loc, frame: formatFrame(loc) };
      frameOfFunction.set(fi, f);
    }
    return f;
  };

  // Live objects per trace node, and by V8 node type.
  const nodeFields = snap.meta.nodeFields;
  const stride = nodeFields.length;
  const typeOff = nodeFields.indexOf('type');
  const sizeOff = nodeFields.indexOf('self_size');
  const traceOff = nodeFields.indexOf('trace_node_id');
  const idOff = nodeFields.indexOf('id');
  const firstTracked = options.firstTrackedObjectId ?? 0;
  const isProgramValue = programValues(snap);
  const typeNames = snap.meta.nodeTypes;
  const endBytes = new Float64Array(trace.count);
  const endBlocks = new Float64Array(trace.count);
  const endByType = new Map<number, Record<string, [number, number]>>();
  const nativeType = typeNames.indexOf('native');
  // Program values made while tracking whose trace V8 lost: counted, never dropped.
  const untraced = { bytes: 0, blocks: 0 };
  if (traceOff >= 0) {
    for (let n = 0; n < snap.nodeCount; n++) {
      const id = snap.nodes[n * stride + idOff]!;
      const tid = snap.nodes[n * stride + traceOff]!;
      const t = tid === 0 ? undefined : trace.indexById.get(tid);
      // An id from before tracking began: an object older than tracking, whose trace (if
      // any) is stale. (A new object at an address where an older one died can inherit its
      // id too, when the GC promotes its page in place; on Node 26 a few are left out so.)
      if (id < firstTracked) continue;
      const size = snap.nodes[n * stride + sizeOff]!;
      if (t === undefined) {
        // Heap objects have odd ids; embedder (native) nodes even ones and no trace ever.
        const heapObject = id % 2 === 1 && snap.nodes[n * stride + typeOff] !== nativeType;
        if (firstTracked > 0 && heapObject && isProgramValue[n]) {
          untraced.bytes += size;
          untraced.blocks++;
        }
        continue;
      }
      const type = isProgramValue[n]
        ? (typeNames[snap.nodes[n * stride + typeOff]!] ?? 'unknown')
        : 'V8 internal';
      if (isProgramValue[n]) {
        endBytes[t] = endBytes[t]! + size;
        endBlocks[t] = endBlocks[t]! + 1;
      }
      let byType = endByType.get(t);
      if (!byType) {
        byType = {};
        endByType.set(t, byType);
      }
      const prev = byType[type] ?? [0, 0];
      byType[type] = [prev[0] + size, prev[1] + 1];
    }
  }

  const peak = options.peak;
  const builder = new ProfileBuilder({
    mode: 'node-heap',
    verb: 'Allocated',
    hasLifetimes: true,
    hasAccesses: false,
    timeUnit: 'µs',
    timeUnitLarge: 's',
    shortLivedThreshold: 500,
    cmd: options.cmd,
    pid: options.pid,
    endTime: options.endTimeUs,
    peakTime: peak ? peak.timeUs : options.endTimeUs,
  });
  type Frame = { loc: RawLocation; frame: string };
  // null: the profiler's own code is on the stack, so the allocation is not the program's.
  const stackCache = new Map<number, Frame[] | null>();
  const stackOf = (t: number): Frame[] | null => {
    const cached = stackCache.get(t);
    if (cached !== undefined) return cached;
    const parent = trace.parent[t]!;
    // The trace tree's root is V8's synthetic "(root)" function: not a frame.
    if (parent < 0) {
      stackCache.set(t, []);
      return [];
    }
    const frame = frameOf(trace.functionInfoIndex[t]!);
    const rest = stackOf(parent);
    const stack = frame === null || rest === null ? null : [frame, ...rest];
    stackCache.set(t, stack);
    return stack;
  };
  // A sampled site's peak goes to the first program point of that name/script stack.
  const peakLeft = new Map(peak?.bySite ?? []);
  for (let t = 0; t < trace.count; t++) {
    const tb = trace.allocSize[t]!;
    const tbk = trace.allocCount[t]!;
    const eb = endBytes[t]!;
    const ebk = endBlocks[t]!;
    if (tbk === 0 && ebk === 0 && !endByType.has(t)) continue;
    const stack = stackOf(t);
    if (stack === null) continue;
    const frames = stack.map((f) => f.frame);
    const key = siteKey(stack.map((f) => f.loc));
    const atPeak = peakLeft.get(key);
    peakLeft.delete(key);
    const extras: ProgramPointExtras | undefined = endByType.has(t)
      ? { endByType: endByType.get(t)! }
      : undefined;
    builder.add({
      frames: frames.length ? frames : ['(V8 internal)'],
      totalBytes: tb,
      // Objects allocated before tracking began can still be live; count them as allocated
      // so that no site holds more than it allocated.
      totalBlocks: tbk,
      endBytes: eb,
      endBlocks: ebk,
      peakBytes: atPeak?.bytes ?? 0,
      peakBlocks: atPeak?.blocks ?? 0,
      ...(extras ? { heapscope: extras } : {}),
    });
  }
  if (untraced.blocks > 0) {
    builder.add({
      frames: [UNTRACED_SITE_FRAME],
      // Their allocations are in the totals of their real (unknown) sites already.
      totalBytes: 0,
      totalBlocks: 0,
      endBytes: untraced.bytes,
      endBlocks: untraced.blocks,
      peakBytes: 0,
      peakBlocks: 0,
    });
  }
  const built = builder.build();
  // A sample stands for interval/size objects, and may include garbage a minor GC left
  // in the old generation: no site can hold more than it allocated.
  for (const pp of built.programPoints) {
    pp.peakBytes = Math.min(pp.peakBytes ?? 0, pp.totalBytes);
    pp.peakBlocks = Math.min(pp.peakBlocks ?? 0, pp.totalBlocks);
  }
  // The sample can only be trusted as the peak when it holds more than the end does;
  // otherwise the end is the larger of the two moments seen, and is taken as the peak.
  let peakBytes = 0;
  let endBytesTotal = 0;
  for (const pp of built.programPoints) {
    peakBytes += pp.peakBytes ?? 0;
    endBytesTotal += pp.endBytes ?? 0;
  }
  const usePeakSample = peak !== undefined && peakBytes > endBytesTotal;
  for (const pp of built.programPoints) {
    if (!usePeakSample) {
      pp.peakBytes = pp.endBytes;
      pp.peakBlocks = pp.endBlocks;
    }
    pp.maxBytes = Math.max(pp.peakBytes ?? 0, pp.endBytes ?? 0);
    pp.maxBlocks = Math.max(pp.peakBlocks ?? 0, pp.endBlocks ?? 0);
  }
  if (!usePeakSample) built.peakTime = options.endTimeUs;
  const { peak: metaPeak, ...restMeta } = options.meta;
  built.heapscope = {
    version: 1,
    capture: 'exact',
    exact: {
      total: true,
      end: (options.endExact ?? true) && untraced.blocks === 0,
      peak: usePeakSample && peak?.method === 'exact',
    },
    peak: {
      ...metaPeak,
      method: usePeakSample ? peak!.method : 'end-as-peak',
      ...(usePeakSample || !peak
        ? {}
        : {
            note: 'the sampled peak held less than the end of the run: the end is taken as the peak',
          }),
    },
    ...restMeta,
    ...(untraced.blocks > 0
      ? {
          notes: [
            ...(restMeta.notes ?? []),
            `${untraced.blocks} live objects (${untraced.bytes} bytes) allocated while tracking have no allocation site in V8's snapshot: they are counted under ${UNTRACED_SITE_FRAME}`,
          ],
        }
      : {}),
  };
  return built;
}

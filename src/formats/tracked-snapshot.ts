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
import type { HeapscopeMeta, Profile, ProgramPointExtras } from '../model/profile.js';
import type { HeapSnapshot } from './heapsnapshot.js';

/** A function's location as the tracker reports it: 1-based; 0 when unknown. */
export interface RawLocation {
  functionName: string;
  scriptName: string;
  line: number;
  column: number;
}

export interface TrackedSnapshotOptions {
  cmd: string;
  pid: number;
  /** Time from the start of tracking to the snapshot, in µs. */
  endTimeUs: number;
  /** Turns a tracker location into a frame string; default `fn (script:line:col)`. */
  formatFrame?: (loc: RawLocation) => string;
  /** Drops frames (and program points made only of them) for which this returns true. */
  isOwnFrame?: (loc: RawLocation) => boolean;
  /** Live bytes per frame-stack at the global peak, when something measured it. */
  peak?: PeakEstimate;
  meta: Omit<HeapscopeMeta, 'exact' | 'peak' | 'version' | 'capture'> & {
    peak?: HeapscopeMeta['peak'];
  };
}

export interface PeakEstimate {
  timeUs: number;
  method: 'sampled-at-peak' | 'exact';
  /** Keyed by the program point's frames joined with '\n'. */
  bySite: Map<string, { bytes: number; blocks: number }>;
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

export function defaultFrame(loc: RawLocation): string {
  const name = loc.functionName || '(anonymous)';
  if (!loc.scriptName) return name;
  const pos = loc.line > 0 ? `:${loc.line}:${loc.column}` : '';
  return `${name} (${loc.scriptName}${pos})`;
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
  const formatFrame = options.formatFrame ?? defaultFrame;
  const frameOfFunction = new Map<number, string | null>();
  const frameOf = (fi: number): string | null => {
    let f = frameOfFunction.get(fi);
    if (f === undefined) {
      const base = fi * fiStride;
      const loc: RawLocation = {
        functionName: snap.strings[snap.traceFunctionInfos[base + fiName]!] ?? '',
        scriptName: snap.strings[snap.traceFunctionInfos[base + fiScript]!] ?? '',
        line: snap.traceFunctionInfos[base + fiLine]!,
        column: snap.traceFunctionInfos[base + fiColumn]!,
      };
      f = options.isOwnFrame?.(loc) ? null : formatFrame(loc);
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
  const typeNames = snap.meta.nodeTypes;
  const endBytes = new Float64Array(trace.count);
  const endBlocks = new Float64Array(trace.count);
  const endByType = new Map<number, Record<string, [number, number]>>();
  if (traceOff >= 0) {
    for (let n = 0; n < snap.nodeCount; n++) {
      const tid = snap.nodes[n * stride + traceOff]!;
      if (tid === 0) continue;
      const t = trace.indexById.get(tid);
      if (t === undefined) continue;
      const size = snap.nodes[n * stride + sizeOff]!;
      const type = typeNames[snap.nodes[n * stride + typeOff]!] ?? 'unknown';
      if (!V8_INTERNAL_TYPES.has(type)) {
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
  const stackCache = new Map<number, string[]>();
  const stackOf = (t: number): string[] => {
    const cached = stackCache.get(t);
    if (cached) return cached;
    const parent = trace.parent[t]!;
    // The trace tree's root is V8's synthetic "(root)" function: not a frame.
    if (parent < 0) {
      stackCache.set(t, []);
      return [];
    }
    const frame = frameOf(trace.functionInfoIndex[t]!);
    const rest = stackOf(parent);
    const stack = frame === null ? rest : [frame, ...rest];
    stackCache.set(t, stack);
    return stack;
  };
  for (let t = 0; t < trace.count; t++) {
    const tb = trace.allocSize[t]!;
    const tbk = trace.allocCount[t]!;
    const eb = endBytes[t]!;
    const ebk = endBlocks[t]!;
    if (tbk === 0 && ebk === 0 && !endByType.has(t)) continue;
    const frames = stackOf(t);
    if (frames.length === 0 && trace.parent[t]! >= 0) continue; // only heapscope's own frames
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
      peakBytes: 0,
      peakBlocks: 0,
      ...(extras ? { heapscope: extras } : {}),
    });
  }
  const built = builder.build();
  // Peak and max are filled in per finished program point (after merging).
  for (const pp of built.programPoints) {
    if (peak) {
      const key = pp.stack.map((i) => built.frames[i]).join('\n');
      const at = peak.bySite.get(key);
      pp.peakBytes = at?.bytes ?? 0;
      pp.peakBlocks = at?.blocks ?? 0;
    } else {
      pp.peakBytes = pp.endBytes;
      pp.peakBlocks = pp.endBlocks;
    }
    pp.maxBytes = Math.max(pp.peakBytes ?? 0, pp.endBytes ?? 0);
    pp.maxBlocks = Math.max(pp.peakBlocks ?? 0, pp.endBlocks ?? 0);
  }
  const { peak: metaPeak, ...restMeta } = options.meta;
  built.heapscope = {
    version: 1,
    capture: 'exact',
    exact: { total: true, end: true, peak: peak?.method === 'exact' },
    peak: {
      method: peak ? peak.method : 'end-as-peak',
      ...metaPeak,
    },
    ...restMeta,
  };
  return built;
}

/**
 * Chrome DevTools' sampling heap profile (`.heapprofile`): what DevTools' "Allocation
 * sampling" saves, what `node --heap-prof` writes, and what V8's sampling heap profiler
 * returns (`HeapProfiler.stopSampling` / `getSamplingProfile` through the inspector,
 * `v8.startHeapProfile().stop()` on Node 26). heapscope's sampled mode records this
 * format in the target and reads it here.
 *
 * ```
 * { head: { callFrame: { functionName, url, lineNumber, columnNumber, scriptId },
 *           selfSize, id, children: [...] },          // lineNumber/columnNumber 0-based, -1 unknown
 *   samples: [{ size, nodeId, ordinal }] }
 * ```
 *
 * V8 samples allocations as a Poisson process over allocated bytes with mean `interval`:
 * an object of `s` bytes is sampled with probability `p = 1 - exp(-s/interval)` and stands
 * for `1/p` objects. A node's `selfSize` is Σ s·round(n/p) over the sizes `s` sampled
 * there `n` times; a sample's `size` is `s·round(1/p)`. Node 26 (V8 14) adds `selfCount`
 * to nodes and `objectSize`, `objectCount` and `isLive` to samples.
 *
 * Reading: a node's bytes are its `selfSize`, its blocks its `selfCount` (Node 26) or,
 * before that, worked out from the sample sizes and the interval (see `narrowSizes`);
 * heapscope's own files are read from their samples. Samples that say `isLive` give live bytes and blocks
 * (DHAT's t-end). A file without heapscope's record holds whatever its producer sampled:
 * without `includeObjectsCollectedBy*GC` that is the objects not yet collected when the
 * profile was taken; it is read as total bytes and says so in a note.
 *
 * Writing: `selfSize`/`selfCount` hold one metric (total bytes by default), `samples`
 * one aggregate per program point and liveness, in Node 26's shape (`objectCount`,
 * `isLive`), so that heapscope reads back totals and live figures. DevTools uses only
 * the tree; a top-level `heapscope` object keeps the profile's header and meta.
 */
import { ProfileBuilder } from '../model/builder.js';
import { formatFrame, NATIVE_FILE, parseFrameForExport, type RawLocation } from '../model/frame.js';
import type { HeapscopeMeta, Profile } from '../model/profile.js';
import { isCount, MAX_STACK_DEPTH, showValue, validateProfile } from '../model/validate.js';
import { jsonSyntaxMessage } from './json-text.js';
import {
  headerRecordProblem,
  type ProfileHeaderRecord,
  profileHeaderRecord,
} from './profile-header.js';
import { TextParts } from './text-parts.js';

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based; -1 when unknown. */
  lineNumber: number;
  columnNumber: number;
  scriptId: string | number;
}

interface WireNode {
  callFrame: CallFrame;
  selfSize: number;
  /** Node 26+: estimated objects allocated here. */
  selfCount?: number;
  id: number;
  children: WireNode[];
}

interface WireSample {
  /** Estimated bytes this sample stands for: objectSize · objectCount. */
  size: number;
  nodeId: number;
  ordinal: number;
  /** Node 26+: size of the sampled object, and how many objects the sample stands for. */
  objectSize?: number;
  objectCount?: number;
  /** Node 26+: whether the sampled object was still alive when the profile was taken. */
  isLive?: boolean;
}

/** heapscope's record in files it writes (DevTools ignores it). */
interface WireExtension extends ProfileHeaderRecord {
  /** Which program point metric the nodes' selfSize/selfCount hold. */
  metric: 'total' | 'end';
}

interface WireFile {
  head: WireNode;
  samples?: WireSample[];
  heapscope?: WireExtension;
}

export class HeapProfileFormatError extends Error {
  override name = 'HeapProfileFormatError';
}

/** True when a parsed JSON value looks like a Chrome `.heapprofile`. */
export function isHeapProfile(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || !('head' in value)) return false;
  const head = (value as { head: unknown }).head;
  return (
    typeof head === 'object' &&
    head !== null &&
    'callFrame' in head &&
    'selfSize' in head &&
    'children' in head
  );
}

export interface HeapProfileReadOptions {
  /**
   * `file` (default): a file from any producer; what it holds is noted in the profile.
   * `capture`: a profile heapscope's agent recorded with collected objects included.
   */
  source?: 'file' | 'capture';
  /** Sampling interval in bytes. Default: heapscope's record in the file, else inferred from the samples. */
  sampleInterval?: number;
  cmd?: string;
  pid?: number;
  /** Time from the start of sampling to the profile, in µs. */
  endTimeUs?: number;
  /** Turns a location (1-based; 0 unknown) into a frame string; default `fn (url:line:column)`. */
  formatFrame?: (loc: RawLocation) => string;
  /** URLs by script id, for call frames whose script V8 had forgotten (empty `url`). */
  scriptUrls?: Readonly<Record<string, string>>;
  /** Drops the nodes this is true for, with everything below them (e.g. heapscope's own work). */
  isOwnFrame?: (loc: RawLocation) => boolean;
  /** Profile-level facts to record (Node version, thread, GC counts, notes...). */
  meta?: Partial<Omit<HeapscopeMeta, 'version' | 'capture' | 'exact'>>;
}

/** Powers of two from 1 KiB to 1 MiB: the intervals DevTools and `node --heap-prof` use. */
const MIN_INFERRED_INTERVAL = 1024;
const MAX_INFERRED_INTERVAL = 1024 * 1024;

/**
 * The sampling interval a file was most likely recorded with: the largest power of two
 * not above its smallest sample. Every sample stands for at least `interval` bytes
 * (`s·round(1/p) ≥ interval`), and small objects come close to it.
 */
export function inferSampleInterval(samples: readonly { size: number }[]): number | undefined {
  let min = Number.POSITIVE_INFINITY;
  for (const s of samples) if (s.size > 0 && s.size < min) min = s.size;
  if (!Number.isFinite(min)) return undefined;
  let interval = MIN_INFERRED_INTERVAL;
  while (interval * 2 <= min && interval < MAX_INFERRED_INTERVAL) interval *= 2;
  return interval;
}

/** How many objects V8 says `n` samples of `size`-byte objects stand for (its ScaleSample, rounded). */
export function scaledCount(size: number, n: number, interval: number): number {
  const scale = 1 / (1 - Math.exp(-size / interval));
  return Math.floor(n * scale + 0.5);
}

/**
 * The object sizes that V8 could have turned into a sample of `sampleSize` bytes: sizes
 * `s` (multiples of `align`) with `s · round(1/p(s)) = sampleSize`. Small objects often
 * have several (at 32 KiB, 32-, 40- and 80-byte objects all give 32,800).
 */
function candidateSizes(sampleSize: number, interval: number, align: number): number[] {
  const found: number[] = [];
  // round(1/p(s)) ≤ interval/s + 2 (as 1 − e^−x ≥ x/(1 + x)), and s ≥ align; past 2^20
  // (intervals above 8 MiB) the search stops, to stay quick on any file.
  const maxCount = Math.min(
    Math.floor(sampleSize / align),
    Math.ceil(interval / align) + 2,
    MAX_CANDIDATE_COUNT,
  );
  for (let c = 1; c <= maxCount; c++) {
    if (sampleSize % c !== 0) continue;
    const s = sampleSize / c;
    if (s % align !== 0) continue;
    if (scaledCount(s, 1, interval) === c) found.push(s);
  }
  return found.sort((a, b) => a - b);
}

const MAX_COMBINATIONS = 4096;
const MAX_CANDIDATE_COUNT = 1 << 20;

/** The object sizes that may lie behind each sample size of one node. */
export type SizeCandidates = Map<number, number[]>;

/**
 * Narrows down the object size behind each sample size `S` seen `n` times at a node
 * whose samples carry no counts (V8 before 14). V8 made the node's `selfSize` as
 * Σ s·round(n/p(s)) over the sizes `s` it sampled there, so only assignments of
 * candidates that give `selfSize` back can be what V8 saw. A size sampled once adds
 * exactly `S` whichever its object size, so it stays open; so does any size the sum
 * does not pin down.
 */
export function narrowSizes(
  selfSize: number,
  groups: ReadonlyMap<number, number>,
  interval: number,
  cache: Map<number, number[]> = new Map(),
): SizeCandidates {
  const candidatesOf = (size: number) => {
    let c = cache.get(size);
    if (!c) {
      c = candidateSizes(size, interval, 8);
      if (c.length === 0) c = candidateSizes(size, interval, 4);
      if (c.length === 0) c = candidateSizes(size, interval, 1);
      if (c.length === 0) c = [size];
      cache.set(size, c);
    }
    return c;
  };
  const out: SizeCandidates = new Map();
  let fixed = 0;
  const open: [size: number, n: number, cands: number[]][] = [];
  for (const [size, n] of groups) {
    const cands = candidatesOf(size);
    out.set(size, cands);
    if (n === 1 || cands.length === 1) fixed += scaledCount(cands[0]!, n, interval) * cands[0]!;
    else open.push([size, n, cands]);
  }
  let combos = 1;
  for (const [, , c] of open) combos *= c.length;
  if (open.length === 0 || combos > MAX_COMBINATIONS) return out;
  const used = open.map(() => new Set<number>());
  const idx = new Array<number>(open.length).fill(0);
  for (let k = 0; k < combos; k++) {
    let rest = k;
    let bytes = fixed;
    for (let i = 0; i < open.length; i++) {
      const [, n, cands] = open[i]!;
      idx[i] = rest % cands.length;
      rest = Math.floor(rest / cands.length);
      const s = cands[idx[i]!]!;
      bytes += s * scaledCount(s, n, interval);
    }
    if (bytes !== selfSize) continue;
    for (let i = 0; i < open.length; i++) used[i]!.add(open[i]![2][idx[i]!]!);
  }
  open.forEach(([size], i) => {
    if (used[i]!.size > 0)
      out.set(
        size,
        [...used[i]!].sort((a, b) => a - b),
      );
  });
  return out;
}

/**
 * Estimated objects at a node from its sample sizes, once `narrowSizes` has done what
 * the node alone can: where a size is still open, the candidate seen most often where
 * the size was certain (`prior`, object size → samples) is taken, else the smallest.
 * `resolved` is false when any size was open.
 */
export function estimateBlocks(
  groups: ReadonlyMap<number, number>,
  sizes: SizeCandidates,
  interval: number,
  prior: ReadonlyMap<number, number> = new Map(),
): { blocks: number; resolved: boolean } {
  let blocks = 0;
  let resolved = true;
  for (const [size, n] of groups) {
    const cands = sizes.get(size) ?? [size];
    let s = cands[0]!;
    if (cands.length > 1) {
      resolved = false;
      for (const c of cands) if ((prior.get(c) ?? 0) > (prior.get(s) ?? 0)) s = c;
    }
    blocks += scaledCount(s, n, interval);
  }
  return { blocks, resolved };
}

/** `fn (url:line:column)`, leaving out what the file does not know (-1 in V8's fields). */
function frameOfLocation(loc: RawLocation): string {
  return formatFrame({
    name: loc.functionName,
    ...(loc.scriptName ? { file: loc.scriptName } : {}),
    ...(loc.line > 0 ? { line: loc.line } : {}),
    ...(loc.line > 0 && loc.column > 0 ? { column: loc.column } : {}),
  });
}

/**
 * V8 14's sampler (Node 26) puts built-ins in the stack as a bare name with no script
 * (`push`, `split`); they are named as V8's stack traces and the allocation tracker name
 * them, `push (native)`, so both modes give the same program points their own frame.
 * V8's own nodes (`(root)`, `(program)`, `(garbage collector)`) keep their name.
 */
function isBuiltin(cf: CallFrame): boolean {
  return (
    !cf.url &&
    String(cf.scriptId) === '0' &&
    cf.lineNumber < 0 &&
    cf.functionName !== '' &&
    !cf.functionName.startsWith('(')
  );
}

function locationOf(cf: CallFrame, scriptUrls?: Readonly<Record<string, string>>): RawLocation {
  return {
    functionName: cf.functionName,
    scriptName: cf.url || scriptUrls?.[String(cf.scriptId)] || (isBuiltin(cf) ? NATIVE_FILE : ''),
    line: cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0,
    column: cf.columnNumber >= 0 ? cf.columnNumber + 1 : 0,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const COUNT = 'a whole number from 0 to 2^53-1';
/** The lowest line or column V8 writes: an int32. */
const MIN_POSITION = -(2 ** 31);

function checkSample(s: WireSample, i: number): void {
  const fail = (field: string, want: string) => {
    const v = isObject(s) ? s[field as keyof WireSample] : s;
    throw new HeapProfileFormatError(
      `sample ${i}: ${isObject(s) ? `"${field}" is ` : 'is '}${showValue(v)}; wants ${want}`,
    );
  };
  if (!isObject(s)) fail('', 'an object');
  if (!isCount(s.size)) fail('size', COUNT);
  if (!Number.isSafeInteger(s.nodeId)) fail('nodeId', 'a whole number');
  if (s.objectCount !== undefined && !isCount(s.objectCount)) fail('objectCount', COUNT);
  if (s.isLive !== undefined && typeof s.isLive !== 'boolean') fail('isLive', 'true or false');
}

/**
 * Every node of the tree, parents before children, each checked: a call frame of the
 * right types, sizes that are counts, a unique id, and no deeper than a stack may be.
 * The walk keeps its own stack: a file may nest as deep as JSON allows.
 */
function checkedNodes(head: WireNode): { node: WireNode; parent?: WireNode }[] {
  const out: { node: WireNode; parent?: WireNode }[] = [];
  const seen = new Set<unknown>();
  const todo: { node: WireNode; parent?: WireNode; depth: number }[] = [{ node: head, depth: 0 }];
  while (todo.length > 0) {
    const { node, parent, depth } = todo.pop()!;
    const where = `node ${isObject(node) && Number.isSafeInteger(node.id) ? node.id : `#${out.length}`}`;
    const fail = (what: string) => {
      throw new HeapProfileFormatError(`${where}: ${what}`);
    };
    const field = (name: string, v: unknown, want: string) =>
      fail(`"${name}" is ${showValue(v)}; wants ${want}`);
    if (!isObject(node)) fail(`is ${showValue(node)}; wants an object`);
    if (depth > MAX_STACK_DEPTH) {
      fail(`nodes nest deeper than ${MAX_STACK_DEPTH} levels, the deepest stack heapscope reads`);
    }
    if (!Number.isSafeInteger(node.id)) field('id', node.id, 'a whole number');
    if (seen.has(node.id)) fail(`id ${node.id} appears twice`);
    seen.add(node.id);
    const cf = node.callFrame as unknown as Record<string, unknown>;
    if (!isObject(cf)) field('callFrame', cf, 'an object');
    if (typeof cf.functionName !== 'string')
      field('callFrame.functionName', cf.functionName, 'a string');
    if (typeof cf.url !== 'string') field('callFrame.url', cf.url, 'a string');
    // -1 is V8's "unknown"; code compiled with a negative column offset (vitest's module
    // wrapper) has columns below it, read as unknown too (locationOf).
    for (const k of ['lineNumber', 'columnNumber']) {
      const v = cf[k];
      if (!Number.isSafeInteger(v) || (v as number) < MIN_POSITION) {
        field(`callFrame.${k}`, v, 'a whole number >= -2^31');
      }
    }
    if (
      cf.scriptId !== undefined &&
      typeof cf.scriptId !== 'string' &&
      typeof cf.scriptId !== 'number'
    ) {
      field('callFrame.scriptId', cf.scriptId, 'a string or a number');
    }
    if (node.selfSize !== undefined && !isCount(node.selfSize))
      field('selfSize', node.selfSize, COUNT);
    if (node.selfCount !== undefined && !isCount(node.selfCount)) {
      field('selfCount', node.selfCount, COUNT);
    }
    if (!Array.isArray(node.children)) field('children', node.children, 'an array');
    out.push(parent ? { node, parent } : { node });
    for (let i = node.children.length - 1; i >= 0; i--) {
      todo.push({ node: node.children[i]!, parent: node, depth: depth + 1 });
    }
  }
  return out;
}

/** Reads `.heapprofile` JSON text (or an already parsed value) into a Profile. */
export function readHeapProfile(
  input: string | unknown,
  options: HeapProfileReadOptions = {},
): Profile {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new HeapProfileFormatError(jsonSyntaxMessage(input, e));
    }
  }
  if (!isHeapProfile(data)) {
    throw new HeapProfileFormatError('not a heap profile: no "head" node with a callFrame');
  }
  const file = data as WireFile;
  const ext = file.heapscope?.version === 1 ? file.heapscope : undefined;
  if (ext) {
    const problem =
      headerRecordProblem(ext) ??
      (ext.metric === 'total' || ext.metric === 'end'
        ? undefined
        : `"metric" is ${showValue(ext.metric)}; wants "total" or "end"`);
    if (problem) throw new HeapProfileFormatError(`heapscope's record: ${problem}`);
  }
  if (file.samples !== undefined && !Array.isArray(file.samples)) {
    throw new HeapProfileFormatError(`"samples" is ${showValue(file.samples)}; wants an array`);
  }
  const samples = file.samples ?? [];
  samples.forEach(checkSample);
  const nodes = checkedNodes(file.head);
  // heapscope's files say their interval, or had none (exact capture): never inferred.
  const interval =
    options.sampleInterval ?? (ext ? ext.meta?.sampleInterval : inferSampleInterval(samples));
  const notes: string[] = [];

  // Samples per node: counted (Node 26, heapscope) or to be resolved from their sizes.
  const counted = samples.length > 0 && samples.every((s) => typeof s.objectCount === 'number');
  const hasLive = counted && samples.some((s) => typeof s.isLive === 'boolean');
  interface Acc {
    bytes: number;
    blocks: number;
    liveBytes: number;
    liveBlocks: number;
    sizes?: Map<number, number>;
  }
  const byNode = new Map<number, Acc>();
  const acc = (id: number) => {
    let a = byNode.get(id);
    if (!a) {
      a = { bytes: 0, blocks: 0, liveBytes: 0, liveBlocks: 0 };
      byNode.set(id, a);
    }
    return a;
  };
  for (const s of samples) {
    const a = acc(s.nodeId);
    if (counted) {
      a.bytes += s.size;
      a.blocks += s.objectCount!;
      if (s.isLive) {
        a.liveBytes += s.size;
        a.liveBlocks += s.objectCount!;
      }
    } else {
      a.sizes ??= new Map();
      a.sizes.set(s.size, (a.sizes.get(s.size) ?? 0) + 1);
    }
  }

  const format = options.formatFrame ?? frameOfLocation;
  const builder = new ProfileBuilder({
    mode: ext?.mode ?? 'node-heap',
    verb: ext?.verb ?? 'Allocated',
    hasLifetimes: hasLive,
    hasAccesses: false,
    timeUnit: ext?.timeUnit ?? 'µs',
    timeUnitLarge: ext?.timeUnitLarge ?? 's',
    ...(hasLive ? { shortLivedThreshold: 500 } : {}),
    cmd: options.cmd ?? ext?.cmd ?? '',
    pid: options.pid ?? ext?.pid ?? 0,
    endTime: options.endTimeUs ?? ext?.endTime ?? 0,
  });
  // Object sizes behind the samples of nodes without counts: first what each node pins
  // down alone, then the sizes seen for certain serve as the prior for what stays open.
  const candidateCache = new Map<number, number[]>();
  const sizesOf = new Map<number, SizeCandidates>();
  const prior = new Map<number, number>();
  if (!counted && interval !== undefined) {
    for (const { node } of nodes) {
      const a = byNode.get(node.id);
      if (a?.sizes && typeof node.selfCount !== 'number') {
        const sizes = narrowSizes(node.selfSize ?? 0, a.sizes, interval, candidateCache);
        sizesOf.set(node.id, sizes);
        for (const [size, cands] of sizes) {
          if (cands.length === 1)
            prior.set(cands[0]!, (prior.get(cands[0]!) ?? 0) + a.sizes.get(size)!);
        }
      }
    }
  }
  let unresolved = 0;
  let uncounted = 0;
  // Frames of each node visited, allocation site first (the walk visits parents first).
  const framesOf = new Map<WireNode, string[]>();
  const dropped = new Set<WireNode>();
  for (const { node, parent } of nodes) {
    if (parent && dropped.has(parent)) {
      dropped.add(node);
      continue;
    }
    let here: string[] = [];
    if (parent) {
      const loc = locationOf(node.callFrame, options.scriptUrls);
      if (options.isOwnFrame?.(loc)) {
        dropped.add(node);
        continue;
      }
      here = [format(loc), ...framesOf.get(parent)!];
    }
    if (node.children.length > 0) framesOf.set(node, here);
    const a = byNode.get(node.id);
    const selfSize = node.selfSize ?? 0;
    let bytes = selfSize;
    let blocks = 0;
    // V8's tree rounds the objects of each size together, its samples one by one
    // (round(1/p) of a sample of an 8 KB array at 32 KiB is 5 for 4.6): the tree is the
    // better estimate, and the samples give the share that is alive. heapscope's own files
    // hold exact sums in their samples.
    let liveBytes = a?.liveBytes ?? 0;
    let liveBlocks = a?.liveBlocks ?? 0;
    if (counted && (ext || typeof node.selfCount !== 'number')) {
      bytes = a?.bytes ?? 0;
      blocks = a?.blocks ?? 0;
    } else if (typeof node.selfCount === 'number') {
      blocks = node.selfCount;
      if (a && a.bytes > 0) liveBytes = Math.round((bytes * a.liveBytes) / a.bytes);
      if (a && a.blocks > 0) liveBlocks = Math.round((blocks * a.liveBlocks) / a.blocks);
    } else if (a?.sizes && interval !== undefined) {
      const r = estimateBlocks(a.sizes, sizesOf.get(node.id)!, interval, prior);
      blocks = r.blocks;
      if (!r.resolved) unresolved++;
    } else if (selfSize > 0) {
      uncounted++;
    }
    if (bytes > 0 || blocks > 0 || liveBytes > 0) {
      const live = hasLive
        ? {
            endBytes: liveBytes,
            endBlocks: liveBlocks,
            peakBytes: liveBytes,
            peakBlocks: liveBlocks,
            maxBytes: liveBytes,
            maxBlocks: liveBlocks,
          }
        : {};
      builder.add({
        frames: here.length > 0 ? here : ['(V8 internal)'],
        totalBytes: bytes,
        totalBlocks: blocks,
        ...live,
      });
    }
  }

  if (!ext && options.source !== 'capture') {
    notes.push(
      'read from a Chrome .heapprofile: bytes are what its producer sampled, taken as total bytes ' +
        '(a profile recorded without includeObjectsCollectedByMajorGC/MinorGC holds only the ' +
        'objects not yet collected when it was taken)',
    );
    if (options.sampleInterval === undefined && interval !== undefined && !counted) {
      notes.push(`sampling interval inferred from the samples: ${interval} bytes`);
    }
  }
  if (unresolved > 0) {
    notes.push(
      `block counts of ${unresolved} program point${unresolved === 1 ? '' : 's'} are approximate: some of their sample sizes fit more than one object size`,
    );
  }
  if (uncounted > 0) {
    notes.push(`${uncounted} program points have no block counts (the file has no samples)`);
  }
  const baseMeta = ext?.meta;
  // A file heapscope wrote from a profile without meta (Valgrind's, dhat-rs's) stays so.
  const keepBare = ext !== undefined && !baseMeta && !options.meta && notes.length === 0;
  const meta: HeapscopeMeta | undefined = keepBare
    ? undefined
    : {
        ...baseMeta,
        ...options.meta,
        version: 1,
        capture: baseMeta?.capture ?? 'sampled',
        ...(interval !== undefined ? { sampleInterval: interval } : {}),
        exact: baseMeta?.exact
          ? { ...baseMeta.exact, peak: false }
          : { total: false, end: false, peak: false },
        // The format has no place for the peak: live bytes at the end stand for it.
        ...(hasLive
          ? {
              peak: {
                ...baseMeta?.peak,
                method: 'end-as-peak' as const,
                note: 'no measurement of the peak: live bytes at the end are shown as the peak',
              },
            }
          : {}),
        notes: [...(baseMeta?.notes ?? []), ...(options.meta?.notes ?? []), ...notes],
      };
  if (meta?.notes?.length === 0) delete meta.notes;
  const profile = builder.build(meta);
  if (hasLive) profile.peakTime = profile.endTime;
  const problems = validateProfile(profile);
  if (problems.length > 0) throw new HeapProfileFormatError(`malformed profile: ${problems[0]}`);
  return profile;
}

export interface HeapProfileWriteOptions {
  /** What the tree's selfSize/selfCount show: total (default) or live at the end. */
  metric?: 'total' | 'end';
}

/**
 * Writes a Profile as a `.heapprofile` that DevTools and speedscope open. The tree holds
 * one metric; the samples keep totals and live figures apart for heapscope to read back.
 */
export function writeHeapProfile(profile: Profile, options: HeapProfileWriteOptions = {}): string {
  return [...writeHeapProfileParts(profile, options)].join('');
}

/** Text per part of `writeHeapProfileParts`, about. */
const PART_CHARS = 1 << 20;

/**
 * The text of `writeHeapProfile` in parts of about a million characters, made one at a
 * time as they are taken: a profile of millions of program points is longer than the
 * longest string V8 makes (about 512 MB), and its tree as JavaScript objects does not
 * fit in memory. The tree is built first (so that a profile that cannot be written fails
 * here, before any part), in typed arrays; the text of a node is made when it is written.
 */
export function writeHeapProfileParts(
  profile: Profile,
  options: HeapProfileWriteOptions = {},
): Iterable<string> {
  const metric = options.metric ?? 'total';
  if (metric === 'end' && !profile.hasLifetimes) {
    throw new HeapProfileFormatError('this profile has no live-at-end figures to write');
  }
  const tree = buildTree(profile, metric);
  const ext: WireExtension = { ...profileHeaderRecord(profile), metric };
  return heapProfileText(profile, tree, ext);
}

/**
 * The call tree of a profile, outermost frame at the root's children: node `n` (id
 * `n + 1`, numbered as made) has frame `frame[n]` under `parent[n]`, its children in the
 * order they were made (`firstChild`, `nextSibling`; 0 for none: the root is no child).
 */
interface Tree {
  size: number;
  frame: Int32Array;
  parent: Int32Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  selfSize: Float64Array;
  selfCount: Float64Array;
  /** The `scriptId` of each frame's url, numbered as urls are first met (`'0'` for none). */
  scriptIdOfFrame: Int32Array;
  /** The node of each program point. */
  nodeOfPp: Int32Array;
}

function buildTree(profile: Profile, metric: 'total' | 'end'): Tree {
  const pps = profile.programPoints;
  let most = 1;
  for (const pp of pps) most += pp.stack.length;
  const frame = new Int32Array(most);
  const parent = new Int32Array(most);
  const firstChild = new Int32Array(most);
  const lastChild = new Int32Array(most);
  const nextSibling = new Int32Array(most);
  const selfSize = new Float64Array(most);
  const selfCount = new Float64Array(most);
  frame[0] = -1;
  let size = 1;
  // Children by (parent, frame): open addressing, slots hold node + 1 (0: empty).
  let bits = 4;
  while (1 << bits < most * 2) bits++;
  const mask = (1 << bits) - 1;
  const slots = new Int32Array(1 << bits);
  const scriptIdOfFrame = new Int32Array(profile.frames.length + 1).fill(-1);
  const scriptIds = new Map<string, number>();
  const scriptIdOf = (f: number): number => {
    const i = f >= 0 && f < profile.frames.length ? f : profile.frames.length;
    let id = scriptIdOfFrame[i]!;
    if (id < 0) {
      const url = parseFrameForExport(frameText(profile, f)).file ?? '';
      const known = scriptIds.get(url);
      id = known ?? (url === '' ? 0 : scriptIds.size + 1);
      if (known === undefined) scriptIds.set(url, id);
      scriptIdOfFrame[i] = id;
    }
    return id;
  };
  const childOf = (node: number, f: number): number => {
    let h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(f, 0x85ebca6b)) & mask;
    for (;;) {
      const s = slots[h]!;
      if (s === 0) break;
      if (frame[s - 1] === f && parent[s - 1] === node) return s - 1;
      h = (h + 1) & mask;
    }
    const child = size++;
    slots[h] = child + 1;
    frame[child] = f;
    parent[child] = node;
    if (firstChild[node] === 0) firstChild[node] = child;
    else nextSibling[lastChild[node]!] = child;
    lastChild[node] = child;
    scriptIdOf(f);
    return child;
  };
  const nodeOfPp = new Int32Array(pps.length);
  pps.forEach((pp, i) => {
    let node = 0;
    for (let d = pp.stack.length - 1; d >= 0; d--) node = childOf(node, pp.stack[d]!);
    nodeOfPp[i] = node;
    selfSize[node]! += metric === 'end' ? (pp.endBytes ?? 0) : pp.totalBytes;
    selfCount[node]! += metric === 'end' ? (pp.endBlocks ?? 0) : pp.totalBlocks;
  });
  return {
    size,
    frame,
    parent,
    firstChild,
    nextSibling,
    selfSize,
    selfCount,
    scriptIdOfFrame,
    nodeOfPp,
  };
}

function frameText(profile: Profile, f: number): string {
  return profile.frames[f] ?? `<bad frame ${f}>`;
}

/** `{"head":…,"samples":[…],"heapscope":…}`, in the key order of DevTools' own files. */
function* heapProfileText(profile: Profile, tree: Tree, ext: WireExtension): Generator<string> {
  const parts = new TextParts(PART_CHARS);
  const { frame, parent, firstChild, nextSibling, selfSize, selfCount } = tree;
  const rootFrame: CallFrame = {
    functionName: '(root)',
    url: '',
    lineNumber: -1,
    columnNumber: -1,
    scriptId: '0',
  };
  const open = (n: number): boolean => {
    let cf = rootFrame;
    if (n > 0) {
      const f = frame[n]!;
      const p = parseFrameForExport(frameText(profile, f));
      const i = f >= 0 && f < profile.frames.length ? f : profile.frames.length;
      cf = {
        functionName: p.name === '(anonymous)' ? '' : p.name,
        url: p.file ?? '',
        lineNumber: p.line !== undefined ? p.line - 1 : -1,
        columnNumber: p.column !== undefined && p.column > 0 ? p.column - 1 : -1,
        scriptId: String(tree.scriptIdOfFrame[i]),
      };
    }
    return parts.put(
      `{"callFrame":${JSON.stringify(cf)},"selfSize":${selfSize[n]},"selfCount":${selfCount[n]},"id":${n + 1},"children":[`,
    );
  };
  // Depth first without a stack of our own: down to the first child, else close and
  // go on to the next sibling, climbing as long as there is none.
  parts.put('{"head":');
  let n = 0;
  let full = open(n);
  for (;;) {
    if (full) yield parts.take();
    if (firstChild[n] !== 0) {
      n = firstChild[n]!;
      full = open(n);
      continue;
    }
    full = parts.put(']}');
    while (n !== 0 && nextSibling[n] === 0) {
      n = parent[n]!;
      full = parts.put(']}');
    }
    if (n === 0) break;
    n = nextSibling[n]!;
    parts.put(',');
    full = open(n);
  }
  parts.put(',"samples":[');
  let ordinal = 0;
  const sample = (nodeId: number, size: number, count: number, isLive?: boolean) => {
    if (size <= 0 && count <= 0) return false;
    ordinal++;
    const live = isLive === undefined ? '' : `,"isLive":${isLive}`;
    return parts.put(
      `${ordinal > 1 ? ',' : ''}{"size":${size},"nodeId":${nodeId},"ordinal":${ordinal},"objectCount":${count}${live}}`,
    );
  };
  const pps = profile.programPoints;
  for (let i = 0; i < pps.length; i++) {
    const pp = pps[i]!;
    const id = tree.nodeOfPp[i]! + 1;
    if (profile.hasLifetimes) {
      const endBytes = pp.endBytes ?? 0;
      const endBlocks = pp.endBlocks ?? 0;
      sample(id, endBytes, endBlocks, true);
      full = sample(
        id,
        Math.max(0, pp.totalBytes - endBytes),
        Math.max(0, pp.totalBlocks - endBlocks),
        false,
      );
    } else {
      full = sample(id, pp.totalBytes, pp.totalBlocks);
    }
    if (full) yield parts.take();
  }
  parts.put(`],"heapscope":${JSON.stringify(ext)}}\n`);
  yield parts.take();
}

/**
 * pprof: the gzipped protobuf profile of google/pprof (`go tool pprof`), which
 * continuous-profiling backends take. Encoding and decoding are the `pprof-format`
 * package's; this file maps between its Profile and heapscope's.
 *
 * heapscope writes the sample types of Go heap profiles: `alloc_objects`/`count` and
 * `alloc_space`/`bytes` (DHAT's `tbk`/`tb`), and where the profile has lifetimes
 * `inuse_objects`/`count` and `inuse_space`/`bytes` (live at the end, `ebk`/`eb`).
 * Each program point is one sample whose locations are its frames, allocation site
 * first (pprof's leaf-first order); each frame string is one location with one line,
 * whose function has the frame's name, file and (as `start_line`) its line: V8 records
 * the allocating function's position, not the allocating line. `period_type` is
 * `space`/`bytes` and `period` the sampling interval (1 when every allocation was
 * traced). A comment `heapscope:{...}` keeps the DHAT header and heapscope's meta, so a
 * profile comes back whole except for the peak, which pprof has no type for.
 *
 * Reading takes `alloc_*` as totals and `inuse_*` as live at the end; a profile with
 * only in-use figures (or Node's `objects`/`space`) shows them as totals too, and says so.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  Line,
  Location,
  Function as PprofFunction,
  Profile as PprofProfile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';
import { ProfileBuilder } from '../model/builder.js';
import { formatFrame, parseFrameForExport } from '../model/frame.js';
import type { HeapscopeMeta, Profile } from '../model/profile.js';
import { isCount, showValue, validateProfile } from '../model/validate.js';
import {
  headerRecordProblem,
  type ProfileHeaderRecord,
  profileHeaderRecord,
} from './profile-header.js';

export class PprofFormatError extends Error {
  override name = 'PprofFormatError';
}

const COMMENT_PREFIX = 'heapscope:';

/** The DHAT header and meta, kept in a pprof comment. */
type HeaderComment = ProfileHeaderRecord;

/** True when the bytes start with gzip's magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Encodes a Profile as a gzipped pprof protobuf. */
export function writePprof(profile: Profile): Uint8Array {
  const strings = new StringTable();
  const str = (s: string) => strings.dedup(s);
  const lifetimes = profile.hasLifetimes;
  const sampleType = [
    new ValueType({ type: str('alloc_objects'), unit: str('count') }),
    new ValueType({ type: str('alloc_space'), unit: str('bytes') }),
    ...(lifetimes
      ? [
          new ValueType({ type: str('inuse_objects'), unit: str('count') }),
          new ValueType({ type: str('inuse_space'), unit: str('bytes') }),
        ]
      : []),
  ];
  const functions: PprofFunction[] = [];
  const functionIds = new Map<string, number>();
  const locations: Location[] = [];
  const locationIds = new Map<number, number>();
  const locationOf = (frameIndex: number): number => {
    const known = locationIds.get(frameIndex);
    if (known !== undefined) return known;
    const p = parseFrameForExport(profile.frames[frameIndex] ?? `<bad frame ${frameIndex}>`);
    const fnKey = `${p.name}\0${p.file ?? ''}\0${p.line ?? 0}`;
    let fnId = functionIds.get(fnKey);
    if (fnId === undefined) {
      fnId = functions.length + 1;
      functionIds.set(fnKey, fnId);
      functions.push(
        new PprofFunction({
          id: fnId,
          name: str(p.name),
          systemName: str(p.name),
          filename: str(p.file ?? ''),
          startLine: p.line ?? 0,
        }),
      );
    }
    const id = locations.length + 1;
    locations.push(
      new Location({
        id,
        line: [new Line({ functionId: fnId, line: p.line ?? 0, column: p.column ?? 0 })],
      }),
    );
    locationIds.set(frameIndex, id);
    return id;
  };
  const samples = profile.programPoints.map(
    (pp) =>
      new Sample({
        locationId: pp.stack.map(locationOf),
        value: [
          Math.round(pp.totalBlocks),
          Math.round(pp.totalBytes),
          ...(lifetimes ? [Math.round(pp.endBlocks ?? 0), Math.round(pp.endBytes ?? 0)] : []),
        ],
      }),
  );
  const header: HeaderComment = profileHeaderRecord(profile);
  const hs = profile.heapscope;
  const comments = [
    `heapscope profile of: ${profile.cmd} (pid ${profile.pid})`,
    ...(hs?.capture === 'sampled'
      ? [
          `sampled: figures are estimates (one sample per ${hs.sampleInterval ?? '?'} bytes on average)`,
        ]
      : []),
    `${COMMENT_PREFIX}${JSON.stringify(header)}`,
  ];
  const durationNanos =
    profile.timeUnit === 'µs' || profile.timeUnit === 'us' ? Math.round(profile.endTime * 1000) : 0;
  const out = new PprofProfile({
    sampleType,
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    periodType: new ValueType({ type: str('space'), unit: str('bytes') }),
    period: hs?.capture === 'sampled' ? (hs.sampleInterval ?? 0) : 1,
    durationNanos,
    comment: comments.map(str),
    defaultSampleType: str('alloc_space'),
  });
  return gzipSync(out.encode());
}

export interface PprofReadOptions {
  /** Command line to show when the profile does not carry heapscope's (e.g. the file name). */
  cmd?: string;
  /** The most bytes gzipped data may inflate to (default: `inflateLimit` of its size). */
  maxInflatedBytes?: number;
}

const MiB = 1024 * 1024;

/**
 * The most bytes a gzipped profile of `compressedBytes` may inflate to by default: 64
 * times its size, and at least 64 MiB. A pprof profile compresses about 2–10 times (its
 * strings repeat, its numbers do not); a gzip bomb compresses 1,000 times, and is refused
 * after that much work instead of filling memory.
 */
export function inflateLimit(compressedBytes: number): number {
  return Math.max(64 * MiB, 64 * compressedBytes);
}

function sizeText(n: number): string {
  return n >= MiB ? `${Math.round((n / MiB) * 10) / 10} MiB` : `${n} bytes`;
}

/** Reads a pprof profile (gzipped or not) into a Profile; throws PprofFormatError. */
export function readPprof(bytes: Uint8Array, options: PprofReadOptions = {}): Profile {
  let raw = bytes;
  if (isGzip(bytes)) {
    const limit = options.maxInflatedBytes ?? inflateLimit(bytes.length);
    try {
      raw = gunzipSync(bytes, { maxOutputLength: limit });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new PprofFormatError(
          `gzip data inflates to more than ${sizeText(limit)}, the limit for ${sizeText(bytes.length)} ` +
            'of gzip (a gzip bomb?); set HEAPSCOPE_MAX_INFLATED (e.g. 2GiB) to allow more',
        );
      }
      throw new PprofFormatError(`gzip data is damaged (${(e as Error).message}); truncated file?`);
    }
  }
  let p: PprofProfile;
  try {
    p = PprofProfile.decode(raw);
  } catch (e) {
    throw new PprofFormatError(`not a pprof protobuf (${(e as Error).message})`);
  }
  const strings = p.stringTable.strings;
  const s = (i: number | bigint) => strings[Number(i)] ?? '';
  if (strings.length === 0 || strings[0] !== '' || p.sampleType.length === 0) {
    throw new PprofFormatError('not a pprof profile (no string table or no sample types)');
  }
  const types = p.sampleType.map((t) => ({ type: s(t.type), unit: s(t.unit) }));
  const find = (...names: string[]) => types.findIndex((t) => names.includes(t.type));
  let allocObjects = find('alloc_objects');
  let allocSpace = find('alloc_space');
  const inuseObjects = find('inuse_objects', 'objects');
  const inuseSpace = find('inuse_space', 'space');
  const notes: string[] = [];
  if (allocSpace < 0 && inuseSpace < 0) {
    throw new PprofFormatError(
      `not a heap profile: its sample types are ${types.map((t) => `${t.type}/${t.unit}`).join(', ')} ` +
        '(heapscope reads alloc_space, alloc_objects, inuse_space, inuse_objects)',
    );
  }
  const hasLifetimes = inuseSpace >= 0;
  if (allocSpace < 0) {
    allocSpace = inuseSpace;
    allocObjects = inuseObjects;
    notes.push('this pprof profile has no allocation totals: totals show the in-use figures');
  }

  let header: HeaderComment | undefined;
  for (const c of p.comment) {
    const text = s(c);
    if (!text.startsWith(COMMENT_PREFIX)) continue;
    try {
      const parsed = JSON.parse(text.slice(COMMENT_PREFIX.length)) as HeaderComment;
      if (parsed?.version === 1) header = parsed;
    } catch {
      // Not heapscope's comment after all.
    }
    const problem = header && headerRecordProblem(header);
    if (problem) throw new PprofFormatError(`heapscope's comment: ${problem}`);
  }

  const functions = new Map(p.function.map((f) => [Number(f.id), f]));
  const locations = new Map(p.location.map((l) => [Number(l.id), l]));
  const framesOfLocation = new Map<number, string[]>();
  const framesOf = (id: number): string[] => {
    const known = framesOfLocation.get(id);
    if (known) return known;
    const loc = locations.get(id);
    if (!loc) throw new PprofFormatError(`a sample refers to location ${id}, which does not exist`);
    const frames =
      loc.line.length === 0
        ? [`0x${BigInt(loc.address).toString(16)}`]
        : loc.line.map((line) => {
            const fn = functions.get(Number(line.functionId));
            const name = fn ? s(fn.name) || s(fn.systemName) : '';
            const file = fn ? s(fn.filename) : '';
            const lineNo = Number(line.line);
            const col = Number(line.column);
            return formatFrame({
              name: name || '(unknown)',
              ...(file ? { file } : {}),
              ...(lineNo > 0 ? { line: lineNo, ...(col > 0 ? { column: col } : {}) } : {}),
            });
          });
    framesOfLocation.set(id, frames);
    return frames;
  };

  const durationUs = Number(p.durationNanos) / 1000;
  const builder = new ProfileBuilder({
    mode: header?.mode ?? 'pprof',
    verb: header?.verb ?? 'Allocated',
    hasLifetimes,
    hasAccesses: false,
    timeUnit: header?.timeUnit ?? 'µs',
    timeUnitLarge: header?.timeUnitLarge ?? 's',
    ...(hasLifetimes ? { shortLivedThreshold: 500 } : {}),
    cmd: header?.cmd ?? options.cmd ?? '',
    pid: header?.pid ?? 0,
    endTime: header?.endTime ?? durationUs,
  });
  const value = (sample: Sample, i: number, k: number): number => {
    if (i < 0) return 0;
    const v: unknown = sample.value[i] ?? 0;
    // Values past 2^28 arrive as bigints; a negative int64 arrives as a huge one.
    const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (!isCount(n)) {
      throw new PprofFormatError(
        `sample ${k}: "${types[i]!.type}" is ${showValue(n)}; wants a whole number from 0 to 2^53-1`,
      );
    }
    return n;
  };
  for (const [k, sample] of p.sample.entries()) {
    const frames = sample.locationId.flatMap((id) => framesOf(Number(id)));
    const tb = value(sample, allocSpace, k);
    const tbk = value(sample, allocObjects, k);
    const eb = value(sample, inuseSpace, k);
    const ebk = value(sample, inuseObjects, k);
    if (tb === 0 && tbk === 0 && eb === 0 && ebk === 0) continue;
    builder.add({
      frames: frames.length > 0 ? frames : ['(unknown)'],
      totalBytes: tb,
      totalBlocks: tbk,
      ...(hasLifetimes
        ? {
            endBytes: eb,
            endBlocks: ebk,
            peakBytes: eb,
            peakBlocks: ebk,
            maxBytes: eb,
            maxBlocks: ebk,
          }
        : {}),
    });
  }
  const base = header?.meta;
  const meta: HeapscopeMeta | undefined =
    base || notes.length > 0 || Number(p.period) > 1
      ? {
          // Heap profiles from Go and Node's pprof tools are sampled, one sample per `period` bytes.
          ...(base ?? {
            version: 1 as const,
            capture: 'sampled' as const,
            ...(Number(p.period) > 1 ? { sampleInterval: Number(p.period) } : {}),
            exact: { total: false, end: false, peak: false },
          }),
          exact: { ...(base?.exact ?? { total: false, end: false }), peak: false },
          ...(hasLifetimes
            ? {
                peak: {
                  ...base?.peak,
                  method: 'end-as-peak' as const,
                  note: 'pprof has no peak: live bytes at the end are shown as the peak',
                },
              }
            : {}),
          ...(base?.notes || notes.length > 0 ? { notes: [...(base?.notes ?? []), ...notes] } : {}),
        }
      : undefined;
  const profile = builder.build(meta);
  if (hasLifetimes) profile.peakTime = profile.endTime;
  const problems = validateProfile(profile);
  if (problems.length > 0) throw new PprofFormatError(`malformed profile: ${problems[0]}`);
  return profile;
}

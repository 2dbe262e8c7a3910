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
import { Profile as PprofProfile, type Sample } from 'pprof-format';
import { ProfileBuilder } from '../model/builder.js';
import { formatFrame, parseFrameForExport } from '../model/frame.js';
import type { HeapscopeMeta, Profile } from '../model/profile.js';
import { isCount, showValue, validateProfile } from '../model/validate.js';
import {
  headerRecordProblem,
  type ProfileHeaderRecord,
  profileHeaderRecord,
} from './profile-header.js';
import { ProtoWriter } from './protobuf-writer.js';

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

/**
 * Encodes a Profile as a gzipped pprof protobuf. Written message by message
 * (`protobuf-writer.ts`), in the field order of the `pprof-format` encoder: sample types,
 * samples, locations, functions, strings, then the profile's own fields. A location per
 * frame of the frame table that some stack uses, numbered in order of first use; a
 * function per distinct name, file and line.
 */
export function writePprof(profile: Profile): Uint8Array {
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const str = (s: string) => {
    let id = stringIds.get(s);
    if (id === undefined) {
      id = strings.length;
      strings.push(s);
      stringIds.set(s, id);
    }
    return id;
  };
  str('');
  const lifetimes = profile.hasLifetimes;
  const sampleTypes: [string, string][] = [
    ['alloc_objects', 'count'],
    ['alloc_space', 'bytes'],
    ...(lifetimes
      ? ([
          ['inuse_objects', 'count'],
          ['inuse_space', 'bytes'],
        ] as [string, string][])
      : []),
  ];
  const sampleTypeIds = sampleTypes.map(([t, u]) => [str(t), str(u)] as const);

  // Locations and functions, numbered in order of first use by the samples.
  const locationOfFrame = new Int32Array(profile.frames.length);
  const locationFrames: number[] = [];
  /** Per location: its function id, line and column. */
  const locFn: number[] = [];
  const locLine: number[] = [];
  const locColumn: number[] = [];
  const functionIds = new Map<string, number>();
  const firstFunctionOfName: number[] = [];
  const fnName: number[] = [];
  const fnFile: number[] = [];
  const fnLine: number[] = [];
  const locationOf = (frameIndex: number): number => {
    const known = locationOfFrame[frameIndex];
    if (known) return known;
    const p = parseFrameForExport(profile.frames[frameIndex] ?? `<bad frame ${frameIndex}>`);
    const name = str(p.name);
    const file = str(p.file ?? '');
    const line = p.line ?? 0;
    // The first function of each name is found by the name's id; only another file or
    // line under a name already seen needs a key of its own (a map of millions of keys
    // is slow and large).
    const newFunction = () => {
      fnName.push(name);
      fnFile.push(file);
      fnLine.push(line);
      return fnName.length;
    };
    let fnId = firstFunctionOfName[name];
    if (fnId === undefined) {
      fnId = newFunction();
      firstFunctionOfName[name] = fnId;
    } else if (fnFile[fnId - 1] !== file || fnLine[fnId - 1] !== line) {
      const fnKey = `${name},${file},${line}`;
      const known = functionIds.get(fnKey);
      fnId = known ?? newFunction();
      if (known === undefined) functionIds.set(fnKey, fnId);
    }
    locationFrames.push(frameIndex);
    locFn.push(fnId);
    locLine.push(line);
    locColumn.push(p.column ?? 0);
    const id = locationFrames.length;
    locationOfFrame[frameIndex] = id;
    return id;
  };

  const hs = profile.hasLifetimes;
  const header: HeaderComment = profileHeaderRecord(profile);
  const meta = profile.heapscope;
  const comments = [
    `heapscope profile of: ${profile.cmd} (pid ${profile.pid})`,
    ...(meta?.capture === 'sampled'
      ? [
          `sampled: figures are estimates (one sample per ${meta.sampleInterval ?? '?'} bytes on average)`,
        ]
      : []),
    `${COMMENT_PREFIX}${JSON.stringify(header)}`,
  ];
  const durationNanos =
    profile.timeUnit === 'µs' || profile.timeUnit === 'us' ? Math.round(profile.endTime * 1000) : 0;

  // Each megabyte gzipped as it is written, as a gzip member of its own: concatenated
  // members are one gzip stream to every reader (RFC 1952), and the protobuf is never
  // whole in memory. Deflate looks back 32 KiB, so the cut costs next to nothing.
  const gzipped: Uint8Array[] = [];
  const w = new ProtoWriter(undefined, (chunk) => gzipped.push(gzipSync(chunk)));
  for (const [type, unit] of sampleTypeIds) {
    w.message(1, (m) => {
      m.uint(1, type);
      m.uint(2, unit);
    });
  }
  for (const pp of profile.programPoints) {
    const locations = pp.stack.map(locationOf);
    const values = [
      Math.round(pp.totalBlocks),
      Math.round(pp.totalBytes),
      ...(hs ? [Math.round(pp.endBlocks ?? 0), Math.round(pp.endBytes ?? 0)] : []),
    ];
    w.message(2, (m) => {
      m.packed(1, locations);
      m.packed(2, values);
    });
  }
  for (let i = 0; i < locationFrames.length; i++) {
    w.message(4, (m) => {
      m.uint(1, i + 1);
      m.message(4, (line) => {
        line.uint(1, locFn[i]!);
        line.uint(2, locLine[i]!);
        line.uint(3, locColumn[i]!);
      });
    });
  }
  for (let i = 0; i < fnName.length; i++) {
    w.message(5, (m) => {
      m.uint(1, i + 1);
      m.uint(2, fnName[i]!);
      m.uint(3, fnName[i]!);
      m.uint(4, fnFile[i]!);
      m.uint(5, fnLine[i]!);
    });
  }
  // Strings the profile's own fields name come after the functions' in the table.
  const periodType = [str('space'), str('bytes')] as const;
  const commentIds = comments.map(str);
  const defaultSampleType = str('alloc_space');
  for (const s of strings) w.string(6, s);
  w.uint(10, durationNanos);
  w.message(11, (m) => {
    m.uint(1, periodType[0]);
    m.uint(2, periodType[1]);
  });
  w.uint(12, meta?.capture === 'sampled' ? (meta.sampleInterval ?? 0) : 1);
  w.packed(13, commentIds);
  w.uint(14, defaultSampleType);
  w.finish();
  return Buffer.concat(gzipped);
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

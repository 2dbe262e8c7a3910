/**
 * Format detection: the one place that decides how a profile file is read, and which
 * writer makes which format. Detection goes by content, never by file name: gzip
 * (pprof), a heap snapshot's `{"snapshot":` opening (read streaming, any size), JSON
 * with `dhatFileVersion` (DHAT) or a `head` node (Chrome `.heapprofile`), and last an
 * uncompressed pprof protobuf.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Profile } from '../model/profile.js';
import { validateProfile } from '../model/validate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DhatFormatError, isDhat, readDhat, readDhatBytes, writeDhatParts } from './dhat.js';
import {
  HeapProfileFormatError,
  isHeapProfile,
  readHeapProfile,
  writeHeapProfileParts,
} from './heapprofile.js';
import {
  type HeapSnapshot,
  HeapSnapshotError,
  parseHeapSnapshot,
  readHeapSnapshot,
} from './heapsnapshot/index.js';
import {
  fileErrorMessage,
  InputError,
  type InputOptions,
  type OpenedInput,
  openInput,
} from './input.js';
import { jsonSyntaxMessage } from './json-text.js';
import { isGzip, PprofFormatError, readPprof, writePprof } from './pprof.js';
import { SpeedscopeWriteError, writeSpeedscopeParts } from './speedscope.js';
import { profileFromTrackedSnapshot } from './tracked-snapshot.js';

export class ProfileReadError extends Error {
  override name = 'ProfileReadError';
}

/** Formats heapscope reads. */
export type ProfileFormat = 'dhat' | 'pprof' | 'heapprofile' | 'heapsnapshot';

/** Formats heapscope writes. */
export type WritableFormat = 'dhat' | 'pprof' | 'heapprofile' | 'speedscope';

export const WRITABLE_FORMATS: readonly WritableFormat[] = [
  'dhat',
  'pprof',
  'heapprofile',
  'speedscope',
];

/** The usual file name ending of each written format. */
export const FORMAT_EXTENSIONS: Readonly<Record<WritableFormat, string>> = {
  dhat: '.json',
  pprof: '.pb.gz',
  heapprofile: '.heapprofile',
  speedscope: '.speedscope.json',
};

export interface ReadProfileOptions extends InputOptions {
  /** Sampling interval of a `.heapprofile` whose producer did not record it (default: inferred). */
  sampleInterval?: number;
  /** Progress while a heap snapshot or a DHAT file is read (bytes read, total bytes; done = total at the end). */
  onProgress?: (done: number, total: number) => void;
  /** The most bytes a gzipped profile may inflate to (default: `inflateLimit` of its size). */
  maxInflatedBytes?: number;
}

const FORMAT_ERRORS = [
  DhatFormatError,
  HeapProfileFormatError,
  HeapSnapshotError,
  PprofFormatError,
] as const;

function isFormatError(e: unknown): e is Error {
  return FORMAT_ERRORS.some((c) => e instanceof c);
}

/** The longest text V8 makes a string of (2^29 − 24 characters): JSON beyond it cannot be parsed. */
const MAX_JSON_BYTES = 0x1fff_ffe8;

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const file = await fs.open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function profileOfSnapshot(snap: HeapSnapshot, path: string): Profile {
  if (snap.trace.count === 0) {
    throw new ProfileReadError(
      `${path}: this heap snapshot has no allocation traces; take one with allocation tracking on ` +
        '(DevTools "Allocation instrumentation on timeline", or `heapscope run --keep-snapshot`)',
    );
  }
  const profile = profileFromTrackedSnapshot(snap, {
    cmd: basename(path),
    pid: 0,
    endTimeUs: 0,
    meta: {
      notes: [
        'read from a .heapsnapshot with allocation traces: totals are the tracker’s; live at the end ' +
          'per site is reliable only in the first snapshot after tracking began',
        'frame positions are those of the function (V8 records no allocating line)',
      ],
    },
  });
  const problems = validateProfile(profile);
  if (problems.length > 0) throw new ProfileReadError(`${path}: malformed profile: ${problems[0]}`);
  return profile;
}

/**
 * Reads a profile of any format heapscope knows from a file, a pipe, or `-` (standard
 * input); throws ProfileReadError, whose message names the file and what is wrong on one
 * line. Every format's reader ends with `validateProfile`, so the verdict on a file is the
 * same whichever command reads it.
 */
export async function readProfileFile(
  path: string,
  options: ReadProfileOptions = {},
): Promise<{ profile: Profile; format: ProfileFormat }> {
  let input: OpenedInput;
  try {
    input = await openInput(path, options);
  } catch (e) {
    if (e instanceof InputError) throw new ProfileReadError(e.message);
    throw e;
  }
  try {
    return await readOpened(path, input, options);
  } catch (e) {
    if (e instanceof ProfileReadError) throw e;
    if (isFormatError(e)) throw new ProfileReadError(`${path}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code !== undefined) {
      throw new ProfileReadError(fileErrorMessage(path, e));
    }
    throw e;
  } finally {
    await input.close();
  }
}

async function readOpened(
  name: string,
  input: OpenedInput,
  options: ReadProfileOptions,
): Promise<{ profile: Profile; format: ProfileFormat }> {
  const path = input.path;
  if (input.size === 0) throw new ProfileReadError(`${name}: empty file, not a profile`);
  const head = await readHead(path, 256);
  const cmd = basename(name);
  if (isGzip(head)) {
    const bytes = await readAll(name, path, input.size);
    const maxInflatedBytes = options.maxInflatedBytes;
    return {
      profile: readPprof(bytes, { cmd, ...(maxInflatedBytes ? { maxInflatedBytes } : {}) }),
      format: 'pprof',
    };
  }
  const start = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*\{\s*"snapshot"\s*:/.test(start)) {
    const snap = await readHeapSnapshot(
      path,
      options.onProgress ? { onProgress: options.onProgress } : {},
    );
    return { profile: profileOfSnapshot(snap, name), format: 'heapsnapshot' };
  }
  if (/^\s*[[{]/.test(start)) {
    if (/^\s*\{\s*"dhatFileVersion"\s*:/.test(start)) {
      const fast = await readDhatFast(name, path, input.size, options.onProgress);
      if (fast) return { profile: fast, format: 'dhat' };
    }
    if (input.size > MAX_JSON_BYTES) {
      throw new ProfileReadError(
        `${name}: ${input.size} bytes of JSON, more than the ${MAX_JSON_BYTES} a JSON profile can have ` +
          '(a heap snapshot of any size is read, when it starts with {"snapshot":)',
      );
    }
    const text = (await readAll(name, path, input.size)).toString('utf8').replace(/^\uFEFF/, '');
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new ProfileReadError(`${name}: ${jsonSyntaxMessage(text, e)}`);
    }
    if (isDhat(data)) return { profile: readDhat(data), format: 'dhat' };
    if (isHeapProfile(data)) {
      const interval = options.sampleInterval;
      // A foreign file names no command: its file name stands in.
      const foreign = !(data as { heapscope?: unknown }).heapscope;
      return {
        profile: readHeapProfile(data, {
          ...(interval !== undefined ? { sampleInterval: interval } : {}),
          ...(foreign ? { cmd } : {}),
        }),
        format: 'heapprofile',
      };
    }
    if (typeof data === 'object' && data !== null && 'snapshot' in data && 'nodes' in data) {
      return {
        profile: profileOfSnapshot(parseHeapSnapshot(text), name),
        format: 'heapsnapshot',
      };
    }
    const schema = (data as { $schema?: unknown } | null)?.$schema;
    if (typeof schema === 'string' && schema.includes('speedscope')) {
      throw new ProfileReadError(
        `${name}: a speedscope file; heapscope writes that format but does not read it back ` +
          '(convert from the DHAT, pprof or .heapprofile file it was made from)',
      );
    }
    throw new ProfileReadError(
      `${name}: not a profile heapscope can read (no "dhatFileVersion" field); ` +
        'heapscope reads DHAT JSON, pprof, Chrome .heapprofile and .heapsnapshot files',
    );
  }
  const bytes = await readAll(name, path, input.size);
  try {
    return { profile: readPprof(bytes, { cmd }), format: 'pprof' };
  } catch {
    throw new ProfileReadError(
      `${name}: not a profile heapscope can read (not JSON, not gzip, not a pprof protobuf)`,
    );
  }
}

/**
 * A DHAT file read from its bytes (`readDhatBytes`): no string of the whole file, no
 * parsed tree of its program points. Undefined when that reader cannot say: the text is
 * then read as any JSON profile is, for the message that names the place of an error.
 * A file too large for one string has no such second reading: its error is said here.
 */
async function readDhatFast(
  name: string,
  path: string,
  size: number,
  onProgress: ReadProfileOptions['onProgress'],
): Promise<Profile | undefined> {
  const bytes = await readAll(name, path, size);
  try {
    return readDhatBytes(bytes, onProgress);
  } catch (e) {
    if (size <= MAX_JSON_BYTES) return undefined;
    if (e instanceof DhatFormatError) throw e;
    throw new ProfileReadError(`${name}: not valid JSON (${(e as Error).message})`);
  }
}

/** The largest file read whole into memory (Node's limit for one Buffer is near it). */
const MAX_READ_BYTES = 2 ** 31 - 1;

async function readAll(name: string, path: string, size: number): Promise<Buffer> {
  if (size > MAX_READ_BYTES) {
    throw new ProfileReadError(
      `${name}: ${size} bytes, more than the ${MAX_READ_BYTES} heapscope reads into memory at once`,
    );
  }
  return fs.readFile(path);
}

export interface WriteProfileOptions {
  /**
   * speedscope: the metrics to write, one profile each (default: every bytes and blocks
   * metric). heapprofile: `total-bytes` (default) or `end-bytes` for the tree.
   */
  metrics?: readonly string[];
  /** Written into formats that name their producer (speedscope's `exporter`). */
  exporter?: string;
}

export class ProfileWriteError extends Error {
  override name = 'ProfileWriteError';
}

/** The bytes (or text) of a profile in a format. Throws ProfileWriteError when it cannot be written so. */
export function encodeProfile(
  profile: Profile,
  format: WritableFormat,
  options: WriteProfileOptions = {},
): string | Uint8Array {
  const data = encodeProfileParts(profile, format, options);
  return typeof data === 'string' || data instanceof Uint8Array ? data : [...data].join('');
}

/**
 * `encodeProfile` with DHAT, `.heapprofile` and speedscope text in parts, to be written one after
 * the other: a large profile's text is longer than one string can be. Throws
 * ProfileWriteError before any part when the profile cannot be written so.
 */
function encodeProfileParts(
  profile: Profile,
  format: WritableFormat,
  options: WriteProfileOptions,
): string | Uint8Array | Iterable<string> {
  try {
    switch (format) {
      case 'dhat':
        return writeDhatParts(profile);
      case 'pprof':
        return writePprof(profile);
      case 'heapprofile': {
        const m = options.metrics?.[0];
        if (m !== undefined && m !== 'total-bytes' && m !== 'end-bytes') {
          throw new ProfileWriteError(`a .heapprofile holds total-bytes or end-bytes, not "${m}"`);
        }
        return writeHeapProfileParts(profile, { metric: m === 'end-bytes' ? 'end' : 'total' });
      }
      case 'speedscope':
        return writeSpeedscopeParts(profile, {
          ...(options.metrics ? { metrics: options.metrics } : {}),
          ...(options.exporter ? { exporter: options.exporter } : {}),
        });
    }
  } catch (e) {
    if (e instanceof SpeedscopeWriteError || e instanceof HeapProfileFormatError) {
      throw new ProfileWriteError(e.message);
    }
    throw e;
  }
}

/** The format a file name asks for, by its ending; undefined when it says nothing. */
export function formatOfFileName(path: string): WritableFormat | undefined {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.speedscope.json')) return 'speedscope';
  if (name.endsWith('.heapprofile')) return 'heapprofile';
  if (/\.(pb|pprof)(\.gz)?$/.test(name)) return 'pprof';
  if (name.endsWith('.json')) return 'dhat';
  return undefined;
}

/** Where `convert` writes when no output is named: beside the input, with the format's ending. */
export function defaultOutputPath(input: string, format: WritableFormat): string {
  const stem = basename(input).replace(
    /(\.speedscope\.json|\.pb\.gz|\.pprof|\.pb|\.heapprofile|\.heapsnapshot|\.json|\.gz)$/i,
    '',
  );
  const out = join(dirname(input), stem + FORMAT_EXTENSIONS[format]);
  return resolve(out) === resolve(input) ? join(dirname(input), `${stem}.dhat.json`) : out;
}

export interface ConvertResult {
  input: string;
  output: string;
  from: ProfileFormat;
  to: WritableFormat;
  programPoints: number;
  /** How the figures were obtained, when the profile says. */
  capture?: 'exact' | 'sampled';
  bytesWritten: number;
}

/** Reads `input` in whatever format it is and writes it to `output` as `to` (atomically). */
export async function convertProfileFile(
  input: string,
  output: string,
  to: WritableFormat,
  options: ReadProfileOptions &
    WriteProfileOptions & {
      /** Changes the profile between reading and writing (e.g. the CLI's --focus). */
      transform?: (profile: Profile) => Profile;
    } = {},
): Promise<ConvertResult> {
  const read = await readProfileFile(input, options);
  const format = read.format;
  const profile = options.transform ? options.transform(read.profile) : read.profile;
  const data = encodeProfileParts(profile, to, options);
  let bytesWritten = 0;
  const counted = function* (parts: Iterable<string>): Generator<string> {
    for (const part of parts) {
      bytesWritten += Buffer.byteLength(part);
      yield part;
    }
  };
  if (typeof data === 'string' || data instanceof Uint8Array) {
    bytesWritten = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    await writeFileAtomic(output, data);
  } else {
    await writeFileAtomic(output, counted(data));
  }
  return {
    input,
    output,
    from: format,
    to,
    programPoints: profile.programPoints.length,
    ...(profile.heapscope ? { capture: profile.heapscope.capture } : {}),
    bytesWritten,
  };
}

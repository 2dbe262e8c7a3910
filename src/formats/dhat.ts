/**
 * DHAT v2 JSON: the format of Valgrind's DHAT (`valgrind --tool=dhat`), of dhat-rs, and
 * heapscope's own profiles. Valgrind's viewer `dh_view.html` opens it.
 *
 * Field meanings follow the annotated sample in Valgrind's `dhat/dh_main.c`:
 * `tb`/`tbk` total bytes/blocks, `tl` total lifetimes, `mb`/`mbk` the site's max,
 * `gb`/`gbk` at the global peak, `eb`/`ebk` at the end, `rb`/`wb` reads/writes,
 * `acc` per-offset access counts, `fs` frame indexes (into `ftbl`, `ftbl[0]` is
 * `[root]`). heapscope adds a `heapscope` object at the top and on program points;
 * DHAT's viewer ignores unknown fields.
 */
import type { HeapscopeMeta, Profile, ProgramPoint } from '../model/profile.js';
import { showValue, validateProfile } from '../model/validate.js';
import { parseJsonBytes } from './json-bytes.js';
import { jsonSyntaxMessage } from './json-text.js';
import { TextParts } from './text-parts.js';

interface DhatPP {
  tb: number;
  tbk: number;
  tl?: number;
  mb?: number;
  mbk?: number;
  gb?: number;
  gbk?: number;
  eb?: number;
  ebk?: number;
  rb?: number;
  wb?: number;
  acc?: number[];
  fs: number[];
  heapscope?: ProgramPoint['heapscope'];
}

interface DhatFile {
  dhatFileVersion: number;
  mode: string;
  verb: string;
  bklt: boolean;
  bkacc: boolean;
  bu?: string;
  bsu?: string;
  bksu?: string;
  tu: string;
  Mtu: string;
  tuth?: number;
  cmd: string;
  pid: number;
  te: number;
  tg?: number;
  pps: DhatPP[];
  ftbl: string[];
  heapscope?: HeapscopeMeta;
}

export class DhatFormatError extends Error {
  override name = 'DhatFormatError';
}

/** True when a parsed JSON value looks like a DHAT file (any version). */
export function isDhat(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'dhatFileVersion' in value;
}

/** The DHAT key of each Profile field, for messages that name what the file holds. */
const DHAT_NAMES: Readonly<Record<string, string>> = {
  mode: 'mode',
  verb: 'verb',
  hasLifetimes: 'bklt',
  hasAccesses: 'bkacc',
  'units.byte': 'bu',
  'units.bytes': 'bsu',
  'units.blocks': 'bksu',
  timeUnit: 'tu',
  timeUnitLarge: 'Mtu',
  shortLivedThreshold: 'tuth',
  cmd: 'cmd',
  pid: 'pid',
  endTime: 'te',
  peakTime: 'tg',
  frames: 'ftbl',
  programPoints: 'pps',
  stack: 'fs',
  totalBytes: 'tb',
  totalBlocks: 'tbk',
  totalLifetimes: 'tl',
  maxBytes: 'mb',
  maxBlocks: 'mbk',
  peakBytes: 'gb',
  peakBlocks: 'gbk',
  endBytes: 'eb',
  endBlocks: 'ebk',
  readBytes: 'rb',
  writeBytes: 'wb',
  accesses: 'acc',
};

/** Names a Profile field as a DHAT file spells it. */
export function dhatFieldName(field: string): string {
  return DHAT_NAMES[field] ?? field;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads DHAT JSON text (or an already parsed value) into a Profile; throws DhatFormatError. */
export function readDhat(input: string | unknown): Profile {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new DhatFormatError(jsonSyntaxMessage(input, e));
    }
  }
  const d = checkedHeader(data);
  if (!Array.isArray(d.pps) || !Array.isArray(d.ftbl)) {
    throw new DhatFormatError('"pps" and "ftbl" must be arrays');
  }
  const programPoints = d.pps.map((pp, i) => programPointOf(d, pp, i));
  return profileOf(d, programPoints, d.ftbl.slice());
}

/**
 * Reads a DHAT file from its bytes, each program point turned into its record as it is
 * read (the file is never one string, and its parsed program points never all exist at
 * once beside the records). Undefined when the header does not come before the program
 * points. Throws JsonBytesError on invalid JSON and DhatFormatError on a malformed file;
 * either way `readDhat` on the text gives the verdict whose message names the place.
 */
export function readDhatBytes(
  bytes: Buffer,
  onProgress?: (done: number, total: number) => void,
): Profile | undefined {
  let header: DhatFile | undefined;
  const data = parseJsonBytes(bytes, {
    ...(onProgress ? { onProgress } : {}),
    elements: {
      key: 'pps',
      accept: (members) => {
        try {
          header = checkedHeader(members, ['pps', 'ftbl']);
        } catch {
          return undefined;
        }
        const h = header;
        return (pp, i) => programPointOf(h, pp as DhatPP, i, false);
      },
    },
  });
  if (!header) return undefined;
  const d = checkedHeader(data);
  if (!Array.isArray(d.pps) || !Array.isArray(d.ftbl)) {
    throw new DhatFormatError('"pps" and "ftbl" must be arrays');
  }
  return profileOf(d, d.pps as unknown as ProgramPoint[], d.ftbl);
}

/** The file's header, checked; `later` names fields that may still be to come. */
function checkedHeader(data: unknown, later: string[] = []): DhatFile {
  if (!isDhat(data) || !isObject(data)) {
    throw new DhatFormatError('not a DHAT file: no "dhatFileVersion" field');
  }
  const d = data as unknown as DhatFile;
  if (d.dhatFileVersion !== 2) {
    throw new DhatFormatError(
      `DHAT file version ${showValue(d.dhatFileVersion)}; expected version 2`,
    );
  }
  need(
    d,
    ['mode', 'verb', 'bklt', 'bkacc', 'tu', 'Mtu', 'cmd', 'pid', 'te', 'pps', 'ftbl'].filter(
      (f) => !later.includes(f),
    ),
    'file',
  );
  if (d.bklt) need(d, ['tg', 'tuth'], 'file');
  return d;
}

function need(obj: object, fields: string[], where: string): void {
  for (const f of fields) {
    if (!(f in obj)) throw new DhatFormatError(`${where} is missing a field: ${f}`);
  }
}

/** A program point's record; `copy`: its stack is copied (the parsed value is the caller's). */
function programPointOf(d: DhatFile, pp: DhatPP, i: number, copy = true): ProgramPoint {
  const where = `program point ${i}`;
  if (!isObject(pp)) {
    throw new DhatFormatError(`${where} is ${showValue(pp)}; wants an object`);
  }
  need(pp, ['tb', 'tbk', 'fs'], where);
  if (d.bklt) need(pp, ['mb', 'mbk', 'gb', 'gbk', 'eb', 'ebk'], where);
  if (d.bkacc) need(pp, ['rb', 'wb'], where);
  // Built field by field in one order, with no field deleted afterwards: objects of one
  // shape, which V8 keeps compact (a deleted field turns an object into a dictionary,
  // several times larger: it decides whether a 1M-program-point profile fits in memory).
  // DHAT stores the root frame implicitly; fs never contains index 0.
  const out = {
    stack: copy && Array.isArray(pp.fs) ? pp.fs.slice() : pp.fs,
    totalBytes: pp.tb,
    totalBlocks: pp.tbk,
  } as ProgramPoint;
  if (pp.tl !== undefined) out.totalLifetimes = pp.tl as number;
  if (pp.mb !== undefined) out.maxBytes = pp.mb as number;
  if (pp.mbk !== undefined) out.maxBlocks = pp.mbk as number;
  if (pp.gb !== undefined) out.peakBytes = pp.gb as number;
  if (pp.gbk !== undefined) out.peakBlocks = pp.gbk as number;
  if (pp.eb !== undefined) out.endBytes = pp.eb as number;
  if (pp.ebk !== undefined) out.endBlocks = pp.ebk as number;
  if (pp.rb !== undefined) out.readBytes = pp.rb as number;
  if (pp.wb !== undefined) out.writeBytes = pp.wb as number;
  if (pp.acc !== undefined) out.accesses = pp.acc as number[];
  if (pp.heapscope !== undefined) out.heapscope = pp.heapscope as ProgramPoint['heapscope'];
  return out;
}

function profileOf(d: DhatFile, programPoints: ProgramPoint[], frames: string[]): Profile {
  const hasUnits = d.bu !== undefined || d.bsu !== undefined || d.bksu !== undefined;
  const profile: Profile = stripUndefined({
    mode: d.mode,
    verb: d.verb,
    hasLifetimes: d.bklt,
    hasAccesses: d.bkacc,
    units: hasUnits
      ? { byte: d.bu ?? 'byte', bytes: d.bsu ?? 'bytes', blocks: d.bksu ?? 'blocks' }
      : undefined,
    timeUnit: d.tu,
    timeUnitLarge: d.Mtu,
    shortLivedThreshold: d.tuth,
    cmd: d.cmd,
    pid: d.pid,
    endTime: d.te,
    peakTime: d.tg,
    frames,
    programPoints,
    heapscope: d.heapscope,
  });
  const problems = validateProfile(profile, dhatFieldName);
  if (problems.length > 0) throw new DhatFormatError(`malformed profile: ${problems[0]}`);
  return profile;
}

/**
 * Writes a Profile as DHAT v2 JSON, one program point per line (diffable, and
 * what `dh_view.html` loads). Fields the profile does not have are left out.
 */
export function writeDhat(profile: Profile): string {
  return writeDhatParts(profile).join('');
}

/** Text per part of `writeDhatParts`, about. */
const PART_CHARS = 1 << 20;

/**
 * The text of `writeDhat` in parts of about a million characters, to be written one
 * after the other: a profile of millions of program points is longer than the longest
 * string V8 makes (about 512 MB).
 */
export function writeDhatParts(profile: Profile): string[] {
  const header: Omit<DhatFile, 'pps' | 'ftbl'> = stripUndefined({
    dhatFileVersion: 2,
    mode: profile.mode,
    verb: profile.verb,
    bklt: profile.hasLifetimes,
    bkacc: profile.hasAccesses,
    bu: profile.units?.byte,
    bsu: profile.units?.bytes,
    bksu: profile.units?.blocks,
    tu: profile.timeUnit,
    Mtu: profile.timeUnitLarge,
    tuth: profile.shortLivedThreshold,
    cmd: profile.cmd,
    pid: profile.pid,
    te: profile.endTime,
    tg: profile.peakTime,
    heapscope: profile.heapscope,
  });
  const parts: string[] = [];
  const text = new TextParts(PART_CHARS);
  const put = (piece: string) => {
    if (text.put(piece)) parts.push(text.take());
  };
  put(`${JSON.stringify(header).slice(0, -1)}\n,"pps":\n [`);
  profile.programPoints.forEach((pp, i) => {
    const text = JSON.stringify(
      stripUndefined({
        tb: pp.totalBytes,
        tbk: pp.totalBlocks,
        tl: pp.totalLifetimes,
        mb: pp.maxBytes,
        mbk: pp.maxBlocks,
        gb: pp.peakBytes,
        gbk: pp.peakBlocks,
        eb: pp.endBytes,
        ebk: pp.endBlocks,
        rb: pp.readBytes,
        wb: pp.writeBytes,
        acc: pp.accesses,
        fs: pp.stack,
        heapscope: pp.heapscope,
      }),
    );
    put(i === 0 ? text : `\n ,${text}`);
  });
  put('\n ]\n,"ftbl":\n [');
  profile.frames.forEach((f, i) => {
    put(i === 0 ? JSON.stringify(f) : `\n ,${JSON.stringify(f)}`);
  });
  put('\n ]\n}\n');
  if (!text.empty) parts.push(text.take());
  return parts;
}

function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    if (o[k] === undefined) delete o[k];
  }
  return o;
}

/**
 * JavaScript call stacks of allocation calls, taken with V8's structured stack trace
 * API: `Error.captureStackTrace(holder, entry)` with a temporary
 * `Error.prepareStackTrace` that returns the CallSite objects. Frames above (and
 * including) the tracker's entry function are left out by V8 itself, so a stack starts
 * at the caller's line. Stacks are interned: each distinct stack (by script, line and
 * column of every frame) gets a small integer, and frame strings are built only when
 * a profile is made.
 */
import { findSourceMap } from 'node:module';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFrameFormatter, displayPath, scriptPath } from '../capture/frames.js';
import { frameOfLocation, type RawLocation } from '../model/frame.js';

const returnCallSites = (_error: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] => sites;

export class StackTable {
  private readonly ids = new Map<string, number>();
  /** Frames of each interned stack, innermost (allocation site) first. */
  readonly stacks: RawLocation[][] = [];

  /** `depth`: frames kept per stack (V8's `Error.stackTraceLimit` while capturing). */
  constructor(private readonly depth: number) {}

  /** The id of the current call stack, from the caller of `entry` outwards. */
  capture(entry: (...args: never[]) => unknown): number {
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    Error.prepareStackTrace = returnCallSites;
    Error.stackTraceLimit = this.depth;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    let sites: NodeJS.CallSite[];
    try {
      Error.captureStackTrace(holder, entry);
      sites = holder.stack ?? [];
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
    let key = '';
    for (const s of sites) {
      key += `${s.getScriptNameOrSourceURL() ?? s.getFunctionName() ?? ''}:${s.getLineNumber()}:${s.getColumnNumber()}\n`;
    }
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.stacks.length;
      this.ids.set(key, id);
      this.stacks.push(mappedLocations(sites, prepare));
    }
    return id;
  }
}

/**
 * The frames of a new stack. Where a source-map-aware `Error.prepareStackTrace` was
 * installed (vitest, source-map-support), it formats the same CallSites and its
 * positions are taken, so code transformed in memory shows its original lines. Runs
 * once per distinct stack.
 */
function mappedLocations(
  sites: NodeJS.CallSite[],
  prepare: typeof Error.prepareStackTrace,
): RawLocation[] {
  const raw = sites.map(rawLocation);
  if (typeof prepare !== 'function' || prepare === returnCallSites || sites.length === 0) {
    return raw;
  }
  let text: unknown;
  try {
    text = prepare(new Error('heapscope'), sites);
  } catch {
    return raw;
  }
  if (typeof text !== 'string') return raw;
  const lines = text.split('\n').filter((l) => /^\s+at /.test(l));
  if (lines.length !== sites.length) return raw;
  return raw.map((loc, i) => {
    const m = /^\s+at (?:.*? \()?(.+):(\d+):(\d+)\)?$/.exec(lines[i]!);
    if (!m) return loc;
    return { ...loc, scriptName: m[1]!, line: Number(m[2]), column: Number(m[3]) };
  });
}

function rawLocation(s: NodeJS.CallSite): RawLocation {
  return {
    functionName: s.getFunctionName() ?? '',
    scriptName: s.getScriptNameOrSourceURL() ?? '',
    line: s.getLineNumber() ?? 0,
    column: s.getColumnNumber() ?? 0,
  };
}

/**
 * Frame strings in heapscope's form, `fn (file:line:column)`: paths relative to `cwd`,
 * original positions where the script has a source map — one Node has loaded (with
 * source maps enabled, as tsx does) or one named by the file on disk.
 */
export function frameFormatter(cwd: string): (loc: RawLocation) => string {
  const fromDisk = createFrameFormatter(cwd, {}, 'call');
  const cache = new Map<string, string>();
  return (loc) => {
    const key = `${loc.functionName}\0${loc.scriptName}:${loc.line}:${loc.column}`;
    let frame = cache.get(key);
    if (frame === undefined) {
      frame = fromLoadedSourceMap(loc, cwd) ?? fromDisk(loc);
      cache.set(key, frame);
    }
    return frame;
  };
}

function fromLoadedSourceMap(loc: RawLocation, cwd: string): string | undefined {
  const path = scriptPath(loc.scriptName);
  if (!path || loc.line <= 0) return undefined;
  let map: ReturnType<typeof findSourceMap>;
  try {
    map = findSourceMap(path);
  } catch {
    return undefined;
  }
  if (!map) return undefined;
  const entry = map.findEntry(loc.line - 1, Math.max(0, loc.column - 1));
  if (!entry || !('originalSource' in entry) || !entry.originalSource) return undefined;
  const source = scriptPath(entry.originalSource) ?? entry.originalSource;
  return frameOfLocation({
    functionName: loc.functionName,
    scriptName: displayPath(source, cwd),
    line: entry.originalLine + 1,
    column: entry.originalColumn + 1,
  });
}

/** heapscope's own code (dist/, or src/ when run from source): its frames are left out of stacks. */
const OWN_DIR = dirname(dirname(fileURLToPath(import.meta.url))) + sep;

/**
 * The program's frames of a stack: without heapscope's own frames (a `group()` the
 * allocation ran in) and without the outermost run of Node's own frames (the module
 * loader that ran the program: the same at the bottom of every stack).
 */
export function programFrames(stack: RawLocation[]): RawLocation[] {
  const own = stack.filter((loc) => !scriptPath(loc.scriptName)?.startsWith(OWN_DIR));
  let n = own.length;
  while (n > 1 && own[n - 1]!.scriptName.startsWith('node:')) n--;
  return n === own.length ? own : own.slice(0, n);
}

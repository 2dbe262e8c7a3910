/**
 * Frame strings taken apart and put together again: heapscope's
 * `functionName (file:line:column)` (1-based; `functionName (file)` without a position,
 * a bare name without a file), Valgrind's `0x1091A0: make_buf (prog.c:8)` and dhat-rs's
 * `0x104b7beb8: f (src/lib.rs:12:9)`. Used to match sites across profiles and by the
 * formats that keep function, file, line and column apart (pprof, `.heapprofile`,
 * speedscope).
 */

/** A frame string split into its parts. */
export interface FrameParts {
  /** Code address, as written (`0x1091A0`), for native frames. */
  address?: string;
  /** Function name; `(anonymous)` for unnamed JavaScript functions. */
  name: string;
  /** File (or `in <library>` for native frames without debug info); absent when unknown. */
  file?: string;
  line?: number;
  column?: number;
}

/**
 * The program point of live objects that were allocated while V8's allocation tracker ran
 * but carry no allocation site in the end-of-run snapshot (V8 lost their trace).
 */
export const UNTRACED_SITE_FRAME = '[allocated while tracking, site not recorded by V8]';

/**
 * The file of V8's built-in functions, which have no script: `Array.prototype.push (native)`,
 * as V8's own stack traces write them.
 */
export const NATIVE_FILE = 'native';

/** Whether a frame is a V8 built-in (`Array.prototype.push (native)`). */
export function isBuiltinFrame(frame: string): boolean {
  return frame.endsWith(` (${NATIVE_FILE})`);
}

const ADDRESS = /^(0x[0-9a-fA-F]+): /;
const LOCATION = /^(.*) \(([^()]*)\)$/;
const POSITION = /^(.*?):(\d+)(?::(\d+))?$/;

/**
 * Splits a frame string: heapscope's `fn (file.js:12:3)`, Valgrind's
 * `0x1091A0: make_buf (prog.c:8)` or `0x48417B4: malloc (in /usr/lib/x.so)`, dhat-rs's
 * `0x104b7beb8: f (src/lib.rs:12:9)`, and bare names (`push`, `[root]`).
 */
export function parseFrame(frame: string): FrameParts {
  let rest = frame;
  let address: string | undefined;
  const a = ADDRESS.exec(rest);
  if (a) {
    address = a[1]!;
    rest = rest.slice(a[0].length);
  }
  const loc = LOCATION.exec(rest);
  if (!loc) return { ...(address ? { address } : {}), name: rest };
  const parts: FrameParts = { ...(address ? { address } : {}), name: loc[1]! };
  const pos = POSITION.exec(loc[2]!);
  if (pos) {
    parts.file = pos[1]!;
    parts.line = Number(pos[2]);
    if (pos[3] !== undefined) parts.column = Number(pos[3]);
  } else {
    parts.file = loc[2]!;
  }
  return parts;
}

/** The frame string for a function, file, line and column (inverse of `parseFrame`). */
export function formatFrame(parts: FrameParts): string {
  const prefix = parts.address ? `${parts.address}: ` : '';
  const name = parts.name || '(anonymous)';
  if (!parts.file) return `${prefix}${name}`;
  if (parts.line === undefined || parts.line <= 0) return `${prefix}${name} (${parts.file})`;
  if (parts.column === undefined) return `${prefix}${name} (${parts.file}:${parts.line})`;
  return `${prefix}${name} (${parts.file}:${parts.line}:${parts.column})`;
}

/**
 * A JavaScript function's location as V8 reports it (allocation tracker, sampling heap
 * profiler, CPU profiler): line and column 1-based, 0 when unknown.
 */
export interface RawLocation {
  functionName: string;
  scriptName: string;
  line: number;
  column: number;
}

/**
 * The frame string of a V8 location: `fn (file:line:column)`; a column of 0 (unknown) is
 * left out (`fn (file:line)`), as is a line of 0 (`fn (file)`); a bare name without a file.
 */
export function frameOfLocation(loc: RawLocation): string {
  const known = loc.line > 0;
  return formatFrame({
    name: loc.functionName,
    ...(loc.scriptName ? { file: loc.scriptName } : {}),
    ...(known ? { line: loc.line } : {}),
    ...(known && loc.column > 0 ? { column: loc.column } : {}),
  });
}

/** The frame without its code address (`0x1091A0: `), which changes with every build. */
export function withoutAddress(frame: string): string {
  return frame.replace(ADDRESS, '');
}

/**
 * A frame as formats without a place for the code address hold it (pprof, `.heapprofile`,
 * speedscope): the address stays in the function name, so the frame reads back whole.
 */
export function parseFrameForExport(frame: string): FrameParts {
  const p = parseFrame(frame);
  if (!p.address) return p;
  const { address, ...rest } = p;
  return { ...rest, name: `${address}: ${p.name}` };
}

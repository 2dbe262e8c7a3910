import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { originalPositionFor, sourceContentFor, TraceMap } from '@jridgewell/trace-mapping';
import { frameOfLocation, type RawLocation } from '../model/frame.js';
import {
  createFunctionIndex,
  isTypeScriptPath,
  type Position,
  type SourceFunctions,
} from './function-positions.js';

/** A script name as V8 reports it (path, file: URL, node: module) as an absolute path, when it is a file. */
export function scriptPath(scriptName: string): string | undefined {
  if (scriptName.startsWith('file://')) {
    try {
      return fileURLToPath(scriptName);
    } catch {
      return undefined;
    }
  }
  return isAbsolute(scriptName) ? scriptName : undefined;
}

/** Shows a path relative to `cwd` when it lies under it, absolute otherwise. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  if (rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)) return rel;
  return path;
}

/**
 * Turns tracker locations into frame strings: `fn (file:line:column)`, paths relative
 * to the working directory, and original (e.g. `.ts`) positions where the script had a
 * source map. `sourceMapUrls` maps script URLs to their `sourceMappingURL` as the target
 * process saw them (inline `data:` maps included).
 *
 * One column convention for every loader: V8's, the function's parameter list. A mapped
 * position in a function's head (tsx and esbuild map the name) moves to its parameter
 * list. A TypeScript script without a map is either the file itself (Node's type
 * stripping keeps positions) or a loader's output whose script died before the end
 * (ts-node; tsx's CommonJS path): V8's position is kept only where the `.ts` file has a
 * parameter list (or the script's top level, 1:1), else the function is found in the
 * file by name, else the frame has no position rather than a wrong one.
 *
 * `positions: 'call'` is for stack-trace frames, whose positions are call sites, not
 * functions: mapped as they are, nothing moved.
 */
export function createFrameFormatter(
  cwd: string,
  sourceMapUrls: Record<string, string> = {},
  positions: 'function' | 'call' = 'function',
): (loc: RawLocation) => string {
  const ofFunctions = positions === 'function';
  const mapsByPath = new Map<string, string>();
  for (const [url, mapUrl] of Object.entries(sourceMapUrls)) {
    const p = scriptPath(url);
    if (p) mapsByPath.set(p, mapUrl);
  }
  const loaded = new Map<string, TraceMap | null>();
  const mapFor = (path: string): TraceMap | null => {
    if (loaded.has(path)) return loaded.get(path)!;
    let map: TraceMap | null = null;
    try {
      const mapUrl = mapsByPath.get(path) ?? sourceMappingUrlOnDisk(path);
      if (mapUrl) map = new TraceMap(readSourceMap(mapUrl, path), pathToFileURL(path).href);
    } catch {
      map = null; // An unreadable map leaves generated positions, which are still true.
    }
    loaded.set(path, map);
    return map;
  };
  const functionsIn = createFunctionIndex();
  const frame = (loc: RawLocation, path: string, pos?: Position) =>
    frameOfLocation({
      functionName: loc.functionName,
      scriptName: displayPath(path, cwd),
      line: pos?.line ?? 0,
      column: pos?.column ?? 0,
    });
  return (raw) => {
    const path = scriptPath(raw.scriptName);
    if (!path) return frameOfLocation(raw);
    const map = mapFor(path);
    let pos: Position | undefined =
      raw.line > 0 ? { line: raw.line, column: raw.column } : undefined;
    if (!pos && ofFunctions && raw.functionName && !isTypeScriptPath(path)) {
      // The script died before the end: the function in the file on disk, by name.
      pos = functionsIn(path)?.byName(raw.functionName);
    }
    if (pos && map) {
      const orig = originalPositionFor(map, {
        line: pos.line,
        column: Math.max(0, pos.column - 1),
      });
      if (orig.source !== null && orig.line !== null) {
        const src = scriptPath(orig.source) ?? resolve(dirname(path), orig.source);
        const mapped = { line: orig.line, column: (orig.column ?? 0) + 1 };
        if (!ofFunctions) return frame(raw, src, mapped);
        const fns = functionsIn(src, sourceContentFor(map, orig.source) ?? undefined);
        return frame(raw, src, fns?.atHead(mapped) ?? mapped);
      }
    }
    if (ofFunctions && isTypeScriptPath(path)) {
      return frame(raw, path, typeScriptPosition(raw, pos, functionsIn(path)));
    }
    return frame(raw, path, pos);
  };
}

/** The position of a function of a TypeScript file that has no source map (see above). */
function typeScriptPosition(
  raw: RawLocation,
  pos: Position | undefined,
  fns: SourceFunctions | undefined,
): Position | undefined {
  if (!fns) return pos;
  if (pos && ((pos.line === 1 && pos.column === 1) || fns.isParameterList(pos))) return pos;
  return raw.functionName ? fns.byName(raw.functionName) : undefined;
}

function readSourceMap(mapUrl: string, scriptFile: string): string {
  const data = /^data:application\/json(?:;charset=[^;,]+)?;base64,(.*)$/s.exec(mapUrl);
  if (data) return Buffer.from(data[1]!, 'base64').toString('utf8');
  if (mapUrl.startsWith('data:')) return decodeURIComponent(mapUrl.slice(mapUrl.indexOf(',') + 1));
  const file = scriptPath(mapUrl) ?? resolve(dirname(scriptFile), mapUrl);
  return readFileSync(file, 'utf8');
}

/** The `//# sourceMappingURL=` of a script file on disk, for scripts whose URL was not reported. */
function sourceMappingUrlOnDisk(path: string): string | undefined {
  if (!existsSync(path) || path.endsWith('.ts')) return undefined;
  const tail = readFileSync(path, 'utf8').slice(-4096);
  const m = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(tail);
  return m?.[1];
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { frameOfLocation, type RawLocation } from '../model/frame.js';
import { createFunctionLocator } from './function-positions.js';

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
 */
export function createFrameFormatter(
  cwd: string,
  sourceMapUrls: Record<string, string> = {},
): (loc: RawLocation) => string {
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
  const locateFunction = createFunctionLocator();
  return (raw) => {
    const path = scriptPath(raw.scriptName);
    if (!path) return frameOfLocation(raw);
    let loc = raw;
    if (loc.line === 0 && loc.functionName) {
      const found = locateFunction(path, loc.functionName);
      if (found) loc = { ...loc, ...found };
    }
    if (loc.line > 0) {
      const map = mapFor(path);
      if (map) {
        const orig = originalPositionFor(map, {
          line: loc.line,
          column: Math.max(0, loc.column - 1),
        });
        if (orig.source !== null && orig.line !== null) {
          const src = scriptPath(orig.source) ?? resolve(dirname(path), orig.source);
          return frameOfLocation({
            functionName: loc.functionName,
            scriptName: displayPath(src, cwd),
            line: orig.line,
            column: (orig.column ?? 0) + 1,
          });
        }
      }
    }
    return frameOfLocation({ ...loc, scriptName: displayPath(path, cwd) });
  };
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

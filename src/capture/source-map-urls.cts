/**
 * Script URLs and their `sourceMappingURL`s (inline `data:` maps of loaders like tsx
 * included), read through an in-thread inspector session: synchronous in the same
 * thread, `Debugger.scriptParsed` fires for every loaded script during `enable`. Opens
 * no port. CommonJS, for the capture agent; the measuring library imports it too.
 *
 * A CommonJS module whose functions all died once it ran takes its script with it, and
 * the debugger no longer reports it. Where Node keeps source maps (tsx turns that on, as
 * does `--enable-source-maps`), `module.findSourceMap` still has the map of every module
 * in `require.cache`: those are added as inline maps.
 */
export function collectSourceMapUrls(): Record<string, string> {
  const maps: Record<string, string> = {};
  try {
    // Required here: a Node built without the inspector must not stop the agent loading.
    const inspector = require('node:inspector') as typeof import('node:inspector');
    const session = new inspector.Session();
    session.connect();
    session.on('Debugger.scriptParsed', (m) => {
      const p = m.params as { url: string; sourceMapURL?: string };
      if (p.sourceMapURL && p.url && !p.url.startsWith('node:')) maps[p.url] = p.sourceMapURL;
    });
    session.post('Debugger.enable', () => {});
    session.post('Debugger.disable', () => {});
    session.disconnect();
  } catch {
    // No inspector in this build of Node: frames keep their generated positions.
  }
  addCachedCommonJsMaps(maps);
  return maps;
}

function addCachedCommonJsMaps(maps: Record<string, string>): void {
  try {
    const { findSourceMap } = require('node:module') as typeof import('node:module');
    const reported = new Set(Object.keys(maps));
    for (const file of Object.keys(require.cache)) {
      if (reported.has(file) || reported.has(`file://${file}`)) continue;
      const payload = findSourceMap(file)?.payload;
      if (!payload) continue;
      maps[file] =
        `data:application/json;base64,${Buffer.from(JSON.stringify(payload)).toString('base64')}`;
    }
  } catch {
    // A Node without findSourceMap, or a map it cannot give: generated positions stay.
  }
}

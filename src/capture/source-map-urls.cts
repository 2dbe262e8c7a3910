/**
 * Script URLs and their `sourceMappingURL`s (inline `data:` maps of loaders like tsx
 * included), read through an in-thread inspector session: synchronous in the same
 * thread, `Debugger.scriptParsed` fires for every loaded script during `enable`. Opens
 * no port. CommonJS, for the capture agent; the measuring library imports it too.
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
  return maps;
}

/**
 * `heapscope view FILE [FILE2]`: the viewer for a profile (two: base and head, side by
 * side with their diff). With `--html` it writes one self-contained page and exits;
 * otherwise it serves the page on 127.0.0.1, opens a browser, and stops on Ctrl-C,
 * SIGTERM, or the page's "Stop server" button.
 */
import { spawn } from 'node:child_process';
import { basename, resolve } from 'node:path';
import { readProfileFile } from '../formats/index.js';
import { applyFilters } from '../model/filter.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { printable } from '../util/printable.js';
import { renderViewerPage, type ViewerInput } from '../viewer/render.js';
import { serveViewer } from '../viewer/serve.js';
import type { Io } from './io.js';
import { type FilterFlags, filtersOf, parseBy, parsePositiveInt, readOptions } from './options.js';

export interface ViewFlags extends FilterFlags {
  by?: string;
  cum?: boolean;
  html?: string;
  port?: string;
  /** False with --no-open. */
  open?: boolean;
}

export async function viewCommand(files: string[], flags: ViewFlags, io: Io): Promise<number> {
  if (files.length < 1 || files.length > 2) {
    io.stderr.write('heapscope: view takes one profile, or two (base and head)\n');
    return 2;
  }
  const port = flags.port === undefined ? 0 : parsePositiveInt(flags.port, '--port');
  if (port > 65535) {
    io.stderr.write(`heapscope: --port wants a port number (0-65535), not ${port}\n`);
    return 2;
  }
  const filters = filtersOf(flags, true);
  const by = parseBy(flags.by);
  const group = by === 'site' ? {} : { group: `${by}:${flags.cum ? 'inclusive' : 'self'}` };
  const inputs: ViewerInput[] = [];
  for (const f of files) {
    const read = (await readProfileFile(f === '-' ? f : resolve(io.cwd, f), readOptions(io, f)))
      .profile;
    const { profile, notes, warnings } = applyFilters(read, filters);
    for (const w of warnings) io.stderr.write(`heapscope: ${f}: ${w}\n`);
    // The page says what was filtered among the profile's notes.
    const hs = profile.heapscope;
    const shown =
      hs && notes.length
        ? { ...profile, heapscope: { ...hs, notes: [...notes, ...(hs.notes ?? [])] } }
        : profile;
    inputs.push({ name: basename(f), profile: shown });
  }

  if (flags.html) {
    const out = resolve(io.cwd, flags.html);
    const html = renderViewerPage(inputs, group);
    await writeFileAtomic(out, html);
    const size = html.reduce((n, part) => n + Buffer.byteLength(part), 0);
    io.stdout.write(
      `${printable(`heapscope: wrote ${flags.html} (${Math.ceil(size / 1024)} KiB)`)}\n`,
    );
    return 0;
  }

  const server = await serveViewer((s) => renderViewerPage(inputs, { ...group, server: s }), {
    port,
  });
  // Signals are the one bit of `process` this command needs: they stop the server. Set
  // before the address is printed: whoever reads it may signal at once, and a signal
  // with no handler yet ends the process with no "stopped" and no exit code 0.
  const stop = () => void server.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  io.stdout.write(`heapscope: viewer at ${server.url}  (Ctrl-C or "Stop server" to stop)\n`);
  if (flags.open !== false) openBrowser(server.url);
  const how = await server.closed;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  io.stdout.write(`heapscope: viewer stopped${how === 'page' ? ' (from the page)' : ''}\n`);
  return 0;
}

/** Asks the desktop to open `url`; any failure is ignored (the URL is printed anyway). */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the printed URL is enough.
  }
}

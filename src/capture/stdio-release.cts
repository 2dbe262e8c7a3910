/**
 * A child process whose program has ended, writing its profile, still holds the write ends
 * of the pipes its parent reads its output from. A parent that reads them to their end
 * (execFile's callback, `node --test`, a runner forwarding its workers' output) would wait
 * for the profile, or, with them unreferenced, end before it read the end. So, once the
 * program has ended, the child points its stdout and stderr at /dev/null when they are
 * pipes or sockets and its parent is profiled (the parent side reports the child's exit
 * from its ending file; parent-side.cts). The parent then reads the program's output to
 * its end at once. What the pipe took is in it; what libuv still queued for a full pipe
 * at process.exit() is lost, as it is without heapscope (pipe writes are asynchronous on
 * POSIX, and no event loop runs after 'exit').
 *
 * POSIX only (Windows has no /dev/null and hands no pipe ends around this way).
 */
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';

const STDOUT_AND_STDERR = [1, 2];

function isPipeOrSocket(fd: number): boolean {
  try {
    const s = fstatSync(fd);
    return s.isFIFO() || s.isSocket();
  } catch {
    return false;
  }
}

/** Never throws; does nothing on Windows or when the parent is not profiled. */
export function releaseStdioToProfiledParent(dir: string): void {
  if (process.platform === 'win32') return;
  if (!existsSync(join(dir, `${process.ppid}.0.started.json`))) return;
  for (const fd of STDOUT_AND_STDERR) {
    if (!isPipeOrSocket(fd)) continue;
    try {
      closeSync(fd);
      // The lowest free descriptor: `fd` itself, so that later writes to it go nowhere.
      const devNull = openSync('/dev/null', 'w');
      if (devNull !== fd) closeSync(devNull);
    } catch {}
  }
}

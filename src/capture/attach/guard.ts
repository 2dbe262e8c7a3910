/**
 * The guard: a small process that `attach` starts beside itself, so that the target's
 * inspector is closed even when heapscope dies without detaching (SIGKILL, a crash).
 * heapscope holds the guard's stdin open; when heapscope is done it writes `done` and
 * the guard leaves quietly. When stdin ends without `done` (the kernel closes the pipe
 * of a dead process), the guard connects to the inspector and closes it, as `detach`
 * would. Started detached, in its own process group: Ctrl-C in heapscope's terminal
 * does not reach it.
 *
 * Run as `node guard.js <webSocketDebuggerUrl>`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CdpConnection } from './cdp.js';
import { CLOSE_EXPRESSION } from './close.js';

/** Closes the inspector behind `url` from a session of its own. */
async function closeInspector(url: string): Promise<void> {
  const c = await CdpConnection.connect(url);
  c.post('Runtime.evaluate', { expression: CLOSE_EXPRESSION, includeCommandLineAPI: true }).catch(
    () => {},
  );
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, 3000))]);
  await c.close();
}

export interface Guard {
  /** heapscope is done with the target: the guard leaves without touching it. */
  release(): void;
}

/** Starts the guard for the inspector at `url`. */
export function startGuard(url: string): Guard {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), url], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  child.unref();
  // The pipe must not keep heapscope alive either.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      child.stdin!.end('done');
    },
  };
}

function main(url: string): void {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    input += d;
  });
  process.stdin.on('end', () => {
    if (input.includes('done')) return;
    closeInspector(url).catch(() => {
      // The target is gone, or its inspector with it.
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) main(process.argv[2]);

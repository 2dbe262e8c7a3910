/** Real servers for `heapscope attach` tests: started with plain Node, loaded from a second process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { NODE, ROOT } from './heapscope.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures', 'attach');

export interface Server {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Where SIGUSR1 opens its inspector: a free port given with --inspect-port, not 9229. */
  inspectorPort: number;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name) once the server has ended. */
  exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();

/** Ends the servers a test left running (it failed before it ended them). */
export function killServers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** A TCP port nothing listens on at the moment. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * Starts test/fixtures/attach/server.cjs with plain `node` (extra args go to the server).
 * Each server's inspector gets a port of its own, so attach tests running beside other
 * programs (or each other) never meet on Node's default 9229.
 */
export async function startServer(args: string[] = [], nodeArgs: string[] = []): Promise<Server> {
  const inspectorPort = await freePort();
  const inspectFlags = nodeArgs.some((a) => a.startsWith('--inspect'))
    ? []
    : [`--inspect-port=${inspectorPort}`];
  const child = spawn(NODE, [...inspectFlags, ...nodeArgs, join(FIXTURES, 'server.cjs'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | string>((r) =>
    child.on('exit', (code, signal) => r(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) {
        const { port } = JSON.parse(line!) as { port: number };
        resolve({ child, pid: child.pid!, port, inspectorPort, stderr: () => stderr, exited });
      }
    });
    child.on('exit', () => reject(new Error(`the server ended before it listened: ${stderr}`)));
  });
}

/** Sends `requests` GETs of `path` from a second process (test/fixtures/attach/load.cjs). */
export function load(port: number, path: string, requests: number, concurrency = 4): Promise<void> {
  const child = spawn(
    NODE,
    [join(FIXTURES, 'load.cjs'), String(port), path, String(requests), String(concurrency)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 && out.includes(`"requests":${requests}`)
        ? resolve()
        : reject(new Error(`load failed (${code}): ${out}`)),
    ),
  );
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Resolves once `check()` is true, polling; rejects after `ms`. */
export function waitUntil(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      let ok: boolean;
      try {
        ok = check();
      } catch (e) {
        clearInterval(poll);
        reject(e);
        return;
      }
      if (ok) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

/**
 * Opening and closing a running Node process's inspector from outside.
 *
 *   examine (/proc) ──▶ SIGUSR1 ──▶ new listening socket of the target ──▶ /json/list
 *        ──▶ WebSocket ──▶ … heapscope's work … ──▶ detach:
 *            Runtime.evaluate(inspector.close()) ──▶ the port is closed again
 *
 * Node opens the inspector where its options say (127.0.0.1:9229 unless `--inspect-port`
 * says otherwise; a signal cannot choose the port), so the port is checked to be free
 * first: taken, Node would print an error into the target's stderr and open nothing.
 * An inspector that was open before heapscope came is used and left open.
 *
 * While heapscope is connected, a target that ends waits in Node's exit path for the
 * debugger to go ("Waiting for the debugger to disconnect..."); `NodeRuntime`'s
 * `waitingForDisconnect` says so, the caller takes what it needs and detaches, and the
 * process ends with its own exit code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CdpConnection, CdpError } from './cdp.js';
import { CLOSE_EXPRESSION } from './close.js';
import { startGuard } from './guard.js';
import {
  isLoopback,
  type ListeningSocket,
  listeningSockets,
  listeningSocketsOf,
} from './listening.js';
import { AttachRefusal, examineTarget, type TargetProcess } from './target.js';

export interface AttachedInspector {
  target: TargetProcess;
  connection: CdpConnection;
  /** Where the inspector listens. */
  host: string;
  port: number;
  /** The inspector was open before heapscope came: it is left open. */
  wasOpen: boolean;
  /** Node and V8 versions of the target. */
  node: string;
  v8: string;
  /** Settles when the target has begun to exit (its inspector waits for heapscope to go). */
  readonly exiting: Promise<void>;
  readonly isExiting: boolean;
  /** Closes the inspector (unless it was open before) and checks that its port is closed. */
  detach(): Promise<DetachResult>;
}

export interface DetachResult {
  /** Whether the inspector's port was closed when heapscope left (or the target had ended). */
  portClosed: boolean;
  /** Whether the target was still running when heapscope left. */
  targetAlive: boolean;
}

export interface AttachOptions {
  /** How long to wait for the inspector to open. */
  openTimeoutMs?: number;
}

const POLL_MS = 25;

const hostInUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForNewSocket(
  pid: number,
  before: readonly ListeningSocket[],
  wantPort: number,
  timeoutMs: number,
): Promise<ListeningSocket | undefined> {
  const known = new Set(before.map((s) => s.inode));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const fresh = (await listeningSocketsOf(pid)).filter((s) => !known.has(s.inode));
    const hit = fresh.find((s) => s.port === wantPort) ?? (wantPort === 0 ? fresh[0] : undefined);
    if (hit) return hit;
    if (!alive(pid)) return undefined;
    await sleep(POLL_MS);
  }
  return undefined;
}

/**
 * The inspector among a process's listening sockets, for a target started with
 * `--inspect=0` (any port): the one that answers `/json/version` as Node's inspector.
 */
async function findInspector(
  sockets: readonly ListeningSocket[],
): Promise<ListeningSocket | undefined> {
  for (const s of sockets) {
    if (!isLoopback(s.host) && s.host !== '0.0.0.0' && s.host !== '::') continue;
    const host = s.host === '0.0.0.0' ? '127.0.0.1' : s.host === '::' ? '::1' : s.host;
    try {
      const res = await fetch(`http://${hostInUrl(host)}:${s.port}/json/version`, {
        signal: AbortSignal.timeout(1000),
      });
      const v = (await res.json()) as { Browser?: string };
      if (v.Browser?.startsWith('node.js/')) return s;
    } catch {
      // Not the inspector.
    }
  }
  return undefined;
}

async function webSocketUrl(host: string, port: number): Promise<string> {
  const res = await fetch(`http://${hostInUrl(host)}:${port}/json/list`);
  const list = (await res.json()) as { type?: string; webSocketDebuggerUrl?: string }[];
  const entry = list.find((t) => t.webSocketDebuggerUrl && (t.type ?? 'node') === 'node');
  if (!entry?.webSocketDebuggerUrl) {
    throw new AttachRefusal(`the inspector on port ${port} lists no Node target`);
  }
  return entry.webSocketDebuggerUrl;
}

/** Opens the inspector of process `pid` (Linux) and connects to its main thread. */
export async function attachInspector(
  pid: number,
  options: AttachOptions = {},
): Promise<AttachedInspector> {
  const target = await examineTarget(pid);
  const before = await listeningSocketsOf(pid);
  const want = target.inspect.port;
  let socket =
    want !== 0
      ? before.find((s) => s.port === want)
      : target.inspectAtStart
        ? await findInspector(before)
        : undefined;
  const wasOpen = socket !== undefined;
  if (!socket) {
    if (want !== 0) {
      const taken = (await listeningSockets(pid)).find((s) => s.port === want);
      if (taken) {
        throw new AttachRefusal(
          `port ${want}, where pid ${pid} opens its inspector (${want === 9229 ? "Node's default" : 'its --inspect-port'}), is taken by another process; free it, or start the target with --inspect-port=0 (any free port)`,
        );
      }
    }
    process.kill(pid, 'SIGUSR1');
    socket = await waitForNewSocket(pid, before, want, options.openTimeoutMs ?? 5000);
    if (!socket) {
      throw new AttachRefusal(
        alive(pid)
          ? `pid ${pid} did not open its inspector within ${((options.openTimeoutMs ?? 5000) / 1000).toFixed(0)} s of SIGUSR1 (see its stderr for Node's reason)`
          : `pid ${pid} ended before its inspector opened`,
      );
    }
  }
  const host = socket.host === '0.0.0.0' ? '127.0.0.1' : socket.host === '::' ? '::1' : socket.host;
  const port = socket.port;
  let connection: CdpConnection;
  let url: string;
  try {
    url = await webSocketUrl(host, port);
    connection = await CdpConnection.connect(url);
  } catch (e) {
    if (!wasOpen) await closeFromOutside(host, port);
    throw e;
  }
  // Closes the inspector heapscope opened should heapscope die before it detaches.
  const guard = wasOpen ? undefined : startGuard(url);
  let isExiting = false;
  let onExiting!: () => void;
  const exiting = new Promise<void>((r) => {
    onExiting = r;
  });
  connection.on('NodeRuntime.waitingForDisconnect', () => {
    isExiting = true;
    onExiting();
  });
  let versions: [string, string];
  try {
    // Without this, a target that ends while heapscope is connected would just wait.
    await connection.post('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
    const r = await connection.post<{ result: { value: [string, string] } }>('Runtime.evaluate', {
      expression: '[process.version, process.versions.v8]',
      returnByValue: true,
    });
    versions = r.result.value;
  } catch (e) {
    guard?.release();
    await detach(connection, pid, host, port, wasOpen, false);
    throw e;
  }
  return {
    target,
    connection,
    host,
    port,
    wasOpen,
    node: versions[0],
    v8: versions[1],
    exiting,
    get isExiting() {
      return isExiting;
    },
    detach: () => {
      guard?.release();
      return detach(connection, pid, host, port, wasOpen, isExiting);
    },
  };
}

/** When heapscope could not talk to the inspector it opened: one more connection to close it. */
async function closeFromOutside(host: string, port: number): Promise<void> {
  try {
    const c = await CdpConnection.connect(await webSocketUrl(host, port));
    c.post('Runtime.evaluate', { expression: CLOSE_EXPRESSION, includeCommandLineAPI: true }).catch(
      () => {},
    );
    await Promise.race([c.closed, sleep(2000)]);
    await c.close();
  } catch {
    // Nothing more to try; the caller reports the port.
  }
}

async function detach(
  connection: CdpConnection,
  pid: number,
  host: string,
  port: number,
  wasOpen: boolean,
  exiting: boolean,
): Promise<DetachResult> {
  if (!wasOpen && !exiting && !connection.isClosed) {
    // inspector.close() ends every session, this one too: its answer never comes.
    connection
      .post('Runtime.evaluate', { expression: CLOSE_EXPRESSION, includeCommandLineAPI: true })
      .catch((e) => {
        if (!(e instanceof CdpError)) throw e;
      });
    await Promise.race([connection.closed, sleep(3000)]);
  }
  await connection.close();
  // The port goes a moment after the sessions (or with the process).
  const deadline = Date.now() + 3000;
  // An exiting target ends as soon as the debugger has gone.
  while (exiting && alive(pid) && Date.now() < deadline) await sleep(POLL_MS);
  let open = true;
  while (Date.now() < deadline) {
    if (!alive(pid)) return { portClosed: true, targetAlive: false };
    open = (await listeningSocketsOf(pid)).some((s) => s.port === port);
    if (!open || wasOpen) break;
    await sleep(POLL_MS);
  }
  if (open && !wasOpen) await closeFromOutside(host, port);
  const targetAlive = alive(pid);
  open = targetAlive && (await listeningSocketsOf(pid)).some((s) => s.port === port);
  return { portClosed: !open, targetAlive };
}

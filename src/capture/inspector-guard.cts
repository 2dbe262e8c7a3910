/**
 * Keeps the profiled program's own `node:inspector` sessions from ending V8's allocation
 * tracker. Closing any session turns its HeapProfiler domain off, and V8 then stops the
 * tracker of the whole isolate and drops every heap-object id, whoever started it
 * (heapscope's helper included): the end-of-run snapshot has no traces. Programs do
 * close sessions (error reporters that read local variables through the Debugger domain,
 * self-profiling code, tests of inspector clients), so while heapscope tracks:
 *
 * - `session.disconnect()` turns the session's other domains off and leaves it connected
 *   underneath; to the program it is closed (`post` throws as Node's does, `connect()`
 *   opens a fresh session behind the same object). It is closed for real when the
 *   tracking ends (`releaseHeldSessions`), or stays open until the process ends, which
 *   costs nothing: a session does not keep the event loop alive. Until then the session
 *   object and its connection stay in the heap (a few hundred bytes, charged to the code
 *   that made the session).
 * - The HeapProfiler commands that would stop or restart the tracker
 *   (`disable`, `startTrackingHeapObjects`, `stopTrackingHeapObjects`) are answered
 *   without reaching V8: heapscope's tracker stands in for the program's.
 *
 * A DevTools client that detaches from `--inspect` still stops the tracker; the profile
 * then says so (run.ts).
 */
import type { Session } from 'node:inspector';

type InspectorModule = typeof import('node:inspector');
type Callback = (error: Error | null, result?: object) => void;
type Post = (method: string, params?: object | Callback, callback?: Callback) => void;

/** Domains whose `disable` stops what a closed session could still do (pause, report). */
const DOMAINS_TO_QUIET = ['Debugger', 'Runtime', 'Profiler', 'Console'] as const;

/** HeapProfiler commands answered here, never sent on. */
const HELD_COMMANDS = new Set([
  'HeapProfiler.disable',
  'HeapProfiler.startTrackingHeapObjects',
  'HeapProfiler.stopTrackingHeapObjects',
]);

let installed = false;
/** Sessions the program closed while tracking ran, still connected underneath. */
const held = new Set<Session>();
let disconnectForReal: ((session: Session) => void) | undefined;

function notConnected(): Error {
  const error = new Error('Session is not connected') as Error & { code: string };
  error.code = 'ERR_INSPECTOR_NOT_CONNECTED';
  return error;
}

/**
 * Installs the guard in this thread. `isTracking` tells whether heapscope's tracker runs
 * (after it stops, sessions close as usual); `isOwn` exempts heapscope's own sessions.
 */
export function guardInspectorSessions(
  isTracking: () => boolean,
  isOwn: (session: Session) => boolean = () => false,
): void {
  if (installed) return;
  let inspector: InspectorModule;
  try {
    inspector = require('node:inspector') as InspectorModule;
  } catch {
    return; // a Node built without the inspector has no sessions to close
  }
  installed = true;
  const proto = inspector.Session.prototype as unknown as {
    post: Post;
    disconnect: () => void;
    connect: () => void;
  };
  const originalPost = proto.post;
  const originalDisconnect = proto.disconnect;
  disconnectForReal = (session) => originalDisconnect.call(session);

  proto.post = function post(this: Session, method, params, callback) {
    if (isTracking() && !isOwn(this) && HELD_COMMANDS.has(method)) {
      const cb = typeof params === 'function' ? params : callback;
      if (cb) process.nextTick(cb, null, {});
      return;
    }
    return originalPost.call(this, method, params, callback);
  };

  proto.disconnect = function disconnect(this: Session) {
    if (!isTracking() || isOwn(this)) return originalDisconnect.call(this);
    held.add(this);
    for (const domain of DOMAINS_TO_QUIET) {
      try {
        originalPost.call(this, `${domain}.disable`, {}, () => {});
      } catch {
        // not connected, or the domain is absent: nothing to quiet
      }
    }
    closeInPlace(this, inspector);
  };
}

/** Makes `session` behave as a closed one without closing it underneath. */
function closeInPlace(session: Session, inspector: InspectorModule): void {
  const self = session as unknown as Record<string, unknown>;
  self.post = () => {
    throw notConnected();
  };
  self.disconnect = () => {};
  self.connect = () => {
    // A fresh session stands behind the same object; its events are re-emitted here.
    const fresh = new inspector.Session();
    fresh.connect();
    const forward = (message: { method: string; params?: unknown }) => {
      session.emit('inspectorNotification', message);
      session.emit(message.method, message);
    };
    fresh.on('inspectorNotification', forward);
    self.post = (...args: unknown[]) => (fresh.post as (...a: unknown[]) => void)(...args);
    self.disconnect = () => {
      fresh.off('inspectorNotification', forward);
      fresh.disconnect();
      closeInPlace(session, inspector);
    };
    self.connect = () => {
      const error = new Error('The inspector session is already connected') as Error & {
        code: string;
      };
      error.code = 'ERR_INSPECTOR_ALREADY_CONNECTED';
      throw error;
    };
  };
}

/** Closes for real the sessions held open, once heapscope's tracking has stopped. */
export function releaseHeldSessions(): void {
  for (const session of held) {
    try {
      disconnectForReal?.(session);
    } catch {
      // already closed underneath
    }
  }
  held.clear();
}

/**
 * A `node:inspector` session in the calling thread, used synchronously: in the same
 * thread every command is answered before `post` returns, and opens no port. CommonJS,
 * for the capture agents; the measuring library imports it too.
 *
 * What such a session costs the measured program: the commands and the notifications
 * V8 sends back are JSON parsed by `node:inspector` in the program's heap, under that
 * module's frames (heapscope leaves stacks with those frames out of profiles).
 */
type InspectorModule = typeof import('node:inspector');
export type InspectorSession = import('node:inspector').Session;

/**
 * Who runs V8's tracker in this thread on the route without the helper (one module
 * instance per thread: the capture agent and the measuring library share it).
 */
export const trackerInUse: { by?: string } = {};

let shared: InspectorSession | undefined;

/**
 * This thread's session for heapscope's heap work, opened once and never closed: closing
 * any session turns its HeapProfiler domain off, which stops V8's allocation tracker
 * (whoever started it: Node's option, the helper, another session) and drops every
 * heap-object id. Throws when this Node was built without the inspector.
 */
export function sharedSession(): InspectorSession {
  if (!shared) {
    const inspector = require('node:inspector') as InspectorModule;
    const session = new inspector.Session();
    session.connect();
    shared = session;
  }
  return shared;
}

/**
 * Stops the tracker started through \`session\` (and its timer) without the snapshot that
 * \`HeapProfiler.stopTrackingHeapObjects\` would send through the protocol. Heap-object ids
 * are dropped too.
 */
export function stopTracking(session: InspectorSession): void {
  postSync(session, 'HeapProfiler.disable');
}

/** Whether `session` is heapscope's own (the guard lets it close and stop the tracker). */
export function isSharedSession(session: InspectorSession): boolean {
  return session === shared;
}

/** Posts a command and returns its result; throws the protocol's error. */
export function postSync<T>(session: InspectorSession, method: string, params?: object): T {
  let reply: { error: Error | null; result?: T } | undefined;
  session.post(method, params ?? {}, (error, result) => {
    reply = { error, result: result as T };
  });
  if (!reply) throw new Error(`heapscope: ${method} did not answer synchronously`);
  if (reply.error) throw reply.error;
  return reply.result as T;
}

/**
 * Starts V8's allocation tracker through `session` and returns the heap-object id below
 * which every object older than tracking lies: live-at-end attribution needs it, since
 * V8 stops following the moves of objects that have ids, and one the GC moves into a
 * place where a tracked object died takes that object's stack.
 *
 * Starting tracking gives every live object an id (after a full GC). A probe made after
 * a first start gets its id in a second start, after all of them; objects made once
 * the tracker runs get theirs in the snapshot that ends it, after the probe's. Only
 * the few objects made between the two starts (the session's own) may lie on either
 * side. Costs one extra full GC and heap walk; the heap-stats timer starts with the
 * first start, as with one.
 */
export function startTrackingFromHere(session: InspectorSession): number {
  postSync(session, 'HeapProfiler.startTrackingHeapObjects', { trackAllocations: false });
  const probe = {};
  postSync(session, 'HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  return heapObjectIdOf(session, probe);
}

/** The global through which `heapObjectIdOf` hands a value to `Runtime.evaluate`. */
const PROBE_KEY = '__heapscopeHeapObjectProbe';

/**
 * The heap-object id of `value` (its node's `id` in heap snapshots), through
 * `HeapProfiler.getHeapObjectId`. Asking gives no id: a value that has none yet (one
 * made since the last snapshot or heap-object-id pass) gets 0 (seen on Node 20-26).
 */
export function heapObjectIdOf(session: InspectorSession, value: unknown): number {
  const global = globalThis as Record<string, unknown>;
  global[PROBE_KEY] = value;
  try {
    const { result } = postSync<{ result: { objectId?: string } }>(session, 'Runtime.evaluate', {
      expression: `globalThis.${PROBE_KEY}`,
      objectGroup: 'heapscope',
      silent: true,
    });
    if (!result.objectId) throw new Error('heapscope: the inspector gave no object id for a value');
    const { heapSnapshotObjectId } = postSync<{ heapSnapshotObjectId: string }>(
      session,
      'HeapProfiler.getHeapObjectId',
      { objectId: result.objectId },
    );
    postSync(session, 'Runtime.releaseObjectGroup', { objectGroup: 'heapscope' });
    return Number(heapSnapshotObjectId);
  } finally {
    delete global[PROBE_KEY];
  }
}

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

/** Opens a same-thread session; throws when this Node was built without the inspector. */
export function connectSession(): InspectorSession {
  const inspector = require('node:inspector') as InspectorModule;
  const session = new inspector.Session();
  session.connect();
  return session;
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

/** The global through which `heapObjectIdOf` hands a value to `Runtime.evaluate`. */
const PROBE_KEY = '__heapscopeHeapObjectProbe';

/**
 * The heap-object id of `value` (its node's `id` in heap snapshots), through
 * `HeapProfiler.getHeapObjectId`. Asking gives the value an id if it has none yet: the
 * next free one, so the id of a fresh object tells which objects are older.
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

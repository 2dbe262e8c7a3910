/**
 * A heap snapshot of an attached process, streamed to a file: V8 sends it in chunks
 * (`HeapProfiler.addHeapSnapshotChunk`) and each goes to disk as it comes; the socket is
 * paused while the file lags, so heapscope holds at most a few chunks, never the snapshot.
 * V8 builds the snapshot inside the target (a full GC first, then the graph in native
 * memory): the target pauses for that time, as it would for DevTools.
 */
import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import type { CdpConnection } from './cdp.js';
import { attachInspector, type DetachResult } from './inspector.js';

export interface SnapshotWritten {
  path: string;
  bytes: number;
}

/** Takes a heap snapshot of the main thread and writes it to `path` (written whole or not at all). */
export async function streamSnapshot(
  connection: CdpConnection,
  path: string,
  onProgress?: (done: number, total: number) => void,
): Promise<SnapshotWritten> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = createWriteStream(tmp);
  let bytes = 0;
  let failed: Error | undefined;
  file.on('error', (e) => {
    failed = e;
  });
  const offChunk = connection.on('HeapProfiler.addHeapSnapshotChunk', (p: { chunk: string }) => {
    bytes += Buffer.byteLength(p.chunk);
    if (!file.write(p.chunk)) {
      connection.pause();
      file.once('drain', () => connection.resume());
    }
  });
  const offProgress = connection.on(
    'HeapProfiler.reportHeapSnapshotProgress',
    (p: { done: number; total: number }) => onProgress?.(p.done, p.total),
  );
  try {
    await connection.post('HeapProfiler.takeHeapSnapshot', {
      reportProgress: onProgress !== undefined,
      captureNumericValue: false,
    });
  } catch (e) {
    file.destroy();
    await fs.rm(tmp, { force: true });
    throw e;
  } finally {
    offChunk();
    offProgress();
    connection.resume();
  }
  file.end();
  await once(file, 'close');
  if (failed) {
    await fs.rm(tmp, { force: true });
    throw failed;
  }
  await fs.rename(tmp, path);
  return { path, bytes };
}

export interface AttachSnapshotResult extends SnapshotWritten {
  pid: number;
  inspector: { host: string; port: number; wasOpen: boolean };
  detach: DetachResult;
}

/** Attaches to `pid`, streams one heap snapshot of its main thread to `path`, and detaches. */
export async function attachAndSnapshot(
  pid: number,
  path: string,
  onProgress?: (done: number, total: number) => void,
): Promise<AttachSnapshotResult> {
  const inspector = await attachInspector(pid);
  let written: SnapshotWritten | undefined;
  let detach: DetachResult;
  try {
    written = await streamSnapshot(inspector.connection, path, onProgress);
  } finally {
    detach = await inspector.detach();
  }
  return {
    ...written,
    pid,
    inspector: { host: inspector.host, port: inspector.port, wasOpen: inspector.wasOpen },
    detach,
  };
}

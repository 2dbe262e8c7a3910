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

export interface AttachSnapshotResult {
  pid: number;
  /** The snapshots written, in order: fewer than asked when the target ended or heapscope was interrupted first. */
  written: SnapshotWritten[];
  inspector: { host: string; port: number; wasOpen: boolean };
  detach: DetachResult;
}

export interface AttachSnapshotOptions {
  /** One path per snapshot; all are taken in one attach, so their object ids match. */
  paths: string[];
  /** Waits between two snapshots; resolves `false` to stop (interrupted). */
  between?: () => Promise<boolean>;
  onProgress?: (index: number, done: number, total: number) => void;
}

/**
 * Attaches to `pid`, streams heap snapshots of its main thread to `paths`, and detaches.
 * V8 numbers objects per inspector session (a session's end clears its ids), so only
 * snapshots of one attach can be matched object by object.
 */
export async function attachAndSnapshot(
  pid: number,
  options: AttachSnapshotOptions,
): Promise<AttachSnapshotResult> {
  const inspector = await attachInspector(pid);
  const written: SnapshotWritten[] = [];
  let detach: DetachResult;
  try {
    for (const [i, path] of options.paths.entries()) {
      if (i > 0) {
        const go = await Promise.race([
          options.between ? options.between() : Promise.resolve(true),
          inspector.exiting.then(() => true),
        ]);
        if (!go) break;
      }
      written.push(
        await streamSnapshot(
          inspector.connection,
          path,
          options.onProgress && ((done, total) => options.onProgress?.(i, done, total)),
        ),
      );
    }
  } finally {
    detach = await inspector.detach();
  }
  return {
    pid,
    written,
    inspector: { host: inspector.host, port: inspector.port, wasOpen: inspector.wasOpen },
    detach,
  };
}

// What the entry points (index.ts) take.

export interface ParseHeapSnapshotOptions {
  /** Feed the parser this many bytes at a time (default: all at once). For tests of chunk boundaries. */
  chunkSize?: number;
}

export interface ReadHeapSnapshotOptions {
  /** Called after each chunk is parsed (`totalBytes` is 0 for a pipe, whose size is unknown). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Aborting stops the read at the next chunk and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes per read (default 1 MiB). Small values are for tests of chunk boundaries. */
  chunkSize?: number;
  /**
   * Parse `nodes` and `edges` on other threads (worker threads, or libuv's thread pool
   * with the native helper) while this thread reads the rest: `'auto'` (default) when the
   * machine has more than one core and they hold at least 8M numbers (a snapshot of
   * ~100 MB or more); `true` always, `false` never.
   */
  parallel?: boolean | 'auto';
  /**
   * Worker threads for the arrays, at most (default: one fewer than the cores, at most
   * 2, or 2 with `parallel: true`). With one, it takes the bigger array and this thread
   * parses the other after the strings.
   */
  threads?: number;
  /**
   * Use the native helper where this Node has one (default true): its loops parse the
   * arrays, and on the main thread libuv's thread pool takes the place of worker threads.
   * `false`: JavaScript and worker threads only.
   */
  native?: boolean;
}

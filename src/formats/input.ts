/**
 * Where a profile's bytes come from: a file, a pipe (`cat f | heapscope report
 * /dev/stdin`, `<(...)`), or `-` for standard input. Readers seek (the format sniff reads
 * the head, the heap-snapshot reader reads ranges), so a pipe is first copied to a
 * temporary file, removed again by `close()`. Directories and devices are refused by name.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class InputError extends Error {
  override name = 'InputError';
}

export interface InputOptions {
  /** What `-` reads (the CLI passes the process's standard input). */
  stdin?: NodeJS.ReadableStream;
}

const STDIN_PATHS: ReadonlySet<string> = new Set(['/dev/stdin', '/proc/self/fd/0', '/dev/fd/0']);

export interface OpenedInput {
  /** A regular file with the input's bytes (the input itself, or a copy of a pipe's). */
  path: string;
  size: number;
  /** Removes the copy of a pipe; nothing for a regular file. */
  close(): Promise<void>;
}

/** The message for a failed open or read of `name`, without Node's error codes. */
export function fileErrorMessage(name: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return `${name}: no such file`;
    case 'EISDIR':
      return `${name}: is a directory, not a profile`;
    case 'EACCES':
    case 'EPERM':
      return `${name}: permission denied`;
    case 'ENOTDIR':
      return `${name}: a part of the path is not a directory`;
    case 'ELOOP':
      return `${name}: too many symbolic links`;
    default:
      return `${name}: cannot read (${err?.message ?? String(e)})`;
  }
}

async function copyToTemp(source: Readable | NodeJS.ReadableStream): Promise<OpenedInput> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'heapscope-input-'));
  const path = join(dir, 'input');
  const remove = () => fs.rm(dir, { recursive: true, force: true });
  try {
    await pipeline(source, createWriteStream(path));
    const { size } = await fs.stat(path);
    return { path, size, close: remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** Opens `name` (a path, or `-` for `options.stdin`) as a regular file of bytes. */
export async function openInput(name: string, options: InputOptions = {}): Promise<OpenedInput> {
  if (name === '-') {
    const stdin = options.stdin as (NodeJS.ReadableStream & { isTTY?: boolean }) | undefined;
    if (!stdin) throw new InputError('-: no standard input to read');
    if (stdin.isTTY) throw new InputError('-: standard input is a terminal; pipe a profile in');
    try {
      return await copyToTemp(stdin);
    } catch (e) {
      throw new InputError(fileErrorMessage('standard input', e));
    }
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(name, 'r');
  } catch (e) {
    // Linux opens no socket by path: /dev/stdin of a process whose parent gave it a
    // socket for standard input (Node's child_process does) is read as `-` is.
    if ((e as NodeJS.ErrnoException).code === 'ENXIO' && STDIN_PATHS.has(name) && options.stdin) {
      return openInput('-', options);
    }
    throw new InputError(fileErrorMessage(name, e));
  }
  let keepOpen = false;
  try {
    const st = await handle.stat();
    if (st.isFile()) return { path: name, size: st.size, close: async () => {} };
    if (st.isDirectory()) throw new InputError(`${name}: is a directory, not a profile`);
    if (st.isFIFO() || st.isSocket()) {
      keepOpen = true;
      // The stream closes the handle when it ends.
      return await copyToTemp(handle.createReadStream());
    }
    const what = st.isCharacterDevice() ? 'a character device' : 'a block device';
    throw new InputError(`${name}: is ${what}, not a profile file or a pipe`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(fileErrorMessage(name, e));
  } finally {
    if (!keepOpen) await handle.close().catch(() => {});
  }
}

// The files the capture agents leave in a session directory, and what both runners (exact,
// run.ts, and sampled, sampled-run.ts) make of them.

import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Profile } from '../model/profile.js';

/** A profile a runner wrote: one per Node process and worker thread. */
export interface WrittenProfile {
  path: string;
  pid: number;
  threadId: number;
  cmd: string;
  isMain: boolean;
  profile: Profile;
  /** Sampled mode: this is the n-th profile written on SIGUSR2, not the final one. */
  part?: number;
}

export interface MissingProfile {
  pid: number;
  threadId: number;
  cmd: string;
  reason: string;
}

/** heapscope's own scripts in the target: their frames are left out of every profile. */
export const OWN_SCRIPTS = [
  './agent.cjs',
  './sampled-agent.cjs',
  './ending.cjs',
  './parent-side.cjs',
  './owner.cjs',
  '../native/load.cjs',
].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** `<pid>.<threadId>.started.json`: written by an agent as its process or thread starts. */
export interface StartedFile {
  pid: number;
  threadId: number;
  argv?: string[];
  mode?: string;
  /** Why the agent could not profile it (it then runs unprofiled). */
  error?: string;
}

/** A JSON file of the session, or undefined when it is missing or half written. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Quotes a command line for display the way a POSIX shell would read it back. */
export function shellJoin(args: readonly string[]): string {
  return args
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/**
 * The command line shown for a process or thread: the command as given for the root
 * process, its own argv for the others, worker threads marked.
 */
export function commandOf(
  root: { pid: number; command: readonly string[] },
  pid: number,
  threadId: number,
  argv: readonly string[],
): string {
  return pid === root.pid && threadId === 0
    ? shellJoin(root.command)
    : shellJoin(argv) + (threadId ? ` [worker thread ${threadId}]` : '');
}

/** Why a process or thread that started left no profile. */
export function noProfileReason(threadId: number): string {
  return threadId
    ? 'the thread ended before it could write its profile (terminated with its process?)'
    : 'the process ended without writing its profile (killed by SIGKILL, out of memory, or crashed)';
}

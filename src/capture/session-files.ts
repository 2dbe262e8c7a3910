// The files the capture agents leave in a session directory, and what both runners (exact,
// run.ts, and sampled, sampled-run.ts) make of them.

import { promises as fs, readdirSync } from 'node:fs';
import { join } from 'node:path';
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
  /** Processes between heapscope and this one, nearest first (exact mode, main threads). */
  ancestors?: number[];
}

export interface MissingProfile {
  pid: number;
  threadId: number;
  cmd: string;
  reason: string;
}

/**
 * heapscope's own scripts in the target: their frames are left out of every profile. Every
 * CommonJS file beside this one and the native helper's loader is loaded only into
 * targets (agents and what they require), so the list is those directories' `.cjs` files.
 */
export const OWN_SCRIPTS: readonly string[] = ['.', '../native'].flatMap((rel) => {
  const dir = fileURLToPath(new URL(rel, import.meta.url));
  // From the sources (tests run them), the `.cts` files stand for the `.cjs` they become.
  return readdirSync(dir)
    .filter((f) => /\.c[jt]s$/.test(f))
    .map((f) => join(dir, f.replace(/\.cts$/, '.cjs')));
});

/** `<pid>.<threadId>.started.json`: written by an agent as its process or thread starts. */
export interface StartedFile {
  pid: number;
  threadId: number;
  argv?: string[];
  /** Processes between `heapscope run` and this one, nearest first. */
  ancestors?: number[];
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
    : childCommand(argv) + (threadId ? ` [worker thread ${threadId}]` : '');
}

/** More Node options than this before the script are shown as their count. */
const MAX_SHOWN_NODE_OPTIONS = 6;

/**
 * A child's command line without heapscope's own `--require` of its agent, and with a long
 * run of Node options (`node --test` on Node 26 hands each test file's process every
 * option it has, set or not) shown as `[N Node options]`. Only options written as one
 * argument (`--flag`, `--name=value`) are counted: the first other argument ends the run.
 */
export function childCommand(argv: readonly string[]): string {
  if (argv.length === 0) return '';
  const isOwnRequire = (a: string) =>
    /^(--require|-r)=/.test(a) && OWN_SCRIPTS.includes(a.slice(a.indexOf('=') + 1));
  const rest = argv.slice(1).filter((a) => !isOwnRequire(a));
  let options = 0;
  while (options < rest.length && rest[options]!.startsWith('-') && rest[options] !== '--') {
    options++;
  }
  if (options <= MAX_SHOWN_NODE_OPTIONS) return shellJoin([argv[0]!, ...rest]);
  const after = rest.slice(options);
  return `${shellJoin([argv[0]!])} [${options} Node options]${after.length ? ` ${shellJoin(after)}` : ''}`;
}

/** What ending.cts's files say about a thread; read back here (their writers are CommonJS). */
interface EndingFile {
  reason: string;
  exitCode?: number;
}
type EndedByFile =
  | { kind: 'signal'; parentPid: number; signals: { signal: string; at: number }[] }
  | { kind: 'died'; parentPid: number; signal: string }
  | { kind: 'terminate'; parentPid: number; waitedMs: number; answered: boolean };

function signalsText(signals: { signal: string; at: number }[]): string {
  return signals
    .map((s, i) => (i === 0 ? s.signal : `${s.signal} ${s.at - signals[i - 1]!.at} ms later`))
    .join(', then ');
}

/**
 * Why a process or thread that started left no profile, from what the session holds: what
 * its parent did to it (`ended-by`), whether its program had ended (`ending`), and how its
 * process ended.
 */
export async function noProfileReason(
  session: string,
  pid: number,
  threadId: number,
  /** The signal that ended the process, when heapscope saw it (the command's own process). */
  endSignal?: string,
): Promise<string> {
  const id = `${pid}.${threadId}`;
  const endedBy = await readJson<EndedByFile>(join(session, `${id}.ended-by.json`));
  const ending = await readJson<EndingFile>(join(session, `${id}.ending.json`));
  if (ending) {
    return (
      `its program ended (${ending.reason}) but the process ended while heapscope wrote its profile` +
      (endedBy?.kind === 'signal'
        ? ` (its parent, pid ${endedBy.parentPid}, sent ${signalsText(endedBy.signals)})`
        : ' (killed by SIGKILL, or out of memory)')
    );
  }
  if (endedBy?.kind === 'terminate') {
    return (
      `ended by worker.terminate() from its parent before it wrote its profile: asked to write it, ` +
      `the thread did not answer within ${endedBy.waitedMs} ms (it was running JavaScript). ` +
      'Let the thread finish its work before terminate(), or end it from inside (process.exit in the thread)'
    );
  }
  if (endedBy?.kind === 'signal') {
    const last = endedBy.signals[endedBy.signals.length - 1]!;
    return (
      `killed by its parent (pid ${endedBy.parentPid}): ${signalsText(endedBy.signals)}, ` +
      `before its program had ended${last.signal === 'SIGKILL' ? ' (it was still running JavaScript when SIGTERM came, or got no SIGTERM)' : ''}. ` +
      'A signal that a program handles itself (process.on) leaves its ending to it; give it time to end'
    );
  }
  if (threadId) {
    const processEnding = await readJson<EndingFile>(join(session, `${pid}.0.ending.json`));
    return processEnding
      ? `its process ended (${processEnding.reason}) while the thread ran, and the thread did not write its profile in time (it was running JavaScript)`
      : 'the thread ended without writing its profile: its process was killed (SIGKILL), ran out of memory, or crashed';
  }
  const signal = endedBy?.kind === 'died' ? endedBy.signal : endSignal;
  if (signal) {
    return `the process was ended by ${signal} before it wrote its profile${SIGNAL_HINTS[signal] ?? ''}`;
  }
  return 'the process ended without writing its profile (killed by SIGKILL, out of memory, or crashed)';
}

/** What a signal that leaves no profile usually means. */
const SIGNAL_HINTS: Record<string, string> = {
  SIGKILL: ' (nothing runs in a process after SIGKILL: the OOM killer, or a kill -9)',
  SIGABRT:
    " (V8 aborts this way when the heap runs out of memory: 'JavaScript heap out of memory' in its output)",
  SIGSEGV: ' (a crash: in native code, an addon, or Node itself)',
  SIGBUS: ' (a crash: in native code, an addon, or Node itself)',
};

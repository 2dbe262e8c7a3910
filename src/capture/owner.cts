/**
 * What a profiled process does when `heapscope run` is gone. heapscope writes its pid
 * into the session directory (`owner.json`) and passes it as $HEAPSCOPE_OWNER; the agent's
 * main thread looks every OWNER_POLL_MS (an unref'd timer: it keeps nothing alive).
 *
 * - The session directory is gone: `run --no-wait` returned. The process runs on,
 *   unprofiled from then on.
 * - heapscope died (SIGKILL) and left the directory: nobody will read this process's
 *   profile, and its heap snapshot (every string of its heap) must not stay in $TMPDIR.
 *   The process removes its session files and is ended with SIGTERM, as `heapscope run`
 *   would have forwarded on an ordinary stop; the last one removes the directory.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const OWNER_POLL_MS = 500;
export const OWNER_FILE = 'owner.json';

function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the `heapscope run` that owns this session, when it said so. */
export function ownerPid(): number | undefined {
  const pid = Number(process.env.HEAPSCOPE_OWNER);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether heapscope died and left the session directory behind. */
export function abandoned(dir: string): boolean {
  const pid = ownerPid();
  return pid !== undefined && existsSync(dir) && !ownerAlive(pid);
}

/** Removes this process's files from the session, and the session when nothing else is left. */
export function removeOwnFiles(dir: string): void {
  try {
    const prefix = `${process.pid}.`;
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
    }
    const left = readdirSync(dir);
    if (left.every((n) => n === OWNER_FILE)) {
      rmSync(join(dir, OWNER_FILE), { force: true });
      rmdirSync(dir);
    }
  } catch {
    // Another process of the run removed it first, or left files: the next run sweeps.
  }
}

/**
 * In a main thread: calls `stop` once when heapscope is gone (the run will not collect
 * the profile); `end` is true when heapscope died and the process should end.
 */
export function watchOwner(dir: string, stop: (end: boolean) => void): void {
  const pid = ownerPid();
  if (pid === undefined) return;
  const timer = setInterval(() => {
    if (!existsSync(dir)) {
      clearInterval(timer);
      stop(false);
    } else if (!ownerAlive(pid)) {
      clearInterval(timer);
      stop(true);
    }
  }, OWNER_POLL_MS);
  timer.unref();
}

/**
 * This process's ancestors below `heapscope run`, nearest first (Linux: /proc; elsewhere
 * just the parent). A shell between two Node processes (`npx`, npm scripts) is in the
 * list, so heapscope can tell which profiled process started which.
 */
export function ancestorPids(): number[] {
  const stop = ownerPid();
  const out: number[] = [];
  let pid = process.ppid;
  while (pid > 1 && pid !== stop && out.length < 64) {
    out.push(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}

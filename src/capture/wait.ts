/**
 * The rule for when `heapscope run` is done: when the command's own process has ended and
 * so has every other process that started with heapscope's agent (detached ones
 * included), or has written its profile. A process that outlives its parent still owes a
 * profile, and the session directory it writes into is not removed under it.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, type StartedFile } from './session-files.js';

const POLL_MS = 50;
/** How long the wait goes on before `onWaiting` says so: a profile being written takes about this long. */
const TELL_AFTER_MS = 2_000;

/** Whether a process runs (a zombie, ended but not yet reaped, does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export interface RunningProcess {
  pid: number;
  argv: string[];
}

/** Profiled processes of the session that still run and have not written their profile. */
export async function stillRunning(session: string): Promise<RunningProcess[]> {
  const names = await fs.readdir(session).catch(() => [] as string[]);
  const running: RunningProcess[] = [];
  for (const n of names) {
    const m = /^(\d+)\.0\.started\.json$/.exec(n);
    if (!m) continue;
    const id = `${m[1]}.0`;
    if (names.includes(`${id}.meta.json`) || names.includes(`${id}.end.meta.json`)) continue;
    const pid = Number(m[1]);
    if (!isAlive(pid)) continue;
    const info = await readJson<StartedFile>(join(session, n));
    if (info?.error) continue;
    running.push({ pid, argv: info?.argv ?? [] });
  }
  return running;
}

/**
 * Resolves once no profiled process of the session runs any more. `onWaiting` is called
 * once, when some still run after TELL_AFTER_MS.
 */
export async function waitForProcesses(
  session: string,
  onWaiting?: (running: RunningProcess[]) => void,
): Promise<void> {
  let told = false;
  const start = Date.now();
  for (;;) {
    const running = await stillRunning(session);
    if (running.length === 0) return;
    if (!told && Date.now() - start >= TELL_AFTER_MS) {
      told = true;
      onWaiting?.(running);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

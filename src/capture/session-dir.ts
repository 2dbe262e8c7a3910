/**
 * The session directory of one `heapscope run` in $TMPDIR, where the agents write: made
 * with the run's pid in `owner.json` (owner.cts says what targets do when that process is
 * gone), and the directories of dead runs swept away before a new one is made.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OWNER_FILE } from './owner.cjs';
import { readJson } from './session-files.js';
import { isAlive, stillRunning } from './wait.js';

const PREFIX = 'heapscope-';

/** Makes a session directory owned by this process. */
export async function createSession(): Promise<string> {
  await sweepStaleSessions().catch(() => undefined);
  const dir = await fs.mkdtemp(join(tmpdir(), PREFIX));
  await fs.writeFile(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid }));
  return dir;
}

/**
 * Removes the session directories whose heapscope died (SIGKILL) and in which no profiled
 * process runs any more. Only directories with an owner file are looked at.
 */
export async function sweepStaleSessions(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = await readJson<{ pid: number }>(join(dir, OWNER_FILE));
    if (!owner || isAlive(owner.pid)) continue;
    if ((await stillRunning(dir)).length > 0) continue;
    await fs.rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

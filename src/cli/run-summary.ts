/**
 * What `heapscope run` says about a run of several profiles: one line per profile (its
 * totals) and which profile's report to print. Pure: rows from the run result.
 */
import type { WrittenProfile } from '../capture/run.js';

export interface ProfileTotals {
  totalBytes: number;
  totalBlocks: number;
  /** Live at the end; undefined where the profile has no live-at-end figures (sampled, Node < 26). */
  endBytes?: number;
}

export function totalsOf(p: WrittenProfile): ProfileTotals {
  let totalBytes = 0;
  let totalBlocks = 0;
  let endBytes: number | undefined;
  for (const pp of p.profile.programPoints) {
    totalBytes += pp.totalBytes;
    totalBlocks += pp.totalBlocks;
    if (pp.endBytes !== undefined) endBytes = (endBytes ?? 0) + pp.endBytes;
  }
  return { totalBytes, totalBlocks, ...(endBytes !== undefined ? { endBytes } : {}) };
}

const key = (pid: number, threadId: number) => `${pid}.${threadId}`;

/**
 * The profile whose report shows the work. A profile is a wrapper (npm, npx, a test
 * runner's main process, a pool's main thread) when the processes and threads it started
 * allocated more, together, than it did itself; the report is of the profile that
 * allocated most among those that are not wrappers. Sampled parts are left out.
 */
export function workProfile(profiles: readonly WrittenProfile[]): WrittenProfile | undefined {
  const finals = profiles.filter((p) => p.part === undefined);
  if (finals.length <= 1) return finals[0];
  const totals = new Map(finals.map((p) => [key(p.pid, p.threadId), totalsOf(p).totalBytes]));
  const started = new Map<string, number>();
  for (const p of finals) {
    // A worker thread belongs to its process's main thread; a process to its parent's.
    const parent = p.threadId !== 0 ? key(p.pid, 0) : key(p.profile.heapscope?.parentPid ?? -1, 0);
    if (!totals.has(parent)) continue;
    started.set(parent, (started.get(parent) ?? 0) + totals.get(key(p.pid, p.threadId))!);
  }
  const own = (p: WrittenProfile) => totals.get(key(p.pid, p.threadId))!;
  const work = finals.filter((p) => (started.get(key(p.pid, p.threadId)) ?? 0) <= own(p));
  const pool = work.length > 0 ? work : finals;
  return pool.reduce((best, p) => (own(p) > own(best) ? p : best));
}

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
 * The profile whose report shows the work. A profile is a wrapper (npm, npx, a shell
 * script's node) when the processes and threads it started, and theirs, allocated more
 * together than it did itself; the report is of the profile that
 * allocated most among those that are not wrappers. Sampled parts are left out.
 */
export function workProfile(profiles: readonly WrittenProfile[]): WrittenProfile | undefined {
  const finals = profiles.filter((p) => p.part === undefined);
  if (finals.length <= 1) return finals[0];
  const totals = new Map(finals.map((p) => [key(p.pid, p.threadId), totalsOf(p).totalBytes]));
  const parentOf = new Map<string, string>();
  for (const p of finals) {
    // A worker thread belongs to its process's main thread; a process to its nearest
    // profiled ancestor (through unprofiled ones between them, like the shell of npx).
    const chain = p.ancestors ?? [p.profile.heapscope?.parentPid ?? -1];
    const parent =
      p.threadId !== 0 ? key(p.pid, 0) : chain.map((pid) => key(pid, 0)).find((k) => totals.has(k));
    if (parent !== undefined) parentOf.set(key(p.pid, p.threadId), parent);
  }
  // What each profile's descendants allocated together.
  const started = new Map<string, number>();
  for (const [k, bytes] of totals) {
    const seen = new Set([k]);
    for (let up = parentOf.get(k); up !== undefined && !seen.has(up); up = parentOf.get(up)) {
      seen.add(up);
      started.set(up, (started.get(up) ?? 0) + bytes);
    }
  }
  const own = (p: WrittenProfile) => totals.get(key(p.pid, p.threadId))!;
  const work = finals.filter((p) => (started.get(key(p.pid, p.threadId)) ?? 0) <= own(p));
  const pool = work.length > 0 ? work : finals;
  return pool.reduce((best, p) => (own(p) > own(best) ? p : best));
}

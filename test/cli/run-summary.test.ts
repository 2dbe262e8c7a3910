/**
 * Which profile's report `heapscope run` prints: built runs of known totals (npx → shell →
 * a runner's main process → two workers; a process with a worker thread).
 */
import { describe, expect, it } from 'vitest';
import type { WrittenProfile } from '../../src/capture/run.js';
import { totalsOf, workProfile } from '../../src/cli/run-summary.js';
import type { Profile } from '../../src/model/profile.js';

function written(
  pid: number,
  threadId: number,
  bytes: number,
  ancestors?: number[],
  endBytes?: number,
): WrittenProfile {
  const profile = {
    frames: ['[root]', 'f (a.js:1:1)'],
    programPoints: [
      { stack: [1], totalBytes: bytes, totalBlocks: bytes / 16, ...(endBytes ? { endBytes } : {}) },
    ],
    heapscope: { threadId },
  } as unknown as Profile;
  return {
    path: `heapscope.${pid}.json`,
    pid,
    threadId,
    cmd: `cmd ${pid}`,
    isMain: false,
    profile,
    ...(ancestors ? { ancestors } : {}),
  };
}

describe('workProfile', () => {
  it('skips npx (through its shell) and reports the largest of those that did their own work', () => {
    const npx = written(10, 0, 30_000);
    const runner = written(12, 0, 29_000, [11, 10]); // 11: the shell npx ran it through
    const a = written(13, 0, 11_000, [12, 11, 10]);
    const b = written(14, 0, 12_000, [12, 11, 10]);
    expect(workProfile([npx, runner, a, b])?.pid).toBe(12);
  });

  it('a pool whose threads allocated more than its main thread: the largest thread', () => {
    const main = written(20, 0, 1_000);
    expect(workProfile([main, written(20, 1, 800), written(20, 2, 900)])).toMatchObject({
      pid: 20,
      threadId: 2,
    });
  });

  it('one profile: that one', () => {
    expect(workProfile([written(30, 0, 5)])?.pid).toBe(30);
  });

  it('totals: bytes and blocks allocated, and live at the end', () => {
    expect(totalsOf(written(40, 0, 1_600, undefined, 320))).toEqual({
      totalBytes: 1_600,
      totalBlocks: 100,
      endBytes: 320,
    });
  });
});

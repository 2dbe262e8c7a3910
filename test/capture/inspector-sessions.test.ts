/**
 * A program that opens and closes its own node:inspector sessions (and starts and stops
 * heap tracking through one) keeps its profile whole: closing a session would stop V8's
 * allocation tracker for the thread, so heapscope holds the session open underneath
 * while the program sees it closed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../src/model/profile.js';
import {
  endOfType,
  heapscope,
  profilesIn,
  readProfile,
  siteOf,
  tempDir,
  WITHOUT_HELPER,
  workload,
} from '../helpers/heapscope.js';

const N = 5_000;

describe('a program that closes inspector sessions while it runs', () => {
  let profile: Profile;
  let status: number | null;
  let stdout: string;
  let stderr: string;
  beforeAll(() => {
    const dir = tempDir();
    const r = heapscope([
      'run',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      workload('inspector-sessions.js'),
      String(N),
    ]);
    ({ status, stdout, stderr } = r);
    const files = profilesIn(dir);
    expect(files, stderr).toHaveLength(1);
    profile = readProfile(files[0]!);
  });

  it('passes the exit code through and lets the program see its sessions as it expects', () => {
    expect(status, stderr).toBe(3);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      evaluated: 42,
      postAfterDisconnect: 'ERR_INSPECTOR_NOT_CONNECTED',
      afterReconnect: 'again',
    });
  });

  it('keeps every object kept before and after the sessions at its site', () => {
    const kept = (fn: string) => endOfType(siteOf(profile, fn), 'object')[1];
    if (WITHOUT_HELPER && profile.heapscope?.exact.end === false) {
      // The inspector route's live-at-end is a lower bound when its timer ran (stated).
      expect(kept('beforeSessions')).toBeLessThanOrEqual(N);
      expect(kept('afterSessions')).toBeLessThanOrEqual(N);
      return;
    }
    expect(kept('beforeSessions')).toBe(N);
    expect(kept('afterSessions')).toBe(N);
  });
});

describe('a DevTools client that detaches from the program', () => {
  it('costs that profile with the reason said, and the exit code passes through', () => {
    const dir = tempDir();
    const r = heapscope(['run', '--out-dir', dir, '--', '{NODE}', workload('devtools-detach.js')]);
    expect(r.status, r.stderr).toBe(5);
    expect(profilesIn(dir)).toHaveLength(0);
    expect(r.stderr).toMatch(
      /no profile for pid \d+ .*V8's allocation tracker was stopped during the run: an inspector client/,
    );
  });
});

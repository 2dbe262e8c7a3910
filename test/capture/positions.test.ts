/**
 * Every frame placed where a source can tell it: a real express app and a real jest run
 * under `heapscope run`, each frame of the program's own files (outside node_modules)
 * with its line and column; V8's built-ins named in full and marked `(native)`, never a
 * bare name; only V8's pseudo-frames (`(V8 API)`, `[…]`) without a file.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBuiltinFrame, parseFrame } from '../../src/model/frame.js';
import type { Profile } from '../../src/model/profile.js';
import { isNodeInternalFrame } from '../../src/model/program-frames.js';
import {
  heapscope,
  profilesIn,
  ROOT,
  readProfile,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

/** The frames some program point uses. */
function usedFrames(profile: Profile): string[] {
  const used = new Set<number>();
  for (const pp of profile.programPoints) for (const f of pp.stack) used.add(f);
  return [...used].map((i) => profile.frames[i]!);
}

/** Frames of the program's own files (not Node's, not a built-in, not node_modules) without a position. */
function unplacedOwnFrames(profile: Profile): string[] {
  return usedFrames(profile).filter((f) => {
    if (isNodeInternalFrame(f) || isBuiltinFrame(f)) return false;
    const p = parseFrame(f);
    return p.file !== undefined && !p.file.includes('node_modules/') && p.line === undefined;
  });
}

/** Frames with no file that are not V8's pseudo-frames: built-ins left bare. */
function bareFrames(profile: Profile): string[] {
  return usedFrames(profile).filter(
    (f) => parseFrame(f).file === undefined && !f.startsWith('(') && !f.startsWith('['),
  );
}

/** Program points whose allocating frame is `builtin`, called by `caller`. */
function calledFrom(profile: Profile, builtin: string, caller: string) {
  return profile.programPoints.filter(
    (pp) =>
      profile.frames[pp.stack[0]!] === builtin &&
      profile.frames[pp.stack[1]!]?.startsWith(`${caller} (`),
  );
}

describe('frames of built-ins', () => {
  it('names each built-in in full, marked native, above its caller', () => {
    const out = join(tempDir(), 'builtins.json');
    const r = heapscope(['run', '-q', '-o', out, '--', '{NODE}', workload('builtins.js')]);
    expect(r.status, r.stderr).toBe(0);
    const profile = readProfile(out);
    expect(calledFrom(profile, 'Array.prototype.push (native)', 'pushes')).not.toHaveLength(0);
    expect(calledFrom(profile, 'String.prototype.split (native)', 'splits')).not.toHaveLength(0);
    expect(calledFrom(profile, 'Object.keys (native)', 'keysOf')).not.toHaveLength(0);
    expect(calledFrom(profile, 'Map.prototype.set (native)', 'maps')).not.toHaveLength(0);
    expect(calledFrom(profile, 'Map (native)', 'maps')).not.toHaveLength(0);
    expect(bareFrames(profile)).toEqual([]);
  });
});

describe('every frame of the program placed', () => {
  it('a real express app answering requests', () => {
    const out = join(tempDir(), 'express.json');
    const app = join(ROOT, 'test', 'fixtures', 'servers', 'express-requests.mjs');
    const r = heapscope(['run', '-q', '-o', out, '--', '{NODE}', app, '100']);
    expect(r.status, r.stderr).toBe(0);
    const profile = readProfile(out);
    const frames = usedFrames(profile);
    expect(frames.some((f) => f.startsWith('keepRequests (test/fixtures/servers/'))).toBe(true);
    expect(unplacedOwnFrames(profile)).toEqual([]);
    expect(bareFrames(profile)).toEqual([]);
  });

  it('a real jest run, its test files and the code they test', () => {
    const dir = tempDir();
    const jest = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const config = join(ROOT, 'test', 'fixtures', 'runners', 'jest.config.cjs');
    const r = heapscope([
      'run',
      '-q',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      jest,
      '-c',
      config,
      '-i',
      '--cacheDirectory',
      tempDir('heapscope-jest-'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [profile, ...others] = profilesIn(dir).map(readProfile);
    expect(others).toHaveLength(0);
    const frames = usedFrames(profile!);
    // The test callbacks and the function they call, with their positions.
    expect(frames).toContain('allocateKnown (test/fixtures/runners/alloc.cjs:7:23)');
    expect(frames).toContain('(anonymous) (test/fixtures/runners/jt/a.test.js:2:32)');
    expect(unplacedOwnFrames(profile!)).toEqual([]);
    expect(bareFrames(profile!)).toEqual([]);
  });
});

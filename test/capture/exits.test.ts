/**
 * Every way a profiled process ends: a profile is written and the exit code passes
 * through, or, where no profile can be written (SIGKILL, out of memory), heapscope says
 * so and leaves nothing half-written behind.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  endOfType,
  heapscope,
  heapscopeAsync,
  profilesIn,
  readProfile,
  siteOf,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

const KEPT = 3_000;

function expectProfileWithKeptObjects(dir: string) {
  const files = profilesIn(dir);
  expect(files).toHaveLength(1);
  const profile = readProfile(files[0]!);
  const pp = siteOf(profile, 'keepSome');
  expect(endOfType(pp, 'object')[1]).toBe(KEPT);
  return profile;
}

describe.each([
  ['normal', 0, ''],
  ['exit', 3, ''],
  ['throw', 1, 'boom from exits.js'],
  ['reject', 1, 'rejected in exits.js'],
])('a program that ends by %s', (how, code, message) => {
  it(`writes a profile and exits ${code}`, () => {
    const dir = tempDir();
    const r = heapscope(['run', '-q', '--out-dir', dir, '--', '{NODE}', workload('exits.js'), how]);
    expect(r.status, r.stderr).toBe(code);
    if (message) expect(r.stderr).toContain(message);
    expectProfileWithKeptObjects(dir);
  });
});

describe.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
])('%s sent to heapscope run', (signal, code) => {
  it(`is forwarded; the profile is written and heapscope exits ${code}`, async () => {
    const dir = tempDir();
    const run = heapscopeAsync([
      'run',
      '-q',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      workload('exits.js'),
      'wait',
    ]);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (run.output().stdout.includes('ready')) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    run.child.kill(signal as NodeJS.Signals);
    const r = await run.done;
    expect(r.status, r.stderr).toBe(code);
    expect(r.stderr).toContain(`ended by ${signal}`);
    expectProfileWithKeptObjects(dir);
  });
});

/** heapscope's two capture modes, as `run` options. */
const MODES: [string, string[]][] = [
  ['exact', []],
  ['sampled', ['--sample', '4096']],
];

/** `heapscope run` of exits.js in `mode`, into a directory of its own. */
function runExits(mode: string[], scenario: string) {
  const dir = tempDir();
  const r = heapscope([
    'run',
    '--out-dir',
    dir,
    ...mode,
    '--',
    '{NODE}',
    workload('exits.js'),
    scenario,
  ]);
  return { dir, r };
}

describe('ends where no profile can be written', () => {
  it.each(MODES)('SIGKILL (%s mode): says so, exits 137, leaves no file', (_mode, mode) => {
    const { dir, r } = runExits(mode, 'sigkill');
    expect(r.status).toBe(137);
    expect(r.stderr).toMatch(
      /no profile for pid \d+ .*: the process was ended by SIGKILL before it wrote its profile \(nothing runs/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('out of memory: says so, passes the abort through, leaves no file', () => {
    const dir = tempDir();
    const r = heapscope([
      'run',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      '--max-old-space-size=24',
      workload('exits.js'),
      'oom',
    ]);
    expect(r.status).toBe(134);
    expect(r.stderr).toMatch(/heap out of memory/i);
    expect(r.stderr).toMatch(
      /no profile for pid \d+ .*: the process was ended by SIGABRT .*runs out of memory/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each(MODES)(
    'a child out of memory (%s mode): the parent profiled, the child said ended by SIGABRT',
    (_mode, mode) => {
      const { dir, r } = runExits(mode, 'oom-child');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('child ended by SIGABRT');
      expect(r.stderr).toMatch(
        /no profile for pid \d+ \(.*exits\.js oom\): the process was ended by SIGABRT .*out of memory/,
      );
      expect(readdirSync(dir)).toHaveLength(1);
    },
  );

  it('a command that is not there: exit 127 with the reason', () => {
    const r = heapscope(['run', '--', 'no-such-command-heapscope']);
    expect(r.status).toBe(127);
    expect(r.stderr).toContain('command not found: no-such-command-heapscope');
  });
});

/**
 * yieldCpuToProfiledParent (dist/capture/yield-cpu.cjs) in a real child process of this
 * one: with this process's started file in the session directory (a profiled parent), the
 * child goes on at nice 10; without it (the command `heapscope run` started), its priority
 * stays. The child prints its niceness before and after.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT, tempDir } from '../helpers/heapscope.js';

const YIELD_CPU = join(ROOT, 'dist', 'capture', 'yield-cpu.cjs');

function childNiceness(dir: string): [number, number] {
  const script = [
    `const { yieldCpuToProfiledParent } = require(${JSON.stringify(YIELD_CPU)});`,
    `const { getPriority } = require('node:os');`,
    'const before = getPriority();',
    'yieldCpuToProfiledParent(process.argv[1]);',
    'console.log(before, getPriority());',
  ].join('\n');
  const r = spawnSync(NODE, ['-e', script, dir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const [before, after] = r.stdout.trim().split(' ').map(Number);
  return [before!, after!];
}

describe.skipIf(process.platform === 'win32')('yieldCpuToProfiledParent', () => {
  it('keeps the priority of a process whose parent is not profiled', () => {
    const [before, after] = childNiceness(tempDir());
    expect(after).toBe(before);
  });

  it('lowers a child of a profiled parent to nice 10 (never raises it)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, `${process.pid}.0.started.json`), '{}');
    const [before, after] = childNiceness(dir);
    expect(after).toBe(Math.max(before, 10));
  });
});

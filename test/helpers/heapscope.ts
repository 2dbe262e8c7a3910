import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDhat } from '../../src/formats/dhat.js';
import { isBuiltinFrame } from '../../src/model/frame.js';
import type { Profile, ProgramPoint } from '../../src/model/profile.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'heapscope.js');
/** The Node that runs heapscope and the profiled workloads (CI sets it to test Node 22, 24, 26). */
export const NODE = process.env.HEAPSCOPE_TEST_NODE || process.execPath;
/**
 * Object and array literals made by unoptimized code are allocated with V8's 16-byte
 * AllocationMemento behind them (one event: the tracker counts both); optimized code
 * leaves it out. How many calls run before V8 has optimized code ready varies with the
 * machine's load, so totals of literal sites allow up to one memento per block.
 */
export const MEMENTO_BYTES = 16;
/**
 * The capture tests' second run (`.ci/run`): HEAPSCOPE_NATIVE=0 takes the route without
 * the native helper (src/capture/inspector-agent.cts). Tests whose figure that route
 * measures differently check what the profile says instead.
 */
export const WITHOUT_HELPER = process.env.HEAPSCOPE_NATIVE === '0';
export const NODE_MAJOR = Number(
  spawnSync(NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0],
);

export function workload(name: string): string {
  return join(ROOT, 'test', 'fixtures', 'workloads', name);
}

export function tempDir(prefix = 'heapscope-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real heapscope binary with NODE; `{NODE}` in args is replaced by the Node path. */
export function heapscope(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(
    NODE,
    [BIN, ...args.map((a) => (a === '{NODE}' ? NODE : a))],
    {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // A guard against a hang, not a measurement: the test fails with a null status.
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    },
  );
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts heapscope asynchronously (for tests that send it signals). */
export function heapscopeAsync(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const child = spawn(NODE, [BIN, ...args.map((a) => (a === '{NODE}' ? NODE : a))], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((res) => {
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function readProfile(path: string): Profile {
  return readDhat(readFileSync(path, 'utf8'));
}

export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^heapscope\.\d+(\.\d+)?\.json$/.test(f))
    .map((f) => join(dir, f));
}

/** Program points whose allocation site (first frame) is the named function. */
export function sitesOf(profile: Profile, fn: string): ProgramPoint[] {
  return profile.programPoints.filter((pp) => {
    const f = profile.frames[pp.stack[0]!] ?? '';
    return f === fn || f.startsWith(`${fn} (`);
  });
}

/**
 * Program points allocated in `fn` or in the V8 built-ins it called (`push (native)`):
 * whether a built-in such as Array.prototype.push gets a frame of its own depends on
 * whether the optimizing compiler inlined it, which varies from run to run.
 */
export function sitesWithBuiltinsOf(profile: Profile, fn: string): ProgramPoint[] {
  return profile.programPoints.filter((pp) => {
    const f = pp.stack.map((i) => profile.frames[i] ?? '').find((x) => !isBuiltinFrame(x)) ?? '';
    return f === fn || f.startsWith(`${fn} (`);
  });
}

/** The one program point allocated directly in `fn`, failing loudly when there is not exactly one. */
export function siteOf(profile: Profile, fn: string): ProgramPoint {
  const found = sitesOf(profile, fn);
  if (found.length !== 1) {
    throw new Error(`expected one program point at ${fn}, found ${found.length}`);
  }
  return found[0]!;
}

/** Live-at-end [bytes, blocks] of one V8 node type at a program point. */
export function endOfType(pp: ProgramPoint, type: string): [number, number] {
  return pp.heapscope?.endByType?.[type] ?? [0, 0];
}

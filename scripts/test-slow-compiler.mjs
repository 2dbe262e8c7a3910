#!/usr/bin/env node
// Runs the test suite with V8's background compiler slowed down, in the test workers
// and in every Node the tests spawn: what a busy CI machine does to tier-up timing,
// on purpose. Assertions that only hold if V8 optimizes in time fail here.
//
//   npm run build && node scripts/test-slow-compiler.mjs [--delay 200] [vitest args…]
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let delay = '200';
const at = args.indexOf('--delay');
if (at >= 0) [, delay] = args.splice(at, 2);
const flag = `--concurrent-recompilation-delay=${delay}`;

const dir = mkdtempSync(join(tmpdir(), 'heapscope-slow-'));
const node = join(dir, 'node');
writeFileSync(node, `#!/bin/sh\nexec '${process.execPath}' ${flag} "$@"\n`);
chmodSync(node, 0o755);
try {
  const r = spawnSync('npx', ['vitest', 'run', `--execArgv=${flag}`, ...args], {
    stdio: 'inherit',
    env: { ...process.env, HEAPSCOPE_TEST_NODE: node },
  });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

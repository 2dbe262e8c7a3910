// heapscope/node-test under `node --test` (a child process, TAP reporter): the
// fixture's tests named "passes:" pass, those named "FAILS:" fail with heapscope's
// explanation. Needs `npm run build`.

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { NODE, ROOT, tempDir } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/node-test/heap.test.mjs', import.meta.url));
const dir = tempDir('heapscope-node-test-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('passes and fails where it should under node:test', () => {
  const r = spawnSync(NODE, ['--test', '--test-reporter=tap', fixture], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, HEAPSCOPE_PROFILE_DIR: join(dir, 'profiles') },
  });
  expect(r.status, r.stderr).toBe(1);
  const outcomes = [...r.stdout.matchAll(/^(not ok|ok) \d+ - (.+)$/gm)].map((m) => [m[2]!, m[1]!]);
  expect(outcomes.length, r.stdout).toBe(8);
  for (const [title, outcome] of outcomes) {
    expect(outcome, `${title}\n${r.stdout}`).toBe(title!.startsWith('FAILS:') ? 'not ok' : 'ok');
  }
  // The explanations, as TAP carries them.
  expect(r.stdout).toMatch(/Allocated: [\d,]+ bytes/);
  expect(r.stdout).toMatch(
    /allocations at buildPairs \(test\/measure\/fixtures\/node-test\/heap\.test\.mjs:\d+:\d+\)/,
  );
  expect(r.stdout).toMatch(/retained in 1 objects at leakOne/);
  expect(r.stdout).toMatch(/Leaked: \d+ bytes per call/);
  expect(r.stdout).toMatch(/Profile saved to \S+\.dhat\.json/);
  expect(r.stdout).toMatch(/code: 'ERR_ASSERTION'/);
});

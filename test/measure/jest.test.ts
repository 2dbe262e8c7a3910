// heapscope/jest under real jest 30 (ESM mode, a child process): the fixture's tests
// named "passes:" pass, those named "FAILS:" fail with heapscope's explanation and a
// saved profile. Needs `npm run build`.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { NODE, ROOT, tempDir } from '../helpers/heapscope.js';

const config = fileURLToPath(new URL('./fixtures/jest/jest.config.mjs', import.meta.url));
const jest = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const dir = tempDir('heapscope-jest-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface JestResult {
  testResults: {
    assertionResults: { title: string; status: string; failureMessages: string[] }[];
  }[];
}

it('passes and fails where it should under jest', () => {
  const out = join(dir, 'results.json');
  const r = spawnSync(NODE, [jest, '--config', config, '--json', '--outputFile', out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      NODE_OPTIONS: '--experimental-vm-modules --no-warnings',
      HEAPSCOPE_PROFILE_DIR: join(dir, 'profiles'),
    },
  });
  expect(r.status, r.stderr).toBe(1); // some tests are meant to fail
  const results = (JSON.parse(readFileSync(out, 'utf8')) as JestResult).testResults[0]!
    .assertionResults;
  expect(results).toHaveLength(6);
  for (const t of results) {
    const message = t.failureMessages.join('\n');
    expect(t.status, `${t.title}\n${message}`).toBe(
      t.title.startsWith('FAILS:') ? 'failed' : 'passed',
    );
    if (t.status !== 'failed') continue;
    expect(message).toMatch(/Profile saved to (\S+\.dhat\.json)/);
    expect(existsSync(/Profile saved to (\S+\.dhat\.json)/.exec(message)![1]!)).toBe(true);
    if (t.title.includes('over the limit')) {
      expect(message).toMatch(/Allocated: [\d,]+ bytes/);
      expect(message).toMatch(/Limit: +100,000 bytes/);
      expect(message).toMatch(
        /allocations at buildPairs \(test\/measure\/fixtures\/jest\/heap\.test\.mjs:\d+:\d+\)/,
      );
    } else {
      // leakOne keeps one object per call: the exact step's last 2 × (warm-up + measured)
      // calls leave exactly that many at its site.
      const [, calls, warmup] = /Leaked: \d+ bytes per call \((\d+) calls after (\d+) warm-up/.exec(
        message,
      )!;
      const spanCalls = 2 * (Number(calls) + Number(warmup));
      expect(message).toContain(`growth over its last ${spanCalls} calls`);
      expect(message).toMatch(
        new RegExp(
          `retained in ${spanCalls} objects at leakOne \\(test/measure/fixtures/jest/heap\\.test\\.mjs:\\d+:\\d+\\)`,
        ),
      );
    }
  }
});

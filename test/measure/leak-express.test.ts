// checkLeak at default settings on a real express server over a real keep-alive socket
// (test/fixtures/servers/express-app.mjs), each check in a fresh process: the clean
// server is not called leaking, and the leaky one (a middleware that keeps every request
// in an array) is, with that middleware as the first site. A few checks only (each takes
// 10–40 s); the 20-run statistic is bench/leak-express.mjs. Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/leak-express.mjs', import.meta.url));

interface Check {
  leaking: boolean;
  bytesPerIteration: number;
  exact?: { iterations: number; bytesPerIteration: number };
  sites: { stack: string[]; retainedBytes: number; retainedBlocks: number }[];
}

function check(kind: 'clean' | 'leaky'): Check {
  const r = spawnSync(NODE, [fixture, kind], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Check;
}

describe('checkLeak on an express server', () => {
  it('does not call the clean server leaking', () => {
    for (let i = 0; i < 2; i++) {
      const r = check('clean');
      expect(r.leaking, JSON.stringify(r)).toBe(false);
      expect(r.bytesPerIteration).toBe(0);
    }
  }, 300_000);

  it('finds the leak with the middleware that keeps the requests as its site', () => {
    const r = check('leaky');
    const context = JSON.stringify(r);
    expect(r.leaking, context).toBe(true);
    // The exact step's second phase ran 2 × (10 warm-up + 50) requests, each kept whole
    // (request, response, headers, socket records): at least the request's 336 bytes.
    expect(r.exact?.iterations).toBe(120);
    expect(r.exact!.bytesPerIteration, context).toBeGreaterThan(336);
    expect(r.sites[0]!.stack[0], context).toMatch(
      /^keepRequests \(test\/fixtures\/servers\/express-app\.mjs:\d+:\d+\)$/,
    );
    // All of the growth is charged there: at least the 120 requests' objects.
    expect(r.sites[0]!.retainedBlocks).toBeGreaterThanOrEqual(120);
    expect(r.sites[0]!.retainedBytes).toBeGreaterThan(0.9 * 120 * r.exact!.bytesPerIteration);
  }, 300_000);
});

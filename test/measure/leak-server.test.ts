// checkLeak at default settings on real servers over a real keep-alive socket, an
// express app (test/fixtures/servers/express-app.mjs) and one on Node's http alone
// (http-app.mjs), each check in a fresh process: the clean server is not called
// leaking, and the leaky one (code that keeps every request in an array) is, with that
// code as the first site. A few checks only (each takes 5–40 s); the 20-run statistics
// are bench/leak-server.mjs's. Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT } from '../helpers/heapscope.js';

const fixture = fileURLToPath(new URL('./fixtures/leak-server.mjs', import.meta.url));

interface Check {
  leaking: boolean;
  bytesPerIteration: number;
  exact?: { iterations: number; bytesPerIteration: number };
  sites: { stack: string[]; retainedBytes: number; retainedBlocks: number }[];
}

function check(app: 'express' | 'http', kind: 'clean' | 'leaky'): Check {
  const r = spawnSync(NODE, [fixture, app, kind], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Check;
}

/**
 * The leaky server's check: the exact step's second phase ran 2 × (10 warm-up + 50)
 * requests, each kept whole (request, headers, socket records: at least the request's
 * 336 bytes), and nearly all of the growth is charged to `keeper`, the code that keeps
 * them, not to Node's HTTP parser that allocated them.
 */
function expectFound(r: Check, keeper: RegExp): void {
  const context = JSON.stringify(r);
  expect(r.leaking, context).toBe(true);
  expect(r.exact?.iterations).toBe(120);
  expect(r.exact!.bytesPerIteration, context).toBeGreaterThan(336);
  expect(r.sites[0]!.stack[0], context).toMatch(keeper);
  expect(r.sites[0]!.retainedBlocks).toBeGreaterThanOrEqual(120);
  expect(r.sites[0]!.retainedBytes).toBeGreaterThan(0.9 * 120 * r.exact!.bytesPerIteration);
}

describe('checkLeak on an express server', () => {
  it('does not call the clean server leaking', () => {
    for (let i = 0; i < 2; i++) {
      const r = check('express', 'clean');
      expect(r.leaking, JSON.stringify(r)).toBe(false);
      expect(r.bytesPerIteration).toBe(0);
    }
  }, 300_000);

  it('finds the leak with the middleware that keeps the requests as its site', () => {
    expectFound(
      check('express', 'leaky'),
      /^keepRequests \(test\/fixtures\/servers\/express-app\.mjs:\d+:\d+\)$/,
    );
  }, 300_000);
});

describe("checkLeak on a server of Node's http alone", () => {
  it('does not call the clean server leaking', () => {
    const r = check('http', 'clean');
    expect(r.leaking, JSON.stringify(r)).toBe(false);
    expect(r.bytesPerIteration).toBe(0);
  }, 300_000);

  it('finds the leak with the function that keeps the requests as its site', () => {
    expectFound(
      check('http', 'leaky'),
      /^keepRequest \(test\/fixtures\/servers\/http-app\.mjs:\d+:\d+\)$/,
    );
  }, 300_000);
});

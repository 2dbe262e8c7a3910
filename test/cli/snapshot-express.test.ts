/**
 * The leak-hunting workflow on a real express server over a real socket: `heapscope run
 * --snapshot-signal` takes two traced snapshots while the server runs (SIGUSR2), 500
 * requests apart, each of which a middleware keeps in an array; `heapscope snapshot a b`
 * must show the 500 new IncomingMessages as what holds the growth, one path shape
 * through that array, allocated in Node's HTTP parser and stored by the middleware.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heapscope, ROOT, tempDir } from '../helpers/heapscope.js';

let dir: string;
let snapshots: string[];

beforeAll(() => {
  dir = tempDir('heapscope-cli-express-');
  const r = heapscope([
    'run',
    '--snapshot-signal',
    '--quiet',
    '-d',
    dir,
    '--',
    '{NODE}',
    join(ROOT, 'test/fixtures/servers/leaky-snapshots.mjs'),
  ]);
  expect(r.status, r.stderr).toBe(0);
  snapshots = readdirSync(dir)
    .filter((f) => /^heapscope\.\d+-\d\.heapsnapshot$/.test(f))
    .sort()
    .map((f) => join(dir, f));
  expect(r.stderr).toContain(`heapscope: wrote ${snapshots[0]}\n`);
}, 600_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('heapscope snapshot on a leaky express server', () => {
  it('writes two traced snapshots on SIGUSR2', () => {
    expect(snapshots).toHaveLength(2);
  });

  it('shows the new requests held through the array, allocated by Node, stored by the middleware', () => {
    const r = heapscope(['snapshot', ...snapshots, '--paths', '1']);
    expect(r.status, r.stderr).toBe(0);
    const held = r.stdout.slice(r.stdout.indexOf('How the new'));
    const lines = held.split('\n');
    expect(lines[0]).toMatch(
      /^How the new IncomingMessage objects are held: 500 objects, retaining [\d.]+ [KM]iB; 1 path shape$/,
    );
    expect(lines[1]).toMatch(
      /^ {2}Retainer path of IncomingMessage @\d+ \(distance \d+\): 500 objects share this path/,
    );
    const last = lines.findIndex((l) => /→ IncomingMessage @\d+/.test(l));
    expect(lines[last]).toMatch(/^ {6}\[\d+\]\s+→ IncomingMessage @/);
    expect(lines[last - 1]).toMatch(/→ Array @\d+/);
    // Node's HTTP parser allocates each request (V8 may name one of two of its
    // functions); the middleware's `push` allocates the array storage that keeps them.
    const below = lines.slice(last + 1);
    const allocated = below.filter((l) => l.startsWith('    allocated at '));
    for (const l of allocated)
      expect(l).toMatch(/^ {4}allocated at \w+ \(node:_http_\w+:\d+:\d+\)/);
    const counted = (l: string) => Number(/\(([\d,]+)\)$/.exec(l)![1]!.replace(',', ''));
    // V8's snapshot gives one request no allocation site now and then on a loaded
    // machine (trace node 0 in its own output): 499 in 5 of about 35 runs, each with
    // other checks running beside. Cause not found.
    const sited = allocated.reduce((sum, l) => sum + counted(l), 0);
    expect(sited).toBeGreaterThanOrEqual(498);
    expect(sited).toBeLessThanOrEqual(500);
    expect(below[allocated.length]).toMatch(
      /^ {4}stored by {4}keepRequests \(\S*test\/fixtures\/servers\/express-app\.mjs:\d+:\d+\).*\(500\)$/,
    );
  });

  it('lists the new requests, and gives their paths with --path', () => {
    const r = heapscope(['snapshot', ...snapshots, '--paths', '0', '--new', 'IncomingMessage']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('New IncomingMessage objects: 500, the 20 retaining most\n');
    const p = heapscope(['snapshot', ...snapshots, '--path', 'IncomingMessage']);
    expect(p.stdout).toMatch(/How the new IncomingMessage objects are held: 500 objects/);
  });

  it('--path IncomingMessage on one snapshot picks a request, not express’s prototype', () => {
    const r = heapscope(['snapshot', snapshots[1]!, '--top', '1', '--path', 'IncomingMessage']);
    expect(r.status, r.stderr).toBe(0);
    const path = r.stdout.slice(r.stdout.indexOf('Retainer path'));
    // express's `app.request` is an IncomingMessage too: a prototype, reached by a
    // `.request` property. The requests are elements of the middleware's array.
    expect(path).toMatch(/\n\s+\[\d+\]\s+→ IncomingMessage @\d+ {2}self/);
  });
});

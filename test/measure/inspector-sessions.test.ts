/**
 * A measured function that opens and closes a node:inspector session (and posts
 * HeapProfiler.disable through it) keeps its exact figures: the session stays open
 * underneath while the tracker runs, so V8's tracker is not stopped by it.
 */
import { Session } from 'node:inspector';
import { expect, it } from 'vitest';
import { measure } from '../../dist/index.js';

class Kept {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {}
}

/** What an error reporter does; the session is charged here while it is held open. */
function closeASession(): void {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.disable');
  session.disconnect();
}

function keepWithSession(n: number): Kept[] {
  const out = new Array<Kept>(n);
  for (let i = 0; i < n / 2; i++) out[i] = new Kept(i, i);
  closeASession();
  for (let i = n / 2; i < n; i++) out[i] = new Kept(i, i);
  return out;
}

it('counts what the function keeps exactly, though it closes a session in between', async () => {
  const n = 10_000;
  const plain = await measure(() => keepWithSession(n), { exact: true, warmup: 2 });
  if (plain.profile.heapscope?.exact.end === false) {
    // Without the native helper the inspector's timer may have run (stated in the profile).
    expect(process.env.HEAPSCOPE_NATIVE).toBe('0');
    return;
  }
  // n instances, the JSArray and its backing store, all made by keepWithSession.
  const site = plain.sites.find((s) => s.stack[0]?.startsWith('keepWithSession '));
  expect(site?.retainedBlocks).toBe(n + 2);
});

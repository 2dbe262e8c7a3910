// A full, synchronous garbage collection on demand, without --expose-gc on the
// command line: V8's flag is switched on just long enough to fetch `gc` from a new
// context, then off again so that contexts made later (test runners make many) do
// not get a `gc` global.

import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gcFunction: (() => void) | undefined;
let forced = 0;

function fetchGc(): () => void {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as () => void;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as () => void;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Runs a full mark-compact GC now (all spaces, synchronous). */
export function collectGarbage(): void {
  if (!gcFunction) gcFunction = fetchGc();
  forced++;
  gcFunction();
}

/** How many GCs heapscope itself has forced so far. */
export function forcedGcCount(): number {
  return forced;
}

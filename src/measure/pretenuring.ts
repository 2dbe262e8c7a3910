// V8's allocation-site pretenuring, switched off once per process before heapscope's
// first measurement. While V8 tracks a site it puts a 16-byte memento behind each young
// object from it, and once it decides the site's objects live long it allocates them
// straight into old space: both change the bytes counted for the same code from one
// call to the next (on Node 20, a call that met a scavenge was seen up to a third off),
// and pretenured objects are allocated past the allocation tracker. Switching it off
// changes where V8 puts long-lived objects, not how many bytes they take.

import * as v8 from 'node:v8';

let off = false;

export function switchOffPretenuring(): void {
  if (off) return;
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
  off = true;
}

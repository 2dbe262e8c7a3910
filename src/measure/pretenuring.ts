// V8's allocation-site pretenuring, switched off when heapscope's measuring code is
// loaded (ledger.ts calls this once, at module evaluation: exact mode and every region
// import the ledger). Once V8 decides a site's objects live long it allocates them
// straight into old space: on Node 20 cheap mode then counted such calls up to a third
// under what they allocated, and pretenured objects are allocated past the allocation
// tracker. Sites V8 tenured before the switch keep their decision. It changes where V8
// puts long-lived objects, not how many bytes they take. (The 16-byte memento behind
// literals made by unoptimized code is not pretenuring's: the flag does not remove it.)

import * as v8 from 'node:v8';

export function switchOffPretenuring(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}

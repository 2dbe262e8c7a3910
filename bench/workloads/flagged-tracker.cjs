// Preload for the benchmark: V8's allocation tracker with the same V8 flags heapscope
// sets (no inlining, no escape analysis, no allocation folding, no background compile),
// without heapscope's snapshot, peak sampling or processing.
const v8 = require('node:v8');
const { honestStackFlags } = require('../../dist/capture/v8-flags.cjs');
for (const flag of honestStackFlags(Number.parseInt(process.versions.v8, 10))) {
  v8.setFlagsFromString(flag);
}
require('./bare-tracker.cjs');

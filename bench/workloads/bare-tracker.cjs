// Preload for the benchmark's baseline: V8's allocation tracker alone, through the same
// native helper, with no stack flags, no snapshot and no processing.
const { loadNative } = require('../../dist/native/load.cjs');
const loaded = loadNative();
if ('error' in loaded) throw new Error(loaded.error);
loaded.addon.startTracking();

// The native helper, loaded lazily so that importing heapscope never fails: cheap
// mode works without it (with the limits documented in index.ts), exact mode and
// exact GC counts need it.

import { createRequire } from 'node:module';
import type { NativeAddon } from '../native/addon.js';

type Loader = { loadNative(): { addon: NativeAddon } | { error: string } };

let cached: { addon: NativeAddon } | { error: string } | undefined;

/** The native helper for this Node, or why it is unavailable. Never throws. */
export function nativeHelper(): { addon: NativeAddon } | { error: string } {
  if (cached) return cached;
  try {
    // dist/measure/native.js → dist/native/load.cjs: the same module instance
    // (hence the same addon state) as the capture agent's.
    const loader = createRequire(import.meta.url)('../native/load.cjs') as Loader;
    cached = loader.loadNative();
  } catch (e) {
    cached = {
      error: `heapscope: cannot load the native helper loader (${(e as Error).message}); run heapscope from its build (dist/)`,
    };
  }
  return cached;
}

/** The addon, or undefined when it is unavailable. */
export function addonOrUndefined(): NativeAddon | undefined {
  const r = nativeHelper();
  return 'addon' in r ? r.addon : undefined;
}

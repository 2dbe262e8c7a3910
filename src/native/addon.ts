// ESM face of the native-helper loader. The logic lives in load.cts (CommonJS, shared
// with the capture agent); requiring it here gives ESM and CJS callers the same module
// instance, hence the same loaded addon: load.cts keeps the one cache (per thread).
// The loader is required on first use, so that importing heapscope never fails: from
// TypeScript sources (a test runner) there is no load.cjs, and the helper is then
// unavailable with a message saying why.

import { createRequire } from 'node:module';
import type * as Loader from './load.cjs';

export type {
  NativeAddon,
  NativeGcStats,
  NativeLoadResult,
  NativePeakSample,
  NativePeakSampleNode,
} from './load.cjs';

import type { NativeAddon, NativeLoadResult } from './load.cjs';

let loader: typeof Loader | { error: string } | undefined;

function theLoader(): typeof Loader | { error: string } {
  if (loader === undefined) {
    try {
      loader = createRequire(import.meta.url)('./load.cjs') as typeof Loader;
    } catch (e) {
      loader = {
        error: `heapscope: cannot load the native helper loader (${(e as Error).message}); run heapscope from its build (dist/)`,
      };
    }
  }
  return loader;
}

function required(): typeof Loader {
  const l = theLoader();
  if ('error' in l) throw new Error(l.error);
  return l;
}

/** Loads the prebuilt native helper for this Node ABI, or says why not (never throws). */
export function loadNative(): NativeLoadResult {
  const l = theLoader();
  return 'error' in l ? l : l.loadNative();
}

/** Where the prebuilt binary for this Node ABI is expected. */
export function nativeBinaryPath(): string {
  return required().nativeBinaryPath();
}

/** The heapscope package root. */
export function packageRoot(): string {
  return required().packageRoot();
}

/** The addon, or undefined when it is unavailable. */
export function addonOrUndefined(): NativeAddon | undefined {
  const r = loadNative();
  return 'addon' in r ? r.addon : undefined;
}

// ESM face of the native-helper loader. The logic lives in load.cts
// (CommonJS, shared with the capture agent); requiring it here gives ESM and
// CJS callers the same module instance, hence the same loaded addon.

import { createRequire } from 'node:module';
import type * as Loader from './load.cjs';

export type {
  NativeAddon,
  NativeGcStats,
  NativeLoadResult,
  NativePeakSample,
  NativePeakSampleNode,
} from './load.cjs';

const loader = createRequire(import.meta.url)('./load.cjs') as typeof Loader;

/** Loads the prebuilt native helper for this Node ABI, or says why not (never throws). */
export const loadNative: typeof Loader.loadNative = loader.loadNative;
/** Where the prebuilt binary for this Node ABI is expected. */
export const nativeBinaryPath: typeof Loader.nativeBinaryPath = loader.nativeBinaryPath;
/** The heapscope package root. */
export const packageRoot: typeof Loader.packageRoot = loader.packageRoot;

/**
 * `trackWasmHeap`: tracks the heap of a WebAssembly instance by wrapping the allocation
 * functions it exports (`malloc`, `free`, `realloc`, `calloc`, or wasm-bindgen's
 * `__wbindgen_malloc`...). Every call from JavaScript into them is recorded with the
 * JavaScript call stack that made it, and the same DHAT profile as `trackAllocator`
 * comes out.
 *
 * The limit: only calls that go through the wrapped exports are seen. When the
 * module's own code calls its allocator (a C function calling `malloc`, Rust's `Vec`
 * growing), the call stays inside WebAssembly and the tracker never hears of it. A
 * block the module allocated itself and JavaScript later frees counts as an unknown
 * free; a block JavaScript allocated and the module freed stays live in the profile
 * until its address is handed out again (then it counts as freed, see `anomalies`).
 * Only wasm32 (32-bit pointers, i32 results) is supported, not memory64.
 */
import { HeapTracker, type TrackOptions } from './heap-tracker.js';
import { TrackedHeap } from './tracked-heap.js';

/** A WebAssembly.Memory, or anything with its `buffer`. */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** A WebAssembly.Instance, or anything with its `exports`. */
export interface WasmInstanceLike {
  readonly exports: Record<string, unknown>;
}

/** An exported function, and which arguments carry the pointer and the sizes (0-based). */
export interface WasmHeapFunctions {
  /** `ptr = malloc(size)`; `size` is the index of the size argument (default 0). */
  malloc: string | { name: string; size?: number };
  /** `free(ptr)`; `ptr` is the index of the pointer argument (default 0). */
  free: string | { name: string; ptr?: number };
  /** `ptr = realloc(old, size)` (defaults: `ptr` 0, `size` 1). */
  realloc?: string | { name: string; ptr?: number; size?: number };
  /** `ptr = calloc(count, size)` (defaults: `count` 0, `size` 1). */
  calloc?: string | { name: string; count?: number; size?: number };
  /** The memory: an export name (default `memory`), or the Memory itself when the module imports it. */
  memory?: string | WasmMemoryLike;
}

/**
 * Export names of common toolchains. Functions a preset names but the module does not
 * export are skipped (apart from `malloc` and `free`).
 * - `libc`: wasi-libc, dlmalloc, or any C/C++ module exporting the C names.
 * - `emscripten`: the same names (Emscripten's JS calls them `_malloc`, `_free`; the
 *   wasm exports are `malloc`, `free`, and `realloc`/`calloc` when exported).
 * - `wasm-bindgen`: `__wbindgen_malloc(size, align)`, `__wbindgen_realloc(ptr, oldSize,
 *   newSize, align)`, `__wbindgen_free(ptr, size, align)`.
 */
export const WASM_HEAP_PRESETS = {
  libc: { malloc: 'malloc', free: 'free', realloc: 'realloc', calloc: 'calloc' },
  emscripten: { malloc: 'malloc', free: 'free', realloc: 'realloc', calloc: 'calloc' },
  'wasm-bindgen': {
    malloc: { name: '__wbindgen_malloc', size: 0 },
    free: { name: '__wbindgen_free', ptr: 0 },
    realloc: { name: '__wbindgen_realloc', ptr: 0, size: 2 },
  },
} as const satisfies Record<string, WasmHeapFunctions>;

export type WasmHeapPreset = keyof typeof WASM_HEAP_PRESETS;

type ExportFn = (...args: unknown[]) => unknown;

export class TrackedWasmHeap extends TrackedHeap {
  /** The instance's exports, with the allocation functions replaced by tracking wrappers. */
  readonly exports: Record<string, unknown>;

  constructor(
    /** The original instance (calls through its exports are not tracked). */
    readonly instance: WasmInstanceLike,
    functions: WasmHeapFunctions | WasmHeapPreset = 'libc',
    options: TrackOptions = {},
  ) {
    const preset = typeof functions === 'string';
    const spec: WasmHeapFunctions = preset ? WASM_HEAP_PRESETS[functions] : functions;
    if (preset && !(functions in WASM_HEAP_PRESETS)) {
      throw new TypeError(
        `unknown wasm heap preset "${functions}"; known: ${Object.keys(WASM_HEAP_PRESETS).join(', ')}`,
      );
    }
    const source = instance.exports;
    const memory = resolveMemory(source, spec.memory);
    const tracker = new HeapTracker({ accesses: false, ...options });
    super(tracker, () => memory.buffer, 'wasm-heap', [
      'Only allocations made through the tracked exports from JavaScript are recorded; ' +
        "calls the module's own code makes to its allocator are not seen.",
    ]);
    const exports: Record<string, unknown> = {};
    for (const name of Object.keys(source)) exports[name] = source[name];
    const fn = (name: string, required: boolean): ExportFn | undefined => {
      const f = source[name];
      if (typeof f === 'function') return f as ExportFn;
      if (required) throw new TypeError(`the wasm instance exports no function "${name}"`);
      return undefined;
    };

    const m = named(spec.malloc, { size: 0 });
    const malloc = fn(m.name, true)!;
    const mallocWrapper = function (this: unknown, ...args: unknown[]): unknown {
      const result = malloc.apply(this, args);
      const ptr = pointer(result, m.name);
      if (ptr === 0) tracker.anomalies.failedAllocations++;
      else tracker.allocated(ptr, Number(args[m.size]) >>> 0, tracker.stack(mallocWrapper));
      return result;
    };
    exports[m.name] = mallocWrapper;

    const f = named(spec.free, { ptr: 0 });
    const free = fn(f.name, true)!;
    exports[f.name] = function freeWrapper(this: unknown, ...args: unknown[]): unknown {
      const ptr = Number(args[f.ptr]) >>> 0;
      const result = free.apply(this, args);
      if (ptr !== 0) tracker.freed(ptr);
      return result;
    };

    if (spec.realloc) {
      const r = named(spec.realloc, { ptr: 0, size: 1 });
      const realloc = fn(r.name, !preset);
      if (realloc) {
        const reallocWrapper = function (this: unknown, ...args: unknown[]): unknown {
          const old = Number(args[r.ptr]) >>> 0;
          const size = Number(args[r.size]) >>> 0;
          const result = realloc.apply(this, args);
          const ptr = pointer(result, r.name);
          if (ptr === 0) {
            // realloc(p, 0) may free p and return 0; any other 0 is a failure that keeps p.
            if (size === 0 && old !== 0) tracker.freed(old);
            else tracker.anomalies.failedAllocations++;
            return result;
          }
          const stack = tracker.stack(reallocWrapper);
          if (old === 0) tracker.allocated(ptr, size, stack);
          else tracker.reallocated(old, ptr, size, stack);
          return result;
        };
        exports[r.name] = reallocWrapper;
      }
    }

    if (spec.calloc) {
      const c = named(spec.calloc, { count: 0, size: 1 });
      const calloc = fn(c.name, !preset);
      if (calloc) {
        const callocWrapper = function (this: unknown, ...args: unknown[]): unknown {
          const result = calloc.apply(this, args);
          const ptr = pointer(result, c.name);
          const size = (Number(args[c.count]) >>> 0) * (Number(args[c.size]) >>> 0);
          if (ptr === 0) tracker.anomalies.failedAllocations++;
          else tracker.allocated(ptr, size, tracker.stack(callocWrapper));
          return result;
        };
        exports[c.name] = callocWrapper;
      }
    }
    this.exports = Object.freeze(exports);
  }
}

/**
 * Tracks a WebAssembly instance's heap through its exported allocation functions
 * (`functions`: a preset name — `libc` (default), `emscripten`, `wasm-bindgen` — or
 * the export names). Use the returned object's `exports` in place of the instance's:
 * it is instance-like, so glue code that takes an instance can take it.
 */
export function trackWasmHeap(
  instance: WasmInstanceLike,
  functions: WasmHeapFunctions | WasmHeapPreset = 'libc',
  options: TrackOptions = {},
): TrackedWasmHeap {
  return new TrackedWasmHeap(instance, functions, options);
}

function named<D extends Record<string, number>>(
  spec: string | ({ name: string } & Partial<D>),
  defaults: D,
): { name: string } & D {
  if (typeof spec === 'string') return { name: spec, ...defaults };
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(spec)) if (v !== undefined) out[k] = v;
  return out as { name: string } & D;
}

function resolveMemory(
  exports: Record<string, unknown>,
  memory: string | WasmMemoryLike | undefined,
): WasmMemoryLike {
  if (memory !== undefined && typeof memory !== 'string') return memory;
  const name = memory ?? 'memory';
  const m = exports[name] as WasmMemoryLike | undefined;
  if (!m || typeof m !== 'object' || !('buffer' in m)) {
    throw new TypeError(
      `the wasm instance exports no memory "${name}"; pass the Memory as \`memory\` when the module imports it`,
    );
  }
  return m;
}

/** A wasm32 pointer result as an unsigned number. */
function pointer(result: unknown, name: string): number {
  if (typeof result !== 'number') {
    throw new TypeError(
      `${name} returned ${typeof result}, not a 32-bit pointer (memory64 is not supported)`,
    );
  }
  return result >>> 0;
}

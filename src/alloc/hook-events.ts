/**
 * The events hooks receive. Classes rather than object literals with getters: V8
 * builds these on its fast path, and the stack is formatted only when a hook reads it.
 */

/** Turns an interned stack id into frame strings (the tracker's). */
export type FrameSource = (stack: number) => readonly string[];

abstract class StackEvent {
  #frames: readonly string[] | undefined;
  readonly #source: FrameSource;
  readonly #stackId: number;

  constructor(source: FrameSource, stackId: number) {
    this.#source = source;
    this.#stackId = stackId;
  }

  /** The call stack as frame strings, innermost first (formatted on first read). */
  get stack(): readonly string[] {
    this.#frames ??= this.#source(this.#stackId);
    return this.#frames;
  }
}

/** What `onAlloc` receives. */
export class AllocEvent extends StackEvent {
  constructor(
    readonly ptr: number,
    readonly size: number,
    /** The innermost `group()` open at the allocation, if any. */
    readonly group: string | undefined,
    source: FrameSource,
    stackId: number,
  ) {
    super(source, stackId);
  }
}

/** What `onFree` receives; `stack` is the block's allocation stack. */
export class FreeEvent extends StackEvent {
  constructor(
    readonly ptr: number,
    /** The block's size as allocated. */
    readonly size: number,
    /** The innermost `group()` open at the free, if any. */
    readonly group: string | undefined,
    /** The group the block was allocated in. */
    readonly allocGroup: string | undefined,
    source: FrameSource,
    stackId: number,
  ) {
    super(source, stackId);
  }
}

/** What `onRealloc` receives: the old block ends and the new one begins in one event. */
export class ReallocEvent extends StackEvent {
  constructor(
    readonly oldPtr: number,
    readonly oldSize: number,
    /** The old block's group. */
    readonly oldGroup: string | undefined,
    readonly ptr: number,
    readonly size: number,
    /** The innermost `group()` open at the realloc: the new block's group. */
    readonly group: string | undefined,
    source: FrameSource,
    stackId: number,
  ) {
    super(source, stackId);
  }
}

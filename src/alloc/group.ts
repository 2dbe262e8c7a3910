/**
 * `group(name, fn)` for allocators you control: blocks that tracked allocators and
 * tracked wasm heaps hand out while `fn` runs are tagged `name` (the innermost open
 * group wins), hooks see the tag, and profiles split by it. Like tracking-allocator's
 * group tokens. This one only tags; heapscope's `group()` from the main entry point
 * tags the same way and also measures V8's heap.
 *
 * For an async `fn` the group stays open until its promise settles, and everything
 * that allocates meanwhile, from any code, is tagged with it.
 */
import { closeGroup, currentGroup, openGroup } from '../util/open-groups.js';

export function group<T>(name: string, fn: () => T): T {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError('heapscope: group(name, fn) needs a non-empty name');
  }
  openGroup(name);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeGroup(name);
    throw e;
  }
  if (isThenable(result)) {
    return Promise.resolve(result).finally(() => closeGroup(name)) as T;
  }
  closeGroup(name);
  return result;
}

/** The group blocks allocated now are tagged with, or undefined outside every group. */
export { currentGroup };

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

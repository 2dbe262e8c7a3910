/**
 * The names of the groups open now, innermost last: the one stack that heapscope's
 * `group()` (which also measures V8's heap) and `heapscope/alloc`'s `group()` (which
 * only tags) push onto, so that blocks of a tracked allocator are tagged with the
 * innermost group open around the call, whichever function opened it.
 *
 * Fixed capacity, so that opening a group allocates nothing (a measured region around
 * it would otherwise see heapscope's own bookkeeping).
 */
const open: (string | undefined)[] = new Array(256).fill(undefined);
let openCount = 0;

/** Opens `name`; throws past 256 open groups. */
export function openGroup(name: string): void {
  if (openCount === open.length) {
    throw new RangeError('heapscope: more than 256 groups open at once');
  }
  open[openCount++] = name;
}

/** Closes the innermost open group called `name` (async groups may close out of order). */
export function closeGroup(name: string): void {
  for (let i = openCount - 1; i >= 0; i--) {
    if (open[i] === name) {
      for (let j = i; j < openCount - 1; j++) open[j] = open[j + 1];
      open[--openCount] = undefined;
      return;
    }
  }
}

/** The innermost open group, or undefined outside every group. */
export function currentGroup(): string | undefined {
  return openCount === 0 ? undefined : open[openCount - 1];
}

/** How many groups are open. */
export function openGroupCount(): number {
  return openCount;
}

/** The open group at `index` (0 is the outermost). */
export function openGroupAt(index: number): string | undefined {
  return index < openCount ? open[index] : undefined;
}

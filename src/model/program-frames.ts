/**
 * The program's frames in an allocation stack (`fn (file:line:column)` strings,
 * allocating frame first), as opposed to Node's internals (`fn (node:…)`) and V8's
 * built-ins (`Array.prototype.push (native)`, or a bare `push`): where a user looks for the code that made or
 * keeps an object.
 */
import { isBuiltinFrame } from './frame.js';

/** Whether a frame is one of Node's own (`fn (node:…)`). */
export function isNodeInternalFrame(frame: string): boolean {
  return frame.includes(' (node:');
}

/** Whether a frame is the program's: it has a script, and the script is not Node's. */
export function isProgramFrame(frame: string): boolean {
  return frame.includes(' (') && !isNodeInternalFrame(frame) && !isBuiltinFrame(frame);
}

/**
 * The stack from the program's first frame: Node's internal frames and V8's built-ins
 * above it set aside. Unchanged when it has none.
 */
export function programSite(stack: readonly string[]): string[] {
  const i = stack.findIndex(isProgramFrame);
  return i > 0 ? stack.slice(i) : [...stack];
}

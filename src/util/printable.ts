/**
 * Text from a profile made printable. Frame names, class names and command lines come
 * from the profiled program (or from whoever wrote the file), and a terminal obeys
 * control sequences in them: a screen clear, a title change, an OSC 52 clipboard write.
 * Every command prints such strings through `printable`, which shows control characters
 * as escapes (`\n`, `\t`, `\x1b`, `\u202e`) and leaves every other character as it is.
 */

// C0 controls, DEL and C1 controls; the invisible characters that reorder or hide text
// (bidirectional controls, zero-width marks, line and paragraph separators, the BOM).
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control or invisible formatting character shown as an escape. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/** True when `printable` would change `text`. */
export function hasUnprintable(text: string): boolean {
  UNPRINTABLE.lastIndex = 0;
  const found = UNPRINTABLE.test(text);
  UNPRINTABLE.lastIndex = 0;
  return found;
}

/**
 * A copy of plain data (objects, arrays) with `printable` applied to every string in it,
 * for renderers that print many fields of a result. Nesting is walked without recursion.
 */
export function printableData<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (typeof value !== 'object' || value === null) return value;
  const copyOf = (v: object): Record<string, unknown> | unknown[] =>
    Array.isArray(v) ? [...v] : { ...(v as Record<string, unknown>) };
  const root = copyOf(value);
  const todo: (Record<string, unknown> | unknown[])[] = [root];
  while (todo.length > 0) {
    const o = todo.pop()! as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (typeof v === 'string') o[k] = printable(v);
      else if (typeof v === 'object' && v !== null) {
        const c = copyOf(v);
        o[k] = c;
        todo.push(c);
      }
    }
  }
  return root as T;
}

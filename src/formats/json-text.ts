/**
 * JSON syntax errors on one line, with the line and column: V8's own messages quote the
 * file's text (over several lines, with whatever control characters it holds) and give no
 * position for an unexpected token. `jsonSyntaxError` finds the first error itself, by a
 * scan without recursion (any depth), and only after `JSON.parse` has refused the text.
 */

/** Where a JSON text first goes wrong: the offset, and what was found there. */
export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  /** The unexpected character, or undefined at the end of the text. */
  found?: string;
}

/** What the scan expects next. */
const Want = {
  Value: 0,
  ValueOrArrayEnd: 1,
  Key: 2,
  KeyOrObjectEnd: 3,
  Colon: 4,
  After: 5,
} as const;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Characters below U+0020 end a string literal as errors.
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what ends a string
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('[' | '{')[] = [];
  let want: number = Want.Value;
  let i = 0;
  const n = text.length;
  const fail = (at: number): JsonSyntaxError => {
    let line = 1;
    let lineStart = 0;
    for (let k = text.indexOf('\n'); k >= 0 && k < at; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return {
      offset: at,
      line,
      column: at - lineStart + 1,
      ...(at < n ? { found: String.fromCodePoint(text.codePointAt(at)!) } : {}),
    };
  };
  const afterValue = () => {
    want = Want.After;
  };
  while (true) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) {
      i++;
    }
    if (i >= n) return stack.length === 0 && want === Want.After ? undefined : fail(i);
    const c = text[i]!;
    switch (want) {
      case Want.After: {
        const top = stack[stack.length - 1];
        if (top === undefined) return fail(i);
        if (c === ',') {
          want = top === '[' ? Want.Value : Want.Key;
          i++;
        } else if ((c === ']' && top === '[') || (c === '}' && top === '{')) {
          stack.pop();
          i++;
          afterValue();
        } else return fail(i);
        continue;
      }
      case Want.Colon:
        if (c !== ':') return fail(i);
        i++;
        want = Want.Value;
        continue;
      case Want.Key:
      case Want.KeyOrObjectEnd:
        if (c === '}' && want === Want.KeyOrObjectEnd) {
          stack.pop();
          i++;
          afterValue();
          continue;
        }
        if (c !== '"') return fail(i);
        i = scanString(text, i);
        if (i < 0) return fail(-i - 1);
        want = Want.Colon;
        continue;
      case Want.Value:
      case Want.ValueOrArrayEnd:
        if (c === ']' && want === Want.ValueOrArrayEnd) {
          stack.pop();
          i++;
          afterValue();
          continue;
        }
        if (c === '[' || c === '{') {
          stack.push(c);
          want = c === '[' ? Want.ValueOrArrayEnd : Want.KeyOrObjectEnd;
          i++;
          continue;
        }
        if (c === '"') {
          i = scanString(text, i);
          if (i < 0) return fail(-i - 1);
        } else if (c === '-' || (c >= '0' && c <= '9')) {
          NUMBER.lastIndex = i;
          const m = NUMBER.exec(text);
          if (!m) return fail(i + 1);
          i += m[0].length;
        } else {
          const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : '';
          if (word === '') return fail(i);
          for (let k = 0; k < word.length; k++) {
            if (text[i + k] !== word[k]) return fail(i + k);
          }
          i += word.length;
        }
        afterValue();
        continue;
    }
  }
}

/** The end of the string literal opening at `start`, or −(offset + 1) of its error. */
function scanString(text: string, start: number): number {
  STRING_BODY.lastIndex = start + 1;
  STRING_BODY.exec(text);
  const end = STRING_BODY.lastIndex;
  return text[end] === '"' ? end + 1 : -(end + 1);
}

/** A one-line message for text that `JSON.parse` refused. */
export function jsonSyntaxMessage(text: string, parseError: unknown): string {
  const at = findJsonSyntaxError(text);
  if (!at) {
    // Not a syntax error (e.g. a string too long for V8): V8's message, first line only.
    return `not valid JSON (${String((parseError as Error)?.message ?? parseError).split('\n')[0]})`;
  }
  if (at.found === undefined) {
    return `not valid JSON: the text ends at line ${at.line}, column ${at.column}, inside a value (truncated file?)`;
  }
  return `not valid JSON: unexpected ${JSON.stringify(at.found)} at line ${at.line}, column ${at.column}`;
}

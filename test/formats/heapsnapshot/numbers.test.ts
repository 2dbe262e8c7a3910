/**
 * The fast path for a known byte range of numbers: exactly the numbers for V8's layout
 * across its 64 KB reads, and "give up" (undefined) for everything else, which the
 * general reader then parses and words (tested in heapsnapshot-workers.test.ts); and the
 * general reader, which runs the same loop over V8's layout and its own state machine
 * over the rest of a chunk and any other layout.
 */

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NumberArrayReader } from '../../../src/formats/heapsnapshot/numbers.js';
import {
  countNumbers,
  type readNumbersFast,
  readNumbersInJs,
} from '../../../src/formats/heapsnapshot/numbers-fast.js';

type ReadRange = typeof readNumbersFast;
// From dist/: the helper's loader is CommonJS (src/native/load.cts), built there.
const { nativeSnapshotFunctions } = await import('../../../dist/native/snapshot.js');
const native = nativeSnapshotFunctions();
/** The native helper's parser (native/snapshot.cc) behind the same signature. */
const readNumbersNative: ReadRange = (fd, start, end, into) => {
  const count = native!.parseNumberRange(fd, start, end, into);
  return count < 0 ? undefined : into.subarray(0, count);
};

it('has the native parser on linux-x64 and linux-arm64 (prebuilt for every supported Node)', () => {
  if (process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch)) {
    expect(native).toBeDefined();
  }
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapscope-numbers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** V8's layout: a newline after every `perLine` numbers, then the comma. */
function v8Text(numbers: number[], perLine: number): string {
  let text = '[';
  numbers.forEach((n, i) => {
    text += String(n);
    const endOfLine = (i + 1) % perLine === 0;
    if (i < numbers.length - 1) text += endOfLine ? '\n,' : ',';
    else text += endOfLine ? '\n]' : ']';
  });
  return text;
}

/** Writes `prefix + text + suffix` and reads the range of `text`, with room for `capacity` numbers. */
function read(
  readRange: ReadRange,
  text: string,
  capacity: number,
  prefix = '{"nodes":',
  suffix = ',"x":1}',
) {
  const path = join(dir, `n${Math.random()}.json`);
  writeFileSync(path, prefix + text + suffix);
  const start = Buffer.byteLength(prefix);
  const fd = openSync(path, 'r');
  try {
    return readRange(fd, start, start + Buffer.byteLength(text), new Uint32Array(capacity));
  } finally {
    closeSync(fd);
  }
}

const implementations: [string, ReadRange][] = [['JavaScript', readNumbersInJs]];
if (native) implementations.push(['native', readNumbersNative]);

describe.each(implementations)('the fast path in %s', (_name, readRange) => {
  // 300,000 numbers of 1 to 10 digits: ~2 MB, so ~30 reads whose ends fall anywhere.
  const numbers = Array.from({ length: 300_000 }, (_, i) =>
    i % 7 === 0 ? 0xffffffff - i : (i * 2654435761) % Math.min(10 ** ((i % 10) + 1), 2 ** 32),
  );

  it.each([1, 3, 7])('reads V8 layout with a newline every %i numbers', (perLine) => {
    const got = read(readRange, v8Text(numbers, perLine), numbers.length);
    expect(got).toBeDefined();
    expect(got!.length).toBe(numbers.length);
    let mismatches = 0;
    for (let i = 0; i < numbers.length; i++) if (got![i] !== numbers[i]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('returns the filled part when the array holds fewer numbers than room', () => {
    expect(Array.from(read(readRange, v8Text([5, 6, 7], 3), 10)!)).toEqual([5, 6, 7]);
    expect(Array.from(read(readRange, v8Text([5, 6, 7], 1), 3)!)).toEqual([5, 6, 7]);
    expect(read(readRange, '[]', 10)!.length).toBe(0);
    expect(Array.from(read(readRange, '[0]', 1)!)).toEqual([0]);
  });

  it.each([
    ['more numbers than room', v8Text([1, 2, 3], 3), 2],
    ['a number over 2^32 - 1', v8Text([1, 4294967296, 3], 3), 3],
    ['a space', '[1, 2]', 2],
    ['a letter', '[1,2a,3]', 3],
    ['a negative number', '[1,-2]', 2],
    ['a fraction', '[1,2.5]', 2],
    ['two commas', '[1,,2]', 2],
    ['no opening bracket', ' [1,2]', 2],
    ['a trailing comma', '[1,2,]', 2],
    ['a newline before the bracket and after a comma', '[1,\n2]', 2],
    ['two newlines', '[1\n\n,2]', 2],
    ['a newline inside a number', '[1\n2,3]', 3],
    ['no closing bracket', '[1,2,3', 3],
    ['an empty array with a newline', '[\n]', 2],
    ['nothing', '[', 2],
  ])('gives up on %s', (_what, text, capacity) => {
    expect(read(readRange, text as string, capacity as number)).toBeUndefined();
  });

  it('gives up on a long run of digits that crosses a read', () => {
    // Past the first read of either parser: 64 KB in JavaScript, 1 MiB in native code.
    for (const ones of [40_000, 600_000]) {
      const text = `[${'1,'.repeat(ones)}${'9'.repeat(80_000)}]`;
      expect(read(readRange, text, ones + 10)).toBeUndefined();
      const over = `[${'1,'.repeat(ones)}4294967296]`;
      expect(read(readRange, over, ones + 10)).toBeUndefined();
      const last = read(readRange, `[${'1,'.repeat(ones)}4294967295]`, ones + 10);
      expect(last?.length).toBe(ones + 1);
      expect(last?.[ones]).toBe(4294967295);
    }
  });

  it('gives up when the file ends before the range does (it changed)', () => {
    const path = join(dir, 'short.json');
    writeFileSync(path, '{"nodes":[1,2,3]}');
    const fd = openSync(path, 'r');
    try {
      expect(readRange(fd, 9, 9 + 200_000, new Uint32Array(10))).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });
});

describe('NumberArrayReader with the fast loop inside', () => {
  /** Feeds `text` (with `tail` after it) in chunks of `chunk` bytes; the numbers read. */
  function readAll(text: string, tail: string, chunk: number, capacity: number): number[] {
    const buf = Buffer.from(text + tail);
    const reader = new NumberArrayReader('nodes', false, capacity);
    for (let p = 0; p < buf.length && !reader.done; ) {
      const end = Math.min(buf.length, p + chunk);
      p = reader.feed(buf, p, end, 0);
      if (p < end && !reader.done) throw new Error(`stopped at ${p}`);
    }
    expect(reader.done).toBe(true);
    return Array.from(reader.result());
  }

  const numbers = Array.from({ length: 2000 }, (_, i) => (i * 2654435761) % 2 ** 32);

  it('reads V8 layout whatever follows the array and wherever chunks end', () => {
    const text = v8Text(numbers, 4);
    for (const tail of [
      '',
      ']',
      ',"strings":[]}',
      ' '.repeat(15),
      ' '.repeat(16),
      ' '.repeat(40),
    ]) {
      for (const chunk of [text.length + tail.length, 4096, 1000, 97, 17, 16, 15]) {
        for (const capacity of [1, 1024, numbers.length]) {
          expect(
            readAll(text, tail, chunk, capacity),
            `${tail.length} ${chunk} ${capacity}`,
          ).toEqual(numbers);
        }
      }
    }
  });

  it('reads other layouts, as JSON.parse does', () => {
    for (const text of [
      `[ ${numbers.join(' , ')} ]`,
      `[${numbers.join(',\r\n')}]`,
      `[\n${numbers.slice(0, 500).join(',')},\n${numbers.slice(500).join(',')}\n]`,
    ]) {
      expect(readAll(text, '', text.length, 16)).toEqual(JSON.parse(text));
    }
  });

  it('words errors after a run of well-formed numbers as the state machine does', () => {
    const good = numbers.slice(0, 300).join(',');
    const cases: [string, RegExp][] = [
      [`[${good},12x4,5]`, /unexpected 'x' in "nodes".* at byte \d+/],
      [
        `[${good},4294967296,5]`,
        /"nodes"\[300\] = 4294967296 \(ending at byte \d+\) is not an integer/,
      ],
      [`[${good},,5]`, /unexpected ','/],
      [`[${good},-5]`, /"nodes"\[300\]/],
    ];
    for (const [text, message] of cases) {
      expect(() => readAll(text, ' '.repeat(20), text.length + 20, 16)).toThrow(message);
      // The byte offset is the same as when the state machine reads it alone (tiny chunks).
      let whole = '';
      let tiny = '';
      try {
        readAll(text, ' '.repeat(20), text.length + 20, 16);
      } catch (e) {
        whole = (e as Error).message;
      }
      try {
        readAll(text, ' '.repeat(20), 7, 16);
      } catch (e) {
        tiny = (e as Error).message;
      }
      expect(whole).toBe(tiny);
    }
  });
});

describe('countNumbers', () => {
  it.each([
    ['[]', 0],
    ['[7]', 1],
    ['[1,2,3\n,4\n]', 4],
    ['[ 1 , 2 ]', 2],
  ])('counts the numbers of %j', (text, count) => {
    const path = join(dir, `c${Math.random()}.json`);
    writeFileSync(path, `{"locations":${text}}`);
    const fd = openSync(path, 'r');
    try {
      expect(countNumbers(fd, 13, 13 + text.length)).toBe(count);
    } finally {
      closeSync(fd);
    }
  });

  it('counts across reads', () => {
    const numbers = Array.from({ length: 100_000 }, (_, i) => i);
    const text = v8Text(numbers, 4);
    const path = join(dir, 'many.json');
    writeFileSync(path, text);
    const fd = openSync(path, 'r');
    try {
      expect(countNumbers(fd, 0, text.length)).toBe(numbers.length);
    } finally {
      closeSync(fd);
    }
  });
});

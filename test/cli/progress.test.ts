// The progress line: drawn only on a terminal, without escape sequences under NO_COLOR,
// cleared at the end; and the DHAT reader's progress reaches the file's size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOptions } from '../../src/cli/options.js';
import { progressReporter } from '../../src/cli/progress.js';
import { readDhatBytes } from '../../src/formats/dhat.js';
import { readProfileFile } from '../../src/formats/index.js';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return {
    isTTY,
    written,
    write: (s: string) => {
      written.push(s);
      return true;
    },
  } as unknown as NodeJS.WritableStream & { isTTY: boolean; written: string[] };
}

const HEAP = new URL('../fixtures/dhat/valgrind-3.19/valgrind-heap.json', import.meta.url);

describe('progressReporter', () => {
  it('writes nothing when the stream is not a terminal', () => {
    const s = sink(false);
    const p = progressReporter(s);
    p.update('reading x', 1, 2);
    p.done();
    expect(s.written).toEqual([]);
  });

  it('draws and clears one line on a terminal', () => {
    const s = sink(true);
    const p = progressReporter(s);
    p.update('reading x', 1, 4);
    p.done();
    expect(s.written).toEqual(['\rreading x: 25%', '\r\x1b[2K']);
  });

  it('uses no escape sequence under NO_COLOR', () => {
    const s = sink(true);
    const p = progressReporter(s, { NO_COLOR: '1' });
    p.update('reading x', 1, 4);
    p.done();
    expect(s.written).toEqual(['\rreading x: 25%', `\r${' '.repeat(14)}\r`]);
    expect(s.written.join('')).not.toContain('\x1b');
  });
});

describe('progress of a read', () => {
  it('is given to the CLI only when stderr is a terminal', () => {
    expect(readOptions({ env: {}, stderr: sink(false) }, 'a.json').onProgress).toBeUndefined();
    expect(readOptions({ env: {}, stderr: sink(true) }, 'a.json').onProgress).toBeTypeOf(
      'function',
    );
  });

  it('reaches the size of the DHAT file, and shows on a terminal', async () => {
    const bytes = readFileSync(HEAP);
    const seen: [number, number][] = [];
    readDhatBytes(bytes, (done, total) => seen.push([done, total]));
    expect(seen.at(-1)).toEqual([bytes.length, bytes.length]);
    const err = sink(true);
    await readProfileFile(HEAP.pathname, readOptions({ env: {}, stderr: err }, HEAP.pathname));
    // A small file is read before the first redraw: the line is only cleared, or never drawn.
    expect(err.written.join('').split('\r\x1b[2K').join('')).toBe('');
  });
});

/**
 * The one frame string: V8 locations (1-based, 0 unknown) written by `frameOfLocation`,
 * taken apart by `parseFrame`, put together by `formatFrame`.
 */
import { describe, expect, it } from 'vitest';
import { formatFrame, frameOfLocation, parseFrame } from '../../src/model/frame.js';

describe('frameOfLocation', () => {
  it('writes name, file, line and column, 1-based', () => {
    const loc = { functionName: 'make', scriptName: 'src/a.js', line: 3, column: 14 };
    expect(frameOfLocation(loc)).toBe('make (src/a.js:3:14)');
    expect(parseFrame(frameOfLocation(loc))).toEqual({
      name: 'make',
      file: 'src/a.js',
      line: 3,
      column: 14,
    });
  });

  it('leaves out what V8 does not know, the same way formatFrame does', () => {
    const at = (line: number, column: number) =>
      frameOfLocation({ functionName: '', scriptName: 'a.js', line, column });
    expect(at(7, 0)).toBe('(anonymous) (a.js:7)');
    expect(at(0, 0)).toBe('(anonymous) (a.js)');
    expect(frameOfLocation({ functionName: 'push', scriptName: '', line: 0, column: 0 })).toBe(
      'push',
    );
    for (const frame of [at(7, 0), at(0, 0), at(2, 5)]) {
      expect(formatFrame(parseFrame(frame))).toBe(frame);
    }
  });
});

// The byte-level JSON reader (formats/json-bytes.ts) gives what JSON.parse gives, and
// refuses what JSON.parse refuses; readDhatBytes reads the real DHAT fixtures into the
// same profiles as readDhat on their text.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDhat, readDhatBytes, writeDhat, writeDhatParts } from '../../src/formats/dhat.js';
import { parseJsonBytes } from '../../src/formats/json-bytes.js';
import { ProfileBuilder } from '../../src/model/builder.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

const VALID = [
  '0',
  '-0',
  '123456789012345',
  '1234567890123456789',
  '-12.5e-3',
  '1E+2',
  '"plain"',
  '"µs and ✓ and 😀"',
  '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00"',
  '[]',
  '{}',
  ' [ 1 , [ 2 , { "a" : [ ] } ] , true , false , null ] ',
  '{"a":1,"a":2}',
  '{"__proto__":{"x":1},"y":[1,2]}',
];

const INVALID = [
  '',
  '01',
  '1.',
  '.5',
  '-',
  '1e',
  '+1',
  '"open',
  '"tab\tinside"',
  '"bad \\x escape"',
  '[1,]',
  '{"a":1,}',
  '{"a" 1}',
  '[1 2]',
  'tru',
  'nul',
  '{} {}',
  "{'a':1}",
];

describe('parseJsonBytes', () => {
  it.each(VALID)('reads %s as JSON.parse does', (text) => {
    const got = parseJsonBytes(Buffer.from(text, 'utf8'));
    const want = JSON.parse(text);
    expect(got).toEqual(want);
    expect(Object.is(got, -0)).toBe(Object.is(want, -0));
    if (text.includes('__proto__')) {
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.keys(got as object)).toEqual(Object.keys(want));
    }
  });

  it.each(INVALID)('refuses %j as JSON.parse does', (text) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(() => parseJsonBytes(Buffer.from(text, 'utf8'))).toThrow();
  });

  it('hands the elements of one top-level array to a callback, with the members before it', () => {
    const seen: unknown[] = [];
    const out = parseJsonBytes(Buffer.from('{"n":2,"xs":[{"v":1},{"v":2}],"after":true}'), {
      elements: {
        key: 'xs',
        accept: (members) => {
          seen.push({ ...members });
          return (v, i) => `${i}:${(v as { v: number }).v * (members.n as number)}`;
        },
      },
    });
    expect(seen).toEqual([{ n: 2 }]);
    expect(out).toEqual({ n: 2, xs: ['0:2', '1:4'], after: true });
  });
});

describe('readDhatBytes', () => {
  const fixtures = [
    'valgrind-3.19/valgrind-heap.json',
    'valgrind-3.19/valgrind-ad-hoc.json',
    'valgrind-3.19/valgrind-copy.json',
    'dhat-rs/dhat-rs-heap.json',
  ];
  it.each(fixtures)('reads %s as readDhat does', (path) => {
    const bytes = readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url));
    expect(readDhatBytes(bytes)).toEqual(readDhat(bytes.toString('utf8')));
  });

  it('leaves a file whose program points come before its header to readDhat', () => {
    const text = '{"pps":[],"dhatFileVersion":2}';
    expect(readDhatBytes(Buffer.from(text))).toBeUndefined();
  });
});

describe('writeDhatParts', () => {
  it('writes a large profile in parts that join into the text readDhat reads back', () => {
    const b = new ProfileBuilder(NODE_HEAP_HEADER);
    for (let i = 0; i < 20_000; i++) {
      b.add({
        frames: [`alloc${i} (src/file${i % 50}.js:${i + 1}:3)`, 'main (src/main.js:1:1)'],
        totalBytes: 16 * (i + 1),
        totalBlocks: i + 1,
        maxBytes: 16,
        maxBlocks: 1,
        peakBytes: 16,
        peakBlocks: 1,
        endBytes: 0,
        endBlocks: 0,
      });
    }
    const p = b.build();
    const parts = writeDhatParts(p);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('')).toBe(writeDhat(p));
    expect(readDhatBytes(Buffer.from(parts.join('')))).toEqual(p);
  });
});

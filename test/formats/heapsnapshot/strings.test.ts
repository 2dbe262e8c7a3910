/**
 * SnapshotStrings: literals kept as bytes, decoded on request. Checked against
 * JSON.parse of the same literals, including escapes, raw UTF-8, surrogates and the
 * byte-level lookups that must not decode.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeapSnapshot } from '../../../src/formats/heapsnapshot/index.js';

const TEXTS = [
  '',
  'Object',
  'map',
  'x€1',
  'quote " backslash \\ slash /',
  'line\nbreak\ttab\r\u0001',
  'Grüße, 日本語',
  '€😀',
  '\ud83d lone',
  '12 / part of key (Key @3) -> value (Value @5) pair in WeakMap (table @7)',
  'Object',
];

/** A minimal snapshot whose strings are written as V8 writes them (non-ASCII as \uXXXX). */
function snapshotWith(texts: string[], raw = false): string {
  const literal = (t: string) =>
    raw
      ? JSON.stringify(t)
      : JSON.stringify(t).replace(
          /[\u0080-\uffff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        );
  return `{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["hidden","object"],"string","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["internal"],"string_or_number","node"]},"node_count":1,"edge_count":0},"nodes":[1,1,1,0,0],"edges":[],"strings":[${texts.map(literal).join(',')}]}`;
}

describe('SnapshotStrings', () => {
  for (const raw of [false, true]) {
    it(`decodes every literal as JSON.parse does (${raw ? 'raw UTF-8' : 'escaped as V8 writes'})`, () => {
      const text = snapshotWith(TEXTS, raw);
      const strings = parseHeapSnapshot(text).strings;
      expect(strings.length).toBe(TEXTS.length);
      expect(strings.toArray()).toEqual(JSON.parse(text).strings);
      for (let i = 0; i < TEXTS.length; i++) expect(strings.get(i)).toBe(TEXTS[i]);
      expect(strings.get(TEXTS.length)).toBeUndefined();
      expect(strings.get(-1)).toBeUndefined();
      expect([...strings]).toEqual(TEXTS);
    });
  }

  it('finds a text by index, first occurrence first, from an index on', () => {
    const strings = parseHeapSnapshot(snapshotWith(TEXTS)).strings;
    expect(strings.indexOf('Object')).toBe(1);
    expect(strings.indexOf('Object', 2)).toBe(10);
    expect(strings.indexOf('Object', 11)).toBe(-1);
    expect(strings.indexOf('')).toBe(0);
    expect(strings.indexOf('ma')).toBe(-1);
    expect(strings.indexOf('x€1')).toBe(3);
    expect(strings.indexOf('quote " backslash \\ slash /')).toBe(4);
    expect(strings.indexOf('absent')).toBe(-1);
  });

  it('finds texts by index as Array.prototype.indexOf does, across neighbouring literals', () => {
    // A small alphabet: texts recur whole, as prefixes, inside others and across two.
    const text = fc.stringMatching(/^[ab"é]{0,4}$/);
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 2, maxLength: 30 }),
        text,
        fc.integer({ min: -2, max: 32 }),
        (texts, wanted, from) => {
          const strings = parseHeapSnapshot(snapshotWith(texts)).strings;
          const all = strings.toArray();
          expect(strings.indexOf(wanted, from)).toBe(all.indexOf(wanted, Math.max(0, from)));
          for (const t of texts) expect(strings.indexOf(t)).toBe(all.indexOf(t));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('tells from the bytes whether a string may contain an ASCII needle', () => {
    const strings = parseHeapSnapshot(snapshotWith(TEXTS)).strings;
    const needle = ' pair in WeakMap (table @';
    const hits = TEXTS.map((_, i) => strings.mayContain(i, needle));
    expect(hits).toEqual(TEXTS.map((t) => t.includes(needle)));
    // A needle that spans two neighbouring literals is not in either.
    expect(strings.mayContain(1, 'Objectmap')).toBe(false);
    expect(strings.mayContain(99, 'x')).toBe(false);
  });

  it('finds every string that may contain a needle in one search, as mayContain judges each', () => {
    const texts = [
      ...TEXTS,
      'ab',
      'cab',
      '',
      'abab ab',
      'a',
      'b',
      'xa',
      'bx',
      '12 / part of key (Key @3) -> value (Value @5) pair in WeakMap (table @9)',
      'ends with ab',
    ];
    const strings = parseHeapSnapshot(snapshotWith(texts)).strings;
    for (const needle of [' pair in WeakMap (table @', 'ab', 'a', 'xab', 'Objectmap', 'zzz']) {
      const each = texts.flatMap((_, i) => (strings.mayContain(i, needle) ? [i] : []));
      expect(strings.mayContainAll(needle), needle).toEqual(each);
    }
    // 'a' + 'b' of two neighbouring literals, and a match reaching past the last string.
    expect(strings.mayContainAll('ab')).not.toContain(texts.indexOf('a'));
    expect(strings.mayContainAll('abx')).toEqual([]);
  });

  it('rejects an invalid escape when the file is read, not later', () => {
    expect(() =>
      parseHeapSnapshot(snapshotWith(['ok', 'bad \\q']).replace('\\\\q', '\\q')),
    ).toThrow(/invalid escape in "strings"\[1\]/);
    expect(() => parseHeapSnapshot(snapshotWith(['ok', 'x']).replace('"x"', '"\\u12G4"'))).toThrow(
      /invalid escape in "strings"\[1\]/,
    );
  });
});

/**
 * Function positions read from source text, against V8's own: each function of a script
 * is compiled by V8 in this process and its `[[FunctionLocation]]` (the position the
 * allocation tracker reports) asked of the inspector. TypeScript cases put types only
 * after the parameter list opens, so the same positions hold.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexFunctions } from '../../src/capture/function-positions.js';
import { tempDir } from '../helpers/heapscope.js';

const JS = `'use strict';
function declared(a, b) { return a + b; }
const expressed = function (x) { return x; };
const arrow = (x, y) => x + y;
const bare = x => x;
const later = async (x) => x;
function* generated(n) { yield n; }
async function waited(w) { return w; }
const object = {
  method(a) { return a; },
  get getter() { return 1; },
  'quoted name'(z) { return z; },
};
class Widget {
  constructor(size) { this.size = size; }
  grow(by) { this.size += by; }
  static make(n) { return new Widget(n); }
  #hidden(q) { return q; }
  field = (k) => k;
}
module.exports = { declared, waited, expressed, arrow, bare, later, generated, object, Widget,
  method: object.method, getter: Object.getOwnPropertyDescriptor(object, 'getter').get,
  quoted: object['quoted name'], grow: Widget.prototype.grow, make: Widget.make,
  field: new Widget(1).field };
`;

/** Names as V8 gives them, and the export that holds each function. */
const FUNCTIONS: [string, string][] = [
  ['declared', 'declared'],
  ['expressed', 'expressed'],
  ['arrow', 'arrow'],
  ['bare', 'bare'],
  ['later', 'later'],
  ['generated', 'generated'],
  ['waited', 'waited'],
  ['method', 'method'],
  ['grow', 'grow'],
  ['make', 'make'],
  ['field', 'field'],
];

describe('function positions against V8', () => {
  const session = new Session();
  let located: Map<string, { line: number; column: number }>;
  beforeAll(async () => {
    const file = join(tempDir(), 'functions.cjs');
    writeFileSync(file, JS);
    const exported = createRequire(import.meta.url)(file) as Record<string, unknown>;
    (globalThis as { __functions?: unknown }).__functions = exported;
    session.connect();
    located = new Map();
    for (const [, key] of FUNCTIONS) {
      const { result } = await session.post('Runtime.evaluate', {
        expression: `globalThis.__functions[${JSON.stringify(key)}]`,
      });
      const props = await session.post('Runtime.getProperties', {
        objectId: result.objectId!,
        ownProperties: true,
      });
      const loc = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value
        ?.value as { lineNumber: number; columnNumber: number };
      located.set(key, { line: loc.lineNumber + 1, column: loc.columnNumber + 1 });
    }
  });
  afterAll(() => session.disconnect());

  it('finds each uniquely named function where V8 puts it', () => {
    const index = indexFunctions(JS);
    for (const [name, key] of FUNCTIONS) {
      expect(index.byName(name), name).toEqual(located.get(key));
      expect(index.isParameterList(located.get(key)!), name).toBe(true);
    }
  });

  it('moves a position in a function head to its parameter list', () => {
    const index = indexFunctions(JS);
    // `function declared(`: from the keyword and the name, to the "(" at column 18.
    expect(index.atHead({ line: 2, column: 1 })).toEqual({ line: 2, column: 18 });
    expect(index.atHead({ line: 2, column: 10 })).toEqual({ line: 2, column: 18 });
    // `  grow(by)`: from the method's name.
    expect(index.atHead({ line: 16, column: 3 })).toEqual(located.get('grow'));
    // Inside a body: no head.
    expect(index.atHead({ line: 2, column: 30 })).toBeUndefined();
  });

  it('reads TypeScript: types, generics, and a name that two functions share', () => {
    const ts = [
      'interface P { a: number }',
      'export function typed(a: number, p: P): P { return p; }',
      'export function generic<T extends (x: number) => void>(t: T): T { return t; }',
      'const twice = { f(a: string) {}, g: { f(b: string) {} } };',
      'class K { constructor(private n: number) {} }',
    ].join('\n');
    const index = indexFunctions(ts, 'ts');
    expect(index.byName('typed')).toEqual({ line: 2, column: 22 });
    // The "(" after the type parameters, not the one inside them.
    expect(index.byName('generic')).toEqual({ line: 3, column: 55 });
    expect(index.byName('f')).toBeUndefined();
    expect(index.isParameterList({ line: 5, column: 22 })).toBe(true);
    expect(index.atHead({ line: 2, column: 17 })).toEqual({ line: 2, column: 22 });
  });
});

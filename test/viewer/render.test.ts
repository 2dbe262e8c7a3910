// The page's plumbing, without a browser: the JSON block cannot be broken out of, the
// module joiner turns the viewer's compiled modules into one script that runs in a
// plain `vm` context, and refuses what it does not support.
// The full-page tests (real Chromium) are in viewer.test.ts. Needs `npm run build`.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleModules } from '../../src/viewer/bundle.js';
import { viewerScript } from '../../src/viewer/render.js';
import { jsonForScript, page } from '../../src/viewer/template.js';

const dir = mkdtempSync(join(tmpdir(), 'heapscope-bundle-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function modules(files: Record<string, string>): string {
  for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), code);
  return join(dir, Object.keys(files)[0]!);
}

describe('jsonForScript', () => {
  it('escapes what could end or change a script element, and reads back unchanged', () => {
    const value = {
      a: '</script><script>alert(1)</script>',
      b: '<!-- x --> & <img src=x onerror=alert(2)>',
      c: 'line\u2028sep\u2029',
    };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('page', () => {
  it('allows exactly its own script and style by hash, and no connection', () => {
    const html = page({ css: 'p{}', dataJson: '{}', script: 'let x = 1;', connectSelf: false });
    const csp = /content="([^"]*)"/.exec(html)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'none'");
    expect(csp).not.toContain('unsafe');
  });

  it('refuses a script that would end its element early', () => {
    expect(() =>
      page({ css: '', dataJson: '{}', script: 'x = "</script>"', connectSelf: false }),
    ).toThrow(/end its element early/);
  });
});

describe('bundleModules', () => {
  it('joins modules with named, renamed and namespace imports, each run once', () => {
    const entry = modules({
      'main.js': `import { add, twice as double } from './math.js';
import * as m from './math.js';
import { label } from './sub/label.js';
export const out = [add(1, 2), double(4), m.add(10, 5), label, m.count()];
globalThis.result = out;`,
      'math.js': `let calls = 0;
export function add(a, b) { calls++; return a + b; }
const twice = (x) => x * 2;
export { twice };
export const count = () => calls;
//# sourceMappingURL=math.js.map`,
    });
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(
      join(dir, 'sub', 'label.js'),
      `import { add } from '../math.js';\nexport const label = 'L' + add(0, 1);`,
    );
    const script = bundleModules(entry, (p) => readFileSync(p, 'utf8'));
    expect(script).not.toContain('sourceMappingURL');
    const ctx: { result?: unknown } = {};
    runInNewContext(script, ctx);
    expect(ctx.result).toEqual([3, 8, 15, 'L1', 3]);
  });

  it('refuses default exports, re-exports, bare imports and cycles', () => {
    const cases: Record<string, string>[] = [
      { 'd1.js': 'export default 1;' },
      { 'r1.js': "export { a } from './r2.js';", 'r2.js': 'export const a = 1;' },
      { 'b1.js': "import x from 'node:fs';" },
      {
        'c1.js': "import { b } from './c2.js'; export const a = 1;",
        'c2.js': "import { a } from './c1.js'; export const b = 2;",
      },
    ];
    const messages = cases.map((files) => {
      const entry = modules(files);
      try {
        bundleModules(entry, (p) => readFileSync(p, 'utf8'));
        return 'no error';
      } catch (e) {
        return (e as Error).message.replace(/^viewer bundle: \S+: /, '');
      }
    });
    expect(messages).toEqual([
      'ExportDefaultDeclaration is not supported',
      'export … from is not supported',
      'import from "node:fs" is not supported',
      expect.stringMatching(/^viewer bundle: import cycle at .*c1\.js$/),
    ]);
  });

  it('joins the real viewer: one script, no import or export left', () => {
    const script = viewerScript();
    expect(script).not.toMatch(/^\s*(import|export)\s/m);
    expect(() => new Function(script)).not.toThrow();
  });
});

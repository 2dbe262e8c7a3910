/**
 * Joins the viewer's compiled ES modules (tsc output under dist/) into one classic
 * script for inlining into the HTML page: no bundler, no loader, no network.
 *
 * Each module becomes a function scope whose `export`s are returned as an object;
 * `import { a, b as c } from './x.js'` becomes `const { a, b: c } = __m[n];`. Only
 * what tsc emits for the viewer is supported (relative static imports of named or
 * namespace bindings, `export` on declarations, `export { … }`); anything else throws,
 * so a change that needs more fails the build's tests instead of the page.
 */
import { dirname, resolve } from 'node:path';
import { type Node, parse } from 'acorn';

interface Edit {
  start: number;
  end: number;
  text: string;
}

interface AnyNode extends Node {
  [key: string]: unknown;
}

/** Returns one script that runs `entry` (an absolute path to a .js module) and its imports. */
export function bundleModules(entry: string, read: (path: string) => string): string {
  const ids = new Map<string, number>();
  const state = new Map<string, 'visiting' | 'done'>();
  const chunks: string[] = [];

  const visit = (path: string): number => {
    const known = ids.get(path);
    if (state.get(path) === 'visiting') throw new Error(`viewer bundle: import cycle at ${path}`);
    if (known !== undefined && state.get(path) === 'done') return known;
    state.set(path, 'visiting');
    const code = read(path).replace(/^\/\/# sourceMappingURL=.*$/gm, '');
    const program = parse(code, { ecmaVersion: 2022, sourceType: 'module' }) as unknown as AnyNode;
    const edits: Edit[] = [];
    const exported: string[] = [];
    for (const node of program.body as AnyNode[]) {
      const fail = (what: string): never => {
        throw new Error(`viewer bundle: ${path}: ${what} is not supported`);
      };
      if (node.type === 'ImportDeclaration') {
        const spec = (node.source as { value: string }).value;
        if (!spec.startsWith('.')) fail(`import from "${spec}"`);
        const dep = visit(resolve(dirname(path), spec));
        const bindings: string[] = [];
        let namespace: string | undefined;
        for (const s of node.specifiers as AnyNode[]) {
          const local = (s.local as { name: string }).name;
          if (s.type === 'ImportNamespaceSpecifier') namespace = local;
          else if (s.type === 'ImportSpecifier') {
            const imported = (s.imported as { name?: string }).name ?? fail('a string import name');
            bindings.push(imported === local ? local : `${imported}: ${local}`);
          } else fail('a default import');
        }
        const parts: string[] = [];
        if (namespace) parts.push(`const ${namespace} = __m[${dep}];`);
        if (bindings.length) parts.push(`const { ${bindings.join(', ')} } = __m[${dep}];`);
        edits.push({ start: node.start, end: node.end, text: parts.join(' ') });
      } else if (node.type === 'ExportNamedDeclaration') {
        if (node.source) fail('export … from');
        const decl = node.declaration as AnyNode | null;
        if (decl) {
          edits.push({ start: node.start, end: decl.start, text: '' });
          if (decl.type === 'VariableDeclaration') {
            for (const d of decl.declarations as AnyNode[]) {
              const id = d.id as AnyNode;
              if (id.type !== 'Identifier') fail('an exported destructuring');
              exported.push(id.name as string);
            }
          } else {
            exported.push((decl.id as { name: string }).name);
          }
        } else {
          for (const s of node.specifiers as AnyNode[]) {
            const local = (s.local as { name: string }).name;
            const name = (s.exported as { name: string }).name;
            exported.push(name === local ? local : `${name}: ${local}`);
          }
          edits.push({ start: node.start, end: node.end, text: '' });
        }
      } else if (node.type === 'ExportDefaultDeclaration' || node.type === 'ExportAllDeclaration') {
        fail(node.type);
      }
    }
    let out = code;
    for (const e of edits.sort((a, b) => b.start - a.start)) {
      out = out.slice(0, e.start) + e.text + out.slice(e.end);
    }
    const id = ids.size;
    ids.set(path, id);
    state.set(path, 'done');
    chunks.push(
      `// ${id}: ${path.split(/[\\/]/).slice(-2).join('/')}\n__m[${id}] = (() => {\n${out}\nreturn { ${exported.join(', ')} };\n})();\n`,
    );
    return id;
  };

  visit(resolve(entry));
  return `(() => {\n'use strict';\nconst __m = [];\n${chunks.join('')}})();\n`;
}

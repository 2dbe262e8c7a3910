#!/usr/bin/env node
// Fails on an import cycle between files of src/ or an import against the layer order
// (CONTRIBUTING.md, "Layer rules"). Every import counts: static and dynamic, type-only
// ones too (a cycle of types is still two files that cannot be read one without the
// other), and `require` in the CommonJS sources (.cts).
//
//   node scripts/check-imports.mjs        (part of `npm run lint`)

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/**
 * Which folders of src/ each folder may import from (besides itself). `index.ts` at the
 * top of src/ is the public API and may import anything; so may the command line.
 */
const MAY_IMPORT = {
  util: [],
  model: [],
  native: ['model', 'util'],
  threads: ['model', 'native', 'util'],
  report: ['model', 'util'],
  formats: ['model', 'native', 'threads', 'util'],
  capture: ['model', 'formats', 'native', 'util'],
  alloc: ['model', 'formats', 'capture', 'util'],
  measure: ['model', 'formats', 'native', 'threads', 'capture', 'alloc', 'report', 'util'],
  viewer: ['model', 'report', 'util'],
  cli: ['*'],
  '.': ['*'],
};

/**
 * Files that start a thread of their own, loaded by their URL and never imported: they
 * sit with what runs them but may import the tasks they run from a higher layer.
 */
const ENTRY_POINTS = { 'threads/worker.ts': ['formats'] };

/**
 * Imports against the layers that stay until the work named here is done; each is
 * checked still to exist, so that a fixed one leaves this list.
 */
const PENDING = {};

const SOURCE = /\.(ts|cts|mts)$/;

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // The viewer's browser app is a program of its own, type-checked on its own.
      if (relative(src, path) === join('viewer', 'app')) continue;
      out.push(...sourceFiles(path));
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The source file a relative specifier names: `./x.js` is `./x.ts`, `./x.cjs` is `./x.cts`. */
function resolveSpecifier(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(from), specifier);
  for (const [js, source] of [
    ['.js', '.ts'],
    ['.cjs', '.cts'],
    ['.mjs', '.mts'],
  ]) {
    if (target.endsWith(js)) return target.slice(0, -js.length) + source;
  }
  return target;
}

function importsOf(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const specifiers = info.importedFiles.map((f) => f.fileName);
  return [...new Set(specifiers.map((s) => resolveSpecifier(file, s)).filter(Boolean))];
}

function folderOf(file) {
  const rel = relative(src, file);
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.';
}

const files = sourceFiles(src);
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => known.has(t))]));
const problems = [];
const pending = new Set(Object.keys(PENDING));

for (const [file, targets] of graph) {
  const from = folderOf(file);
  const allowed = MAY_IMPORT[from];
  const rel = relative(src, file);
  if (!allowed) {
    problems.push(`src/${rel}: folder src/${from}/ has no place in the layer order`);
    continue;
  }
  for (const target of targets) {
    const to = folderOf(target);
    if (to === from || allowed.includes('*') || allowed.includes(to)) continue;
    if (ENTRY_POINTS[rel]?.includes(to)) continue;
    const pair = `${rel} -> ${relative(src, target)}`;
    if (pair in PENDING) {
      pending.delete(pair);
      continue;
    }
    problems.push(
      `src/${rel} imports src/${relative(src, target)}: ${from}/ may not import from ${to}/`,
    );
  }
}

for (const pair of pending) {
  problems.push(`${pair} is listed as pending in scripts/check-imports.mjs but is gone: drop it`);
}

// Cycles: the strongly connected components of more than one file (Tarjan), or a file
// that imports itself.
let index = 0;
const indexes = new Map();
const lowlinks = new Map();
const stack = [];
const onStack = new Set();
function strongConnect(v) {
  indexes.set(v, index);
  lowlinks.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v)) {
    if (!indexes.has(w)) {
      strongConnect(w);
      lowlinks.set(v, Math.min(lowlinks.get(v), lowlinks.get(w)));
    } else if (onStack.has(w)) {
      lowlinks.set(v, Math.min(lowlinks.get(v), indexes.get(w)));
    }
  }
  if (lowlinks.get(v) === indexes.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v).includes(v)) {
      const names = component.map((f) => `src/${relative(src, f)}`).sort();
      problems.push(`import cycle: ${names.join(' ↔ ')}`);
    }
  }
}
for (const file of files) if (!indexes.has(file)) strongConnect(file);

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-imports: ${problem}`);
  console.error(
    `check-imports: ${problems.length} problem(s); the layer rules are in CONTRIBUTING.md`,
  );
  process.exit(1);
}
console.log(`check-imports: ${files.length} files in src/, no cycle, no import against the layers`);

/**
 * Finds where a function is defined when V8 could not say.
 *
 * V8's allocation tracker resolves a function's line and column only when the heap
 * snapshot is written, and only if the function's script is still alive then. A
 * CommonJS module's functions often die once the module has run (nothing refers to
 * them), taking the script with them: the tracker then reports line 0. The file is
 * still on disk, so heapscope parses it and looks the function up by name. A name
 * that several functions of the file share stays unresolved rather than guessed.
 *
 * Positions follow V8's convention: 1-based, at the start of the parameter list.
 */
import { readFileSync } from 'node:fs';
import { type Node, parse } from 'acorn';

interface FunctionLike extends Node {
  params: Node[];
  id?: { name: string } | null;
}

/** 1-based line and column of each uniquely named function in a source text. */
export function functionPositions(source: string): Map<string, { line: number; column: number }> {
  const program = parseLoose(source);
  const found = new Map<string, { line: number; column: number } | null>();
  if (!program) return new Map();
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const toLineColumn = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };
  const record = (name: string | undefined, fn: FunctionLike) => {
    if (!name) return;
    // V8 points at the parameter list: the "(" before the first parameter, or the
    // single parameter of an arrow function written without parentheses.
    const searchFrom = fn.id ? (fn.id as unknown as Node).end : fn.start;
    const paren = source.indexOf('(', searchFrom);
    const firstParam = fn.params[0]?.start ?? Number.POSITIVE_INFINITY;
    const offset = paren >= 0 && paren < firstParam ? paren : Math.min(firstParam, fn.start);
    const pos = toLineColumn(offset);
    found.set(name, found.has(name) ? null : pos);
  };
  walk(program, null, record);
  const unique = new Map<string, { line: number; column: number }>();
  for (const [name, pos] of found) if (pos) unique.set(name, pos);
  return unique;
}

function parseLoose(source: string): Node | undefined {
  for (const sourceType of ['module', 'script'] as const) {
    try {
      return parse(source, {
        ecmaVersion: 'latest',
        sourceType,
        allowHashBang: true,
        allowReturnOutsideFunction: sourceType === 'script',
        allowAwaitOutsideFunction: true,
      });
    } catch {
      // try the other source type
    }
  }
  return undefined;
}

type Recorder = (name: string | undefined, fn: FunctionLike) => void;

const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
]);

/** The name V8 infers for a function from where it stands. */
function inferredName(
  fn: Node & { id?: { name: string } | null },
  parent: Node | null,
): string | undefined {
  if (fn.id?.name) return fn.id.name;
  if (!parent) return undefined;
  const p = parent as Node & Record<string, unknown>;
  const keyName = (key: unknown): string | undefined => {
    const k = key as { type?: string; name?: string; value?: unknown } | undefined;
    if (k?.type === 'Identifier' || k?.type === 'PrivateIdentifier') {
      return k.type === 'PrivateIdentifier' ? `#${k.name}` : k.name;
    }
    if (k?.type === 'Literal' && typeof k.value === 'string') return k.value;
    return undefined;
  };
  switch (parent.type) {
    case 'VariableDeclarator':
      return keyName(p.id);
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return keyName(p.key);
    case 'AssignmentExpression': {
      const left = p.left as { type: string; property?: unknown; name?: string };
      return left.type === 'MemberExpression' ? keyName(left.property) : left.name;
    }
    default:
      return undefined;
  }
}

function walk(node: Node, parent: Node | null, record: Recorder): void {
  if (FUNCTION_TYPES.has(node.type)) {
    const fn = node as FunctionLike;
    const isConstructor =
      parent?.type === 'MethodDefinition' &&
      (parent as unknown as { kind: string }).kind === 'constructor';
    if (isConstructor) {
      record(undefined, fn);
    } else {
      record(inferredName(fn, parent), fn);
    }
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const child of value) if (isNode(child)) walk(child, node, record);
    } else if (isNode(value)) {
      walk(value, node, record);
    }
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';
}

/** Reads and indexes files on demand; one instance per run, no module-level cache. */
export function createFunctionLocator(): (
  path: string,
  name: string,
) => { line: number; column: number } | undefined {
  const byFile = new Map<string, Map<string, { line: number; column: number }>>();
  return (path, name) => {
    let positions = byFile.get(path);
    if (!positions) {
      try {
        positions = functionPositions(readFileSync(path, 'utf8'));
      } catch {
        positions = new Map();
      }
      byFile.set(path, positions);
    }
    // V8 names methods assigned through members by their full path ("Module._load").
    return positions.get(name) ?? positions.get(name.slice(name.lastIndexOf('.') + 1));
  };
}

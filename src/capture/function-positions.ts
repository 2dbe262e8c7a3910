/**
 * Finds where a function is defined when V8 could not say, or said it of other code.
 *
 * V8's allocation tracker resolves a function's line and column only when the heap
 * snapshot is written, and only if the function's script is still alive then. A
 * CommonJS module's functions often die once the module has run (nothing refers to
 * them), taking the script with them: the tracker then reports line 0 (Node 20, 22) or
 * a position in the code that actually ran (Node 24, 26), which for a TypeScript file
 * is a loader's output, not the file on disk. The file is still on disk, so heapscope
 * parses it (TypeScript too) and looks the function up by name. A name that several
 * functions of the file share stays unresolved rather than guessed.
 *
 * Positions follow V8's convention: 1-based, at the start of the parameter list (the
 * `(`, or the single parameter of an arrow function written without parentheses). A
 * source map may point elsewhere in the function's head (tsx and esbuild point at the
 * name): `functionAtHead` moves such a position to the parameter list, so every loader
 * gives the same column.
 */
import { readFileSync } from 'node:fs';
import { tsPlugin } from '@sveltejs/acorn-typescript';
import { type Node, Parser } from 'acorn';

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** The functions of one source text, for looking positions up. */
export interface SourceFunctions {
  /** The parameter list of the one function of this name; undefined when none or several. */
  byName(name: string): Position | undefined;
  /**
   * The parameter list of the innermost function whose head (from its first keyword or
   * name to its parameter list) holds the position.
   */
  atHead(pos: Position): Position | undefined;
  /** Whether the position is the parameter list of a function of the source. */
  isParameterList(pos: Position): boolean;
  /** The character at a position (empty past the end of its line). */
  charAt(pos: Position): string;
}

interface FunctionLike extends Node {
  params: Node[];
  id?: { name: string; end: number } | null;
  typeParameters?: Node | null;
}

interface Indexed {
  name: string | undefined;
  headStart: number;
  params: number;
}

/** Files whose text is TypeScript (parsed with the TypeScript plugin). */
export function isTypeScriptPath(path: string): boolean {
  return /\.(?:[cm]?ts|tsx)$/.test(path);
}

const parsers = {
  js: Parser,
  ts: Parser.extend(tsPlugin()),
  tsx: Parser.extend(tsPlugin({ jsx: true })),
};

/** Indexes the functions of a source text (`lang` from the file's extension). */
export function indexFunctions(source: string, lang: 'js' | 'ts' | 'tsx' = 'js'): SourceFunctions {
  const program = parseLoose(source, lang);
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const toPosition = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };
  const toOffset = (pos: Position): number | undefined => {
    const start = lineStarts[pos.line - 1];
    if (start === undefined || pos.column < 1) return undefined;
    const end = lineStarts[pos.line] ?? source.length + 1;
    const offset = start + pos.column - 1;
    return offset < end - 1 || (offset === end - 1 && end > source.length) ? offset : undefined;
  };
  const functions: Indexed[] = [];
  if (program) {
    walk(program, null, (name, fn, headStart) => {
      functions.push({ name, headStart, params: parameterListOffset(source, fn) });
    });
  }
  const named = new Map<string, number | null>();
  for (const f of functions) {
    if (f.name) named.set(f.name, named.has(f.name) ? null : f.params);
  }
  const paramOffsets = new Set(functions.map((f) => f.params));
  return {
    byName(name) {
      // V8 names methods assigned through members by their full path ("Module._load").
      const offset = named.get(name) ?? named.get(name.slice(name.lastIndexOf('.') + 1));
      return offset == null ? undefined : toPosition(offset);
    },
    atHead(pos) {
      const offset = toOffset(pos);
      if (offset === undefined) return undefined;
      let best: Indexed | undefined;
      for (const f of functions) {
        if (f.headStart <= offset && offset <= f.params && (!best || f.headStart >= best.headStart))
          best = f;
      }
      return best ? toPosition(best.params) : undefined;
    },
    isParameterList(pos) {
      const offset = toOffset(pos);
      return offset !== undefined && paramOffsets.has(offset);
    },
    charAt(pos) {
      const offset = toOffset(pos);
      return offset === undefined ? '' : source.charAt(offset);
    },
  };
}

/**
 * Where V8 puts a function: the "(" of its parameter list, its lone unparenthesised
 * parameter, or the `async` of an async arrow function.
 */
function parameterListOffset(source: string, fn: FunctionLike): number {
  if (fn.type === 'ArrowFunctionExpression' && (fn as { async?: boolean }).async) return fn.start;
  const searchFrom = fn.typeParameters?.end ?? fn.id?.end ?? fn.start;
  const paren = source.indexOf('(', searchFrom);
  const firstParam = fn.params[0]?.start ?? Number.POSITIVE_INFINITY;
  return paren >= 0 && paren < firstParam ? paren : Math.min(firstParam, fn.start);
}

function parseLoose(source: string, lang: 'js' | 'ts' | 'tsx'): Node | undefined {
  for (const sourceType of ['module', 'script'] as const) {
    try {
      return parsers[lang].parse(source, {
        ecmaVersion: 'latest',
        sourceType,
        locations: lang !== 'js',
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

type Recorder = (name: string | undefined, fn: FunctionLike, headStart: number) => void;

const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
]);

const NAMING_PARENTS = new Set([
  'VariableDeclarator',
  'Property',
  'MethodDefinition',
  'PropertyDefinition',
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
    // The head starts at the name that introduces the function, where one stands before it.
    const headStart = parent && NAMING_PARENTS.has(parent.type) ? parent.start : fn.start;
    record(isConstructor ? undefined : inferredName(fn, parent), fn, Math.min(headStart, fn.start));
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

/** The language to parse a file's text as, from its name. */
function languageOf(path: string): 'js' | 'ts' | 'tsx' {
  if (path.endsWith('.tsx')) return 'tsx';
  return isTypeScriptPath(path) ? 'ts' : 'js';
}

/**
 * Reads and indexes files on demand; one instance per run, no module-level cache. A
 * source text given (a source map's `sourcesContent`) is used instead of the file.
 */
export function createFunctionIndex(): (
  path: string,
  text?: string,
) => SourceFunctions | undefined {
  const byFile = new Map<string, SourceFunctions | undefined>();
  return (path, text) => {
    if (byFile.has(path)) return byFile.get(path);
    let index: SourceFunctions | undefined;
    try {
      index = indexFunctions(text ?? readFileSync(path, 'utf8'), languageOf(path));
    } catch {
      index = undefined;
    }
    byFile.set(path, index);
    return index;
  };
}

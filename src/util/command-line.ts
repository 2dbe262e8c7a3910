import { isAbsolute, relative } from 'node:path';

/**
 * This process's command line as a user would type it: Node as invoked (`node`), then
 * the script relative to the working directory when it lies under it, then the arguments.
 */
export function thisCommandLine(): string {
  const [, script, ...args] = process.argv;
  if (script === undefined) return process.argv0;
  const rel = isAbsolute(script) ? relative(process.cwd(), script) : script;
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : script;
  return [process.argv0, shown, ...args].join(' ');
}

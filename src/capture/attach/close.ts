/**
 * The expression that closes a Node process's inspector from inside it, for
 * `Runtime.evaluate`. `process.getBuiltinModule` (Node 20.16+, 22.3+) needs no
 * `require`; older Node gets the console's command-line `require`
 * (`includeCommandLineAPI`).
 */
export const CLOSE_EXPRESSION =
  "(typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:inspector') : require('node:inspector')).close()";

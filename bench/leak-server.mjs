// checkLeak on a real server over a real socket, leaky and clean, each check in a fresh
// Node process at default settings, as a user would run it once. Prints one line per
// check and the counts: how often the clean server was called leaking, how often the
// leaky one was found with the code that keeps the requests as its first site.
//
//   npm run build && node bench/leak-server.mjs [--app express|http] [--runs 20] [--node PATH]
//
// The servers answer GET /hello with JSON, with or without code that pushes every request
// into an array: test/fixtures/servers/express-app.mjs (express, a middleware
// `keepRequests`) and http-app.mjs (Node's http alone, `keepRequest` in the handler).
// The client sends one request at a time on one keep-alive socket, in the same process
// (the check itself: test/measure/fixtures/leak-server.mjs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'express' },
    runs: { type: 'string', default: '20' },
    node: { type: 'string' },
  },
});
const app = values.app;
const keeper = { express: 'keepRequests ', http: 'keepRequest ' }[app];
if (!keeper) throw new Error(`--app express or http, not ${app}`);
const runs = Number(values.runs);
const node = values.node ?? process.execPath;
const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('../test/measure/fixtures/leak-server.mjs', import.meta.url));

const tally = { clean: 0, leaky: 0, named: 0 };
for (let i = 0; i < runs; i++) {
  for (const kind of ['clean', 'leaky']) {
    const p = spawnSync(node, [fixture, app, kind], { cwd: root, encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`check failed: ${p.stderr}`);
    const r = JSON.parse(p.stdout.trim().split('\n').at(-1));
    const site = r.sites[0]?.stack[0];
    console.log(
      `${kind} ${i + 1}: leaking ${r.leaking}, heap ${Math.round(r.bytesPerIteration)} B/call` +
        ` (consistency ${r.consistency}${r.confirmation ? ', confirmed in steps' : ''})` +
        `, exact ${r.exact ? `${r.exact.bytesPerIteration.toFixed(1)} B/call` : 'not run'}` +
        `, site ${site ?? '-'}, ${r.seconds} s`,
    );
    if (r.leaking) tally[kind]++;
    if (kind === 'leaky' && r.leaking && site?.startsWith(keeper)) tally.named++;
  }
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`Node ${version}, ${app}, ${runs} checks of each server:`);
console.log(`  clean server called leaking: ${tally.clean} of ${runs}`);
console.log(
  `  leaky server found leaking: ${tally.leaky} of ${runs}, with ${keeper.trim()} as its first site: ${tally.named} of ${runs}`,
);

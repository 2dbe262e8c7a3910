#!/usr/bin/env node
// `npm run bench`: lists the benchmarks with the first line of each one's header comment.
// Each runs on its own (`node bench/<name>.mjs`), as they take from seconds to many
// minutes; bench/README.md gives the figures and the command that produced each.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
for (const name of readdirSync(dir).sort()) {
  if (!name.endsWith('.mjs') || name === 'list.mjs') continue;
  const comment = readFileSync(join(dir, name), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('// '));
  console.log(`node bench/${name}`.padEnd(42) + (comment ? comment.slice(3) : ''));
}
console.log('\nFigures and how each was measured: bench/README.md');

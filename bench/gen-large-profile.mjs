// Writes a large DHAT profile for the scale benchmark (bench/large-profile.mjs): N program
// points of D frames each, every frame its own entry of the frame table (N × D frames:
// the worst case for memory, no frame shared), figures from a fixed pseudo-random
// sequence so that two files with different seeds differ at every site.
//
//   node bench/gen-large-profile.mjs OUT.json [--pps 1000000] [--depth 5] [--seed 1]
//
// Written line by line to a stream: the generator itself stays small.
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pps: { type: 'string', default: '1000000' },
    depth: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
const out = positionals[0];
if (!out) throw new Error('usage: gen-large-profile.mjs OUT.json [--pps N] [--depth D] [--seed S]');
const N = Number(values.pps);
const D = Number(values.depth);
let state = Number(values.seed) >>> 0 || 1;
const rand = () => {
  // xorshift32: the same file for the same seed.
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};

const stream = createWriteStream(out);
const write = (s) => (stream.write(s) ? undefined : new Promise((r) => stream.once('drain', r)));
const header = {
  dhatFileVersion: 2,
  mode: 'node-heap',
  verb: 'Allocated',
  bklt: true,
  bkacc: false,
  tu: 'µs',
  Mtu: 's',
  tuth: 500,
  cmd: `node generated.js (${N} program points)`,
  pid: 1,
  te: 10_000_000,
  tg: 5_000_000,
};
await write(`${JSON.stringify(header).slice(0, -1)}\n,"pps":\n [`);
for (let i = 0; i < N; i++) {
  const blocks = 1 + Math.floor(rand() * 100);
  const size = 16 + 8 * Math.floor(rand() * 8);
  const tb = blocks * size;
  const eb = rand() < 0.1 ? size * Math.floor(blocks / 2) : 0;
  const gb = Math.max(eb, rand() < 0.3 ? size * Math.floor(blocks / 3) : 0);
  const fs = [];
  for (let d = 0; d < D; d++) fs.push(1 + i * D + d);
  const pp = {
    tb,
    tbk: blocks,
    tl: 0,
    mb: gb,
    mbk: gb / size,
    gb,
    gbk: gb / size,
    eb,
    ebk: eb / size,
    fs,
  };
  const p = write(`${i === 0 ? '' : '\n ,'}${JSON.stringify(pp)}`);
  if (p) await p;
}
await write('\n ]\n,"ftbl":\n ["[root]"');
for (let i = 0; i < N; i++) {
  const file = `src/module${i % 997}/file${i % 7919}.js`;
  let chunk = '';
  for (let d = 0; d < D; d++) {
    const name = d === 0 ? `alloc${i}` : `caller${i}_${d}`;
    chunk += `\n ,${JSON.stringify(`${name} (${file}:${1 + ((i + d) % 5000)}:${1 + (d % 80)})`)}`;
  }
  const p = write(chunk);
  if (p) await p;
}
await write('\n ]\n}\n');
stream.end();
await new Promise((r) => stream.on('finish', r));

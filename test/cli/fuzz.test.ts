// A fuzz test of every command that reads a profile (report, check, diff, view, convert),
// run in this process through the CLI's `main` (what bin/heapscope.js calls), on real
// profiles of every format with parts spoiled at random. What must hold for every input:
// every command gives one verdict — each succeeds, or each exits 2 with the same one-line
// message naming the file; no JavaScript error text; no NaN in any output. Where the test
// knows the truth (a size field set to a known value), it checks the verdict itself: an
// invalid size is refused, and a valid one gives `check` the total the test adds up.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readDhat } from '../../src/formats/dhat.js';
import { writeHeapProfile } from '../../src/formats/heapprofile.js';
import { writePprof } from '../../src/formats/pprof.js';
import { writeSpeedscope } from '../../src/formats/speedscope.js';
import { ROOT, tempDir } from '../helpers/heapscope.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'dhat');
const VALGRIND = join(FIXTURES, 'valgrind-3.19', 'valgrind-heap.json');
const DHAT_RS = join(FIXTURES, 'dhat-rs', 'dhat-rs-heap.json');
/** A hang guard per input, not a measurement: generous for a loaded machine. */
const PER_INPUT_MS = 60_000;

let dir = '';
let n = 0;
beforeAll(() => {
  dir = tempDir('heapscope-fuzz-test-');
  mkdirSync(join(dir, 'out'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(args, { stdout, stderr, env: {}, cwd: dir });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Every reading command on `file`; the verdict they share, failing the test when they differ. */
async function verdict(
  file: string,
): Promise<{ ok: true; check: number } | { ok: false; message: string }> {
  const out = (name: string) => join(dir, 'out', name);
  const runs = {
    report: await run(['report', file]),
    check: await run(['check', file, '--max-total', '1GB']),
    diffBase: await run(['diff', file, VALGRIND]),
    diffHead: await run(['diff', VALGRIND, file, '--markdown']),
    view: await run(['view', file, '--html', out('v.html')]),
    convert: await run(['convert', file, '--to', 'dhat', '-o', out('c.json')]),
    pprof: await run(['convert', file, '--to', 'pprof', '-o', out('c.pb.gz')]),
  };
  const all = Object.entries(runs);
  for (const [name, r] of all) {
    const where = `${name} on ${file}: ${r.stderr}`;
    expect(r.stderr, where).not.toMatch(
      /is not a function|Cannot read prop|Cannot use|undefined|Maximum call stack|\bat \S+:\d+|\bE[A-Z]{3,}\b|Error:/,
    );
    expect(r.stdout, where).not.toMatch(/NaN|undefined/);
  }
  if (all.every(([name, r]) => r.code === 0 || (name === 'check' && r.code === 1))) {
    // What heapscope wrote back reads again, to the same totals.
    const again = await run(['check', out('c.json'), '--max-total', '1GB']);
    expect(again.code, again.stderr).toBe(runs.check.code);
    return { ok: true, check: runs.check.code };
  }
  const messages = all.map(([name, r]) => {
    expect(r.code, `${name}: exit ${r.code}, ${r.stderr}`).toBe(2);
    expect(r.stdout, name).toBe('');
    expect(r.stderr.split('\n'), `${name}: ${r.stderr}`).toHaveLength(2);
    return r.stderr;
  });
  expect(new Set(messages).size, messages.join('')).toBe(1);
  expect(messages[0]).toMatch(
    new RegExp(`^heapscope: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
  );
  return { ok: false, message: messages[0]! };
}

function save(ext: string, data: string | Uint8Array): string {
  const path = join(dir, `input-${n++}${ext}`);
  writeFileSync(path, data);
  return path;
}

/** Values that stand in a field: every JSON type, numbers at and past the edges. */
const anyValue = fc.oneof(
  fc.constantFrom(null, true, false, '', 'abc', [], {}, [1, 2], { a: 1 }),
  fc.constantFrom(-1, -0.5, 0.5, 1e300, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 0),
  fc.integer({ min: 0, max: 1e9 }),
  fc.string({ maxLength: 8 }),
);

/** Every path to a value inside `data` (objects and arrays), capped at `limit` paths. */
function paths(data: unknown, limit = 5000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const todo: [unknown, (string | number)[]][] = [[data, []]];
  while (todo.length > 0 && out.length < limit) {
    const [v, p] = todo.pop()!;
    if (p.length > 0) out.push(p);
    if (typeof v === 'object' && v !== null) {
      for (const [k, c] of Object.entries(v))
        todo.push([c, [...p, Array.isArray(v) ? Number(k) : k]]);
    }
  }
  return out;
}

/** A copy of `data` with the value at `path` replaced (or deleted when `value` is undefined). */
function spoil(data: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(data) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(o)) o.splice(Number(last), 1);
    else delete o[last];
  } else o[last] = value;
  return copy;
}

interface Seed {
  name: string;
  ext: string;
  data: unknown;
}

let seeds: Seed[] = [];
beforeAll(() => {
  const valgrind = JSON.parse(readFileSync(VALGRIND, 'utf8'));
  const dhatRs = JSON.parse(readFileSync(DHAT_RS, 'utf8'));
  const heapprofile = JSON.parse(writeHeapProfile(readDhat(valgrind)));
  // As another producer writes it: no heapscope record, no counts in the samples.
  const foreign = structuredClone(heapprofile);
  delete foreign.heapscope;
  for (const s of foreign.samples) {
    delete s.objectCount;
    delete s.isLive;
  }
  seeds = [
    { name: 'Valgrind DHAT', ext: '.json', data: valgrind },
    { name: 'dhat-rs DHAT', ext: '.json', data: dhatRs },
    { name: 'heapscope .heapprofile', ext: '.heapprofile', data: heapprofile },
    { name: 'foreign .heapprofile', ext: '.heapprofile', data: foreign },
    {
      name: 'speedscope',
      ext: '.speedscope.json',
      data: JSON.parse(writeSpeedscope(readDhat(valgrind))),
    },
  ];
});

describe('fuzz: every reading command gives one verdict on a spoiled file', () => {
  it('JSON formats with any field replaced or removed', async () => {
    for (const seed of seeds) {
      const all = paths(seed.data);
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: all.length - 1 }),
          fc.option(anyValue, { nil: undefined, freq: 5 }),
          async (i, value) => {
            const file = save(seed.ext, JSON.stringify(spoil(seed.data, all[i]!, value)));
            const v = await verdict(file);
            if (seed.name === 'speedscope') expect(v.ok, seed.name).toBe(false);
          },
        ),
        { numRuns: 40, timeout: PER_INPUT_MS, seed: 16, endOnFailure: true },
      );
    }
  }, 1_200_000);

  it('DHAT size fields: refused unless a whole number from 0 to 2^53-1; else the budget adds up', async () => {
    const valgrind = seeds[0]!.data as { pps: Record<string, number>[] };
    const fields = ['tb', 'tbk', 'gb', 'gbk', 'eb', 'ebk', 'mb', 'mbk', 'rb', 'wb'];
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: valgrind.pps.length - 1 }),
        fc.constantFrom(...fields),
        anyValue,
        async (pp, field, value) => {
          const file = save('.json', JSON.stringify(spoil(valgrind, ['pps', pp, field], value)));
          const valid = Number.isSafeInteger(value) && (value as number) >= 0;
          const v = await verdict(file);
          expect(v.ok, `${field} = ${JSON.stringify(value)}`).toBe(valid);
          if (!v.ok) {
            expect(v.message).toContain(`program point ${pp}: "${field}" is `);
            return;
          }
          if (field !== 'tb') return;
          // The test's own sum of tb decides the budget: at the total passes, one below fails.
          const total = valgrind.pps.reduce(
            (s, p, i) => s + (i === pp ? (value as number) : p.tb!),
            0,
          );
          expect((await run(['check', file, '--max-total', String(total)])).code).toBe(0);
          if (total > 0)
            expect((await run(['check', file, '--max-total', String(total - 1)])).code).toBe(1);
        },
      ),
      {
        numRuns: 60,
        timeout: PER_INPUT_MS,
        seed: 16,
        endOnFailure: true,
        // Each kind of bad value at least once, whatever the random draws.
        examples: [
          [0, 'tb', null],
          [1, 'tb', 'abc'],
          [2, 'tb', true],
          [3, 'gb', -1],
          [4, 'eb', 2 ** 53],
          [0, 'tbk', 0.5],
          [1, 'mb', [1, 2]],
          [2, 'tb', 12345],
        ],
      },
    );
  }, 1_200_000);

  it('pprof, gzipped and not, with bytes changed, cut or inserted', async () => {
    const gz = writePprof(readDhat(readFileSync(VALGRIND, 'utf8')));
    const raw = new Uint8Array(gunzipSync(gz));
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat(), { nil: undefined }),
        async (zipped, changes, cut) => {
          const bytes = Uint8Array.from(zipped ? gz : raw);
          for (const [at, b] of changes) bytes[at % bytes.length] = b;
          const data = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
          await verdict(save('.pb.gz', data));
        },
      ),
      { numRuns: 40, timeout: PER_INPUT_MS, seed: 16, endOnFailure: true },
    );
  }, 1_200_000);
});

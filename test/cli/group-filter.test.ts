// `--by`, `--cum`, `--focus`, `--exclude`, `--hide` and the default hiding of Node's
// internals through the real binary (run `npm run build` first), on a DHAT file written
// here from a hand-built profile: every figure printed is summed by hand below.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDhat } from '../../src/formats/dhat.js';
import { ProfileBuilder } from '../../src/model/builder.js';
import { heapscope, tempDir } from '../helpers/heapscope.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

const APP = '(anonymous) (src/app.js:1:1)';
const PARSE = 'parse (src/parser.js:10:3)';
const READ = 'readFileSync (node:fs:441:22)';
const LOADER = 'run (node:internal/modules/esm/module_job:318:12)';

/** [frames, total bytes, end bytes]; blocks = bytes / 10. */
const BASE: [string[], number, number][] = [
  [[PARSE, PARSE, APP, LOADER], 1000, 100],
  [[PARSE, APP, LOADER], 500, 0],
  [[READ, PARSE, APP, LOADER], 300, 0],
  [['clone (node_modules/lodash/clone.js:3:1)', APP, LOADER], 200, 200],
  [[LOADER], 40, 0],
];

function write(path: string, sites: [string[], number, number][]) {
  const b = new ProfileBuilder(NODE_HEAP_HEADER);
  for (const [frames, tb, eb] of sites) {
    b.add({
      frames,
      totalBytes: tb,
      totalBlocks: tb / 10,
      totalLifetimes: 0,
      maxBytes: tb,
      maxBlocks: 1,
      peakBytes: tb,
      peakBlocks: 1,
      endBytes: eb,
      endBlocks: eb ? 1 : 0,
    });
  }
  writeFileSync(path, writeDhat(b.build()));
}

let dir = '';
let base = '';
let head = '';
beforeAll(() => {
  dir = tempDir('heapscope-group-');
  base = join(dir, 'base.json');
  head = join(dir, 'head.json');
  write(base, BASE);
  // The head: parse's own allocations doubled, lodash gone.
  write(
    head,
    BASE.filter(([f]) => !f[0]!.includes('lodash')).map(([f, tb, eb]) => [
      f,
      f[0] === PARSE ? tb * 2 : tb,
      eb,
    ]),
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const json = (args: string[]) => {
  const r = heapscope(args);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
};

describe('report --by', () => {
  it('function: self and inclusive figures, readFileSync charged to parse by default', () => {
    const r = json(['report', base, '--by', 'function', '--json']);
    const g = Object.fromEntries(r.groups.map((x: { key: string }) => [x.key, x])) as Record<
      string,
      { self: { totalBytes: number }; inclusive: { totalBytes: number } }
    >;
    expect(g['parse (src/parser.js)']!.self.totalBytes).toBe(1000 + 500 + 300);
    expect(g['parse (src/parser.js)']!.inclusive.totalBytes).toBe(1800);
    // A function that allocates nothing itself is ranked only with --cum.
    expect(g['(anonymous) (src/app.js:1:1)']).toBeUndefined();
    expect(g['[node internals]']!.self.totalBytes).toBe(40);
    expect(g['readFileSync (node:fs)']).toBeUndefined();
    expect(r.notes[0]).toMatch(/internal frames hidden/);
  });

  it('--internals shows Node frames; --cum ranks by inclusive', () => {
    const r = json(['report', base, '--by', 'function', '--internals', '--cum', '--json']);
    expect(r.rankedBy).toBe('inclusive');
    expect(r.groups[0].key).toBe('run (node:internal/modules/esm/module_job)');
    expect(r.groups[0].inclusive.totalBytes).toBe(2040);
    const read = r.groups.find((x: { key: string }) => x.key === 'readFileSync (node:fs)');
    expect(read.self.totalBytes).toBe(300);
  });

  it('package, and the text table', () => {
    const r = json(['report', base, '--by', 'package', '--json', '--internals']);
    const keys = r.groups.map((x: { key: string; self: { totalBytes: number } }) => [
      x.key,
      x.self.totalBytes,
    ]);
    expect(keys).toEqual([
      ['[own code]', 1500],
      ['node', 340],
      ['lodash', 200],
    ]);
    const t = heapscope(['report', base, '--by', 'package']);
    expect(t.stdout).toMatch(/Top 3 of 3 packages by total bytes, self:/);
    // 1,800 of 2,040 bytes self, 2,000 inclusive.
    expect(t.stdout).toMatch(/1\.\s+1\.8 KiB\s+88\.2%\s+2 KiB\s+98%\s+\[own code\]/);
    expect(t.stdout).toMatch(/3\.\s+40 B\s+2%\s+40 B\s+2%\s+\[node internals\]/);
  });
});

describe('focus, exclude, hide', () => {
  it('report --focus and --exclude', () => {
    const f = json(['report', base, '--focus', 'lodash', '--json']);
    expect(f.totals.totalBytes).toBe(200);
    const e = json(['report', base, '--exclude', 'file:src/parser.js', '--json']);
    expect(e.totals.totalBytes).toBe(240);
  });

  it('--hide charges the allocation to the caller', () => {
    const r = json(['report', base, '--hide', 'parse', '--internals', '--json', '--top', '1']);
    expect(r.rows[0].frames).toEqual([APP, LOADER]);
    expect(r.rows[0].totalBytes).toBe(1500);
  });

  it('a pattern that matches nothing is said on stderr', () => {
    const r = heapscope(['report', base, '--focus', 'nothingLikeThis']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/--focus nothingLikeThis matched no program point/);
  });

  it('check and convert take the same filters', () => {
    const c = heapscope(['check', base, '--max-total', '200', '--focus', 'lodash']);
    expect(c.status).toBe(0);
    const c2 = heapscope(['check', base, '--max-total', '199', '--focus', 'lodash']);
    expect(c2.status).toBe(1);
    const out = join(dir, 'focused.json');
    const v = heapscope(['convert', base, '--to', 'dhat', '-o', out, '--focus', 'parse']);
    expect(v.status).toBe(0);
    expect(json(['report', out, '--json', '--internals']).totals.totalBytes).toBe(1800);
  });
});

describe('diff --by', () => {
  it('function: self deltas per function; vanished package', () => {
    const d = json(['diff', base, head, '--by', 'function', '--json']);
    const parse = d.rows.find((r: { frames: string[] }) => r.frames[0] === 'parse (src/parser.js)');
    expect(parse.values.totalBytes.base).toBe(1800);
    expect(parse.values.totalBytes.head).toBe(2000 + 1000 + 300); // readFileSync's 300 not doubled
    const p = json(['diff', base, head, '--by', 'package', '--json', '--internals']);
    const lodash = p.rows.find((r: { frames: string[] }) => r.frames[0] === 'lodash');
    expect(lodash.status).toBe('vanished');
  });
});

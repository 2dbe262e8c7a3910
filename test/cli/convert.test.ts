// `heapscope convert`: the real binary between every pair of formats, detection by
// content, the heap snapshot with allocation traces as an input (checked against the
// workload's known allocations), and the errors a user can make. Exit codes: 0 OK, 2 bad
// usage or input.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Profile as PprofProfile } from 'pprof-format';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDhat } from '../../src/formats/dhat.js';
import { totals } from '../../src/model/metrics.js';
import { type Profile, stackFrames } from '../../src/model/profile.js';
import {
  heapscope,
  MEMENTO_BYTES,
  NODE,
  ROOT,
  readProfile,
  siteOf,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

const HEAP = join(ROOT, 'test', 'fixtures', 'dhat', 'valgrind-3.19', 'valgrind-heap.json');

const sites = (p: Profile) =>
  p.programPoints
    .map(
      (pp) =>
        `${stackFrames(p, pp).join(' < ')} = ${pp.totalBytes}/${pp.totalBlocks}/${pp.endBytes}/${pp.endBlocks}`,
    )
    .sort();

describe('between formats', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });

  it.each([
    ['pprof', 'heap.pb.gz'],
    ['heapprofile', 'heap.heapprofile'],
    ['dhat', 'heap.json'],
  ])('DHAT → %s → DHAT keeps every site and figure', (to, name) => {
    const out = join(dir, name);
    const a = heapscope(['convert', HEAP, '--to', to, '-o', out]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toMatch(
      new RegExp(
        `wrote .*${name.replace('.', '\\.')}  \\(${to}, \\d+ program points; read .* as dhat\\)`,
      ),
    );
    const back = join(dir, `${name}.back.json`);
    const b = heapscope(['convert', out, '-o', back]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain(`as ${to})`);
    expect(sites(readProfile(back))).toEqual(sites(readDhat(readFileSync(HEAP, 'utf8'))));
  });

  it('takes the format from the output name, and writes beside the input without one', () => {
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, readFileSync(HEAP));
    const r = heapscope(['convert', copy, '-o', join(dir, 'copy.speedscope.json')]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'copy.speedscope.json'), 'utf8')).$schema).toBe(
      'https://www.speedscope.app/file-format-schema.json',
    );
    const d = heapscope(['convert', copy, '--to', 'pprof']);
    expect(d.status, d.stderr).toBe(0);
    const decoded = PprofProfile.decode(gunzipSync(readFileSync(join(dir, 'copy.pb.gz'))));
    expect(decoded.sample).toHaveLength(readProfile(copy).programPoints.length);
    const same = heapscope(['convert', copy, '--to', 'dhat']);
    expect(same.status, same.stderr).toBe(0);
    expect(existsSync(join(dir, 'copy.dhat.json'))).toBe(true);
  });

  it('reads pprof that is not gzipped', () => {
    const gz = join(dir, 'raw-src.pb.gz');
    expect(heapscope(['convert', HEAP, '-o', gz]).status).toBe(0);
    const raw = join(dir, 'raw.pb');
    writeFileSync(raw, gunzipSync(readFileSync(gz)));
    const r = heapscope(['convert', raw, '--to', 'dhat', '-o', join(dir, 'raw.json')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('as pprof)');
    expect(sites(readProfile(join(dir, 'raw.json')))).toEqual(sites(readProfile(HEAP)));
  });

  it('prints the result as JSON with --json', () => {
    const r = heapscope([
      'convert',
      HEAP,
      '--to',
      'speedscope',
      '-o',
      join(dir, 'j.speedscope.json'),
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      from: 'dhat',
      to: 'speedscope',
      programPoints: readProfile(HEAP).programPoints.length,
    });
  });

  it('writes the chosen speedscope metrics only', () => {
    const out = join(dir, 'm.speedscope.json');
    const r = heapscope(['convert', HEAP, '-o', out, '--metric', 'end-bytes,total-blocks']);
    expect(r.status, r.stderr).toBe(0);
    const names = JSON.parse(readFileSync(out, 'utf8')).profiles.map(
      (p: { name: string }) => p.name,
    );
    expect(names).toEqual(['At t-end bytes', 'Total blocks']);
  });
});

describe('a heap snapshot with allocation traces', () => {
  const N = 50_000;
  const K = 1_000;
  it('reads as the tracker saw it: every makePair object at its site', () => {
    const dir = tempDir();
    const out = join(dir, 'objects.json');
    const r = heapscope([
      'run',
      '-q',
      '--keep-snapshot',
      '-o',
      out,
      '--',
      '{NODE}',
      workload('objects.js'),
      `${N}`,
      `${K}`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const snap = join(dir, 'objects.heapsnapshot');
    const c = heapscope(['convert', snap, '--to', 'dhat', '-o', join(dir, 'from-snapshot.json')]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toContain('as heapsnapshot)');
    const p = readProfile(join(dir, 'from-snapshot.json'));
    const pp = siteOf(p, 'makePair');
    // As in test/capture/run.test.ts: N objects of 40 bytes, up to a 16-byte memento
    // each (literals made before V8 optimized makePair), plus V8's metadata allowance.
    expect(pp.totalBlocks).toBeGreaterThanOrEqual(N);
    expect(pp.totalBlocks).toBeLessThanOrEqual(N + 64);
    expect(pp.totalBytes).toBeGreaterThanOrEqual(N * 40);
    expect(pp.totalBytes).toBeLessThanOrEqual(N * (40 + MEMENTO_BYTES) + 256 * 1024);
    expect(p.heapscope?.capture).toBe('exact');
  });

  it('refuses a snapshot without traces, saying how to take one', () => {
    const dir = tempDir();
    const snap = join(dir, 'plain.heapsnapshot');
    const w = spawnSync(NODE, ['-e', `require('v8').writeHeapSnapshot(${JSON.stringify(snap)})`]);
    expect(w.status).toBe(0);
    const r = heapscope(['convert', snap, '--to', 'dhat', '-o', join(dir, 'x.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/plain\.heapsnapshot: this heap snapshot has no allocation traces/);
  });
});

describe('a .heapprofile from node --heap-prof', () => {
  it('converts to DHAT that heapscope report reads', () => {
    const dir = tempDir();
    const w = spawnSync(NODE, [
      '--heap-prof',
      `--heap-prof-dir=${dir}`,
      '--heap-prof-interval=4096',
      workload('sampled.js'),
      '0',
      '100000',
    ]);
    expect(w.status).toBe(0);
    const prof = join(dir, readdirSync(dir).find((f) => f.endsWith('.heapprofile'))!);
    const out = join(dir, 'trace.json');
    const c = heapscope(['convert', prof, '--to', 'dhat', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const r = heapscope(['report', out, '--top', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sampled capture/);
    expect(r.stdout).toMatch(/\[estimate\]/);
    expect(r.stdout).toContain('retain');
    expect(totals(readProfile(out)).totalBytes).toBeGreaterThan(0);
  });
});

describe('mistakes', () => {
  it.each([
    [
      ['convert', HEAP, '--to', 'svg'],
      /--to wants one of dhat, pprof, heapprofile, speedscope, not "svg"/,
    ],
    [['convert', HEAP, '-o', 'out.txt'], /say which format to write/],
    [['convert', '/nonexistent/x.json', '--to', 'pprof'], /x\.json: no such file/],
    [
      [
        'convert',
        HEAP,
        '--to',
        'heapprofile',
        '-o',
        '/tmp/heapscope-x.heapprofile',
        '--metric',
        'total-blocks',
      ],
      /a \.heapprofile holds total-bytes or end-bytes/,
    ],
    [
      [
        'convert',
        HEAP,
        '--to',
        'speedscope',
        '-o',
        '/tmp/heapscope-x.speedscope.json',
        '--metric',
        'nope',
      ],
      /unknown metric "nope"/,
    ],
  ])('%#: exit 2 with a message', (args, message) => {
    const r = heapscope(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a speedscope file as input: says heapscope does not read it back', () => {
    const dir = tempDir();
    const ss = join(dir, 'a.speedscope.json');
    expect(heapscope(['convert', HEAP, '-o', ss]).status).toBe(0);
    const r = heapscope(['convert', ss, '--to', 'dhat', '-o', join(dir, 'b.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /a speedscope file; heapscope writes that format but does not read it back/,
    );
  });
});

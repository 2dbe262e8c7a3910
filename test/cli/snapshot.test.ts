/**
 * `heapscope snapshot`, run as a real process on snapshots of a leaking program: the
 * text report, `--json` (equal to the library's result), `--path`, `--by site`, the
 * two-snapshot comparison, and exit code 2 with a clear message for bad input.
 *
 * Not tested here: the progress line (it only shows on a TTY).
 */

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeapSnapshot } from '../../src/formats/heapsnapshot/index.js';
import { analyzeSnapshot, summarizeSnapshot } from '../../src/model/snapshot/analyze.js';
import { compareSnapshots, digestSnapshot } from '../../src/model/snapshot/compare.js';
import { heapscope, NODE, tempDir } from '../helpers/heapscope.js';

const LEAK = `
const v8 = require('node:v8');
class LeakedThing { constructor(i) { this.i = i; this.tag = 'leaked'; } }
globalThis.leaks = [];
v8.writeHeapSnapshot('a.heapsnapshot');
for (let i = 0; i < 1000; i++) leaks.push(new LeakedThing(i));
v8.writeHeapSnapshot('b.heapsnapshot');
`;

const TRACKED = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const fd = fs.openSync('tracked.heapsnapshot', 'w');
session.on('HeapProfiler.addHeapSnapshotChunk', (m) => fs.writeSync(fd, m.params.chunk));
session.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true }, (error) => {
  if (error) throw error;
  class LeakedThing { constructor(i) { this.i = i; this.tag = 'leaked'; } }
  function leakSome(n) { const out = []; for (let i = 0; i < n; i++) out.push(new LeakedThing(i)); return out; }
  globalThis.leaks = leakSome(1000);
  session.post('HeapProfiler.takeHeapSnapshot', null, (error) => {
    if (error) throw error;
    fs.closeSync(fd);
    session.post('HeapProfiler.stopTrackingHeapObjects', () => process.exit(0));
  });
});
`;

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = tempDir('heapscope-cli-snapshot-');
  for (const script of [LEAK, TRACKED]) {
    execFileSync(NODE, ['-e', script], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
  }
  const b = readFileSync(file('b.heapsnapshot'));
  writeFileSync(file('truncated.heapsnapshot'), b.subarray(0, Math.floor(b.length / 2)));
  writeFileSync(file('foreign.json'), JSON.stringify({ dhatFileVersion: 2, pps: [] }));
  writeFileSync(file('text.heapsnapshot'), 'hello, world\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('heapscope snapshot <file>', () => {
  it('prints the top retainers by class', () => {
    const r = heapscope(['snapshot', file('b.heapsnapshot'), '--top', '5']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^b\.heapsnapshot: [\d,]+ nodes, [\d,]+ edges, [\d.]+ [KM]iB in [\d,]+ classes$/,
    );
    const header = lines.indexOf('Top retainers by class');
    expect(lines[header + 1]).toMatch(/Retained\s+%\s+Self\s+Count\s+Class/);
    const rows = lines.slice(header + 2).filter((l) => l.trim() !== '');
    expect(rows).toHaveLength(5);
  });

  it('--json prints the library result', async () => {
    const r = heapscope([
      'snapshot',
      file('b.heapsnapshot'),
      '--json',
      '--top',
      '7',
      '--path',
      'LeakedThing',
    ]);
    expect(r.status).toBe(0);
    const fromLibrary = summarizeSnapshot(
      analyzeSnapshot(await readHeapSnapshot(file('b.heapsnapshot'))),
      {
        top: 7,
        by: 'class',
        path: 'LeakedThing',
      },
    );
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(fromLibrary)));
  });

  it('--path <class> prints the retainer path through the global array', () => {
    const r = heapscope([
      'snapshot',
      file('b.heapsnapshot'),
      '--path',
      'LeakedThing',
      '--top',
      '1',
    ]);
    expect(r.status).toBe(0);
    const path = r.stdout.slice(r.stdout.indexOf('Retainer path of LeakedThing @'));
    expect(path).toMatch(
      /^Retainer path of LeakedThing @\d+ \(distance 3\)\n {2}global @\d+ {2}self /,
    );
    expect(path).toMatch(/\n {4}\.leaks +→ Array @\d+ /);
    expect(path).toMatch(/\n {4}\[\d+\] +→ LeakedThing @\d+ /);
  });

  it('--path @id prints the path of that object', () => {
    const json = JSON.parse(
      heapscope(['snapshot', file('b.heapsnapshot'), '--json', '--path', 'LeakedThing']).stdout,
    );
    const id = json.path.target.id;
    const r = heapscope(['snapshot', file('b.heapsnapshot'), '--path', `@${id}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Retainer path of LeakedThing @${id} (distance 3)`);
  });

  it('--by site lists allocation sites when the snapshot has traces', () => {
    const r = heapscope(['snapshot', file('tracked.heapsnapshot'), '--by', 'site']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Top retainers by allocation site');
    expect(r.stdout).toMatch(/\d+ {2}leakSome \(\[eval\]:\d+:\d+\)/);
  });

  it('--by site without traces is bad input', () => {
    const r = heapscope(['snapshot', file('b.heapsnapshot'), '--by', 'site']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^heapscope: the snapshot has no allocation traces/);
  });

  it('an unknown class or id for --path is bad input', () => {
    const r = heapscope(['snapshot', file('b.heapsnapshot'), '--path', 'NoSuchThing']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('heapscope: no object of class "NoSuchThing" in the snapshot\n');
  });
});

describe('heapscope snapshot <before> <after>', () => {
  it('prints what grew and the retainer path of the leak', () => {
    const r = heapscope(['snapshot', file('a.heapsnapshot'), file('b.heapsnapshot')]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('a.heapsnapshot → b.heapsnapshot');
    const grew = r.stdout.slice(r.stdout.indexOf('Classes that grew'));
    const firstRow = grew.split('\n')[2];
    expect(firstRow).toMatch(/^\s+\+[\d.]+ KiB\s+\+1,000\s+1,000\s+0\s+[\d.]+ KiB\s+LeakedThing$/);
    expect(r.stdout).toMatch(/Retainer path of LeakedThing @\d+ \(distance 3\)/);
  });

  it('--json prints the library result', async () => {
    const r = heapscope(['snapshot', file('a.heapsnapshot'), file('b.heapsnapshot'), '--json']);
    expect(r.status).toBe(0);
    const before = digestSnapshot(await readHeapSnapshot(file('a.heapsnapshot')));
    const after = analyzeSnapshot(await readHeapSnapshot(file('b.heapsnapshot')), {
      interfaces: before.interfaces,
    });
    const fromLibrary = compareSnapshots(before, after, { top: 20, paths: 3 });
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(fromLibrary)));
  });

  it('--path <class> prints the paths of all its new objects', () => {
    const r = heapscope(
      ['snapshot', file('a.heapsnapshot'), file('b.heapsnapshot')].concat([
        '--path',
        'LeakedThing',
      ]),
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /How the new LeakedThing objects are held: 1,000 objects, retaining [\d.]+ KiB; 1 path shape/,
    );
    expect(r.stdout).toMatch(/1,000 objects share this path/);
  });

  it('--path of a class with no new objects is bad input', () => {
    const r = heapscope(
      ['snapshot', file('a.heapsnapshot'), file('b.heapsnapshot')].concat(['--path', 'X']),
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('heapscope: no new object of class "X" in the second snapshot\n');
  });

  it('--new <class> lists the new objects', () => {
    const r = heapscope(
      ['snapshot', file('a.heapsnapshot'), file('b.heapsnapshot')].concat([
        '--new',
        'LeakedThing',
        '--top',
        '2',
        '--paths',
        '0',
      ]),
    );
    expect(r.status).toBe(0);
    const list = r.stdout.slice(r.stdout.indexOf('New LeakedThing objects'));
    expect(list.split('\n')[0]).toBe('New LeakedThing objects: 1,000, the 2 retaining most');
    expect(list.split('\n').filter((l) => /^\s+@\d+\s/.test(l))).toHaveLength(2);
  });

  it('--new is for a comparison', () => {
    const r = heapscope(['snapshot', file('a.heapsnapshot'), '--new', 'X']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^heapscope: --new lists the new objects of a comparison/);
  });
});

describe('bad input', () => {
  it('a truncated file', () => {
    const r = heapscope(['snapshot', file('truncated.heapsnapshot')]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^heapscope: .*truncated\.heapsnapshot: truncated file: input ended inside "\w+" after \d+ bytes\n$/,
    );
  });

  it('a truncated second file in a comparison names that file', () => {
    const r = heapscope(['snapshot', file('a.heapsnapshot'), file('truncated.heapsnapshot')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/truncated\.heapsnapshot: truncated file/);
  });

  it('a foreign file', () => {
    const json = heapscope(['snapshot', file('foreign.json')]);
    expect(json.status).toBe(2);
    expect(json.stderr).toMatch(/^heapscope: .*foreign\.json: not a V8 heap snapshot/);
    const text = heapscope(['snapshot', file('text.heapsnapshot')]);
    expect(text.status).toBe(2);
    expect(text.stderr).toMatch(
      /^heapscope: .*text\.heapsnapshot: not a V8 heap snapshot \(expected a JSON object/,
    );
  });

  it('a missing file', () => {
    const r = heapscope(['snapshot', file('missing.heapsnapshot')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`heapscope: ${file('missing.heapsnapshot')}: no such file\n`);
  });

  it('bad flags', () => {
    expect(heapscope(['snapshot', file('b.heapsnapshot'), '--by', 'color']).status).toBe(2);
    expect(heapscope(['snapshot', file('b.heapsnapshot'), '--top', 'many']).status).toBe(2);
    const three = heapscope([
      'snapshot',
      file('a.heapsnapshot'),
      file('b.heapsnapshot'),
      file('b.heapsnapshot'),
    ]);
    expect(three.status).toBe(2);
    expect(three.stderr).toBe('heapscope: give one snapshot, or two to compare\n');
  });

  it('--help', () => {
    const r = heapscope(['snapshot', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: heapscope snapshot [options] <files...>');
    expect(r.stdout).toContain('--path <class|@id>');
  });
});

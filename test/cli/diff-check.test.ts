// `heapscope diff` and `heapscope check`: the real binary (run `npm run build` first) on
// profiles with known contents written as DHAT files, and on the Valgrind and dhat-rs
// fixtures. Exit codes: 0 OK, 1 over budget, 2 bad usage or input.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDhat } from '../../src/formats/dhat.js';
import type { CheckResult } from '../../src/model/budget.js';
import { ProfileBuilder } from '../../src/model/builder.js';
import type { DiffResult } from '../../src/model/diff.js';
import { heapscope, ROOT, tempDir } from '../helpers/heapscope.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'dhat');
const VALGRIND = join(FIXTURES, 'valgrind-3.19', 'valgrind-heap.json');
const DHAT_RS = join(FIXTURES, 'dhat-rs', 'dhat-rs-heap.json');

let dir = '';
let base = '';
let head = '';
let moved = '';

function write(name: string, sites: [string[], number, number][]): string {
  const b = new ProfileBuilder({
    mode: 'node-heap',
    verb: 'Allocated',
    hasLifetimes: true,
    hasAccesses: false,
    timeUnit: 'µs',
    timeUnitLarge: 's',
    shortLivedThreshold: 1000,
    cmd: 'node app.js',
    pid: 7,
    endTime: 100,
    peakTime: 50,
  });
  for (const [frames, total, end] of sites) {
    b.add({
      frames,
      totalBytes: total,
      totalBlocks: total / 8,
      totalLifetimes: 1,
      maxBytes: end,
      maxBlocks: 1,
      peakBytes: end,
      peakBlocks: end / 8,
      endBytes: end,
      endBlocks: end / 8,
    });
  }
  const path = join(dir, name);
  writeFileSync(path, writeDhat(b.build()));
  return path;
}

beforeAll(() => {
  dir = tempDir('heapscope-diff-test-');
  const main = 'main (app.js:30:1)';
  base = write('base.json', [
    [['grow (app.js:3:14)', main], 80_000, 40_000],
    [['parse (app.js:12:15)', main], 16_000, 0],
    [['gone (app.js:20:1)', main], 800, 0],
  ]);
  head = write('head.json', [
    [['grow (app.js:3:14)', main], 160_000, 80_000],
    [['parse (app.js:12:15)', main], 16_000, 0],
    [['fresh (app.js:24:1)', main], 1_600, 0],
  ]);
  // The same as the head, after two lines were added at the top of app.js.
  moved = write('moved.json', [
    [['grow (app.js:5:14)', 'main (app.js:32:1)'], 160_000, 80_000],
    [['parse (app.js:14:15)', 'main (app.js:32:1)'], 16_000, 0],
    [['fresh (app.js:26:1)', 'main (app.js:32:1)'], 1_600, 0],
  ]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('heapscope diff', () => {
  it('prints exact deltas, new and vanished sites, as JSON', () => {
    const r = heapscope(['diff', base, head, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as DiffResult;
    expect(d.totals.totalBytes).toMatchObject({ base: 96_800, head: 177_600, delta: 80_800 });
    expect(d.totals.endBytes).toMatchObject({ base: 40_000, head: 80_000, delta: 40_000 });
    expect(d.rows.map((x) => [x.frames[0], x.status, x.values.totalBytes!.delta])).toEqual([
      ['grow (app.js:3:14)', 'changed', 80_000],
      ['fresh (app.js:24:1)', 'new', 1_600],
      ['gone (app.js:20:1)', 'vanished', -800],
      ['parse (app.js:12:15)', 'unchanged', 0],
    ]);
  });

  it('prints text: totals, then the changed sites with their stacks', () => {
    const r = heapscope(['diff', base, head, '--top', '2']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Total bytes: +94\.5 KiB → 173\.4 KiB +\+78\.9 KiB \(\+83%, ×1\.83\)/);
    expect(r.stdout).toContain('Sites: 1 changed, 1 new, 1 vanished, 1 unchanged');
    expect(r.stdout).toContain('Top 2 of 3 changes by total bytes:');
    expect(r.stdout).toMatch(/ 1\. \+78\.1 KiB \(\+100%, ×2\.00\)/);
    expect(r.stdout).toMatch(/ 2\. NEW \+1\.6 KiB/);
    expect(r.stdout).toContain('       grow (app.js:3:14)\n       main (app.js:30:1)');
    expect(r.stdout).not.toContain('gone');
  });

  it('says which matches were fuzzy when code moved', () => {
    const r = heapscope(['diff', head, moved]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'Sites: 0 changed, 0 new, 0 vanished, 3 unchanged; 3 matched fuzzily',
    );
    expect(r.stdout).toContain('No significant change at any site.');
    const d = JSON.parse(heapscope(['diff', head, moved, '--json']).stdout) as DiffResult;
    expect(d.rows.every((x) => x.match === 'moved' && x.fuzzy)).toBe(true);
    const changed = heapscope(['diff', base, moved]);
    expect(changed.stdout).toContain('matched fuzzily: code moved');
    expect(changed.stdout).toContain('grow (app.js:5:14)  (was grow (app.js:3:14))');
    const exact = JSON.parse(heapscope(['diff', base, moved, '--exact', '--json']).stdout);
    expect(exact.counts).toMatchObject({ new: 3, vanished: 3, fuzzy: 0 });
  });

  it('renders markdown with escaped stacks', () => {
    const r = heapscope(['diff', base, head, '--markdown', '--metric', 'end-bytes']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('### heapscope diff');
    expect(r.stdout).toContain('| At t-end bytes | 39.1 KiB | 78.1 KiB | **+39.1 KiB** (+100%) |');
    expect(r.stdout).toContain(
      '| 1 | +39.1 KiB ×2.00 | 39.1 KiB | 78.1 KiB | `grow (app.js:3:14)`<br>`main (app.js:30:1)` |',
    );
  });

  it('diffs the Valgrind and dhat-rs fixtures', () => {
    const same = heapscope(['diff', VALGRIND, VALGRIND]);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/Total bytes: +94\.1 KiB → 94\.1 KiB +no change/);
    expect(same.stdout).toContain('Sites: 0 changed, 0 new, 0 vanished, 5 unchanged');
    const r = heapscope(['diff', DHAT_RS, VALGRIND, '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as DiffResult;
    expect(d.totals.totalBytes).toMatchObject({ base: 1101, head: 96_368 });
    expect(d.warnings).toContain(
      'the profiles measure different things: the base is mode "rust-heap", the head "heap"',
    );
  });

  it('exits 2 with a clear message on corrupt, foreign or missing input and bad flags', () => {
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, readFileSync(head, 'utf8').slice(0, 200));
    const foreign = join(dir, 'package.json');
    writeFileSync(foreign, JSON.stringify({ name: 'not-a-profile', version: '1.0.0' }));
    const badFrame = join(dir, 'bad-frame.json');
    const parsed = JSON.parse(readFileSync(head, 'utf8'));
    parsed.pps[0].fs = [99];
    writeFileSync(badFrame, JSON.stringify(parsed));
    const cases: [string[], RegExp][] = [
      [
        ['diff', base, truncated],
        /^heapscope: .*truncated\.json: not valid JSON: the text ends at line 3, column \d+, inside a value \(truncated file\?\)$/m,
      ],
      [
        ['diff', foreign, head],
        /^heapscope: .*package\.json: not a profile heapscope can read \(no "dhatFileVersion" field\)/,
      ],
      [
        ['diff', base, badFrame],
        /^heapscope: .*bad-frame\.json: malformed profile: program point 0 refers to frame 99/,
      ],
      [['diff', base, join(dir, 'nope.json')], /^heapscope: .*nope\.json: no such file/],
      [
        ['diff', base, head, '--metric', 'heap'],
        /^heapscope: unknown metric "heap"; one of: total-bytes/,
      ],
      [['diff', base, VALGRIND, '--metric', 'reads'], /^heapscope: cannot sort by "reads"/],
      [
        ['diff', base, head, '--json', '--markdown'],
        /^heapscope: choose one of --json and --markdown/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = heapscope(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe('heapscope check', () => {
  // The head: 177,600 B in total, 80,000 B at t-gmax and at t-end.
  it('exits 0 at the limit and 1 one byte below it', () => {
    const at = heapscope([
      'check',
      head,
      '--max-total',
      '177600',
      '--max-peak',
      '80000',
      '--max-end',
      '80000',
    ]);
    expect(at.stderr).toBe('');
    expect(at.status).toBe(0);
    expect(at.stdout).toContain('heapscope check: node app.js — within budget');
    expect(at.stdout).toContain('PASS  total bytes: 177,600 bytes ≤ 177,600 bytes');
    const over = heapscope(['check', head, '--max-total', '177599', '--max-end', '1MB']);
    expect(over.status).toBe(1);
    expect(over.stdout).toContain('over budget');
    expect(over.stdout).toContain('FAIL  total bytes: 177,600 bytes > 177,599 bytes');
    expect(over.stdout).toContain('PASS  at t-end bytes: 80,000 bytes ≤ 1,000,000 bytes');
    expect(heapscope(['check', head, '--max-end', '78.125KiB']).status).toBe(0);
    expect(heapscope(['check', head, '--max-end', '79999']).status).toBe(1);
  });

  it('checks each function with --by: at the limit passes, one byte below fails', () => {
    // Self total bytes of the head's functions: grow 160,000, parse 16,000, fresh 1,600.
    const at = heapscope(['check', head, '--by', 'function', '--max-total', '160000']);
    expect(at.stderr).toBe('');
    expect(at.status).toBe(0);
    expect(at.stdout).toContain(
      'PASS  total bytes of each function (self): 160,000 bytes ≤ 160,000 bytes (the largest: grow (app.js))',
    );
    const over = heapscope(['check', head, '--by', 'function', '--max-total', '15999']);
    expect(over.status).toBe(1);
    expect(over.stdout).toContain(
      'FAIL  total bytes of function grow (app.js) (self): 160,000 bytes > 15,999 bytes',
    );
    expect(over.stdout).toContain(
      'FAIL  total bytes of function parse (app.js) (self): 16,000 bytes > 15,999 bytes',
    );
    expect(over.stdout).not.toContain('fresh');
    // Inclusive: main has every byte; against the base, main grew from 96,800 to 177,600.
    const cum = heapscope([
      'check',
      head,
      '--by',
      'function',
      '--cum',
      '--baseline',
      base,
      '--max-increase',
      '80800',
      '--json',
    ]);
    expect(cum.status).toBe(0);
    const r = JSON.parse(cum.stdout) as CheckResult;
    expect(r.rules[0]).toMatchObject({ group: 'main (app.js)', actual: 177_600, limit: 177_600 });
  });

  it('checks the increase against a baseline: at the limit passes, above it fails', () => {
    // Peak and end doubled (40,000 → 80,000 B): +100% is exactly the limit.
    const ok = heapscope(['check', head, '--baseline', base, '--max-increase', '100%', '--json']);
    expect(ok.status).toBe(0);
    const result = JSON.parse(ok.stdout) as CheckResult;
    expect(result.rules.map((x) => [x.metric, x.baseline, x.actual, x.limit, x.status])).toEqual([
      ['totalBytes', 96_800, 177_600, 193_600, 'pass'],
      ['peakBytes', 40_000, 80_000, 80_000, 'pass'],
      ['endBytes', 40_000, 80_000, 80_000, 'pass'],
    ]);
    // 40,000 × 1.99999 = 79,999.6: the largest whole number allowed is 79,999.
    const over = heapscope(['check', head, '--baseline', base, '--max-increase', '99.999%']);
    expect(over.status).toBe(1);
    expect(over.stdout).toContain(
      'FAIL  at t-end bytes vs baseline: 80,000 bytes (+100%) > 79,999 bytes (baseline 40,000 bytes + 99.999%)',
    );
    expect(
      heapscope([
        'check',
        head,
        '--baseline',
        base,
        '--max-increase',
        '80800',
        '--budget-file',
        join(dir, 'none.json'),
      ]).status,
    ).toBe(2);
    const amount = JSON.parse(
      heapscope(['check', head, '--baseline', base, '--max-increase', '80800', '--json']).stdout,
    ) as CheckResult;
    expect(amount.rules[0]).toMatchObject({ limit: 177_600, status: 'pass' });
    expect(amount.rules[1]).toMatchObject({ limit: 120_800, status: 'pass' });
    expect(heapscope(['check', head, '--baseline', base, '--max-increase', '80799']).status).toBe(
      1,
    );
  });

  it('reads a budget file with per-function and per-file budgets', () => {
    const file = join(dir, 'heapscope.budget.json');
    writeFileSync(
      file,
      JSON.stringify({
        max: { total: '200KB' },
        sites: [
          { function: 'grow', max: { 'end-bytes': 80_000 } },
          { function: '/^(parse|fresh)$/', file: 'app.js', max: { total: 17_599 } },
        ],
      }),
    );
    const r = heapscope(['check', head, '--budget-file', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'PASS  at t-end bytes of function grow: 80,000 bytes ≤ 80,000 bytes',
    );
    expect(r.stdout).toContain(
      'FAIL  total bytes of function /^(parse|fresh)$/ in file app.js: 17,600 bytes > 17,599 bytes',
    );
    // A flag overrides the file's limit on the same total.
    const flag = heapscope(['check', head, '--budget-file', file, '--max-total', '1']);
    expect(flag.stdout).toContain('FAIL  total bytes: 177,600 bytes > 1 bytes');
  });

  it('appends a markdown summary to $GITHUB_STEP_SUMMARY', () => {
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = heapscope(['check', head, '--max-total', '177599'], {
      env: { GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.status).toBe(1);
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n### ❌ heapscope check: over budget')).toBe(true);
    expect(md).toContain(
      '| ❌ | total bytes | 173.4 KiB (177,599 bytes) | 173.4 KiB (177,600 bytes) |  |',
    );
  });

  it('checks the Valgrind and dhat-rs fixtures', () => {
    // Valgrind: 4,096 B live at t-end (leak_me); dhat-rs: 1,024 + 64 B live at t-end.
    expect(heapscope(['check', VALGRIND, '--max-end', '4096']).status).toBe(0);
    expect(heapscope(['check', VALGRIND, '--max-end', '4095']).status).toBe(1);
    expect(heapscope(['check', DHAT_RS, '--max-end', '1088', '--max-total', '1101']).status).toBe(
      0,
    );
    expect(heapscope(['check', DHAT_RS, '--max-end', '1087']).status).toBe(1);
  });

  it('exits 2 on bad input and usage', () => {
    const budget = join(dir, 'bad.budget.json');
    writeFileSync(budget, '{"max": {"total": "huge"}}');
    const adHoc = join(FIXTURES, 'valgrind-3.19', 'valgrind-ad-hoc.json');
    const cases: [string[], RegExp][] = [
      [['check', head], /^heapscope: nothing to check/],
      [['check', head, '--max-total', 'lots'], /^heapscope: --max-total: not a size: "lots"/],
      [['check', head, '--max-increase', '5%'], /^heapscope: --max-increase needs a --baseline/],
      [
        ['check', head, '--budget-file', budget],
        /^heapscope: .*bad\.budget\.json: max\.total: not a size: "huge"/,
      ],
      [['check', head, '--budget-file', join(dir, 'missing.json')], /missing\.json: no such file/],
      [['check', join(dir, 'nope.json'), '--max-total', '1'], /nope\.json: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = heapscope(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    // Ad-hoc profiles record no lifetimes: a limit on t-end cannot be checked.
    const na = heapscope(['check', adHoc, '--max-end', '1']);
    expect(na.status).toBe(2);
    expect(na.stdout).toContain(
      'N/A   at t-end bytes: cannot check: the profile has no such figures',
    );
  });
});

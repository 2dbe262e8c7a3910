// checkProfile: every limit passes when the value equals it and fails one unit above.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBudgetFile, parseIncrease } from '../../src/formats/budget-file.js';
import { readDhat } from '../../src/formats/dhat.js';
import { allowed, checkProfile, compilePattern } from '../../src/model/budget.js';
import { ProfileBuilder } from '../../src/model/builder.js';
import type { Profile } from '../../src/model/profile.js';
import { ROOT } from '../helpers/heapscope.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

const HEADER = NODE_HEAP_HEADER;

const PARSE = ['parseRow (src/csv/parse.js:10:3)', 'load (src/app.js:4:1)'];
const CACHE = [
  'set (src/cache/lru.js:22:5)',
  'parseRow (src/csv/parse.js:10:3)',
  'load (src/app.js:4:1)',
];
const RENDER = ['render (src/ui/view.js:3:1)', 'load (src/app.js:4:1)'];

/** total 1,000 + 200 + 300 = 1,500 B; peak 600 B; end 250 B. */
function profile(scale = 1, extra = 0): Profile {
  const b = new ProfileBuilder(HEADER);
  const pp = (frames: string[], total: number, peak: number, end: number) =>
    b.add({
      frames,
      totalBytes: total,
      totalBlocks: total / 100,
      totalLifetimes: 1,
      maxBytes: peak,
      maxBlocks: 1,
      peakBytes: peak,
      peakBlocks: 1,
      endBytes: end,
      endBlocks: end ? 1 : 0,
    });
  pp(PARSE, 1000 * scale + extra, 400, 0);
  pp(CACHE, 200 * scale, 200, 200);
  pp(RENDER, 300 * scale, 0, 50);
  return b.build();
}

const statuses = (r: ReturnType<typeof checkProfile>) => r.rules.map((x) => x.status);

describe('limits on totals', () => {
  const p = profile();

  it('passes at the limit and fails one byte below it', () => {
    const at = checkProfile(p, { max: { totalBytes: 1500, peakBytes: 600, endBytes: 250 } });
    expect(at.status).toBe('pass');
    expect(at.rules.map((r) => [r.metric, r.actual, r.limit, r.status])).toEqual([
      ['totalBytes', 1500, 1500, 'pass'],
      ['peakBytes', 600, 600, 'pass'],
      ['endBytes', 250, 250, 'pass'],
    ]);
    for (const key of ['totalBytes', 'peakBytes', 'endBytes'] as const) {
      const limit = { totalBytes: 1500, peakBytes: 600, endBytes: 250 }[key] - 1;
      const r = checkProfile(p, { max: { [key]: limit } });
      expect(r.status, key).toBe('fail');
      expect(r.rules[0]).toMatchObject({ metric: key, limit, actual: limit + 1, status: 'fail' });
    }
  });

  it('fails when the value is one more than the limit', () => {
    expect(checkProfile(profile(1, 0), { max: { totalBytes: 1500 } }).status).toBe('pass');
    expect(checkProfile(profile(1, 1), { max: { totalBytes: 1500 } }).status).toBe('fail');
    expect(checkProfile(p, { max: { totalBlocks: 15 } }).status).toBe('pass');
    expect(checkProfile(p, { max: { totalBlocks: 14 } }).status).toBe('fail');
  });

  it('cannot check figures the profile does not have', () => {
    const b = new ProfileBuilder({ ...HEADER, hasLifetimes: false });
    b.add({ frames: PARSE, totalBytes: 10, totalBlocks: 1 });
    const r = checkProfile(b.build(), { max: { totalBytes: 10, endBytes: 1000 } });
    expect(statuses(r)).toEqual(['pass', 'unavailable']);
    expect(r.status).toBe('error');
    expect(r.rules[1]!.message).toMatch(/no such figures/);
  });
});

describe('budgets per function and file', () => {
  const p = profile();

  it('counts what a function and its callees allocate, or its own frame only', () => {
    // parseRow allocates 1,000 B itself and 200 B through set().
    const stack = checkProfile(p, { sites: [{ function: 'parseRow', max: { totalBytes: 1200 } }] });
    expect(stack.rules[0]).toMatchObject({ actual: 1200, matchedSites: 2, status: 'pass' });
    const over = checkProfile(p, { sites: [{ function: 'parseRow', max: { totalBytes: 1199 } }] });
    expect(over.status).toBe('fail');
    const own = checkProfile(p, {
      sites: [{ function: 'parseRow', match: 'site', max: { totalBytes: 1000 } }],
    });
    expect(own.rules[0]).toMatchObject({ actual: 1000, matchedSites: 1, status: 'pass' });
  });

  it('takes globs and regular expressions for functions and files', () => {
    const actual = (site: Parameters<typeof checkProfile>[1]['sites']) =>
      checkProfile(p, { sites: site }).rules.map((r) => r.actual);
    expect(actual([{ function: 'parse*', max: { totalBytes: 0 } }])).toEqual([1200]);
    expect(
      actual([{ function: '/^(set|render)$/', match: 'site', max: { totalBytes: 0 } }]),
    ).toEqual([500]);
    expect(actual([{ file: 'src/cache/**', max: { endBytes: 0 } }])).toEqual([200]);
    expect(actual([{ file: 'lru.js', max: { endBytes: 0 } }])).toEqual([200]);
    expect(actual([{ file: 'src/*.js', match: 'site', max: { totalBytes: 0 } }])).toEqual([0]);
    expect(actual([{ file: '**/view.js', max: { totalBytes: 0 } }])).toEqual([300]);
    expect(actual([{ function: 'load', file: 'src/ui/*', max: { totalBytes: 0 } }])).toEqual([0]);
    expect(actual([{ function: 'render', file: 'src/ui/*', max: { totalBytes: 0 } }])).toEqual([
      300,
    ]);
  });

  it('warns about a pattern that matches nothing', () => {
    const r = checkProfile(p, { sites: [{ function: 'nothing*', max: { totalBytes: 1 } }] });
    expect(r.status).toBe('pass');
    expect(r.warnings).toEqual(['function nothing* matched no program point of the profile']);
  });

  it('compiles patterns', () => {
    expect(compilePattern('a?c', false)('abc')).toBe(true);
    expect(compilePattern('a?c', false)('a/c')).toBe(false);
    expect(compilePattern('{foo,bar}.js', true)('src/bar.js')).toBe(true);
    expect(compilePattern('src/*.js', true)('src/a/b.js')).toBe(false);
    expect(compilePattern('src/**/*.js', true)('src/b.js')).toBe(true);
    expect(compilePattern('/Row$/i', false)('parseROW')).toBe(true);
    expect(() => compilePattern('/(/', false)).toThrow(/bad regular expression/);
  });
});

describe('regression limits against a baseline', () => {
  const base = profile();

  it('allows a percentage: at the limit passes, one byte more fails', () => {
    // 1,500 × 1.05 = 1,575.
    expect(allowed(1500, { percent: 5 })).toBe(1575);
    expect(allowed(1000, { percent: 2.5 })).toBe(1025);
    expect(allowed(1001, { percent: 5 })).toBe(1051);
    const ok = checkProfile(profile(1, 75), { maxIncrease: { percent: 5 } }, base);
    expect(ok.rules.find((r) => r.metric === 'totalBytes')).toMatchObject({
      kind: 'increase',
      baseline: 1500,
      actual: 1575,
      limit: 1575,
      status: 'pass',
    });
    expect(ok.status).toBe('pass');
    const over = checkProfile(profile(1, 76), { maxIncrease: { percent: 5 } }, base);
    expect(over.status).toBe('fail');
    expect(over.rules.find((r) => r.metric === 'totalBytes')!.message).toContain('+5.1%');
    // Total, peak and end bytes by default.
    expect(over.rules.map((r) => r.metric)).toEqual(['totalBytes', 'peakBytes', 'endBytes']);
  });

  it('allows an amount', () => {
    const r = (extra: number) =>
      checkProfile(profile(1, extra), { maxIncrease: { amount: 100 } }, base).status;
    expect(r(100)).toBe('pass');
    expect(r(101)).toBe('fail');
  });

  it('checks the growth of a function against the same function in the baseline', () => {
    const budgets = { sites: [{ function: 'render', maxIncrease: { percent: 100 } }] };
    expect(checkProfile(profile(2), budgets, base).rules[0]).toMatchObject({
      baseline: 300,
      actual: 600,
      status: 'pass',
    });
    expect(checkProfile(profile(3), budgets, base).status).toBe('fail');
  });

  it('warns when an increase limit has no baseline, or a baseline no limit', () => {
    expect(checkProfile(base, { maxIncrease: { percent: 5 } }).warnings).toEqual([
      'increase limits need a baseline profile: not checked',
    ]);
    expect(checkProfile(base, { max: { totalBytes: 1e9 } }, base).warnings).toEqual([
      'a baseline was given but no increase limit: nothing compared with it',
    ]);
  });
});

describe('budgets on real DHAT files', () => {
  const valgrind = readDhat(
    readFileSync(join(ROOT, 'test/fixtures/dhat/valgrind-3.19/valgrind-heap.json'), 'utf8'),
  );

  it('checks the Valgrind program against its hand-counted figures', () => {
    // 96,368 B in total, 20,096 B at t-gmax, 4,096 B at t-end (test/fixtures/dhat/README.md).
    const at = { totalBytes: 96_368, peakBytes: 20_096, endBytes: 4096 };
    expect(checkProfile(valgrind, { max: at }).status).toBe('pass');
    expect(checkProfile(valgrind, { max: { ...at, endBytes: 4095 } }).status).toBe('fail');
    // make_buf: 1,000 × 64 B; leak_me: the 4,096 B still live at the end.
    const sites = checkProfile(valgrind, {
      sites: [
        { function: 'make_buf', max: { totalBytes: 64_000 } },
        { function: 'leak_*', file: 'prog.c', max: { endBytes: 4095 } },
      ],
    });
    expect(sites.rules.map((r) => [r.actual, r.status])).toEqual([
      [64_000, 'pass'],
      [4096, 'fail'],
    ]);
  });
});

describe('the budget file', () => {
  it('reads sizes, metric names and site budgets', () => {
    const b = parseBudgetFile(
      JSON.stringify({
        max: { total: '50MB', 'end-bytes': '1MiB', 'total-blocks': 1000 },
        maxIncrease: '5%',
        increaseMetrics: ['total', 'peak-blocks'],
        sites: [
          {
            function: 'parse*',
            file: 'src/**',
            match: 'site',
            max: { end: 4096 },
            maxIncrease: '1KB',
          },
        ],
      }),
    );
    expect(b).toEqual({
      max: { totalBytes: 50_000_000, endBytes: 1_048_576, totalBlocks: 1000 },
      maxIncrease: { percent: 5 },
      increaseMetrics: ['totalBytes', 'peakBlocks'],
      sites: [
        {
          function: 'parse*',
          file: 'src/**',
          match: 'site',
          max: { endBytes: 4096 },
          maxIncrease: { amount: 1000 },
        },
      ],
    });
    expect(parseIncrease('0.5%')).toEqual({ percent: 0.5 });
  });

  it('says what is wrong', () => {
    expect(() => parseBudgetFile('{"max": {"total": "lots"}}')).toThrow(
      /max.total: not a size: "lots"/,
    );
    expect(() => parseBudgetFile('{"max": {"heap": 1}}')).toThrow(/unknown metric "heap"/);
    expect(() => parseBudgetFile('{"maxTotal": 1}')).toThrow(/unknown field "maxTotal"/);
    expect(() => parseBudgetFile('{"sites": [{"max": {"total": 1}}]}')).toThrow(
      /sites\[0\] needs a "function" or a "file" pattern/,
    );
    expect(() => parseBudgetFile('{"maxIncrease": "five"}')).toThrow(/not an increase: "five"/);
    expect(() => parseBudgetFile('{"max": ')).toThrow(/not valid JSON/);
  });
});

describe('limits on each function, file or package', () => {
  // Self total bytes: parseRow 1,000, set 200, render 300, load 0.
  // Inclusive: parseRow 1,200 (set is its callee), load 1,500 (every stack).
  const p = profile();
  const groups = (r: ReturnType<typeof checkProfile>) =>
    r.rules.map((x) => [x.status, x.group, x.actual]);

  it('passes when every function keeps within, naming the largest', () => {
    const r = checkProfile(p, { groups: { by: 'function', max: { totalBytes: 1000 } } });
    expect(r.status).toBe('pass');
    expect(groups(r)).toEqual([['pass', 'parseRow (src/csv/parse.js)', 1000]]);
  });

  it('fails with one rule for each function over the limit, by self figures', () => {
    const r = checkProfile(p, { groups: { by: 'function', max: { totalBytes: 250 } } });
    expect(r.status).toBe('fail');
    expect(groups(r)).toEqual([
      ['fail', 'parseRow (src/csv/parse.js)', 1000],
      ['fail', 'render (src/ui/view.js)', 300],
    ]);
  });

  it('checks inclusive figures when asked, and files and packages', () => {
    const inclusive = checkProfile(p, {
      groups: { by: 'function', figures: 'inclusive', max: { totalBytes: 1200 } },
    });
    expect(groups(inclusive)).toEqual([['fail', 'load (src/app.js)', 1500]]);
    const files = checkProfile(p, { groups: { by: 'file', max: { endBytes: 199 } } });
    expect(groups(files)).toEqual([['fail', 'src/cache/lru.js', 200]]);
    const packages = checkProfile(p, { groups: { by: 'package', max: { totalBytes: 1500 } } });
    expect(groups(packages)).toEqual([['pass', '[own code]', 1500]]);
  });

  it('checks the growth of each function against the same function of the baseline', () => {
    const twice = profile(2); // total bytes doubled, peak and end the same
    const ok = checkProfile(
      twice,
      { groups: { by: 'function', maxIncrease: { percent: 100 } } },
      p,
    );
    expect(ok.status).toBe('pass');
    const over = checkProfile(
      twice,
      { groups: { by: 'function', maxIncrease: { percent: 99 } } },
      p,
    );
    expect(
      over.rules.filter((x) => x.status === 'fail').map((x) => [x.group, x.actual, x.limit]),
    ).toEqual([
      ['parseRow (src/csv/parse.js)', 2000, 1990],
      ['set (src/cache/lru.js)', 400, 398],
      ['render (src/ui/view.js)', 600, 597],
    ]);
    expect(over.rules.filter((x) => x.status === 'pass').map((x) => x.metric)).toEqual([
      'peakBytes',
      'endBytes',
    ]);
  });
});

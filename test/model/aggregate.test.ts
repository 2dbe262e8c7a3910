// Self and inclusive figures of each grouping on a hand-built profile where they are
// known: a recursive parser, a helper called from two places, a package and Node's files.
import { describe, expect, it } from 'vitest';
import {
  groupedProfile,
  groupKey,
  groupProgramPoints,
  packageOf,
} from '../../src/model/aggregate.js';
import { ProfileBuilder } from '../../src/model/builder.js';
import { totals } from '../../src/model/metrics.js';
import type { Profile } from '../../src/model/profile.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

const MAIN = 'main (src/app.js:1:1)';
const PARSE = 'parse (src/parser.js:10:3)';
const PARSE2 = 'parse (src/parser.js:10:3)'; // the same function, recursing
const HELPER = 'helper (src/util.js:5:1)';
const LODASH = 'clone (node_modules/lodash/clone.js:3:1)';
const BABEL = 'transform (node_modules/@babel/core/lib/index.js:9:2)';
const READ = 'readFileSync (node:fs:441:22)';

/** [frames, total bytes, total blocks, end bytes]; peak = total / 2. */
const SITES: [string[], number, number, number][] = [
  [[PARSE, PARSE2, PARSE], 100, 10, 10], // parse ← parse ← parse, no main
  [[PARSE, MAIN], 200, 20, 0],
  [[HELPER, PARSE, MAIN], 40, 4, 40],
  [[HELPER, MAIN], 60, 6, 0],
  [[LODASH, HELPER, MAIN], 1000, 1, 1000],
  [[BABEL, MAIN], 300, 3, 0],
  [[READ, MAIN], 500, 5, 0],
  [['push', PARSE, MAIN], 7, 1, 7],
];

function profile(): Profile {
  const b = new ProfileBuilder(NODE_HEAP_HEADER);
  for (const [frames, tb, tbk, eb] of SITES) {
    b.add({
      frames,
      totalBytes: tb,
      totalBlocks: tbk,
      totalLifetimes: 0,
      maxBytes: tb,
      maxBlocks: tbk,
      peakBytes: tb / 2,
      peakBlocks: 0,
      endBytes: eb,
      endBlocks: eb > 0 ? 1 : 0,
    });
  }
  return b.build();
}

const byKey = (p: Profile, by: 'function' | 'file' | 'package') => {
  const g = groupProgramPoints(p, by);
  const out: Record<string, { self: number; incl: number; selfEnd: number; inclEnd: number }> = {};
  g.keys.forEach((k, i) => {
    out[k] = {
      self: g.self[i]!.totalBytes!,
      incl: g.inclusive[i]!.totalBytes!,
      selfEnd: g.self[i]!.endBytes!,
      inclEnd: g.inclusive[i]!.endBytes!,
    };
  });
  return out;
};

describe('groupKey', () => {
  it('names functions by name and file, anonymous ones with their position', () => {
    expect(groupKey('function', PARSE)).toBe('parse (src/parser.js)');
    expect(groupKey('function', '(anonymous) (src/a.js:3:10)')).toBe('(anonymous) (src/a.js:3:10)');
    expect(groupKey('function', 'push')).toBe('push');
    expect(groupKey('function', '0x1091A0: make_buf (prog.c:8)')).toBe('make_buf (prog.c)');
    expect(groupKey('file', PARSE)).toBe('src/parser.js');
    expect(groupKey('file', 'push')).toBe('[no file]');
  });
  it('finds packages, scoped ones whole, the last node_modules winning', () => {
    expect(packageOf('node_modules/lodash/clone.js')).toBe('lodash');
    expect(packageOf('/x/node_modules/@babel/core/lib/index.js')).toBe('@babel/core');
    expect(packageOf('node_modules/a/node_modules/b/i.js')).toBe('b');
    expect(packageOf('node:fs')).toBe('node');
    expect(packageOf('src/app.js')).toBe('[own code]');
    expect(packageOf(undefined)).toBe('[no file]');
  });
});

describe('groupProgramPoints', () => {
  const p = profile();
  const total = totals(p).totalBytes;

  it('by function: self at the allocation site, inclusive once per stack (recursion too)', () => {
    const f = byKey(p, 'function');
    expect(f['parse (src/parser.js)']).toEqual({
      self: 100 + 200,
      incl: 100 + 200 + 40 + 7,
      selfEnd: 10,
      inclEnd: 10 + 40 + 7,
    });
    expect(f['helper (src/util.js)']).toEqual({
      self: 40 + 60,
      incl: 40 + 60 + 1000,
      selfEnd: 40,
      inclEnd: 40 + 1000,
    });
    expect(f['main (src/app.js)']!.self).toBe(0);
    // main is in every stack but the first.
    expect(f['main (src/app.js)']!.incl).toBe(total - 100);
    expect(f.push).toEqual({ self: 7, incl: 7, selfEnd: 7, inclEnd: 7 });
    const selfSum = Object.values(f).reduce((a, x) => a + x.self, 0);
    expect(selfSum).toBe(total);
  });

  it('counts program points per group, self and inclusive', () => {
    const g = groupProgramPoints(p, 'function');
    const i = g.keys.indexOf('parse (src/parser.js)');
    expect(g.sitesSelf[i]).toBe(2);
    expect(g.sitesInclusive[i]).toBe(4);
  });

  it('by file and by package', () => {
    const f = byKey(p, 'file');
    expect(f['src/parser.js']!.self).toBe(300);
    expect(f['src/parser.js']!.incl).toBe(347);
    expect(f['node:fs']!.self).toBe(500);
    expect(f['[no file]']!.self).toBe(7);
    const k = byKey(p, 'package');
    expect(k.lodash).toEqual({ self: 1000, incl: 1000, selfEnd: 1000, inclEnd: 1000 });
    expect(k['@babel/core']!.self).toBe(300);
    expect(k.node!.self).toBe(500);
    expect(k['[own code]']!.self).toBe(400);
    expect(k['[own code]']!.incl).toBe(total); // every stack has a frame of ours
  });

  it('as a profile: one program point per group with its figures', () => {
    const self = groupedProfile(p, 'function', 'self');
    expect(totals(self).totalBytes).toBe(total);
    // main allocates nothing itself: no program point of its own.
    expect(self.frames).toContain('main (src/app.js)');
    expect(self.programPoints.some((pp) => self.frames[pp.stack[0]!] === 'main (src/app.js)')).toBe(
      false,
    );
    const incl = groupedProfile(p, 'function', 'inclusive');
    const main = incl.programPoints.find((pp) => incl.frames[pp.stack[0]!] === 'main (src/app.js)');
    expect(main?.totalBytes).toBe(total - 100);
  });
});

// Focus, exclude, hide and the default hiding of Node's internals on a hand-built
// profile whose every figure is known: each result is summed here by hand.
import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from '../../src/model/builder.js';
import {
  applyFilters,
  excludeProfile,
  focusProfile,
  framePattern,
  hideFrames,
  hideNodeInternals,
  NODE_INTERNALS_FRAME,
} from '../../src/model/filter.js';
import { totals } from '../../src/model/metrics.js';
import { type Profile, stackFrames } from '../../src/model/profile.js';
import { validateProfile } from '../../src/model/validate.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

const APP = '(anonymous) (src/app.js:1:1)';
const LOAD = 'loadConfig (src/config.js:4:1)';
const READ = 'readFileSync (node:fs:441:22)';
const CJS = 'Module._compile (node:internal/modules/cjs/loader:1483:37)';
const NEXT = 'next';
const BOOT = '(anonymous)';
const RUN = 'run (node:internal/modules/esm/module_job:318:12)';

/** [frames, total bytes, max bytes]; blocks = bytes / 10. */
const SITES: [string[], number, number][] = [
  [['makeRow (src/table.js:9:1)', APP, NEXT, RUN, BOOT], 1000, 100],
  [[READ, LOAD, APP, NEXT, RUN, BOOT], 300, 300],
  [[READ, 'readJson (src/config.js:20:1)', LOAD, APP, NEXT, RUN, BOOT], 200, 150],
  [['push', LOAD, APP, NEXT, RUN, BOOT], 50, 50],
  [[CJS, RUN, BOOT], 70, 70], // Node's own: no frame of the user's
  [['initialize (node:internal/bootstrap/realm:1:1)'], 30, 30],
];

function profile(): Profile {
  const b = new ProfileBuilder(NODE_HEAP_HEADER);
  for (const [frames, tb, mb] of SITES) {
    b.add({
      frames,
      totalBytes: tb,
      totalBlocks: tb / 10,
      maxBytes: mb,
      maxBlocks: 1,
      peakBytes: tb,
      peakBlocks: 1,
      endBytes: 0,
      endBlocks: 0,
    });
  }
  return b.build();
}

const stacks = (p: Profile) =>
  Object.fromEntries(p.programPoints.map((pp) => [stackFrames(p, pp).join(' < '), pp.totalBytes]));

describe('framePattern', () => {
  it('matches the function name or the file, or one of them when told', () => {
    expect(framePattern('read*')(READ)).toBe(true);
    expect(framePattern('node:fs')(READ)).toBe(true);
    expect(framePattern('file:read*')(READ)).toBe(false);
    expect(framePattern('function:node:fs')(READ)).toBe(false);
    expect(framePattern('src/**')(LOAD)).toBe(true);
    expect(framePattern('config.js')(LOAD)).toBe(true);
    expect(framePattern('/^load/')(LOAD)).toBe(true);
    expect(framePattern('/^load/')(READ)).toBe(false);
    const LODASH = 'clone (node_modules/lodash/clone.js:3:1)';
    expect(framePattern('lodash')(LODASH)).toBe(true);
    expect(framePattern('package:clone')(LODASH)).toBe(false);
    expect(framePattern('package:lod*')(LODASH)).toBe(true);
  });
});

describe('focus and exclude', () => {
  it('focus keeps the stacks with a matching frame, exclude the others', () => {
    const p = profile();
    const f = focusProfile(p, ['loadConfig']);
    expect(f.matched).toBe(3);
    expect(totals(f.profile).totalBytes).toBe(300 + 200 + 50);
    const e = excludeProfile(p, ['loadConfig']);
    expect(e.matched).toBe(3);
    expect(totals(e.profile).totalBytes).toBe(1000 + 70 + 30);
    expect(focusProfile(p, ['nothing-like-this']).matched).toBe(0);
  });
});

describe('hideFrames', () => {
  it('drops frames, charges the allocation to the caller and merges equal stacks', () => {
    const p = profile();
    const h = hideFrames(p, ['readJson']);
    expect(h.matched).toBe(1);
    expect(h.framesMatched).toBe(1);
    // The two readFileSync stacks are one once readJson is gone: sums, and the larger max.
    const merged = h.profile.programPoints.find(
      (pp) =>
        stackFrames(h.profile, pp).join(' < ') === [READ, LOAD, APP, NEXT, RUN, BOOT].join(' < '),
    )!;
    expect(merged.totalBytes).toBe(500);
    expect(merged.totalBlocks).toBe(50);
    expect(merged.maxBytes).toBe(300);
    expect(totals(h.profile)).toEqual(totals(p));
    expect(validateProfile(h.profile)).toEqual([]);
  });
});

describe('hideNodeInternals', () => {
  it("charges Node's frames to the calling code and cuts what called the entry point", () => {
    const p = profile();
    const h = hideNodeInternals(p);
    expect(stacks(h.profile)).toEqual({
      [['makeRow (src/table.js:9:1)', APP].join(' < ')]: 1000,
      [[LOAD, APP].join(' < ')]: 300,
      [['readJson (src/config.js:20:1)', LOAD, APP].join(' < ')]: 200,
      [['push', LOAD, APP].join(' < ')]: 50,
      [NODE_INTERNALS_FRAME]: 100,
    });
    expect(totals(h.profile)).toEqual(totals(p));
    expect(validateProfile(h.profile)).toEqual([]);
  });

  it('applyFilters: focus, then exclude, then hide, then the default hiding, with notes', () => {
    const p = profile();
    const r = applyFilters(p, { focus: ['src/**'], exclude: ['readJson'] });
    expect(stacks(r.profile)).toEqual({
      [['makeRow (src/table.js:9:1)', APP].join(' < ')]: 1000,
      [[LOAD, APP].join(' < ')]: 300,
      [['push', LOAD, APP].join(' < ')]: 50,
    });
    expect(r.notes.length).toBe(3);
    expect(r.warnings).toEqual([]);
    const all = applyFilters(p, { internals: true, focus: ['nomatch'] });
    expect(all.warnings).toEqual(['--focus nomatch matched no program point']);
    // Valgrind's frames have no node: file: nothing hidden.
    const v = applyFilters(hideFrames(p, ['node:**']).profile, {});
    expect(v.notes).toEqual([]);
  });
});

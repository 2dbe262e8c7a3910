// Which frames of a tracked region's stacks are the program's: the rules of
// src/measure/sites.ts on hand-made stacks (allocating frame first).

import { describe, expect, it } from 'vitest';
import {
  type FrameRoles,
  programFrames,
  programProfile,
  sitesOf,
} from '../../src/measure/sites.js';
import { ProfileBuilder } from '../../src/model/builder.js';

const INVOKER = 'heapscopeTrackedCall (dist/measure/exact.js:1:1)';
const REGION = 'runInRegion (dist/measure/region.js:1:1)';
const LEDGER = 'handOver (dist/measure/ledger.js:1:1)';
const MEASURE = 'measure (dist/measure/measure.js:1:1)';
const roles: FrameRoles = {
  own: new Set([INVOKER, REGION, LEDGER, MEASURE]),
  callsProgram: new Set([INVOKER, REGION]),
  cut: new Set([INVOKER]),
};
const CALLER = ['test (t.test.ts:5:1)', 'runTest (vitest.js:1:1)'];

describe('programFrames', () => {
  it('keeps the frames above the invoker', () => {
    expect(
      programFrames(
        ['build (a.js:1:1)', 'work (a.js:9:1)', INVOKER, REGION, MEASURE, ...CALLER],
        roles,
      ),
    ).toEqual(['build (a.js:1:1)', 'work (a.js:9:1)']);
  });

  it("drops heapscope's own allocations, also inside node's functions it calls", () => {
    expect(programFrames([LEDGER, REGION, MEASURE, ...CALLER], roles)).toBeUndefined();
    expect(programFrames(['stop (node:v8:1:1)', LEDGER, REGION, ...CALLER], roles)).toBeUndefined();
    expect(programFrames([INVOKER, REGION, ...CALLER], roles)).toBeUndefined();
  });

  it('keeps a group nested in the measured function, without its frames', () => {
    const stack = ['leaf (a.js:1:1)', REGION, 'inner (a.js:3:1)', INVOKER, REGION, ...CALLER];
    expect(programFrames(stack, roles)).toEqual(['leaf (a.js:1:1)', 'inner (a.js:3:1)']);
    // ... but not that group's bookkeeping.
    expect(
      programFrames([LEDGER, REGION, 'inner (a.js:3:1)', INVOKER, ...CALLER], roles),
    ).toBeUndefined();
  });

  it('keeps stacks that never pass through heapscope (continuations after an await)', () => {
    expect(programFrames(['later (a.js:7:1)', '(anonymous)'], roles)).toEqual([
      'later (a.js:7:1)',
      '(anonymous)',
    ]);
    expect(programFrames([], roles)).toEqual(['(no JavaScript stack)']);
  });
});

describe('programProfile and sitesOf', () => {
  it('merges stacks that become equal and sorts sites by bytes', () => {
    const b = new ProfileBuilder({
      mode: 'node-heap',
      verb: 'Allocated',
      hasLifetimes: true,
      hasAccesses: false,
      timeUnit: 'µs',
      timeUnitLarge: 's',
      cmd: 'x',
      pid: 1,
      endTime: 10,
    });
    const add = (frames: string[], bytes: number, end: number) =>
      b.add({
        frames,
        totalBytes: bytes,
        totalBlocks: bytes / 8,
        endBytes: end,
        endBlocks: end / 8,
      });
    add(['a (x.js:1:1)', INVOKER, REGION, ...CALLER], 80, 16);
    add(['a (x.js:1:1)', INVOKER, REGION, MEASURE, ...CALLER], 40, 8);
    add(['b (x.js:2:1)', INVOKER, ...CALLER], 800, 0);
    add([LEDGER, REGION, ...CALLER], 9999, 9999);
    const p = programProfile(b.build(), roles);
    const sites = sitesOf(p);
    expect(
      sites.map((s) => [s.stack, s.allocatedBytes, s.allocatedBlocks, s.retainedBytes]),
    ).toEqual([
      [['b (x.js:2:1)'], 800, 100, 0],
      [['a (x.js:1:1)'], 120, 15, 24],
    ]);
    expect(p.frames).not.toContain(LEDGER);
  });
});

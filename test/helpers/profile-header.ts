import type { ProfileHeader } from '../../src/model/builder.js';

/** The header of a hand-built heapscope-like profile (100 µs run, peak at 50 µs). */
export const NODE_HEAP_HEADER: ProfileHeader = {
  mode: 'node-heap',
  verb: 'Allocated',
  hasLifetimes: true,
  hasAccesses: false,
  timeUnit: 'µs',
  timeUnitLarge: 's',
  shortLivedThreshold: 1000,
  cmd: 'node app.js',
  pid: 1,
  endTime: 100,
  peakTime: 50,
};

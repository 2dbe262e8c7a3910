// The one metrics table: every list of metrics (report totals and rows, the CLI's names,
// the viewer's sort menu, the tree's figures) comes from it. Figures checked against
// sums done by hand over a profile built here.
import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from '../../src/model/builder.js';
import {
  ADDITIVE_METRICS,
  availableMetrics,
  availableSortMetrics,
  figuresOf,
  findMetric,
  METRICS,
  REPORTED_METRICS,
  reportedFigures,
  SORT_METRICS,
  totals,
} from '../../src/model/metrics.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

function twoSites(hasAccesses = false) {
  const b = new ProfileBuilder({ ...NODE_HEAP_HEADER, hasAccesses });
  const acc = hasAccesses ? { readBytes: 5, writeBytes: 7 } : {};
  b.add({
    frames: ['a (x.js:1:1)'],
    totalBytes: 100,
    totalBlocks: 4,
    totalLifetimes: 40,
    maxBytes: 50,
    maxBlocks: 2,
    peakBytes: 30,
    peakBlocks: 1,
    endBytes: 20,
    endBlocks: 1,
    ...acc,
  });
  b.add({
    frames: ['b (x.js:2:1)'],
    totalBytes: 60,
    totalBlocks: 3,
    totalLifetimes: 30,
    maxBytes: 60,
    maxBlocks: 3,
    peakBytes: 0,
    peakBlocks: 0,
    endBytes: 60,
    endBlocks: 3,
    ...acc,
  });
  return b.build();
}

describe('the metrics table', () => {
  it('names every metric once and finds it by name and by field', () => {
    expect(new Set(METRICS.map((m) => m.name)).size).toBe(METRICS.length);
    for (const m of METRICS) {
      expect(findMetric(m.name)).toBe(m);
      expect(findMetric(m.key)).toBe(m);
    }
    expect(ADDITIVE_METRICS).toEqual(METRICS.filter((m) => m.additive).map((m) => m.key));
    expect(ADDITIVE_METRICS).not.toContain('maxBytes');
  });

  it("gives the viewer's plain sort entries the CLI's names and titles", () => {
    for (const s of SORT_METRICS) {
      const m = METRICS.find((x) => x.key === s.key)!;
      expect(m.additive).toBe(true);
      if (s.id === m.name) {
        expect(s.label('bytes', 'blocks')).toBe(`${m.title} (${m.unit})`);
        expect(s.needs).toBe(m.needs);
      }
    }
    // Every reported metric can be sorted by in the viewer.
    for (const m of REPORTED_METRICS) expect(SORT_METRICS.some((s) => s.id === m.name)).toBe(true);
  });

  it('sums totals and gives rows the reported figures, by hand', () => {
    const p = twoSites();
    expect(totals(p)).toEqual({
      totalBytes: 160,
      totalBlocks: 7,
      peakBytes: 30,
      peakBlocks: 1,
      endBytes: 80,
      endBlocks: 4,
    });
    expect(reportedFigures(p, p.programPoints[0]!)).toEqual({
      totalBytes: 100,
      totalBlocks: 4,
      peakBytes: 30,
      peakBlocks: 1,
      endBytes: 20,
      endBlocks: 1,
    });
    const withAcc = twoSites(true);
    expect(totals(withAcc).readBytes).toBe(10);
    expect(totals(withAcc).writeBytes).toBe(14);
    expect(figuresOf(p.programPoints[1]!, p).readBytes).toBeNaN();
    expect(figuresOf(p.programPoints[1]!, p).totalLifetimes).toBe(30);
  });

  it('offers only what every program point carries', () => {
    const p = twoSites();
    expect(availableMetrics(p).map((m) => m.name)).toEqual([
      'total-bytes',
      'total-blocks',
      'peak-bytes',
      'peak-blocks',
      'end-bytes',
      'end-blocks',
      'max-bytes',
      'max-blocks',
      'lifetimes',
    ]);
    expect(availableSortMetrics(p).map((m) => m.id)).not.toContain('reads');
    expect(availableSortMetrics(twoSites(true)).map((m) => m.id)).toContain('reads');
  });
});

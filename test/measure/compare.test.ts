// compare(): candidates measured in turns, medians side by side, per element; the
// table it prints is made from the same rows it returns. Needs `npm run build`.

import { describe, expect, it } from 'vitest';
import { compare } from '../../dist/index.js';

const n = 10_000;
/** 48 + 8n bytes: a JSArray and its FixedArray of Smis. */
const smis = () => new Array(n).fill(0);
/**
 * 48 + 48n bytes retained: the same, plus n `{a, b}` objects of 40 bytes. Allocated:
 * unoptimized code puts a 16-byte memento behind each literal object, and on a busy
 * machine the measured calls may run before the optimized code is ready (seen in CI:
 * 640,096 bytes, 48 + 64n + 48), so anything from 48 + 48n to 48 + 64n.
 */
const pairs = () => {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = { a: i, b: i };
  return a;
};
class Pair {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {}
}

describe('compare', () => {
  it('measures each candidate and gives figures per element', async () => {
    const c = await compare({ smis, pairs }, { elements: n, runs: 5, warmup: 3, print: false });
    expect(c.rows.map((r) => r.name)).toEqual(['smis', 'pairs']);
    const [a, b] = c.rows;
    // Retained bytes are the medians of five measurements, each exact when V8 keeps
    // nothing of its own for the call (an allocation site or feedback: +48 B in most
    // runs when background compiles were slowed down): within the stated 1 KB.
    const smisBytes = 48 + 8 * n;
    const pairsBytes = 48 + 48 * n;
    expect(Math.abs(a!.retainedBytes - smisBytes)).toBeLessThan(1024);
    expect(Math.abs(b!.retainedBytes - pairsBytes)).toBeLessThan(1024);
    expect(a!.retainedBytesPerElement).toBe(a!.retainedBytes / n);
    expect(b!.retainedVsBest).toBeCloseTo(pairsBytes / smisBytes, 1);
    expect(b!.retainedVsBest).toBe(b!.retainedBytes / a!.retainedBytes);
    expect(a!.retainedVsBest).toBe(1);
    expect(b!.allocatedBytes).toBeGreaterThanOrEqual(pairsBytes - 1024);
    expect(b!.allocatedBytes).toBeLessThanOrEqual(48 + 64 * n + 1024);
    expect(b!.allocatedBytesPerElement).toBe(b!.allocatedBytes / n);
    // The table shows the same rows.
    expect(c.table).toMatch(
      /^candidate +allocated +alloc \/ element +retained +retained \/ element +retained vs best$/m,
    );
    expect(c.table).toMatch(/^smis +[\d,]+ B +[\d.]+ B +80,\d{3} B +8\.\d\d B +1\.00×$/m);
    // 6.00× when both are exact; 5.99× was seen with smis at +48 B.
    expect(c.table).toMatch(
      /^pairs +[\d,]+ B +[\d.]+ B +480,\d{3} B +48\.\d B +(?:5\.9\d|6\.0\d)×$/m,
    );
    expect(c.table).toContain(`${a!.retainedBytes.toLocaleString('en-US')} B`);
    expect(c.table).toContain(`${b!.allocatedBytes.toLocaleString('en-US')} B`);
    expect(c.table).toMatch(/\(10,000 elements, one call, median of 5 runs; cheap mode\)/);
  });

  it('gives per-operation figures for small operations', async () => {
    const ring = new Array(1024).fill(null);
    let i = 0;
    const c = await compare(
      {
        object: () => {
          ring[i++ & 1023] = new Pair(i, i);
        },
        nothing: () => i++,
      },
      { iterations: 20_000, print: false },
    );
    expect(c.rows[0]!.allocatedBytes).toBeCloseTo(40, 0);
    expect(c.rows[1]!.allocatedBytes).toBeCloseTo(0, 0);
    expect(c.table).toMatch(/allocated \/ op/);
  });

  it('returns the table and prints nothing', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      chunks.push(s);
      return true;
    }) as typeof process.stdout.write;
    try {
      const c = await compare({ smis }, { elements: n, runs: 1 });
      expect(c.table).toMatch(/^candidate/);
      expect(chunks.join('')).toBe('');
    } finally {
      process.stdout.write = write;
    }
  });
});

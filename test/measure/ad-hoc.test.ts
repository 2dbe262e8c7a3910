/**
 * Ad-hoc profiling: known functions report known numbers of events of known weights,
 * and the DHAT ad-hoc profile holds exactly those counts at exactly those stacks; the
 * file opens in every reading command. Needs `npm run build`.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// The built package: the Profiler's module graph holds CommonJS files vitest does not load from src.
import { adHocEvent, HeapscopeStateError, Profiler } from '../../dist/index.js';
import { readDhat } from '../../src/formats/dhat.js';
import { totals } from '../../src/model/metrics.js';
import type { Profile } from '../../src/model/profile.js';
import { validateProfile } from '../../src/model/validate.js';
import { heapscope, tempDir } from '../helpers/heapscope.js';

const SOURCE = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
const dir = tempDir('heapscope-ad-hoc-test-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The frame string of the call `callee` on the only line holding `code`. */
function frameAt(fn: string, code: string, callee: string): string {
  const lines = SOURCE.flatMap((l, i) => (l.includes(code) && !l.includes(`'${code}'`) ? [i] : []));
  if (lines.length !== 1) throw new Error(`"${code}" is on ${lines.length} lines`);
  const line = lines[0]!;
  return `${fn} (test/measure/ad-hoc.test.ts:${line + 1}:${SOURCE[line]!.indexOf(callee) + 1})`;
}

/** The program points whose innermost frame is `frame`. */
function at(profile: Profile, frame: string) {
  return profile.programPoints.filter((pp) => profile.frames[pp.stack[0]!] === frame);
}

// The workload: each event comes from one line.
function sendBytes(n: number): void {
  adHocEvent(n); // the send site
}
function flush(chunks: number, size: number): void {
  for (let i = 0; i < chunks; i++) sendBytes(size); // flush calls send
}
function retry(): void {
  adHocEvent(); // the retry site
}

async function record(chunks: number, size: number, retries: number, file: string) {
  const profiler = Profiler.start({ mode: 'ad-hoc', file });
  flush(chunks, size);
  for (let i = 0; i < retries; i++) retry();
  return profiler.stop();
}

describe('Profiler in ad-hoc mode', () => {
  it('counts every event with its weight at its call stack, exactly', async () => {
    adHocEvent(1000); // before start: not counted
    const result = await record(1234, 7, 37, join(dir, 'a.json'));
    adHocEvent(1000); // after stop: not counted
    const profile = result.profile;
    expect(validateProfile(profile)).toEqual([]);
    expect(profile.mode).toBe('ad-hoc');
    expect(profile.units).toEqual({ byte: 'unit', bytes: 'units', blocks: 'events' });
    expect(profile.hasLifetimes).toBe(false);

    const send = at(profile, frameAt('sendBytes', 'the send site', 'adHocEvent'));
    expect(send).toHaveLength(1);
    expect(send[0]).toMatchObject({ totalBytes: 1234 * 7, totalBlocks: 1234 });
    expect(profile.frames[send[0]!.stack[1]!]).toBe(
      frameAt('flush', 'flush calls send', 'sendBytes'),
    );
    const retries = at(profile, frameAt('retry', 'the retry site', 'adHocEvent'));
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ totalBytes: 37, totalBlocks: 37 });

    expect(profile.programPoints).toHaveLength(2);
    expect(result).toMatchObject({ totalBytes: 1234 * 7 + 37, totalBlocks: 1234 + 37 });
    expect(result.summary[0]).toBe(`heapscope: Total:     ${1234 * 7 + 37} units in 1271 events`);
  });

  it('writes a DHAT ad-hoc file that reads back to the same profile', async () => {
    const result = await record(10, 3, 2, join(dir, 'b.json'));
    const text = readFileSync(result.file, 'utf8');
    const raw = JSON.parse(text);
    expect(raw).toMatchObject({ mode: 'ad-hoc', verb: 'Occurred', bklt: false, bkacc: false });
    expect(raw).toMatchObject({ bu: 'unit', bsu: 'units', bksu: 'events' });
    expect(readDhat(text)).toEqual(result.profile);
  });

  it('keeps separate stacks apart and merges the same stack', async () => {
    const profiler = Profiler.start({ mode: 'ad-hoc', file: join(dir, 'c.json') });
    for (let i = 0; i < 5; i++) sendBytes(i); // 0+1+2+3+4 at the loop's line
    sendBytes(100); // a second call line
    const { profile } = await profiler.stop();
    const send = at(profile, frameAt('sendBytes', 'the send site', 'adHocEvent'));
    expect(send.map((pp) => [pp.totalBytes, pp.totalBlocks]).sort((a, b) => a[0]! - b[0]!)).toEqual(
      [
        [10, 5],
        [100, 1],
      ],
    );
  });

  it('refuses weights that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '3']) {
      expect(() => adHocEvent(bad as number)).toThrow(RangeError);
    }
    expect(() => adHocEvent(0)).not.toThrow();
  });

  it('runs one ad-hoc profiler at a time, and a new one after stop', async () => {
    const first = Profiler.start({ mode: 'ad-hoc', file: join(dir, 'd.json') });
    expect(() => Profiler.start({ mode: 'ad-hoc', file: join(dir, 'e.json') })).toThrow(
      HeapscopeStateError,
    );
    expect(first.phase).toBe('running');
    await first.stop();
    expect(first.phase).toBe('stopped');
    await expect(first.stop()).rejects.toThrow(HeapscopeStateError);
    const second = await record(1, 5, 0, join(dir, 'e.json'));
    expect(second.totalBytes).toBe(5);
  });

  it('runs beside a heap Profiler, each counting its own', async () => {
    const heap = Profiler.start({ file: join(dir, 'heap.json'), peakSampleInterval: 0 });
    const result = await record(20, 4, 3, join(dir, 'beside.json'));
    const heapResult = await heap.stop();
    expect(result).toMatchObject({ totalBytes: 83, totalBlocks: 23 });
    expect(heapResult.profile.mode).not.toBe('ad-hoc');
    expect(heapResult.totalBlocks).toBeGreaterThan(0);
  });

  it('refuses an unknown mode and a bad stack depth', () => {
    expect(() => Profiler.start({ mode: 'bogus' as 'heap' })).toThrow(RangeError);
    expect(() => Profiler.start({ mode: 'ad-hoc', stackDepth: 0 })).toThrow(RangeError);
  });

  it('keeps stackDepth frames per stack', async () => {
    const profiler = Profiler.start({ mode: 'ad-hoc', file: join(dir, 'f.json'), stackDepth: 1 });
    flush(3, 2);
    const { profile } = await profiler.stop();
    expect(profile.programPoints).toHaveLength(1);
    expect(profile.programPoints[0]!.stack).toHaveLength(1);
  });
});

describe('the ad-hoc file in the reading commands', () => {
  const base = join(dir, 'base.json');
  const head = join(dir, 'head.json');

  it('report, diff, check and view read it in its units', async () => {
    await record(100, 8, 10, base);
    await record(150, 8, 10, head);
    const t = totals(readDhat(readFileSync(head, 'utf8')));
    expect(t).toMatchObject({ totalBytes: 150 * 8 + 10, totalBlocks: 160 });

    const report = heapscope(['report', head]);
    expect(report.status).toBe(0);
    expect(report.stdout).toContain('Total:     1,210 units in 160 events');
    expect(report.stdout).toContain('by total units');
    expect(report.stdout).toContain('total 1,200 units in 150 events');

    const json = JSON.parse(heapscope(['report', head, '--json']).stdout);
    expect(json.totals).toMatchObject({ totalBytes: 1210, totalBlocks: 160 });

    const diff = heapscope(['diff', base, head, '--json']);
    expect(diff.status).toBe(0);
    const d = JSON.parse(diff.stdout);
    expect(d.totals.totalBytes).toMatchObject({ base: 810, head: 1210 });

    expect(heapscope(['check', head, '--max-total', '1210']).status).toBe(0);
    expect(heapscope(['check', head, '--max-total', '1209']).status).toBe(1);

    const html = join(dir, 'view.html');
    const view = heapscope(['view', head, '--html', html]);
    expect(view.status).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('sendBytes');
  });
});

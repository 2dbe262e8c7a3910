// readDhat / writeDhat on real DHAT files (test/fixtures/dhat, see its README): the
// figures read match the ones counted by hand from the fixtures' programs, a profile
// round-trips through writeDhat unchanged, and files Valgrind's viewer would reject
// are rejected with a DhatFormatError that says why.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DhatFormatError, readDhat, writeDhat } from '../../src/formats/dhat.js';
import { totals } from '../../src/model/metrics.js';
import { type Profile, type ProgramPoint, stackFrames } from '../../src/model/profile.js';

const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url), 'utf8');

const HEAP = 'valgrind-3.19/valgrind-heap.json';
const AD_HOC = 'valgrind-3.19/valgrind-ad-hoc.json';
const COPY = 'valgrind-3.19/valgrind-copy.json';
const DHAT_RS = 'dhat-rs/dhat-rs-heap.json';
const FIXTURES = [HEAP, AD_HOC, COPY, DHAT_RS];

/** The one program point whose stack has a frame containing `name`. */
function site(profile: Profile, name: string): ProgramPoint {
  const found = profile.programPoints.filter((pp) =>
    stackFrames(profile, pp).some((f) => f.includes(name)),
  );
  expect(found, `program points with a frame "${name}"`).toHaveLength(1);
  return found[0]!;
}

describe.each(FIXTURES)('%s', (path) => {
  const text = fixture(path);

  it('is read', () => {
    const profile = readDhat(text);
    const raw = JSON.parse(text);
    expect(profile.frames[0]).toBe('[root]');
    expect(profile.frames).toEqual(raw.ftbl);
    expect(profile.programPoints).toHaveLength(raw.pps.length);
    expect(profile.programPoints.map((pp) => pp.stack)).toEqual(
      raw.pps.map((pp: { fs: number[] }) => pp.fs),
    );
  });

  it('round-trips through writeDhat to the same Profile and the same JSON', () => {
    const profile = readDhat(text);
    const written = writeDhat(profile);
    expect(readDhat(written)).toEqual(profile);
    expect(JSON.parse(written)).toEqual(JSON.parse(text));
  });

  it('does not change a parsed value it is given', () => {
    const parsed = JSON.parse(text);
    readDhat(parsed);
    expect(parsed).toEqual(JSON.parse(text));
  });
});

describe('figures counted by hand', () => {
  it('valgrind-heap: the four sites of valgrind-heap.c and printf', () => {
    const p = readDhat(fixture(HEAP));
    expect(p).toMatchObject({
      mode: 'heap',
      verb: 'Allocated',
      hasLifetimes: true,
      hasAccesses: true,
      timeUnit: 'instrs',
      cmd: './prog',
      peakTime: 345_977,
      endTime: 387_340,
    });
    expect(p.programPoints).toHaveLength(5);
    // make_buf(64) 1,000 times, each freed at once: nothing live at the peak or the end.
    expect(site(p, 'make_buf')).toMatchObject({
      totalBytes: 1000 * 64,
      totalBlocks: 1000,
      peakBytes: 0,
      endBytes: 0,
    });
    // 1,000 16-byte Recs, all live at the peak, freed before the end.
    expect(site(p, 'make_rec')).toMatchObject({
      totalBytes: 1000 * 16,
      totalBlocks: 1000,
      peakBytes: 16_000,
      peakBlocks: 1000,
      endBytes: 0,
      endBlocks: 0,
    });
    // malloc(16) then realloc to 32, 64, …, 4096: 9 blocks; the 4,096 B one is live at the peak.
    expect(site(p, 'prog.c:34')).toMatchObject({
      totalBytes: 16 + 32 + 64 + 128 + 256 + 512 + 1024 + 2048 + 4096,
      totalBlocks: 9,
      peakBytes: 4096,
      peakBlocks: 1,
      endBytes: 0,
    });
    // calloc(1, 4096), never freed.
    expect(site(p, 'leak_me')).toMatchObject({
      totalBytes: 4096,
      totalBlocks: 1,
      peakBytes: 0,
      endBytes: 4096,
      endBlocks: 1,
    });
    expect(site(p, 'printf')).toMatchObject({ totalBytes: 4096, totalBlocks: 1, endBytes: 0 });
    expect(totals(p)).toEqual({
      totalBytes: 64_000 + 16_000 + 8176 + 4096 + 4096,
      totalBlocks: 1000 + 1000 + 9 + 1 + 1,
      peakBytes: 16_000 + 4096,
      peakBlocks: 1001,
      endBytes: 4096,
      endBlocks: 1,
      readBytes: 9087,
      writeBytes: 81_087,
    });
  });

  it('valgrind-ad-hoc: events, no lifetimes', () => {
    const p = readDhat(fixture(AD_HOC));
    expect(p).toMatchObject({ mode: 'ad-hoc', verb: 'Occurred', hasLifetimes: false });
    expect(site(p, 'adhoc.c:6')).toMatchObject({ totalBytes: 45, totalBlocks: 10 });
    expect(site(p, 'adhoc.c:7')).toMatchObject({ totalBytes: 100, totalBlocks: 1 });
    expect(totals(p)).toEqual({ totalBytes: 145, totalBlocks: 11 });
    expect(p.programPoints[0]!.peakBytes).toBeUndefined();
    expect(p.peakTime).toBeUndefined();
  });

  it('valgrind-copy: bytes copied, no lifetimes', () => {
    const p = readDhat(fixture(COPY));
    expect(p).toMatchObject({ mode: 'copy', verb: 'Copied', hasLifetimes: false });
    expect(p.programPoints).toHaveLength(6);
    expect(site(p, 'memmove')).toMatchObject({ totalBytes: 100, totalBlocks: 1 });
    expect(totals(p)).toEqual({
      totalBytes: 15 + 122 + 100 + 32 + 16 + 100,
      totalBlocks: 1 + 10 + 10 + 1 + 1 + 1,
    });
  });

  it('dhat-rs: true per-site maxima, µs times', () => {
    const p = readDhat(fixture(DHAT_RS));
    expect(p).toMatchObject({
      mode: 'rust-heap',
      hasLifetimes: true,
      hasAccesses: false,
      timeUnit: 'µs',
      timeUnitLarge: 's',
      shortLivedThreshold: 10,
      peakTime: 247,
      endTime: 262,
    });
    expect(site(p, 'LineWriter<W>::new')).toMatchObject({
      totalBytes: 1024,
      maxBytes: 1024,
      peakBytes: 1024,
      endBytes: 1024,
      totalLifetimes: 26,
    });
    expect(site(p, 'ToString>::to_string')).toMatchObject({
      totalBytes: 13,
      maxBytes: 13,
      peakBytes: 13,
      endBytes: 0,
    });
    expect(site(p, 'pthread_mutex::Mutex')).toMatchObject({
      totalBytes: 64,
      maxBytes: 64,
      endBytes: 64,
    });
    expect(totals(p)).toEqual({
      totalBytes: 1101,
      totalBlocks: 3,
      peakBytes: 1101,
      peakBlocks: 3,
      endBytes: 1088,
      endBlocks: 2,
    });
  });
});

describe('files the viewer would reject', () => {
  const heap = () => JSON.parse(fixture(HEAP));

  /** The error readDhat throws for `input` (text, or a value to serialise). */
  function errorOf(input: unknown): DhatFormatError {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    try {
      readDhat(text);
    } catch (e) {
      expect(e).toBeInstanceOf(DhatFormatError);
      return e as DhatFormatError;
    }
    throw new Error('readDhat accepted the file');
  }

  it('truncated text', () => {
    const text = fixture(HEAP);
    expect(errorOf(text.slice(0, Math.floor(text.length / 2))).message).toMatch(
      /not valid JSON.*truncated/,
    );
    expect(errorOf('').message).toMatch(/not valid JSON/);
  });

  it('JSON that is not DHAT', () => {
    expect(errorOf({ a: 1 }).message).toMatch(/not a DHAT file.*dhatFileVersion/);
    expect(errorOf([1, 2]).message).toMatch(/not a DHAT file/);
    expect(errorOf('null').message).toMatch(/not a DHAT file/);
  });

  it('a version-1 file', () => {
    expect(errorOf({ ...heap(), dhatFileVersion: 1 }).message).toMatch(
      /version 1.*expected version 2/,
    );
  });

  it('no "tg" although lifetimes are recorded', () => {
    const { tg: _tg, ...noTg } = heap();
    expect(noTg.bklt).toBe(true);
    expect(errorOf(noTg).message).toMatch(/missing a field: tg/);
    const { tuth: _tuth, ...noTuth } = heap();
    expect(errorOf(noTuth).message).toMatch(/missing a field: tuth/);
  });

  it('two program points with the same stack', () => {
    const d = heap();
    d.pps.push({ ...d.pps[0], tb: 1, tbk: 1 });
    expect(errorOf(d).message).toMatch(/program points 0 and 5 have the same stack/);
  });

  it('a program point without the figures "bklt" promises', () => {
    const d = heap();
    delete d.pps[1].gb;
    expect(errorOf(d).message).toMatch(/program point 1 is missing a field: gb/);
  });

  it('a frame index outside the frame table', () => {
    const d = heap();
    d.pps[2].fs = [1, 99];
    expect(errorOf(d).message).toMatch(/program point 2 refers to frame 99/);
  });
});

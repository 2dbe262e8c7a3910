// writePprof / readPprof. What heapscope writes is read back by the `pprof-format`
// decoder (after node:zlib's gunzip), the one Datadog's and Node's pprof tools use, and
// compared with the profile it came from; profiles made with that encoder the way Go
// and Node's pprof tools make them are read; and a CPU profile is refused.

import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  Line,
  Location,
  Function as PprofFunction,
  Profile as PprofProfile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { readDhat } from '../../src/formats/dhat.js';
import { PprofFormatError, readPprof, writePprof } from '../../src/formats/pprof.js';
import { parseFrameForExport } from '../../src/model/frame.js';
import { totals } from '../../src/model/metrics.js';
import { stackFrames } from '../../src/model/profile.js';

const fixture = (path: string) =>
  readDhat(readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url), 'utf8'));
const HEAP = fixture('valgrind-3.19/valgrind-heap.json');
const DHAT_RS = fixture('dhat-rs/dhat-rs-heap.json');

describe('what writePprof writes, decoded by pprof-format', () => {
  const bytes = writePprof(HEAP);
  const decoded = PprofProfile.decode(gunzipSync(bytes));
  const str = (i: number | bigint) => decoded.stringTable.strings[Number(i)]!;

  it('is gzipped', () => {
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
  });

  it("has Go's heap sample types, alloc_space by default, one sample per byte of period", () => {
    expect(decoded.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`)).toEqual([
      'alloc_objects/count',
      'alloc_space/bytes',
      'inuse_objects/count',
      'inuse_space/bytes',
    ]);
    expect(str(decoded.defaultSampleType)).toBe('alloc_space');
    expect(`${str(decoded.periodType!.type)}/${str(decoded.periodType!.unit)}`).toBe('space/bytes');
  });

  it('has one sample per program point, with its four figures', () => {
    expect(decoded.sample).toHaveLength(HEAP.programPoints.length);
    const sum = [0, 0, 0, 0];
    for (const s of decoded.sample) {
      s.value.forEach((v, i) => {
        sum[i]! += Number(v);
      });
    }
    const t = totals(HEAP);
    expect(sum).toEqual([t.totalBlocks, t.totalBytes, t.endBlocks, t.endBytes]);
  });

  it("names each sample's functions, files and lines in the program point's order", () => {
    const fns = new Map(decoded.function.map((f) => [Number(f.id), f]));
    const locs = new Map(decoded.location.map((l) => [Number(l.id), l]));
    decoded.sample.forEach((s, i) => {
      const frames = stackFrames(HEAP, HEAP.programPoints[i]!).map(parseFrameForExport);
      const got = s.locationId.map((id) => {
        const line = locs.get(Number(id))!.line[0]!;
        const fn = fns.get(Number(line.functionId))!;
        return { name: str(fn.name), file: str(fn.filename), line: Number(line.line) };
      });
      expect(got).toEqual(
        frames.map((f) => ({ name: f.name, file: f.file ?? '', line: f.line ?? 0 })),
      );
    });
  });
});

describe('readPprof', () => {
  it.each([
    ['valgrind-heap', HEAP],
    ['dhat-rs', DHAT_RS],
  ])('reads back what writePprof wrote (%s): same sites and figures, end taken as peak', (_, p) => {
    const back = readPprof(writePprof(p));
    expect(back.mode).toBe(p.mode);
    expect(back.cmd).toBe(p.cmd);
    expect(back.hasLifetimes).toBe(p.hasLifetimes);
    const sites = (q: typeof p) =>
      q.programPoints
        .map((pp) => ({
          frames: stackFrames(q, pp),
          figures: [pp.totalBytes, pp.totalBlocks, pp.endBytes, pp.endBlocks],
        }))
        .sort((a, b) => a.frames.join().localeCompare(b.frames.join()));
    expect(sites(back)).toEqual(sites(p));
    for (const pp of back.programPoints) expect(pp.peakBytes).toBe(pp.endBytes);
  });

  it('reads a Go-style heap profile, inlined frames leaf first', () => {
    const strings = new StringTable();
    const s = (x: string) => strings.dedup(x);
    const encoded = new PprofProfile({
      sampleType: [
        'alloc_objects/count',
        'alloc_space/bytes',
        'inuse_objects/count',
        'inuse_space/bytes',
      ].map((t) => new ValueType({ type: s(t.split('/')[0]!), unit: s(t.split('/')[1]!) })),
      function: [
        new PprofFunction({ id: 1, name: s('main.alloc'), filename: s('main.go') }),
        new PprofFunction({ id: 2, name: s('main.helper'), filename: s('main.go') }),
        new PprofFunction({ id: 3, name: s('main.main'), filename: s('main.go') }),
      ],
      location: [
        // helper was inlined into alloc: one location, two lines, the inlined one first.
        new Location({
          id: 1,
          line: [new Line({ functionId: 2, line: 7 }), new Line({ functionId: 1, line: 12 })],
        }),
        new Location({ id: 2, line: [new Line({ functionId: 3, line: 20 })] }),
      ],
      sample: [new Sample({ locationId: [1, 2], value: [10, 640, 2, 128] })],
      stringTable: strings,
      periodType: new ValueType({ type: s('space'), unit: s('bytes') }),
      period: 524288,
    });
    const p = readPprof(gzipSync(encoded.encode()));
    expect(p.programPoints).toHaveLength(1);
    expect(stackFrames(p, p.programPoints[0]!)).toEqual([
      'main.helper (main.go:7)',
      'main.alloc (main.go:12)',
      'main.main (main.go:20)',
    ]);
    expect(p.programPoints[0]).toMatchObject({
      totalBlocks: 10,
      totalBytes: 640,
      endBlocks: 2,
      endBytes: 128,
    });
    expect(p.heapscope).toMatchObject({ capture: 'sampled', sampleInterval: 524288 });
  });

  it('reads an in-use-only profile (objects/space, as Node heap profilers write) and says so', () => {
    const strings = new StringTable();
    const s = (x: string) => strings.dedup(x);
    const encoded = new PprofProfile({
      sampleType: [
        new ValueType({ type: s('objects'), unit: s('count') }),
        new ValueType({ type: s('space'), unit: s('bytes') }),
      ],
      function: [new PprofFunction({ id: 1, name: s('make'), filename: s('app.js') })],
      location: [new Location({ id: 1, line: [new Line({ functionId: 1, line: 3, column: 9 })] })],
      sample: [new Sample({ locationId: [1], value: [4, 160] })],
      stringTable: strings,
    });
    const p = readPprof(encoded.encode());
    expect(stackFrames(p, p.programPoints[0]!)).toEqual(['make (app.js:3:9)']);
    expect(p.programPoints[0]).toMatchObject({ totalBytes: 160, endBytes: 160, endBlocks: 4 });
    expect(p.heapscope?.notes?.join()).toMatch(/no allocation totals/);
  });

  it('refuses a CPU profile, naming its sample types', () => {
    const strings = new StringTable();
    const encoded = new PprofProfile({
      sampleType: [
        new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
        new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
      ],
      stringTable: strings,
    });
    expect(() => readPprof(gzipSync(encoded.encode()))).toThrow(PprofFormatError);
    expect(() => readPprof(gzipSync(encoded.encode()))).toThrow(/samples\/count, cpu\/nanoseconds/);
  });

  it('refuses damaged gzip', () => {
    const bytes = writePprof(HEAP);
    expect(() => readPprof(bytes.subarray(0, bytes.length / 2))).toThrow(/gzip data is damaged/);
  });
});

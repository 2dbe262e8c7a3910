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
import { ProfileBuilder } from '../../src/model/builder.js';
import { parseFrameForExport } from '../../src/model/frame.js';
import { totals } from '../../src/model/metrics.js';
import { stackFrames } from '../../src/model/profile.js';
import { NODE_HEAP_HEADER } from '../helpers/profile-header.js';

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

/**
 * The same profile encoded with the `pprof-format` library's classes, one object per
 * message: the reference the streaming writer's bytes must equal.
 */
function referencePprof(profile: ReturnType<typeof fixture>): Uint8Array {
  const strings = new StringTable();
  const str = (s: string) => strings.dedup(s);
  const lifetimes = profile.hasLifetimes;
  const sampleType = [
    new ValueType({ type: str('alloc_objects'), unit: str('count') }),
    new ValueType({ type: str('alloc_space'), unit: str('bytes') }),
    ...(lifetimes
      ? [
          new ValueType({ type: str('inuse_objects'), unit: str('count') }),
          new ValueType({ type: str('inuse_space'), unit: str('bytes') }),
        ]
      : []),
  ];
  const functions: PprofFunction[] = [];
  const functionIds = new Map<string, number>();
  const locations: Location[] = [];
  const locationIds = new Map<number, number>();
  const locationOf = (frameIndex: number): number => {
    const known = locationIds.get(frameIndex);
    if (known !== undefined) return known;
    const p = parseFrameForExport(profile.frames[frameIndex]!);
    const fnKey = `${p.name}\0${p.file ?? ''}\0${p.line ?? 0}`;
    let fnId = functionIds.get(fnKey);
    if (fnId === undefined) {
      fnId = functions.length + 1;
      functionIds.set(fnKey, fnId);
      functions.push(
        new PprofFunction({
          id: fnId,
          name: str(p.name),
          systemName: str(p.name),
          filename: str(p.file ?? ''),
          startLine: p.line ?? 0,
        }),
      );
    }
    const id = locations.length + 1;
    locations.push(
      new Location({
        id,
        line: [new Line({ functionId: fnId, line: p.line ?? 0, column: p.column ?? 0 })],
      }),
    );
    locationIds.set(frameIndex, id);
    return id;
  };
  const samples = profile.programPoints.map(
    (pp) =>
      new Sample({
        locationId: pp.stack.map(locationOf),
        value: [
          pp.totalBlocks,
          pp.totalBytes,
          ...(lifetimes ? [pp.endBlocks ?? 0, pp.endBytes ?? 0] : []),
        ],
      }),
  );
  // The comments (the DHAT header as JSON), period and duration are taken from the
  // written profile: the other tests check them by reading them back.
  const decoded = PprofProfile.decode(gunzipSync(writePprof(profile)));
  const texts = decoded.stringTable.strings;
  const out = new PprofProfile({
    sampleType,
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    periodType: new ValueType({ type: str('space'), unit: str('bytes') }),
    period: Number(decoded.period),
    durationNanos: Number(decoded.durationNanos),
    comment: decoded.comment.map((c) => str(texts[Number(c)]!)),
    defaultSampleType: str('alloc_space'),
  });
  return out.encode();
}

describe('writePprof against the pprof-format encoder', () => {
  it.each([
    ['Valgrind', HEAP],
    ['dhat-rs', DHAT_RS],
  ])('writes the bytes the library writes (%s)', (_, p) => {
    expect(Buffer.from(gunzipSync(writePprof(p)))).toEqual(Buffer.from(referencePprof(p)));
  });

  it('writes a profile of several megabytes as gzip members that read as one stream', () => {
    // 30,000 sites of 4 frames, functions shared between sites: about 3 MB of protobuf.
    const b = new ProfileBuilder(NODE_HEAP_HEADER);
    for (let i = 0; i < 30_000; i++) {
      b.add({
        frames: [
          `alloc${i} (src/file${i % 50}.js:${i + 1}:3)`,
          `helper${i % 100} (src/helpers.js:${(i % 100) + 1}:1)`,
          'run (src/main.js:10:1)',
          'main (src/main.js:1:1)',
        ],
        totalBytes: 16 * (i + 1),
        totalBlocks: i + 1,
        maxBytes: 16,
        maxBlocks: 1,
        peakBytes: 16,
        peakBlocks: 1,
        endBytes: i % 2 ? 16 : 0,
        endBlocks: i % 2,
      });
    }
    const p = b.build();
    const written = writePprof(p);
    const members = Buffer.from(written).indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 1);
    expect(members, 'a second gzip member').toBeGreaterThan(0);
    expect(Buffer.from(gunzipSync(written))).toEqual(Buffer.from(referencePprof(p)));
    expect(readPprof(written).programPoints).toHaveLength(30_000);
  });
});

/**
 * Number formatting as dh_view.js prints it ("Pretty printers"): grouped numbers with up
 * to two decimals, percentages with up to two decimals, rates per mega time unit. Pure;
 * runs in the browser and in Node (tests compare with dh_view's own text).
 */
import { div, type ThresholdFormat } from '../../model/metrics.js';

/** What the formatters need from a profile. */
export interface FormatSubject {
  endTime: number;
  timeUnit: string;
  timeUnitLarge: string;
  units?: { byte: string; bytes: string; blocks: string };
}

export interface Format extends ThresholdFormat {
  /** Grouped, up to two decimals: `1,234.56`. */
  num(n: number): string;
  perc(n: number, total: number): string;
  perMinstr(n: number): string;
  bytesUnit: string;
  blocksUnit: string;
  blocks(n: number): string;
  bytesAndPercAndRate(n: number, total: number): string;
  blocksAndPercAndRate(n: number, total: number): string;
  avgSizeBytes(n: number): string;
  avgLifetime(n: number): string;
  /** One access count: `-` for zero, `∞` for a latched count. */
  accesses(n: number): string;
}

/** dh_view's formatters for a profile; `locale` undefined means the browser's, as dh_view. */
export function makeFormat(p: FormatSubject, locale?: string): Format {
  const pf = new Intl.NumberFormat(locale, { maximumFractionDigits: 2, style: 'percent' });
  const df = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const bytesUnit = p.units?.bytes ?? 'bytes';
  const blocksUnit = p.units?.blocks ?? 'blocks';
  // dh_view's byteUnit() returns the plural when the file names its units.
  const byteUnit = p.units ? p.units.bytes : 'byte';
  const perc = (n: number, total: number) => pf.format(div(n, total));
  const perMinstr = (n: number) => `${df.format(div(1000000 * n, p.endTime))}/${p.timeUnitLarge}`;
  const bytes = (n: number) => `${df.format(n)} ${bytesUnit}`;
  const blocks = (n: number) => `${df.format(n)} ${blocksUnit}`;
  const time = (n: number) => `${df.format(n)} ${p.timeUnit}`;
  return {
    num: (n) => df.format(n),
    perc,
    perMinstr,
    bytesUnit,
    blocksUnit,
    bytes,
    blocks,
    time,
    bytesAndPerc: (n, t) => `${bytes(n)} (${perc(n, t)})`,
    bytesAndPercAndRate: (n, t) => `${bytes(n)} (${perc(n, t)}, ${perMinstr(n)})`,
    blocksAndPerc: (n, t) => `${blocks(n)} (${perc(n, t)})`,
    blocksAndPercAndRate: (n, t) => `${blocks(n)} (${perc(n, t)}, ${perMinstr(n)})`,
    avgSizeBytes: (n) => `avg size ${bytes(n)}`,
    perByte: (n) => `${df.format(n)}/${byteUnit}`,
    avgLifetime: (n) => `avg lifetime ${time(n)}`,
    accesses: (n) => (n === 0 ? '-' : n === Number.POSITIVE_INFINITY ? '∞' : n.toString()),
  };
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Short byte sizes for labels and axes: `512 B`, `1.5 KiB`. */
export function shortBytes(n: number, locale?: string): string {
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < IEC.length - 1) {
    v /= 1024;
    u++;
  }
  const f = new Intl.NumberFormat(locale, { maximumFractionDigits: u === 0 ? 0 : 1 });
  return `${n < 0 ? '-' : ''}${f.format(v)} ${IEC[u]}`;
}

/** Microseconds in each time unit the axis may use, from the profile's own unit. */
const US_PER: Readonly<Record<string, number>> = { µs: 1, us: 1, ms: 1000, s: 1_000_000 };

/**
 * Labels for a time axis from `t0` to `t1` (the profile's time unit): in ms or s when the
 * unit is a clock's and the span is long enough, with as many decimals as tell the
 * labels apart (`0 s`, `13.7 s`, … `54.8 s`). Other units (Valgrind's instructions) stay
 * as they are, grouped.
 */
export function timeAxisLabels(
  ticks: readonly number[],
  t0: number,
  t1: number,
  unit: string,
  locale?: string,
): string[] {
  const us = US_PER[unit];
  const span = Math.abs(t1 - t0);
  let scale = 1;
  let shown = unit;
  if (us !== undefined) {
    const spanUs = span * us;
    if (spanUs >= 2_000_000) {
      scale = us / 1_000_000;
      shown = 's';
    } else if (spanUs >= 2_000) {
      scale = us / 1000;
      shown = 'ms';
    } else {
      scale = us;
      shown = 'µs';
    }
  }
  const step = ticks.length > 1 ? (span * scale) / (ticks.length - 1) : span * scale;
  const digits = step > 0 ? Math.max(0, Math.min(3, Math.ceil(-Math.log10(step)) + 1)) : 0;
  const f = new Intl.NumberFormat(locale, { maximumFractionDigits: digits });
  return ticks.map((t) => `${f.format(t * scale)} ${shown}`);
}

/**
 * One moment in readable units: `345.98 ms`, `54.76 s` (clock units only; others as
 * they are, grouped: Valgrind's instructions).
 */
export function readableTime(t: number, unit: string, locale?: string): string {
  const us = US_PER[unit];
  const f = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  if (us === undefined) return `${f.format(t)} ${unit}`;
  const v = t * us;
  if (Math.abs(v) >= 1_000_000) return `${f.format(v / 1_000_000)} s`;
  if (Math.abs(v) >= 1000) return `${f.format(v / 1000)} ms`;
  return `${f.format(v)} µs`;
}

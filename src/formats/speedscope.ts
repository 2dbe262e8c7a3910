/**
 * speedscope's own file format (https://www.speedscope.app/file-format-schema.json,
 * specified in speedscope's `src/lib/file-format-spec.ts`): a shared frame table and
 * a list of profiles. heapscope writes one `sampled` profile per metric: each program
 * point is one "sample", its stack listed from the outermost call to the allocation
 * site, weighted by the metric (`unit: 'bytes'` for bytes, `'none'` for blocks).
 * speedscope then draws the allocation flame graph and its sandwich view sums the
 * metric per function.
 */

import { parseFrameForExport } from '../model/frame.js';
import { availableMetrics, findMetric, type MetricInfo } from '../model/metrics.js';
import { type Profile, ROOT_FRAME } from '../model/profile.js';
import { TextParts } from './text-parts.js';

const SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

export interface SpeedscopeWriteOptions {
  /**
   * Metrics to write, one speedscope profile each, by name (`total-bytes`, `end-blocks`...).
   * Default: every bytes and blocks metric the profile has.
   */
  metrics?: readonly string[];
  /** Written as `exporter`, e.g. `heapscope 0.1.0`. */
  exporter?: string;
}

export class SpeedscopeWriteError extends Error {
  override name = 'SpeedscopeWriteError';
}

/** The metrics `writeSpeedscope` writes for these options. */
export function speedscopeMetrics(
  profile: Profile,
  options: SpeedscopeWriteOptions = {},
): MetricInfo[] {
  const available = availableMetrics(profile);
  if (!options.metrics) {
    return available.filter((m) => m.unit !== 'time' && !m.key.startsWith('max'));
  }
  return options.metrics.map((name) => {
    const m = findMetric(name);
    if (!m) throw new SpeedscopeWriteError(`unknown metric "${name}"`);
    if (!available.some((a) => a.key === m.key)) {
      throw new SpeedscopeWriteError(
        `this profile has no "${m.name}" figures; it has: ${available.map((a) => a.name).join(', ')}`,
      );
    }
    return m;
  });
}

/** Writes a Profile as speedscope JSON. */
export function writeSpeedscope(profile: Profile, options: SpeedscopeWriteOptions = {}): string {
  return [...writeSpeedscopeParts(profile, options)].join('');
}

/**
 * Text per part of `writeSpeedscopeParts`, about. Small, so that a part's pieces die in
 * the young generation: with parts of a million characters they outlived its collections
 * and the old generation kept them (bench/README.md, 1M program points).
 */
const PART_CHARS = 1 << 16;

/**
 * The text of `writeSpeedscope` in parts of about 64 K characters, made one at a
 * time as they are taken: a profile of millions of program points and frames is longer
 * than the longest string V8 makes (about 512 MB), and its frames and samples as
 * JavaScript objects take gigabytes. The metrics are checked first (so that a profile
 * that cannot be written fails here, before any part); each frame and each sample is
 * made into text when it is written, from the profile itself.
 */
export function writeSpeedscopeParts(
  profile: Profile,
  options: SpeedscopeWriteOptions = {},
): Iterable<string> {
  const metrics = speedscopeMetrics(profile, options);
  return speedscopeText(profile, metrics, options);
}

/** A number as JSON writes it (`null` for NaN and the infinities). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function frameRecord(f: string): SpeedscopeFrame {
  if (f === ROOT_FRAME) return { name: f };
  const p = parseFrameForExport(f);
  return {
    name: p.name,
    ...(p.file ? { file: p.file } : {}),
    ...(p.line !== undefined ? { line: p.line } : {}),
    ...(p.column !== undefined && p.column > 0 ? { col: p.column } : {}),
  };
}

/**
 * `{"$schema":…,"shared":{"frames":[…]},"profiles":[…],"name":…,"activeProfileIndex":0}`
 * (then `"exporter"` when given), keys in the order of speedscope's own files.
 */
function* speedscopeText(
  profile: Profile,
  metrics: readonly MetricInfo[],
  options: SpeedscopeWriteOptions,
): Generator<string> {
  const parts = new TextParts(PART_CHARS);
  parts.put(`{"$schema":${JSON.stringify(SCHEMA)},"shared":{"frames":[`);
  const frames = profile.frames;
  for (let f = 0; f < frames.length; f++) {
    if (parts.put(`${f > 0 ? ',' : ''}${JSON.stringify(frameRecord(frames[f]!))}`))
      yield parts.take();
  }
  parts.put(']},"profiles":[');
  const estimated = profile.heapscope?.capture === 'sampled';
  const pps = profile.programPoints;
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i]!;
    let total = 0;
    for (const pp of pps) {
      const w = pp[m.key] ?? 0;
      if (w <= 0) continue;
      total += w;
    }
    const name = `${m.label}${estimated ? ' (estimated)' : ''}`;
    const unit = m.unit === 'bytes' && !profile.units ? 'bytes' : 'none';
    parts.put(
      `${i > 0 ? ',' : ''}{"type":"sampled","name":${JSON.stringify(name)},"unit":"${unit}",` +
        `"startValue":0,"endValue":${jsonNumber(total)},"samples":[`,
    );
    // One sample per program point with a weight: its stack outermost call first.
    let first = true;
    for (const pp of pps) {
      const w = pp[m.key] ?? 0;
      if (w <= 0) continue;
      const stack = pp.stack;
      let text = first ? '[' : ',[';
      first = false;
      if (stack.length === 0) text += '0';
      for (let d = stack.length - 1; d >= 0; d--) {
        text += d < stack.length - 1 ? `,${jsonNumber(stack[d]!)}` : jsonNumber(stack[d]!);
      }
      if (parts.put(`${text}]`)) yield parts.take();
    }
    parts.put('],"weights":[');
    first = true;
    for (const pp of pps) {
      const w = pp[m.key] ?? 0;
      if (w <= 0) continue;
      const text = first ? jsonNumber(w) : `,${jsonNumber(w)}`;
      first = false;
      if (parts.put(text)) yield parts.take();
    }
    parts.put(']}');
  }
  const name = `${profile.cmd || 'profile'}${profile.pid ? ` (pid ${profile.pid})` : ''}`;
  const exporter = options.exporter ? `,"exporter":${JSON.stringify(options.exporter)}` : '';
  parts.put(`],"name":${JSON.stringify(name)},"activeProfileIndex":0${exporter}}\n`);
  yield parts.take();
}

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

const SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

interface SampledProfile {
  type: 'sampled';
  name: string;
  unit: 'bytes' | 'none';
  startValue: number;
  endValue: number;
  /** Stacks of indexes into `shared.frames`, outermost call first. */
  samples: number[][];
  weights: number[];
}

interface SpeedscopeFile {
  $schema: typeof SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SampledProfile[];
  name?: string;
  activeProfileIndex?: number;
  exporter?: string;
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
  const metrics = speedscopeMetrics(profile, options);
  const frames: SpeedscopeFrame[] = profile.frames.map((f) => {
    if (f === ROOT_FRAME) return { name: f };
    const p = parseFrameForExport(f);
    return {
      name: p.name,
      ...(p.file ? { file: p.file } : {}),
      ...(p.line !== undefined ? { line: p.line } : {}),
      ...(p.column !== undefined && p.column > 0 ? { col: p.column } : {}),
    };
  });
  const estimated = profile.heapscope?.capture === 'sampled';
  const profiles = metrics.map((m): SampledProfile => {
    const samples: number[][] = [];
    const weights: number[] = [];
    let total = 0;
    for (const pp of profile.programPoints) {
      const w = pp[m.key] ?? 0;
      if (w <= 0) continue;
      samples.push(pp.stack.length > 0 ? [...pp.stack].reverse() : [0]);
      weights.push(w);
      total += w;
    }
    return {
      type: 'sampled',
      name: `${m.label}${estimated ? ' (estimated)' : ''}`,
      unit: m.unit === 'bytes' && !profile.units ? 'bytes' : 'none',
      startValue: 0,
      endValue: total,
      samples,
      weights,
    };
  });
  const file: SpeedscopeFile = {
    $schema: SCHEMA,
    shared: { frames },
    profiles,
    name: `${profile.cmd || 'profile'}${profile.pid ? ` (pid ${profile.pid})` : ''}`,
    activeProfileIndex: 0,
    ...(options.exporter ? { exporter: options.exporter } : {}),
  };
  return `${JSON.stringify(file)}\n`;
}

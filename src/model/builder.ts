import { ADDITIVE_METRICS } from './metrics.js';
import {
  type HeapscopeMeta,
  type Profile,
  type ProgramPoint,
  type ProgramPointExtras,
  ROOT_FRAME,
} from './profile.js';

/** What a profile is made from, apart from its frames and program points. */
export type ProfileHeader = Omit<Profile, 'frames' | 'programPoints'>;

/** A program point as given to the builder: frames as strings, allocation site first. */
export interface ProgramPointInput extends Omit<ProgramPoint, 'stack'> {
  frames: readonly string[];
}

/**
 * Builds a Profile: interns frame strings and merges program points whose stacks
 * are equal, which DHAT's viewer requires (no two program points with one `fs`).
 * The only mutable object of the model; `build()` hands out a fresh profile.
 */
export class ProfileBuilder {
  private readonly frames: string[] = [ROOT_FRAME];
  private readonly frameIndex = new Map<string, number>([[ROOT_FRAME, 0]]);
  private readonly points = new Map<string, ProgramPoint>();

  constructor(private readonly header: ProfileHeader) {}

  frame(name: string): number {
    let i = this.frameIndex.get(name);
    if (i === undefined) {
      i = this.frames.length;
      this.frames.push(name);
      this.frameIndex.set(name, i);
    }
    return i;
  }

  add(input: ProgramPointInput): void {
    for (const k of ADDITIVE_METRICS) {
      const v = input[k];
      if (v !== undefined && (!Number.isFinite(v) || v < 0)) {
        throw new RangeError(`program point has a bad ${k}: ${v}`);
      }
    }
    const stack = input.frames.map((f) => this.frame(f));
    const key = stack.join(',');
    const { frames: _frames, ...metrics } = input;
    const existing = this.points.get(key);
    if (!existing) {
      this.points.set(key, { ...metrics, stack });
      return;
    }
    for (const k of ADDITIVE_METRICS) {
      const v = metrics[k];
      if (v !== undefined) existing[k] = (existing[k] ?? 0) + v;
    }
    // The maximum of a merged site is not known exactly; the larger one is a lower bound.
    if (metrics.maxBytes !== undefined) {
      existing.maxBytes = Math.max(existing.maxBytes ?? 0, metrics.maxBytes);
    }
    if (metrics.maxBlocks !== undefined) {
      existing.maxBlocks = Math.max(existing.maxBlocks ?? 0, metrics.maxBlocks);
    }
    if (metrics.heapscope?.endByType) {
      existing.heapscope = mergeExtras(existing.heapscope, metrics.heapscope);
    }
  }

  build(meta?: HeapscopeMeta): Profile {
    return {
      ...this.header,
      ...(meta ? { heapscope: meta } : {}),
      frames: [...this.frames],
      programPoints: [...this.points.values()].map((pp) => ({ ...pp, stack: [...pp.stack] })),
    };
  }
}

function mergeExtras(a: ProgramPointExtras | undefined, b: ProgramPointExtras): ProgramPointExtras {
  const endByType: Record<string, [number, number]> = { ...(a?.endByType ?? {}) };
  for (const [type, [bytes, blocks]] of Object.entries(b.endByType ?? {})) {
    const prev = endByType[type] ?? [0, 0];
    endByType[type] = [prev[0] + bytes, prev[1] + blocks];
  }
  return { ...a, endByType };
}

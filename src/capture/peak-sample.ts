import { type PeakEstimate, siteKey } from '../formats/tracked-snapshot.js';
import type { RawLocation } from '../model/frame.js';

/** One node of V8's sampling heap profile as the native helper serialises it. */
interface SampleNode {
  name: string;
  url: string;
  line: number;
  column: number;
  /** Live samples at this node: size of the sampled objects and how many objects they stand for. */
  allocations: { size: number; count: number }[];
  children: SampleNode[];
}

interface PeakSampleFile {
  /** When the heap used after a mark-compact reached its maximum, µs since tracking began. */
  peakTimeUs: number;
  sampleInterval: number;
  head: SampleNode;
}

/**
 * Live bytes per stack at the moment of the largest post-GC heap, from the sampling
 * heap profile the native helper took then. V8 scales each sample to the number of
 * objects it stands for, so the figures are estimates, not counts.
 */
export function peakFromSample(
  json: string,
  isOwnFrame: (loc: RawLocation) => boolean = () => false,
): PeakEstimate | undefined {
  let data: PeakSampleFile;
  try {
    data = JSON.parse(json) as PeakSampleFile;
  } catch {
    return undefined;
  }
  if (!data?.head || typeof data.peakTimeUs !== 'number') return undefined;
  const bySite = new Map<string, { bytes: number; blocks: number }>();
  const walk = (node: SampleNode, stack: RawLocation[]) => {
    for (const a of node.allocations) {
      const key = siteKey(stack);
      const prev = bySite.get(key) ?? { bytes: 0, blocks: 0 };
      bySite.set(key, { bytes: prev.bytes + a.size * a.count, blocks: prev.blocks + a.count });
    }
    for (const child of node.children) {
      const loc: RawLocation = {
        functionName: child.name,
        scriptName: child.url,
        line: child.line,
        column: child.column,
      };
      if (!isOwnFrame(loc)) walk(child, [loc, ...stack]);
    }
  };
  walk(data.head, []);
  return { timeUs: data.peakTimeUs, method: 'sampled-at-peak', bySite };
}

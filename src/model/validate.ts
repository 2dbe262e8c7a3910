import type { Profile } from './profile.js';

/**
 * Checks the invariants DHAT's viewer relies on and heapscope's functions assume.
 * Returns the problems found (empty when the profile is valid), most serious first.
 */
export function validateProfile(profile: Profile): string[] {
  const problems: string[] = [];
  const nFrames = profile.frames.length;
  if (nFrames === 0) problems.push('frame table is empty (index 0 must be "[root]")');
  const seen = new Map<string, number>();
  profile.programPoints.forEach((pp, i) => {
    for (const f of pp.stack) {
      if (!Number.isInteger(f) || f < 0 || f >= nFrames) {
        problems.push(`program point ${i} refers to frame ${f}, but the table has ${nFrames}`);
        break;
      }
    }
    const key = pp.stack.join(',');
    const prev = seen.get(key);
    if (prev !== undefined) problems.push(`program points ${prev} and ${i} have the same stack`);
    else seen.set(key, i);
    for (const [k, v] of Object.entries(pp)) {
      if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) {
        problems.push(`program point ${i} has a bad ${k}: ${v}`);
      }
    }
  });
  return problems;
}

import { ProfileBuilder } from '../../src/model/builder.js';
import type { Profile } from '../../src/model/profile.js';
import { NODE_HEAP_HEADER } from './profile-header.js';

/**
 * `n` sites under 40 callers under one main: a tree that shares its upper nodes, and a
 * text of several parts in every format. Site i allocates 32·(i+1) bytes in i+1 objects
 * and keeps 32·(i mod 5) bytes in i mod 5 of them at the end (and at the peak).
 */
export function manySitesProfile(n: number): Profile {
  const b = new ProfileBuilder(NODE_HEAP_HEADER);
  for (let i = 0; i < n; i++) {
    const end = i % 5;
    b.add({
      frames: [
        `site${i} (lib/s${i % 7}.js:${i + 1}:5)`,
        `caller${i % 40} (app.js:${10 + (i % 40)}:3)`,
        'main (app.js:1:1)',
      ],
      totalBytes: 32 * (i + 1),
      totalBlocks: i + 1,
      totalLifetimes: 0,
      maxBytes: 32 * end,
      maxBlocks: end,
      peakBytes: 32 * end,
      peakBlocks: end,
      endBytes: 32 * end,
      endBlocks: end,
    });
  }
  return b.build();
}

// The part of V8's heap that holds the program's data: every space but those of
// compiled code and its metadata. heapscope's cheap figures count these spaces only,
// so that V8 compiling, installing or dropping code (which it does on its own schedule,
// partly on background threads) does not show as the program's bytes.

import * as v8 from 'node:v8';

/** Spaces of V8's compiled code, bytecode and their metadata (names as V8 reports them). */
export const CODE_SPACES: ReadonlySet<string> = new Set([
  'code_space',
  'code_large_object_space',
  'trusted_space',
  'trusted_large_object_space',
  'shared_trusted_space',
  'shared_trusted_large_object_space',
  'read_only_space',
]);

/** Used bytes of the spaces that hold the program's data. */
export function programHeapUsed(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (!CODE_SPACES.has(s.space_name)) used += s.space_used_size;
  }
  return used;
}

/** The same sum over a GC record's per-space statistics (`v8.GCProfiler`'s format). */
export function programUsedOf(
  spaces: readonly { spaceName: string; spaceUsedSize: number }[],
): number {
  let used = 0;
  for (const s of spaces) if (!CODE_SPACES.has(s.spaceName)) used += s.spaceUsedSize;
  return used;
}

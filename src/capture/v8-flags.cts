/**
 * V8 flags that keep the allocating function on the stack (no inlining), every
 * allocation real (no escape analysis) and one allocation event per object (no
 * allocation folding). Set only where this V8 knows them: an unknown flag makes V8
 * print an error on the target's stderr.
 */
export function honestStackFlags(v8Major: number): string[] {
  const flags = [
    '--no-turbo-inlining',
    '--no-turbo-escape',
    '--no-turbo-allocation-folding',
    '--no-maglev-inlining',
    // Background compile threads allocate outside the tracker's view; objects they make
    // can land where a traced object died and inherit its stale trace.
    '--no-parallel-compile-tasks-for-lazy',
    '--no-parallel-compile-tasks-for-eager-toplevel',
    '--no-concurrent-sparkplug',
    '--no-concurrent-cache-deserialization',
    // Scavenger tasks on several threads lose the allocation trace of an object now and
    // then (test/capture/kept-literals.test.ts): one thread copies the young generation.
    '--no-parallel-scavenge',
  ];
  if (v8Major >= 12) flags.push('--no-maglev-escape-analysis');
  if (v8Major >= 13) {
    flags.push('--maglev-allocation-folding=0', '--no-turboshaft-string-concat-escape-analysis');
  }
  return flags;
}

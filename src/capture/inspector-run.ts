/**
 * heapscope's side of a capture without the native helper (inspector-agent.cts): what
 * such a profile can claim, in its `heapscope.exact` and notes.
 */

/** What the agent wrote about its route (`backend` in `<id>.meta.json`). */
export interface WithoutHelperBackend {
  tracker: 'node-option' | 'inspector';
  /** Times the inspector's 50 ms timer handed out heap-object ids before the end. */
  statsTicks: number;
}

export interface WithoutHelperFacts {
  /** Whether live-at-end is as exact as with the helper. */
  endExact: boolean;
  notes: string[];
  /** Frames of the in-thread inspector session: its messages are parsed in the program's heap. */
  isOwnFrame(loc: { scriptName: string }): boolean;
}

export function withoutHelperFacts(backend: WithoutHelperBackend): WithoutHelperFacts {
  if (backend.tracker === 'node-option') {
    // Measured on test/fixtures/workloads/idle.js (40,000 kept records): Node 26 found
    // 39,998 in every run, Node 20 40,000 in most and 39,999 once on a loaded machine,
    // where the helper found all 40,000. Totals are the tracker's and stay exact.
    return {
      endExact: false,
      notes: [
        "captured without heapscope's native helper: V8's allocation tracker started by Node (--track-heap-objects) as it created the isolate, so Node's own start-up allocations are in the profile (stacks of node:internal frames only); no live-at-peak sample (the end is taken as the peak) and no heap timeline",
        "Node's tracker can leave a few live objects without a trace (measured: up to 2 of 40,000 kept objects): live-at-end per site is a lower bound",
      ],
      isOwnFrame: () => false,
    };
  }
  const ticks = backend.statsTicks;
  return {
    endExact: ticks === 0,
    notes: [
      ticks === 0
        ? "captured without heapscope's native helper: V8's allocation tracker started through an in-thread inspector session; its 50 ms heap-stats timer never ran before the end, so live-at-end is exact; no live-at-peak sample (the end is taken as the peak) and no heap timeline"
        : `captured without heapscope's native helper: V8's allocation tracker started through an in-thread inspector session, whose 50 ms heap-stats timer collected garbage and handed out heap-object ids ${ticks} times; V8 stops following the moves of objects with ids, so live objects that moved after that may be missing from their site at the end (an estimate, a lower bound per site); totals stay exact; no live-at-peak sample (the end is taken as the peak) and no heap timeline`,
    ],
    isOwnFrame: (loc) => loc.scriptName === 'node:inspector',
  };
}

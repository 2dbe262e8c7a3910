// A byte range of a snapshot file that another thread parses, and what it answers.

import type { EdgeRules, EdgeSummary } from './edges.js';

/** A byte range of the file holding one JSON array of integers. */
export interface ArrayJob {
  path: string;
  key: string;
  /** First byte of the value (possibly whitespace before '['). */
  start: number;
  /** Byte after the closing ']'. */
  end: number;
  /** Numbers the header declares: the size of the shared array. */
  length: number;
  /** For `edges`: checks to run on them once parsed (see edges.ts). */
  rules?: EdgeRules;
  /** `false`: parse without the native helper (see `ReadHeapSnapshotOptions.native`). */
  native?: boolean;
}

/** What a worker answers: how many numbers, and a bigger array if they did not fit. */
export interface ArrayJobResult {
  length: number;
  grown?: Uint32Array;
  summary?: EdgeSummary;
}

export interface RunningArrayJob {
  /** The parsed numbers (and the edge checks' outcome); rejects with the worker's parse error message. */
  result: Promise<{ numbers: Uint32Array; summary?: EdgeSummary }>;
  cancel(): void;
}

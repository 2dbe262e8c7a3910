/**
 * A sampled profile as V8 gives it (`.heapprofile` JSON) into a heapscope Profile, with
 * the notes that say what its figures are. Shared by `run --sample` (sampled-run.ts,
 * profiles the agent wrote inside the program) and `attach` (capture/attach/, profiles
 * taken through the target's inspector).
 */
import { readHeapProfile } from '../formats/heapprofile.js';
import type { RawLocation } from '../model/frame.js';
import type { HeapscopeMeta, Profile } from '../model/profile.js';
import { createFrameFormatter } from './frames.js';

/** What is known about one sampled profile besides its samples. */
export interface SampledProfileFacts {
  pid: number;
  /** Parent process, where known. */
  ppid?: number;
  threadId: number;
  /** The command line shown for the process or thread. */
  cmd: string;
  cwd: string;
  node: string;
  v8: string;
  /** From the start of sampling to the profile, in µs. */
  endUs: number;
  sampleInterval: number;
  /** Whether the samples say which objects are still alive. */
  live: boolean;
  gc?: { scavenges: number; markCompacts: number };
  heapAtEnd?: { used: number; external?: number };
  /** Script URL → its sourceMappingURL, as the target saw them. */
  sourceMapUrls: Record<string, string>;
  /** Script id → URL, for frames whose script V8 had forgotten. */
  scriptUrls?: Record<string, string>;
  /** Frames that are heapscope's own work in the target: dropped with their subtrees. */
  isOwnFrame?: (loc: RawLocation) => boolean;
  /** Notes on how this profile came to be (when it was taken, why it ended). */
  notes: string[];
}

/** The note that every sampled profile carries: what an estimate's error is. */
export function estimateNote(interval: number): string {
  const pct = (bytes: number) => `±${(100 * Math.sqrt(interval / bytes)).toFixed(1)}%`;
  return (
    `sampled: V8's sampling heap profiler took one sample per ${interval} bytes allocated on ` +
    'average (a Poisson process), so every figure is an estimate. A site that allocated B bytes ' +
    `has about B/${interval} samples and a relative standard error of about 1/sqrt(B/${interval}): ` +
    `${pct(1 << 20)} at 1 MiB, ${pct(16 << 20)} at 16 MiB, ${pct(256 << 20)} at 256 MiB`
  );
}

/** Reads V8's sampling profile (JSON text or parsed) into a Profile carrying `facts`. */
export function convertSampledProfile(raw: string | unknown, facts: SampledProfileFacts): Profile {
  const notes = [
    estimateNote(facts.sampleInterval),
    ...facts.notes,
    'frame positions are those of the function (V8 records no allocating line)',
    'inlined functions are charged to their caller: sampled mode leaves V8 optimizing',
    'blocks are allocation events: optimized code may allocate several objects in one event',
  ];
  const meta: Partial<HeapscopeMeta> = {
    node: facts.node,
    v8: facts.v8,
    threadId: facts.threadId,
    ...(facts.ppid !== undefined ? { parentPid: facts.ppid } : {}),
    cwd: facts.cwd,
    ...(facts.gc
      ? { gc: { scavenges: facts.gc.scavenges, markCompacts: facts.gc.markCompacts } }
      : {}),
    ...(facts.heapAtEnd ? { heapAtEnd: facts.heapAtEnd } : {}),
    notes,
  };
  return readHeapProfile(raw, {
    source: 'capture',
    sampleInterval: facts.sampleInterval,
    cmd: facts.cmd,
    pid: facts.pid,
    endTimeUs: facts.endUs,
    formatFrame: createFrameFormatter(facts.cwd, facts.sourceMapUrls),
    ...(facts.scriptUrls ? { scriptUrls: facts.scriptUrls } : {}),
    ...(facts.isOwnFrame ? { isOwnFrame: facts.isOwnFrame } : {}),
    meta,
  });
}

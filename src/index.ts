/**
 * heapscope's library: the profile model, file formats, and capture.
 * Each area adds its exports here.
 */
export { type RunOptions, type RunResult, runProfiled } from './capture/run.js';
export { DhatFormatError, readDhat, writeDhat } from './formats/dhat.js';
export { type HeapSnapshot, parseHeapSnapshot, readHeapSnapshot } from './formats/heapsnapshot.js';
export { ProfileReadError, readProfileFile } from './formats/index.js';
export { ProfileBuilder } from './model/builder.js';
export {
  availableMetrics,
  findMetric,
  METRICS,
  type MetricInfo,
  type Profile,
  type ProgramPoint,
  totals,
} from './model/profile.js';
export { validateProfile } from './model/validate.js';
export { buildReport, type Report } from './report/rows.js';
export { renderText } from './report/text.js';

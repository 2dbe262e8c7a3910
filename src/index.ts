/**
 * heapscope's library: the profile model, file formats, and capture.
 * Each area adds its exports here.
 */
export {
  CompareError,
  type CompareOptions,
  type CompareResult,
  compareRevision,
} from './capture/compare.js';
export {
  type RunOptions,
  type RunResult,
  runProfiled,
  type WrittenProfile,
} from './capture/run.js';
export { BudgetFileError, parseBudgetFile, parseIncrease } from './formats/budget-file.js';
export { DhatFormatError, readDhat, writeDhat } from './formats/dhat.js';
export {
  HeapProfileFormatError,
  type HeapProfileReadOptions,
  readHeapProfile,
  writeHeapProfile,
} from './formats/heapprofile.js';
export {
  type HeapSnapshot,
  HeapSnapshotError,
  parseHeapSnapshot,
  type ReadHeapSnapshotOptions,
  readHeapSnapshot,
  SnapshotStrings,
} from './formats/heapsnapshot/index.js';
export {
  type ConvertResult,
  convertProfileFile,
  encodeProfile,
  type ProfileFormat,
  ProfileReadError,
  ProfileWriteError,
  readProfileFile,
  type WritableFormat,
} from './formats/index.js';
export { PprofFormatError, readPprof, writePprof } from './formats/pprof.js';
export { type SpeedscopeWriteOptions, writeSpeedscope } from './formats/speedscope.js';
export {
  adHocEvent,
  type CompareTableOptions,
  type Comparison,
  type ComparisonRow,
  checkLeak,
  compare,
  type ExactMeasurement,
  formatSites,
  type GroupOptions,
  type GroupStats,
  group,
  groupStats,
  HeapStats,
  type HeapStatsOptions,
  HeapscopeStateError,
  type LeakOptions,
  type LeakResult,
  type LimitOptions,
  type Measurement,
  type MeasureOptions,
  measure,
  measureSync,
  type PerOpMeasurement,
  type PerOpOptions,
  Profiler,
  type ProfilerMode,
  type ProfilerOptions,
  type ProfilerPhase,
  type ProfilerResult,
  renderComparison,
  resetGroups,
  type SinceProfilerStart,
  type Site,
  type Spread,
} from './measure/index.js';
export {
  type SizeByType,
  type SizeOfOptions,
  type SizeOfResult,
  sizeOf,
  sizeOfEach,
} from './measure/size-of.js';
export {
  BudgetError,
  type Budgets,
  type CheckResult,
  checkProfile,
  type RuleResult,
  type SiteBudget,
} from './model/budget.js';
export { ProfileBuilder } from './model/builder.js';
export {
  type DiffOptions,
  type DiffResult,
  type DiffRow,
  diffProfiles,
  type MetricDelta,
} from './model/diff.js';
export { type MatchKind, matchSites } from './model/match.js';
export {
  availableMetrics,
  availableSortMetrics,
  type Figures,
  findMetric,
  METRICS,
  type MetricInfo,
  SORT_METRICS,
  type SortMetric,
  totals,
} from './model/metrics.js';
export type { Profile, ProgramPoint } from './model/profile.js';
export {
  type AnalyzeOptions,
  analyzeSnapshot,
  type ClassRow,
  classRows,
  type NodeRef,
  type RetainerPathResult,
  type SiteRow,
  type SnapshotAnalysis,
  SnapshotQueryError,
  type SnapshotSummary,
  siteRows,
  summarizeSnapshot,
} from './model/snapshot/analyze.js';
export {
  type ClassTable,
  classifyNodes,
  type InterfaceDefinition,
  inferInterfaceDefinitions,
} from './model/snapshot/classes.js';
export {
  type ClassDelta,
  type CompareOptions as SnapshotCompareOptions,
  compareSnapshots,
  digestSnapshot,
  type GrowthPaths,
  type NewObjects,
  type PathCluster,
  type SiteDelta,
  type SnapshotComparison,
  type SnapshotDigest,
} from './model/snapshot/compare.js';
export {
  type DominatorTree,
  dominators,
  retainedSizes,
} from './model/snapshot/dominators.js';
export { graphKinds } from './model/snapshot/graph.js';
export { essentialEdges, pageOwnedNodes, shallowSizes } from './model/snapshot/ownership.js';
export {
  type PathHop,
  retainerPath,
  type ShortestPaths,
  shortestPaths,
} from './model/snapshot/paths.js';
export {
  arrangeTree,
  buildTree,
  type ProgramPointTree,
  type ShownNode,
  type TreeDirection,
  type TreeNode,
} from './model/tree.js';
export { validateProfile } from './model/validate.js';
export { renderCheckMarkdown, renderCheckText } from './report/check.js';
export { renderDiffMarkdown, renderDiffText } from './report/diff.js';
export { buildReport, type Report } from './report/rows.js';
export { renderText } from './report/text.js';
export {
  analyzeSnapshotInParallel,
  type ParallelAnalyzeOptions,
} from './threads/snapshot-analysis.js';
export { type RenderOptions, renderViewerHtml, type ViewerInput } from './viewer/render.js';
export { serveViewer, type ViewerServer } from './viewer/serve.js';

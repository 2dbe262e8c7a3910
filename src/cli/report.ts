import { readProfileFile } from '../formats/index.js';
import { applyFilters } from '../model/filter.js';
import { findMetric, METRICS } from '../model/metrics.js';
import { buildReport } from '../report/rows.js';
import { renderText } from '../report/text.js';
import { type Io, useColor } from './io.js';
import { type FilterFlags, filtersOf, parseBy, parsePositiveInt, readOptions } from './options.js';

export interface ReportFlags extends FilterFlags {
  sort: string;
  top: string;
  depth?: string;
  json?: boolean;
  by?: string;
  cum?: boolean;
}

export async function reportCommand(file: string, flags: ReportFlags, io: Io): Promise<number> {
  const sort = findMetric(flags.sort);
  if (!sort) {
    io.stderr.write(
      `heapscope: unknown metric "${flags.sort}"; one of: ${METRICS.map((m) => m.name).join(', ')}\n`,
    );
    return 2;
  }
  const by = parseBy(flags.by);
  const filters = filtersOf(flags, true);
  const { profile: read } = await readProfileFile(file, readOptions(io, file));
  const { profile, notes, warnings } = applyFilters(read, filters);
  for (const w of warnings) io.stderr.write(`heapscope: ${w}\n`);
  const report = buildReport(profile, {
    sort,
    top: parsePositiveInt(flags.top, '--top'),
    ...(flags.depth ? { depth: parsePositiveInt(flags.depth, '--depth') } : {}),
    by,
    cum: flags.cum === true,
    notes,
  });
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderText(report, { color: useColor(io.stdout, io.env) }),
  );
  return 0;
}

import { readProfileFile } from '../formats/index.js';
import { findMetric, METRICS } from '../model/metrics.js';
import { buildReport } from '../report/rows.js';
import { renderText } from '../report/text.js';
import { type Io, useColor } from './main.js';
import { parsePositiveInt } from './options.js';

export interface ReportFlags {
  sort: string;
  top: string;
  depth?: string;
  json?: boolean;
}

export async function reportCommand(file: string, flags: ReportFlags, io: Io): Promise<number> {
  const sort = findMetric(flags.sort);
  if (!sort) {
    io.stderr.write(
      `heapscope: unknown metric "${flags.sort}"; one of: ${METRICS.map((m) => m.name).join(', ')}\n`,
    );
    return 2;
  }
  const { profile } = await readProfileFile(file);
  const report = buildReport(profile, {
    sort,
    top: parsePositiveInt(flags.top, '--top'),
    ...(flags.depth ? { depth: parsePositiveInt(flags.depth, '--depth') } : {}),
  });
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderText(report, { color: useColor(io.stdout, io.env) }),
  );
  return 0;
}

import { readProfileFile } from '../formats/index.js';
import { diffProfiles } from '../model/diff.js';
import { findMetric, METRICS } from '../model/metrics.js';
import { renderDiffMarkdown, renderDiffText } from '../report/diff.js';
import { type Io, useColor } from './main.js';
import { parsePositiveInt } from './options.js';

export interface DiffFlags {
  metric?: string;
  top: string;
  depth?: string;
  json?: boolean;
  markdown?: boolean;
  exact?: boolean;
}

/** Output options shared by `diff` and `compare`. */
export function diffOutputOptions(flags: DiffFlags) {
  if (flags.json && flags.markdown) throw new Error('choose one of --json and --markdown');
  const metric = flags.metric === undefined ? undefined : findMetric(flags.metric);
  if (flags.metric !== undefined && !metric) {
    throw new Error(
      `unknown metric "${flags.metric}"; one of: ${METRICS.map((m) => m.name).join(', ')}`,
    );
  }
  return {
    diff: { ...(metric ? { sort: metric } : {}), fuzzy: flags.exact !== true },
    render: {
      top: parsePositiveInt(flags.top, '--top'),
      ...(flags.depth ? { depth: parsePositiveInt(flags.depth, '--depth') } : {}),
    },
  };
}

export async function diffCommand(
  baseFile: string,
  headFile: string,
  flags: DiffFlags,
  io: Io,
): Promise<number> {
  const { diff, render } = diffOutputOptions(flags);
  const [base, head] = await Promise.all([readProfileFile(baseFile), readProfileFile(headFile)]);
  const result = diffProfiles(base.profile, head.profile, diff);
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : flags.markdown
        ? renderDiffMarkdown(result, render)
        : renderDiffText(result, { ...render, color: useColor(io.stdout, io.env) }),
  );
  return 0;
}

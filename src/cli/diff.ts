import { readProfileFile } from '../formats/index.js';
import { groupedProfile } from '../model/aggregate.js';
import { diffProfiles } from '../model/diff.js';
import { applyFilters } from '../model/filter.js';
import { findMetric, METRICS } from '../model/metrics.js';
import type { Profile } from '../model/profile.js';
import { renderDiffMarkdown, renderDiffText } from '../report/diff.js';
import { type Io, useColor } from './io.js';
import { type FilterFlags, filtersOf, parseBy, parsePositiveInt, readOptions } from './options.js';

export interface DiffFlags {
  metric?: string;
  top: string;
  depth?: string;
  json?: boolean;
  markdown?: boolean;
  exact?: boolean;
}

export interface DiffViewFlags extends DiffFlags, FilterFlags {
  by?: string;
  cum?: boolean;
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
  flags: DiffViewFlags,
  io: Io,
): Promise<number> {
  const { diff, render } = diffOutputOptions(flags);
  const by = parseBy(flags.by);
  const filters = filtersOf(flags, true);
  const figures = flags.cum ? 'inclusive' : 'self';
  const notes = new Set<string>();
  // One side at a time: the file read, filtered and grouped before the next is read.
  const prepare = async (file: string): Promise<Profile> => {
    const read = (await readProfileFile(file, readOptions(io, file))).profile;
    const shown = applyFilters(read, filters);
    for (const n of shown.notes) notes.add(n);
    for (const w of shown.warnings) io.stderr.write(`heapscope: ${file}: ${w}\n`);
    return by === 'site' ? shown.profile : groupedProfile(shown.profile, by, figures);
  };
  const base = await prepare(baseFile);
  const head = await prepare(headFile);
  // The rows the report shows are all that is built (--json too: the rows of --top).
  const result = diffProfiles(base, head, {
    ...diff,
    top: render.top,
    ...(by === 'site' ? {} : { fuzzy: false }),
  });
  if (by !== 'site')
    notes.add(`rows are ${by}s, ${figures} figures${flags.cum ? '' : ' (--cum: inclusive)'}`);
  const color = useColor(io.stdout, io.env);
  const said = [...notes];
  io.stdout.write(
    flags.json
      ? `${JSON.stringify({ ...result, by, ...(said.length ? { notes: said } : {}) }, null, 2)}\n`
      : flags.markdown
        ? `${said.map((n) => `> ${n}\n`).join('')}${said.length ? '\n' : ''}${renderDiffMarkdown(result, render)}`
        : `${said.map((n) => `${color ? `\x1b[2m${n}\x1b[22m` : n}\n`).join('')}${renderDiffText(result, { ...render, color })}`,
  );
  return 0;
}

import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import {
  BudgetFileError,
  parseBudgetFile,
  parseIncrease,
  parseSize,
} from '../formats/budget-file.js';
import { readProfileFile } from '../formats/index.js';
import { type Budgets, checkProfile, type Limits } from '../model/budget.js';
import { applyFilters } from '../model/filter.js';
import type { Profile } from '../model/profile.js';
import { renderCheckMarkdown, renderCheckText } from '../report/check.js';
import { type Io, useColor } from './io.js';
import { type FilterFlags, filtersOf, parseBy, readOptions } from './options.js';

export interface CheckFlags extends FilterFlags {
  maxTotal?: string;
  maxPeak?: string;
  maxEnd?: string;
  budgetFile?: string;
  baseline?: string;
  maxIncrease?: string;
  json?: boolean;
  markdown?: boolean;
  by?: string;
  cum?: boolean;
}

/** The budgets of a budget file with the command line's limits on top. */
async function budgetsFrom(flags: CheckFlags, io: Io): Promise<Budgets> {
  let budgets: Budgets = {};
  if (flags.budgetFile) {
    const path = resolve(io.cwd, flags.budgetFile);
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        `${flags.budgetFile}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      );
    }
    try {
      budgets = parseBudgetFile(text);
    } catch (e) {
      if (e instanceof BudgetFileError) throw new Error(`${flags.budgetFile}: ${e.message}`);
      throw e;
    }
  }
  const by = parseBy(flags.by);
  if (flags.cum && by === 'site') throw new Error('--cum goes with --by function, file or package');
  // With --by, the command line's limits are on each group; a budget file's stay on the totals.
  const max: Limits = by === 'site' ? { ...budgets.max } : {};
  if (flags.maxTotal !== undefined) max.totalBytes = parseSize(flags.maxTotal, '--max-total');
  if (flags.maxPeak !== undefined) max.peakBytes = parseSize(flags.maxPeak, '--max-peak');
  if (flags.maxEnd !== undefined) max.endBytes = parseSize(flags.maxEnd, '--max-end');
  const increase = flags.maxIncrease !== undefined ? parseIncrease(flags.maxIncrease) : undefined;
  if (by !== 'site') {
    if (Object.keys(max).length === 0 && !increase) {
      throw new Error(
        '--by needs a limit for each group: --max-total, --max-peak, --max-end or --max-increase',
      );
    }
    return {
      ...budgets,
      groups: {
        by,
        figures: flags.cum ? 'inclusive' : 'self',
        ...(Object.keys(max).length > 0 ? { max } : {}),
        ...(increase ? { maxIncrease: increase } : {}),
      },
    };
  }
  if (Object.keys(max).length > 0) budgets = { ...budgets, max };
  if (increase) budgets = { ...budgets, maxIncrease: increase };
  return budgets;
}

export async function checkCommand(file: string, flags: CheckFlags, io: Io): Promise<number> {
  if (flags.json && flags.markdown) throw new Error('choose one of --json and --markdown');
  if (flags.maxIncrease !== undefined && !flags.baseline) {
    throw new Error('--max-increase needs a --baseline profile to compare with');
  }
  const budgets = await budgetsFrom(flags, io);
  const hasRules =
    budgets.max !== undefined ||
    budgets.maxIncrease !== undefined ||
    budgets.groups !== undefined ||
    (budgets.sites?.length ?? 0) > 0;
  if (!hasRules) {
    throw new Error(
      'nothing to check: give --max-total, --max-peak, --max-end, --baseline with --max-increase, or --budget-file',
    );
  }
  // The same filters on both sides; Node's frames stay (budgets may name them).
  const filters = filtersOf(flags, false);
  const read = async (path: string) => {
    const r = applyFilters((await readProfileFile(path, readOptions(io, path))).profile, filters);
    for (const w of r.warnings) io.stderr.write(`heapscope: ${path}: ${w}\n`);
    return r.profile;
  };
  const profile = await read(file);
  let baseline: Profile | undefined;
  if (flags.baseline) baseline = await read(flags.baseline);
  const result = checkProfile(profile, budgets, baseline);
  const markdown = renderCheckMarkdown(result);
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : flags.markdown
        ? markdown
        : renderCheckText(result, { color: useColor(io.stdout, io.env) }),
  );
  const summary = io.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    try {
      await fs.appendFile(summary, `${markdown}\n`);
    } catch (e) {
      io.stderr.write(
        `heapscope: could not append to $GITHUB_STEP_SUMMARY: ${(e as Error).message}\n`,
      );
    }
  }
  return result.status === 'pass' ? 0 : result.status === 'fail' ? 1 : 2;
}

import { basename } from 'node:path';
import type { Command } from 'commander';
import { parseSize } from '../formats/budget-file.js';
import type { ReadProfileOptions } from '../formats/index.js';
import { GROUP_BYS, type GroupBy } from '../model/aggregate.js';
import type { ViewFilters } from '../model/filter.js';
import { progressReporter } from './progress.js';

export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} wants a whole number, not "${text}"`);
  return n;
}

/** The flags that narrow a profile (focus, exclude, hide, internals). */
export interface FilterFlags {
  focus?: string[];
  exclude?: string[];
  hide?: string[];
  /** `--internals`: show Node's internal frames. */
  internals?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

const PATTERN_HELP =
  'glob or /regex/ on the function name, file or package; function:PAT, file:PAT or package:PAT for one; repeatable';

/**
 * Adds --focus, --exclude, --hide and (where Node's internals are hidden by default)
 * --internals to a command.
 */
export function addFilterOptions(cmd: Command, hidesInternals: boolean): Command {
  cmd
    .option(
      '--focus <pattern>',
      `keep allocations with a matching frame (${PATTERN_HELP})`,
      collect,
    )
    .option('--exclude <pattern>', 'drop allocations with a matching frame', collect)
    .option(
      '--hide <pattern>',
      'drop matching frames from the stacks; their allocations go to the caller',
      collect,
    );
  if (hidesInternals) {
    cmd.option(
      '--internals',
      "show Node's internal frames (node: files, the module loaders, bootstrap), hidden by default",
    );
  }
  return cmd;
}

export function filtersOf(flags: FilterFlags, hidesInternals: boolean): ViewFilters {
  return {
    ...(flags.focus?.length ? { focus: flags.focus } : {}),
    ...(flags.exclude?.length ? { exclude: flags.exclude } : {}),
    ...(flags.hide?.length ? { hide: flags.hide } : {}),
    internals: !hidesInternals || flags.internals === true,
  };
}

/** Adds --by and --cum (grouped rows) to a command. */
export function addGroupOptions(cmd: Command): Command {
  return cmd
    .option(
      '--by <what>',
      'rows per program point (site, default) or per function, file or package, with self and inclusive figures',
      'site',
    )
    .option('--cum', 'with --by: rank groups by inclusive figures instead of self');
}

export function parseBy(text: string | undefined): 'site' | GroupBy {
  if (text === undefined || text === 'site') return 'site';
  if ((GROUP_BYS as readonly string[]).includes(text)) return text as GroupBy;
  throw new Error(`--by wants site, ${GROUP_BYS.join(', ')}; not "${text}"`);
}

/**
 * What every command passes to the profile readers: standard input for `-`, and the
 * gzip limit from `HEAPSCOPE_MAX_INFLATED` (bytes, or a size like `2GiB`) when set.
 */
export function readOptions(
  io: {
    stdin?: NodeJS.ReadableStream;
    stderr?: NodeJS.WritableStream & { isTTY?: boolean };
    env: NodeJS.ProcessEnv;
  },
  /** Shown as `reading <file>: NN%` on stderr when it is a terminal. */
  file?: string,
): ReadProfileOptions {
  const limit = io.env.HEAPSCOPE_MAX_INFLATED;
  let maxInflatedBytes: number | undefined;
  if (limit !== undefined && limit !== '') {
    try {
      maxInflatedBytes = parseSize(
        /^\d+$/.test(limit) ? Number(limit) : limit,
        'HEAPSCOPE_MAX_INFLATED',
      );
    } catch (e) {
      throw new Error((e as Error).message);
    }
  }
  let onProgress: ReadProfileOptions['onProgress'];
  if (file !== undefined && io.stderr?.isTTY) {
    const progress = progressReporter(io.stderr, io.env);
    const label = `reading ${basename(file)}`;
    onProgress = (done, total) => {
      if (done >= total) progress.done();
      else progress.update(label, done, total);
    };
  }
  return {
    ...(io.stdin ? { stdin: io.stdin } : {}),
    ...(maxInflatedBytes !== undefined ? { maxInflatedBytes } : {}),
    ...(onProgress ? { onProgress } : {}),
  };
}

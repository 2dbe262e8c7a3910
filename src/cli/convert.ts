import { promises as fs } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  convertProfileFile,
  defaultOutputPath,
  formatOfFileName,
  WRITABLE_FORMATS,
  type WritableFormat,
} from '../formats/index.js';
import { applyFilters } from '../model/filter.js';
import { printable } from '../util/printable.js';
import type { Io } from './io.js';
import { type FilterFlags, filtersOf, parsePositiveInt, readOptions } from './options.js';
import { version } from './version.js';

export interface ConvertFlags extends FilterFlags {
  to?: string;
  out?: string;
  metric?: string;
  sampleInterval?: string;
  json?: boolean;
}

function targetFormat(flags: ConvertFlags): WritableFormat {
  if (flags.to !== undefined) {
    const to = flags.to.toLowerCase();
    if (!(WRITABLE_FORMATS as readonly string[]).includes(to)) {
      throw new Error(`--to wants one of ${WRITABLE_FORMATS.join(', ')}, not "${flags.to}"`);
    }
    return to as WritableFormat;
  }
  const guessed = flags.out !== undefined ? formatOfFileName(flags.out) : undefined;
  if (!guessed) {
    throw new Error(
      `say which format to write: --to ${WRITABLE_FORMATS.join('|')} (or an --out file ending in .pb.gz, .heapprofile, .speedscope.json or .json)`,
    );
  }
  return guessed;
}

export async function convertCommand(file: string, flags: ConvertFlags, io: Io): Promise<number> {
  const to = targetFormat(flags);
  const input = file === '-' ? file : resolve(io.cwd, file);
  if (flags.out === undefined && !(await isRegularFile(input))) {
    throw new Error(`${file} is no file to write beside: say where with --out`);
  }
  const output =
    flags.out !== undefined ? resolve(io.cwd, flags.out) : defaultOutputPath(input, to);
  const metrics = flags.metric
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const interval =
    flags.sampleInterval !== undefined
      ? parsePositiveInt(flags.sampleInterval, '--sample-interval')
      : undefined;
  if (interval === 0) throw new Error('--sample-interval wants at least 1 byte');
  const filters = filtersOf(flags, false);
  const filtered = filters.focus || filters.exclude || filters.hide;
  const result = await convertProfileFile(input, output, to, {
    ...(filtered
      ? {
          transform: (p) => {
            const r = applyFilters(p, filters);
            for (const w of r.warnings) io.stderr.write(`heapscope: ${w}\n`);
            return r.profile;
          },
        }
      : {}),
    ...(metrics?.length ? { metrics } : {}),
    ...(interval !== undefined ? { sampleInterval: interval } : {}),
    exporter: `heapscope ${version}`,
    ...readOptions(io, file),
  });
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const show = (p: string) => relative(io.cwd, p) || p;
  const est = result.capture === 'sampled' ? ', sampled estimates' : '';
  io.stdout.write(
    `${printable(`heapscope: wrote ${show(result.output)}  (${result.to}, ${result.programPoints} program points${est}; read ${show(result.input)} as ${result.from})`)}\n`,
  );
  return 0;
}

async function isRegularFile(path: string): Promise<boolean> {
  if (path === '-') return false;
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    // A missing file gets the reader's message.
    return true;
  }
}

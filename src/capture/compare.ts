/**
 * `heapscope compare <rev> -- <command>`: what a change did to memory. Checks out
 * `<rev>` and a snapshot of the working tree (its tracked changes, staged or not, and
 * its untracked files that git does not ignore) as two detached git worktrees side by
 * side in a temporary directory, runs `heapscope run` of the same command in each
 * (several times when asked, interleaved so that a drift of the machine hits both sides
 * alike), and diffs the profiles of the command's main Node process. The worktrees are
 * removed afterwards, also when a run fails or the user interrupts.
 *
 * Why not run the head in the working tree itself: Node's module loader allocates per
 * directory level and per character of the script's path, so two checkouts at paths of
 * different depth or length differ by kilobytes in Node's own sites. `<tmp>/base` and
 * `<tmp>/head` have the same depth and length, and the diff shows only the change.
 * Ignored files (build output, node_modules) are not copied; node_modules is linked.
 *
 * Each run is `runProfiled` (run.ts), the library behind `heapscope run`: the command's
 * standard output and error go to `output` (by default this process's standard error),
 * so that compare's own output (e.g. `--json`) stays clean.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { readProfileFile } from '../formats/index.js';
import { type DiffOptions, type DiffResult, diffProfiles } from '../model/diff.js';
import type { Profile } from '../model/profile.js';
import { runProfiled } from './run.js';

/** The live-at-peak sampling interval when none is given: `heapscope run`'s default. */

export interface CompareOptions {
  /** Working directory of the command, inside the repository (default: process.cwd()). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Runs per side (default 1). With more, changes within the spread between runs are not significant. */
  runs?: number;
  /** Keep the profiles here (`base.<n>.json`, `head.<n>.json`); by default they are deleted. */
  outDir?: string;
  /** Sampling interval (bytes) of the live-at-peak estimate (default 32768); 0 turns it off. */
  peakSampleInterval?: number;
  /** Options of the diff (sort metric, fuzzy matching). */
  diff?: Omit<DiffOptions, 'labels'>;
  /** Told what is happening (for a progress line). */
  onProgress?: (message: string) => void;
  /** Where the command's standard output and error go (default: process.stderr). */
  output?: NodeJS.WritableStream;
}

export interface CompareRun {
  side: 'base' | 'head';
  run: number;
  exitCode: number;
  /** The main process's profile, when outDir keeps it. */
  profile?: string;
}

export interface CompareResult {
  /** The revision as given, and the commit it named. */
  rev: string;
  commit: string;
  command: string[];
  runs: CompareRun[];
  diff: DiffResult;
  /** E.g. the command failed on one side, node_modules was linked into the worktree. */
  notes: string[];
}

export class CompareError extends Error {
  override name = 'CompareError';
}

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Exec> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      rej(new CompareError(e.code === 'ENOENT' ? `${cmd} not found` : e.message)),
    );
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

async function git(
  args: string[],
  cwd: string,
  what: string,
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const r = await exec('git', args, cwd, env);
  if (r.code !== 0) {
    throw new CompareError(
      `${what}: ${r.stderr.trim().split('\n').at(-1) ?? `git exited ${r.code}`}`,
    );
  }
  return r.stdout.trim();
}

/** Runs a command profiled in the base revision and in the working tree, and diffs the two. */
export async function compareRevision(
  rev: string,
  command: readonly string[],
  options: CompareOptions = {},
): Promise<CompareResult> {
  if (command.length === 0) throw new CompareError('no command given');
  const runs = options.runs ?? 1;
  if (!Number.isInteger(runs) || runs < 1)
    throw new CompareError(`runs must be 1 or more, not ${runs}`);
  const cwd = await fs.realpath(resolve(options.cwd ?? process.cwd()));
  const top = await fs.realpath(
    await git(['rev-parse', '--show-toplevel'], cwd, `${cwd} is not in a git repository`),
  );
  const commit = await git(
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
    top,
    `unknown revision "${rev}"`,
  ).catch(() => {
    throw new CompareError(`"${rev}" names no commit of the repository at ${top}`);
  });
  const tmp = await fs.mkdtemp(join(tmpdir(), 'heapscope-compare-'));
  const trees = { base: join(tmp, 'base'), head: join(tmp, 'head') };
  const added: string[] = [];
  const links: string[] = [];
  const notes: string[] = [];
  const stop = interruptGuard();
  try {
    // The working tree as a commit: `stash create` changes nothing and makes no ref. Its
    // commit needs a name even where git has none configured; it is never shown.
    const stash = await git(['stash', 'create'], top, 'git stash create failed', {
      ...process.env,
      GIT_AUTHOR_NAME: 'heapscope',
      GIT_AUTHOR_EMAIL: 'heapscope@localhost',
      GIT_COMMITTER_NAME: 'heapscope',
      GIT_COMMITTER_EMAIL: 'heapscope@localhost',
    });
    const headCommit = stash || (await git(['rev-parse', 'HEAD'], top, 'no commit at HEAD'));
    for (const [side, at] of [
      ['base', commit],
      ['head', headCommit],
    ] as const) {
      await git(
        ['worktree', 'add', '--detach', '--quiet', trees[side], at],
        top,
        'git worktree add failed',
      );
      added.push(trees[side]);
    }
    const untracked = await git(
      ['ls-files', '--others', '--exclude-standard', '-z'],
      top,
      'git ls-files failed',
    );
    // Untracked packages are linked below, not copied.
    const copied = untracked.split('\0').filter((f) => f && !/(^|\/)node_modules\//.test(f));
    for (const file of copied) {
      await fs.cp(join(top, file), join(trees.head, file), {
        recursive: true,
        verbatimSymlinks: true,
      });
    }
    const sub = relative(top, cwd);
    const cwds = { base: join(trees.base, sub), head: join(trees.head, sub) };
    if (!existsSync(cwds.base)) {
      throw new CompareError(`the directory ${sub || '.'} does not exist at ${rev}`);
    }
    // Installed packages are not in git: both sides use the working tree's.
    for (const dir of new Set([top, cwd])) {
      const modules = join(dir, 'node_modules');
      if (!existsSync(modules)) continue;
      for (const tree of [trees.base, trees.head]) {
        const there = join(tree, relative(top, dir), 'node_modules');
        if (existsSync(there)) continue;
        await fs.symlink(modules, there, 'dir');
        links.push(there);
      }
      notes.push(`both sides used the working tree's ${relative(top, modules) || 'node_modules'}`);
    }
    const profilesDir = options.outDir ? resolve(cwd, options.outDir) : join(tmp, 'profiles');
    await fs.mkdir(profilesDir, { recursive: true });
    const sides = { base: [] as Profile[], head: [] as Profile[] };
    const done: CompareRun[] = [];
    for (let i = 1; i <= runs; i++) {
      for (const side of ['base', 'head'] as const) {
        if (stop.interrupted) throw new CompareError(`interrupted by ${stop.interrupted}`);
        const label = side === 'base' ? `${rev} (${commit.slice(0, 7)})` : 'the working tree';
        options.onProgress?.(`run ${i} of ${runs} in ${label}`);
        const file = join(profilesDir, `${side}.${i}.json`);
        const result = await runProfiled(command, {
          cwd: cwds[side],
          outFile: file,
          outDir: join(profilesDir, `${side}.${i}`),
          env: options.env ?? process.env,
          peakSampleInterval: options.peakSampleInterval,
          output: options.output ?? process.stderr,
        }).catch((e: Error) => {
          throw new CompareError(`${e.message} (in ${label})`);
        });
        const { exitCode } = result;
        if (stop.interrupted) throw new CompareError(`interrupted by ${stop.interrupted}`);
        for (const m of result.missing) {
          const thread = m.threadId ? ` thread ${m.threadId}` : '';
          notes.push(
            `run ${i} in ${label}: no profile for pid ${m.pid}${thread} (${m.cmd}): ${m.reason}`,
          );
        }
        if (!existsSync(file)) {
          throw new CompareError(
            `no profile of the command in ${label} (exit code ${exitCode}): did it start a Node process?`,
          );
        }
        if (exitCode !== 0) notes.push(`run ${i} in ${label} exited with code ${exitCode}`);
        sides[side].push((await readProfileFile(file)).profile);
        done.push({ side, run: i, exitCode, ...(options.outDir ? { profile: file } : {}) });
      }
    }
    const diff = diffProfiles(sides.base, sides.head, {
      ...options.diff,
      labels: { base: `${rev} (${commit.slice(0, 7)})`, head: 'working tree' },
    });
    return { rev, commit, command: [...command], runs: done, diff, notes };
  } finally {
    stop.release();
    for (const l of links) await fs.unlink(l).catch(() => {});
    for (const tree of added) {
      const r = await exec('git', ['worktree', 'remove', '--force', tree], top).catch(() => null);
      if (r?.code !== 0) await fs.rm(tree, { recursive: true, force: true });
    }
    if (added.length > 0) await exec('git', ['worktree', 'prune'], top).catch(() => null);
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

interface Guard {
  interrupted?: string;
  release(): void;
}

/**
 * Keeps heapscope alive on SIGINT/SIGTERM/SIGHUP while a run is going, so that the
 * worktree is removed: `runProfiled` passes the signal to the running command, and
 * compare stops after it.
 */
function interruptGuard(): Guard {
  const guard: Guard = { release: () => {} };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => {
      guard.interrupted = sig;
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  guard.release = () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
  return guard;
}

// `heapscope compare <rev> -- <command>` end to end, in a temporary git repository: a
// commit that doubles an allocation is reported as doubled at its site, one that only
// moves code is reported as unchanged, and the worktrees are removed afterwards, also
// when the run fails or is interrupted.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../src/capture/compare.js';
import type { DiffRow } from '../../src/model/diff.js';
import { BIN, heapscope, NODE, tempDir } from '../helpers/heapscope.js';

// keep() retains N records of 40 B each (8 B more for their slot in the array): its
// loop is hot, so V8 compiles it and charges code of varying size to keep's total bytes.
// table() makes one array of M numbers: the same bytes in every run. Records are class
// instances, not literals: a literal made by unoptimized code carries V8's 16-byte
// memento, and how many calls run unoptimized varies (a slow machine compiles late).
const PROGRAM = `// keep() retains N records; table() one array of M numbers.
const N = 50000;
const M = 20000;
class Rec { constructor(i) { this.id = i; this.name = 'x'; } }
function keep(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = new Rec(i);
  return out;
}
function table(m) {
  return new Array(m).fill(0);
}
globalThis.kept = keep(N);
globalThis.table = table(M);
`;

// The same program with the two functions swapped and a parameter renamed: every line
// of keep and table moved, the file has the same length, and nothing allocates more.
const MOVED = `// keep() retains N records; table() one array of M numbers.
const N = 50000;
const M = 20000;
class Rec { constructor(i) { this.id = i; this.name = 'x'; } }
function table(k) {
  return new Array(k).fill(0);
}
function keep(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = new Rec(i);
  return out;
}
globalThis.kept = keep(2 * N);
globalThis.table = table(M);
`;

let repo = '';
let tmp = '';

function git(...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.email=test@heapscope.dev', '-c', 'user.name=heapscope test', ...args],
    { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

const worktrees = () => git('worktree', 'list', '--porcelain').match(/^worktree /gm)?.length ?? 0;

/** Runs compare with its temporary directories in `tmp`, so that leftovers can be seen. */
function compare(args: string[]) {
  return heapscope(['compare', ...args], { cwd: repo, env: { TMPDIR: tmp } });
}

const siteOf = (rows: DiffRow[], fn: string) => {
  const found = rows.filter((r) => r.frames[0]?.startsWith(`${fn} (prog.js:`));
  if (found.length !== 1) throw new Error(`expected one row at ${fn}, found ${found.length}`);
  return found[0]!;
};

beforeAll(() => {
  repo = tempDir('heapscope-compare-repo-');
  tmp = tempDir('heapscope-compare-tmp-');
  git('init', '-q');
  writeFileSync(join(repo, 'prog.js'), PROGRAM);
  git('add', 'prog.js');
  git('commit', '-q', '-m', 'base');
  writeFileSync(join(repo, 'prog.js'), PROGRAM.replace('keep(N)', 'keep(2 * N)'));
  git('commit', '-q', '-a', '-m', 'keep twice as many records');
});

afterAll(() => {
  for (const d of [repo, tmp]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('heapscope compare', () => {
  it('reports a doubled allocation as doubled at its site', () => {
    const out = join(repo, 'profiles');
    const r = compare(['HEAD~1', '--runs', '2', '--json', '--out-dir', out, '--', NODE, 'prog.js']);
    expect(r.stderr).toMatch(/run 2 of 2 in HEAD~1 \([0-9a-f]{7}\)/);
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout) as CompareResult;
    expect(result.commit).toBe(git('rev-parse', 'HEAD~1').trim());
    expect(result.runs.map((x) => `${x.side}.${x.run}:${x.exitCode}`)).toEqual([
      'base.1:0',
      'head.1:0',
      'base.2:0',
      'head.2:0',
    ]);
    const keep = siteOf(result.diff.rows, 'keep');
    expect(result.diff.rows[0]).toBe(result.diff.rows.find((x) => x === keep));
    expect(keep).toMatchObject({ status: 'changed', match: 'exact', significant: true });
    // Records live at the end, and allocation events: ×2 within 1% (V8 adds a few of its own).
    for (const m of ['endBytes', 'endBlocks', 'totalBlocks'] as const) {
      expect(keep.values[m]!.ratio, m).toBeGreaterThan(1.99);
      expect(keep.values[m]!.ratio, m).toBeLessThan(2.01);
      expect(keep.values[m]!.significant, m).toBe(true);
    }
    // 50,000 more records of 48 B live at the end: 2,400,000 B within 1%.
    expect(Math.abs(keep.values.endBytes!.delta - 2_400_000)).toBeLessThan(24_000);
    // Total bytes also count the code and feedback V8 makes for keep(), which do not
    // double (and vary from run to run): the added 2,400,000 B within 5%, ×2 within 6%.
    expect(Math.abs(keep.values.totalBytes!.delta - 2_400_000)).toBeLessThan(120_000);
    expect(keep.values.totalBytes!.ratio).toBeGreaterThan(1.88);
    expect(keep.values.totalBytes!.ratio).toBeLessThan(2.02);
    // The other site of the program did not change: 20,000 × 8 B and the array.
    const table = siteOf(result.diff.rows, 'table');
    for (const m of ['totalBytes', 'totalBlocks', 'endBytes', 'endBlocks'] as const) {
      expect(table.values[m]!.delta, m).toBe(0);
    }
    expect(table.values.endBytes!.base).toBeGreaterThanOrEqual(160_000);
    expect(table.values.endBytes!.base).toBeLessThan(160_100);
    expect(worktrees()).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);

    // The kept profiles diff the same way, in text.
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(['base.1.json', 'base.2.json', 'head.1.json', 'head.2.json']);
    const text = heapscope([
      'diff',
      join(out, 'base.1.json'),
      join(out, 'head.1.json'),
      '--depth',
      '1',
    ]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(
      // The same bounds as above in the text (×1.88–2.02); ×2.00 prints as +100%.
      / 1\. \+2\.\d MiB \(\+(8[89]|9\d|10[0-2])%, ×(1\.8[89]|1\.9\d|2\.0[0-2])\) [\d.]+ MiB → [\d.]+ MiB\n/,
    );
    expect(text.stdout).toMatch(/×1\.9\d|×2\.00/);
    expect(text.stdout).toMatch(/at t-end bytes \+2\.3 MiB ×2\.00/);
    rmSync(out, { recursive: true });
  });

  it('reports a change that only moved code as unchanged, matching the moved sites', () => {
    writeFileSync(join(repo, 'prog.js'), MOVED);
    git('commit', '-q', '-a', '-m', 'swap the functions');
    // Four runs a side: keep's total bytes vary between runs with the code V8 compiles for
    // its loop (24 KiB more in about one run of four on Node 20), and a change within that
    // spread is not one. --peak-sample 0: heapscope's own peak sampler leaves a string of
    // varying size that is charged to Node's `emit` (a capture issue, not the program's).
    const r = compare([
      'HEAD~1',
      '--runs',
      '4',
      '--peak-sample',
      '0',
      '--json',
      '--',
      NODE,
      'prog.js',
    ]);
    expect(r.status).toBe(0);
    const { diff } = JSON.parse(r.stdout) as CompareResult;
    for (const fn of ['keep', 'table']) {
      const row = siteOf(diff.rows, fn);
      expect(row, fn).toMatchObject({ match: 'moved', fuzzy: true, status: 'unchanged' });
      expect(row.baseFrames![0]).not.toBe(row.frames[0]);
    }
    expect(
      diff.rows.filter((x) => x.frames.some((f) => f.includes('prog.js')) && x.significant),
    ).toEqual([]);
    expect(diff.counts).toMatchObject({ new: 0, vanished: 0 });
    for (const m of ['totalBytes', 'totalBlocks', 'endBytes', 'endBlocks'] as const) {
      expect(diff.totals[m]!.significant, m).toBe(false);
    }
    expect(worktrees()).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('takes the working tree as it is: uncommitted changes and untracked files', () => {
    // extra.js is not committed, nor is the line that loads it.
    writeFileSync(
      join(repo, 'extra.js'),
      'function makeExtra() { return new Array(100000).fill(0); }\nglobalThis.extra = makeExtra();\n',
    );
    writeFileSync(join(repo, 'prog.js'), `${MOVED}require('./extra.js');\n`);
    const status = git('status', '--porcelain');
    const r = compare(['HEAD', '--', NODE, 'prog.js']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/NEW \+781\.\d KiB/);
    expect(r.stdout).toContain('makeExtra (extra.js:1:19)');
    // The repository is left as it was.
    expect(git('status', '--porcelain')).toBe(status);
    expect(git('stash', 'list')).toBe('');
    expect(worktrees()).toBe(1);
    rmSync(join(repo, 'extra.js'));
    git('checkout', '-q', '--', 'prog.js');
  });

  it('exits 2 on a bad revision, outside a repository, and when no Node process ran', () => {
    const bad = compare(['no-such-rev', '--', NODE, 'prog.js']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^heapscope: "no-such-rev" names no commit of the repository at /);
    const outside = heapscope(['compare', 'HEAD', '--', NODE, 'prog.js'], { cwd: tmp });
    expect(outside.status).toBe(2);
    expect(outside.stderr).toMatch(/is not in a git repository/);
    const noNode = compare(['HEAD~1', '--', 'true']);
    expect(noNode.status).toBe(2);
    expect(noNode.stderr).toMatch(
      /^heapscope: no profile of the command in HEAD~1 \([0-9a-f]{7}\) \(exit code 0\): did it start a Node process\?$/m,
    );
    const missing = compare(['HEAD~1', '--', 'no-such-command-here']);
    expect(missing.status).toBe(2);
    expect(worktrees()).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('removes the worktrees when interrupted', async () => {
    const child = spawn(
      NODE,
      [BIN, 'compare', 'HEAD', '--', NODE, '-e', 'setTimeout(() => {}, 60000)'],
      {
        cwd: repo,
        env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    // Wait until the base side is running.
    for (let i = 0; i < 400 && !/run 1 of 1 in HEAD/.test(stderr); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(worktrees()).toBe(3);
    child.kill('SIGINT');
    expect(await done).toBe(2);
    expect(stderr).toMatch(/heapscope: interrupted by SIGINT/);
    expect(worktrees()).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readFileSync(join(repo, 'prog.js'), 'utf8')).toBe(MOVED);
  });
});

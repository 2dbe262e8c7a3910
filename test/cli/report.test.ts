// `heapscope report <file>`: the real binary (bin/heapscope.js → dist, so run
// `npm run build` first) on the DHAT fixtures. The figures printed are checked against
// the ones counted by hand from the fixtures' programs (test/fixtures/dhat/README.md),
// not against a copy of the program's own output. Exit codes: 0 OK, 2 bad usage or input.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(root, 'test', 'fixtures', 'dhat');
const HEAP = join(FIXTURES, 'valgrind-3.19', 'valgrind-heap.json');
const AD_HOC = join(FIXTURES, 'valgrind-3.19', 'valgrind-ad-hoc.json');
const COPY = join(FIXTURES, 'valgrind-3.19', 'valgrind-copy.json');
const DHAT_RS = join(FIXTURES, 'dhat-rs', 'dhat-rs-heap.json');

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes
const ANSI = /\x1b\[/;

let dir = '';

beforeAll(() => {
  const bin = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'heapscope-report-test-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `heapscope <args>` with colour off unless `env` turns it on. */
function heapscope(args: string[], env: Record<string, string> = { NO_COLOR: '1' }) {
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...base } = process.env;
  const r = spawnSync(process.execPath, ['bin/heapscope.js', ...args], {
    cwd: root,
    env: { ...base, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The figures of one summary line, e.g. `Total:  94.1 KiB (96,368 bytes) in 2,011 blocks`. */
function summary(stdout: string, label: string): { bytes: number; blocks?: number } | undefined {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${label}:`));
  if (!line) return undefined;
  const m = /\(([\d,]+) bytes\)(?: in ([\d,]+) blocks?)?/.exec(line);
  if (!m) throw new Error(`no figures in "${line}"`);
  const n = (s: string) => Number(s.replaceAll(',', ''));
  return { bytes: n(m[1]!), ...(m[2] ? { blocks: n(m[2]) } : {}) };
}

/** The rows of the report: the rank line and the frames under it. */
function rows(stdout: string): { head: string; frames: string[] }[] {
  const out: { head: string; frames: string[] }[] = [];
  for (const line of stdout.split('\n')) {
    if (/^\s*\d+\. /.test(line)) out.push({ head: line.trim(), frames: [] });
    else if (out.length > 0 && line.trim()) out.at(-1)!.frames.push(line.trim());
  }
  return out;
}

describe('heapscope report on Valgrind DHAT (valgrind-heap.c)', () => {
  it('prints the totals of the program', () => {
    const r = heapscope(['report', HEAP]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 1,000 × 64 B make_buf + 1,000 × 16 B make_rec + 8,176 B realloc growth + two 4 KiB blocks.
    expect(summary(r.stdout, 'Total')).toEqual({ bytes: 96_368, blocks: 2011 });
    // At the peak: the 1,000 records and the 4,096 B grown buffer.
    expect(summary(r.stdout, 'At t-gmax')).toEqual({ bytes: 20_096, blocks: 1001 });
    // At the end: only the leaked calloc(1, 4096).
    expect(summary(r.stdout, 'At t-end')).toEqual({ bytes: 4096, blocks: 1 });
    expect(summary(r.stdout, 'Reads')).toEqual({ bytes: 9087 });
    expect(summary(r.stdout, 'Writes')).toEqual({ bytes: 81_087 });
    expect(r.stdout).toContain('./prog');
    expect(r.stdout).toMatch(/t-gmax 345,977 instrs/);
    expect(r.stdout).toMatch(/t-end 387,340 instrs/);
  });

  it('lists the sites by total bytes', () => {
    const r = heapscope(['report', HEAP]);
    const shown = rows(r.stdout);
    expect(shown).toHaveLength(5);
    expect(shown[0]!.frames[1]).toContain('make_buf (prog.c:8)');
    expect(shown[0]!.head).toMatch(/^1\. 62\.5 KiB/); // 64,000 B
    expect(shown[1]!.frames[1]).toContain('make_rec (prog.c:14)');
    expect(shown[2]!.frames[1]).toContain('main (prog.c:34)');
    expect(shown[2]!.head).toMatch(/total 8 KiB in 9\b/); // 8,176 B
    expect(shown.slice(3).map((s) => s.frames[1])).toEqual(
      expect.arrayContaining([
        expect.stringContaining('leak_me (prog.c:20)'),
        expect.stringContaining('_IO_file_doallocate'),
      ]),
    );
  });

  it('--top 2 shows the two largest sites', () => {
    const r = heapscope(['report', '--top', '2', HEAP]);
    expect(r.code).toBe(0);
    const shown = rows(r.stdout);
    expect(shown).toHaveLength(2);
    expect(shown[0]!.frames.join('\n')).toContain('make_buf');
    expect(shown[1]!.frames.join('\n')).toContain('make_rec');
    expect(r.stdout).toMatch(/Top 2 of 5 program points/);
    // The totals still cover the whole profile.
    expect(summary(r.stdout, 'Total')).toEqual({ bytes: 96_368, blocks: 2011 });
  });

  it('--sort end-bytes puts the leak first', () => {
    const r = heapscope(['report', '--sort', 'end-bytes', HEAP]);
    expect(r.code).toBe(0);
    const shown = rows(r.stdout);
    expect(shown[0]!.frames.join('\n')).toContain('leak_me (prog.c:20)');
    expect(shown[0]!.head).toMatch(/^1\. 4 KiB \(100%\)/);
    expect(shown[0]!.head).toMatch(/at t-end 4 KiB in 1\b/);
  });

  it('--json prints the report as data', () => {
    const r = heapscope(['report', '--json', HEAP]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.totals).toEqual({
      totalBytes: 96_368,
      totalBlocks: 2011,
      peakBytes: 20_096,
      peakBlocks: 1001,
      endBytes: 4096,
      endBlocks: 1,
      readBytes: 9087,
      writeBytes: 81_087,
    });
    expect(report.programPoints).toBe(5);
    expect(report.rows).toHaveLength(5);
    expect(report.rows[0]).toMatchObject({ rank: 1, totalBytes: 64_000, totalBlocks: 1000 });
    expect(report.rows[0].frames[1]).toContain('make_buf');
    expect(report.rows[1]).toMatchObject({ totalBytes: 16_000, peakBytes: 16_000, endBytes: 0 });
  });

  it('--json --sort end-bytes --top 1', () => {
    const r = heapscope(['report', '--json', '--sort', 'end-bytes', '--top', '1', HEAP]);
    const report = JSON.parse(r.stdout);
    expect(report.sortedBy.name).toBe('end-bytes');
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({ value: 4096, endBytes: 4096, endBlocks: 1 });
    expect(report.rows[0].frames[1]).toContain('leak_me');
  });
});

describe('heapscope report on other producers', () => {
  it('dhat-rs', () => {
    const r = heapscope(['report', DHAT_RS]);
    expect(r.code).toBe(0);
    expect(summary(r.stdout, 'Total')).toEqual({ bytes: 1024 + 13 + 64, blocks: 3 });
    expect(summary(r.stdout, 'At t-gmax')).toEqual({ bytes: 1101, blocks: 3 });
    expect(summary(r.stdout, 'At t-end')).toEqual({ bytes: 1024 + 64, blocks: 2 });
    expect(r.stdout).toMatch(/t-gmax 247 µs, t-end 262 µs/);
    expect(rows(r.stdout)[0]!.frames.join('\n')).toContain('LineWriter<W>::new');
  });

  it('Valgrind --mode=copy: no lifetimes, so no peak or end lines', () => {
    const r = heapscope(['report', COPY]);
    expect(r.code).toBe(0);
    expect(summary(r.stdout, 'Total')).toEqual({
      bytes: 15 + 122 + 100 + 32 + 16 + 100,
      blocks: 24,
    });
    expect(summary(r.stdout, 'At t-gmax')).toBeUndefined();
    expect(summary(r.stdout, 'At t-end')).toBeUndefined();
    expect(rows(r.stdout)).toHaveLength(6);
  });

  it('Valgrind --mode=ad-hoc: counts units and events, not bytes', () => {
    const r = heapscope(['report', AD_HOC]);
    expect(r.code).toBe(0);
    const total = r.stdout.split('\n').find((l) => l.trimStart().startsWith('Total:'))!;
    // The file says so: "bu": "unit", "bsu": "units", "bksu": "events" (dh_view shows
    // "145 units ... in 11 events").
    expect(total).toMatch(/145 units/);
    expect(total).toMatch(/11 events/);
    expect(total).not.toMatch(/bytes|blocks|\bB\b/);
  });

  it('a metric the profile lacks is a usage error', () => {
    const r = heapscope(['report', '--sort', 'peak-bytes', AD_HOC]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no "peak-bytes" figures; it has: total-bytes, total-blocks/);
    expect(r.stdout).toBe('');
  });
});

describe('heapscope report errors', () => {
  it('--sort bogus: exit 2 and the metrics there are', () => {
    const r = heapscope(['report', '--sort', 'bogus', HEAP]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^heapscope: unknown metric "bogus"; one of: .*\bend-bytes\b/);
  });

  it('--top abc: exit 2', () => {
    const r = heapscope(['report', '--top', 'abc', HEAP]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--top wants a whole number, not "abc"/);
  });

  it('a missing file: exit 2 naming the file', () => {
    const missing = join(dir, 'nope.json');
    const r = heapscope(['report', missing]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`heapscope: ${missing}: no such file\n`);
  });

  it('a truncated file: exit 2, says it is not valid JSON, no stack trace', () => {
    const text = readFileSync(HEAP, 'utf8');
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));
    const r = heapscope(['report', truncated]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^heapscope: .*truncated\.json: not valid JSON: the text ends at line \d+, column \d+.*truncated file\?\)\n$/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a JSON file that is not a profile: exit 2', () => {
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, '{"a":1}');
    const r = heapscope(['report', foreign]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/foreign\.json: not a profile heapscope can read/);
  });

  it('a DHAT file the viewer would reject: exit 2 with the reason', () => {
    const d = JSON.parse(readFileSync(HEAP, 'utf8'));
    d.dhatFileVersion = 1;
    const v1 = join(dir, 'v1.json');
    writeFileSync(v1, JSON.stringify(d));
    const r = heapscope(['report', v1]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/v1\.json: DHAT file version 1; expected version 2/);
  });
});

describe('colour', () => {
  it('NO_COLOR=1: no ANSI escapes', () => {
    const r = heapscope(['report', HEAP], { NO_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('not a terminal and no FORCE_COLOR: no ANSI escapes', () => {
    const r = heapscope(['report', HEAP], {});
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('FORCE_COLOR=1: ANSI escapes, same figures', () => {
    const r = heapscope(['report', HEAP], { FORCE_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(ANSI);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
    const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toBe(heapscope(['report', HEAP]).stdout);
  });

  it('FORCE_COLOR=1 --json: still plain JSON', () => {
    const r = heapscope(['report', '--json', HEAP], { FORCE_COLOR: '1' });
    expect(r.stdout).not.toMatch(ANSI);
    expect(JSON.parse(r.stdout).totals.totalBytes).toBe(96_368);
  });
});

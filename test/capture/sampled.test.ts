/**
 * `heapscope run --sample` against workloads whose allocations are known.
 *
 * The bound. V8's sampling heap profiler samples allocations as a Poisson process over
 * allocated bytes with mean I (the interval): an object of s bytes is sampled with
 * probability p = 1 − e^(−s/I) and counted as c = round(1/p) objects. A site that made n
 * such objects (B = n·s bytes) gets K ~ Binomial(n, p) ≈ Poisson(B/I) samples, and its
 * estimate is B̂ = s·c·K: E[B̂] = B (up to the rounding of c) and
 * sd(B̂) = s·c·sqrt(n·p·(1−p)) ≈ sqrt(B·I), a relative error of 1/sqrt(B/I). Blocks
 * likewise: sd = c·sqrt(n·p·(1−p)). Each check below accepts 5 standard deviations (plus
 * a small allowance for V8's own metadata charged to the site), so a correct estimate
 * fails it with probability under 6e-7: 1e6 objects of 40 bytes at I = 4096 must come
 * within 5.1% of 40 MB; 2.5e6 at the default I = 131072 within 18.1% of 100 MB.
 *
 * Live at the end needs Node 26 (`v8.startHeapProfile` marks live samples); on older
 * Node the profile has totals only and says so.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile, ProgramPoint } from '../../src/model/profile.js';
import { dhViewNumbers, launchBrowser, openInDhView } from '../helpers/browser.js';
import {
  heapscope,
  heapscopeAsync,
  NODE_MAJOR,
  profilesIn,
  readProfile,
  siteOf,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

/** {a, b} on x64 Node without pointer compression: map, properties, elements, 2 fields. */
const PAIR_BYTES = 40;
/** V8's own records (feedback vectors, maps...) charged to a site: an additive allowance. */
const METADATA_BYTES = 64 * 1024;
const SIGMAS = 5;
const HAS_LIVE = NODE_MAJOR >= 26;

/** Standard deviations of the sampled bytes and blocks of n objects of s bytes at interval I. */
function sd(n: number, s: number, interval: number) {
  const p = 1 - Math.exp(-s / interval);
  const c = Math.round(1 / p);
  const k = Math.sqrt(n * p * (1 - p));
  return { bytes: s * c * k, blocks: c * k };
}

function expectWithin(actual: number, expected: number, tolerance: number, what: string) {
  expect(
    Math.abs(actual - expected),
    `${what}: ${actual} vs ${expected} (allowed ±${Math.round(tolerance)})`,
  ).toBeLessThanOrEqual(tolerance);
}

function expectBytesNear(pp: ProgramPoint, n: number, interval: number) {
  const d = sd(n, PAIR_BYTES, interval);
  expectWithin(pp.totalBytes, n * PAIR_BYTES, SIGMAS * d.bytes + METADATA_BYTES, 'total bytes');
}

function framesOf(profile: Profile): string[] {
  return profile.programPoints.flatMap((pp) => pp.stack.map((i) => profile.frames[i]!));
}

function waitFor<T>(what: string, check: () => T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const v = check();
      if (v !== undefined && v !== false) {
        clearInterval(poll);
        resolve(v);
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

describe('a churning site and a retaining site, one sample per 4,096 bytes', () => {
  const N = 1_000_000;
  const M = 250_000;
  const INTERVAL = 4096;
  let profile: Profile;
  let stderr: string;
  let text: string;
  beforeAll(() => {
    const dir = tempDir();
    const out = join(dir, 'sampled.json');
    const r = heapscope([
      'run',
      '--sample',
      `${INTERVAL}`,
      '-o',
      out,
      '--',
      '{NODE}',
      workload('sampled.js'),
      `${N}`,
      `${M}`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    stderr = r.stderr;
    profile = readProfile(out);
    text = JSON.stringify(profile);
  });

  it('estimates the total bytes of each site within 5 standard deviations', () => {
    expectBytesNear(siteOf(profile, 'churn'), N, INTERVAL);
    expectBytesNear(siteOf(profile, 'retain'), M, INTERVAL);
  });

  it('estimates the objects of a site whose allocations are not folded', () => {
    const d = sd(N, PAIR_BYTES, INTERVAL);
    expectWithin(siteOf(profile, 'churn').totalBlocks, N, SIGMAS * d.blocks + 64, 'total blocks');
  });

  it.runIf(HAS_LIVE)('estimates live bytes at the end (Node 26)', () => {
    expect(profile.hasLifetimes).toBe(true);
    const retain = siteOf(profile, 'retain');
    const d = sd(M, PAIR_BYTES, INTERVAL);
    expectWithin(retain.endBytes!, M * PAIR_BYTES, SIGMAS * d.bytes + METADATA_BYTES, 'live bytes');
    // churn keeps only its last 1,000 objects.
    const churn = siteOf(profile, 'churn');
    const kept = sd(1000, PAIR_BYTES, INTERVAL);
    expectWithin(
      churn.endBytes!,
      1000 * PAIR_BYTES,
      SIGMAS * kept.bytes + METADATA_BYTES,
      'churn live',
    );
    expect(profile.heapscope?.peak?.method).toBe('end-as-peak');
    // The live share of a site comes from its samples and applies to its total: never more.
    for (const pp of profile.programPoints) {
      expect(pp.endBytes!).toBeLessThanOrEqual(pp.totalBytes);
      expect(pp.endBlocks!).toBeLessThanOrEqual(pp.totalBlocks);
    }
  });

  it.runIf(!HAS_LIVE)('has totals only before Node 26, and says why', () => {
    expect(profile.hasLifetimes).toBe(false);
    expect(siteOf(profile, 'retain').endBytes).toBeUndefined();
    expect(profile.heapscope?.notes?.join('\n')).toMatch(/no live-at-end figures/);
  });

  it('says it is sampled, at what interval, and that nothing is exact', () => {
    expect(profile.heapscope).toMatchObject({
      capture: 'sampled',
      sampleInterval: INTERVAL,
      exact: { total: false, end: false, peak: false },
    });
    expect(profile.heapscope?.notes?.[0]).toMatch(/one sample per 4096 bytes/);
    expect(stderr).toMatch(/Total: .*\[estimate\]/);
    expect(stderr).toMatch(/wrote .*sampled\.json .*estimated\)/);
  });

  it('names the sites with file and position', () => {
    const churn = siteOf(profile, 'churn');
    expect(profile.frames[churn.stack[0]!]).toMatch(
      /^churn \(test\/fixtures\/workloads\/sampled\.js:\d+:\d+\)$/,
    );
  });

  it("leaves out heapscope's own allocations", () => {
    for (const f of framesOf(profile)) {
      expect(f).not.toMatch(
        /sampled-agent|agent\.cjs|native\/load|node:inspector|\b(src|dist)\/(capture|native)\//,
      );
    }
    expect(text).not.toContain('HeapProfiler');
  });
});

describe('the default interval', () => {
  it('is 131,072 bytes, and 100 MB at one site comes within 18.1%', () => {
    const N = 2_500_000;
    const dir = tempDir();
    const out = join(dir, 'sampled.json');
    const r = heapscope([
      'run',
      '--sample',
      '-q',
      '-o',
      out,
      '--',
      '{NODE}',
      workload('sampled.js'),
      `${N}`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const profile = readProfile(out);
    expect(profile.heapscope?.sampleInterval).toBe(131072);
    expectBytesNear(siteOf(profile, 'churn'), N, 131072);
  });
});

describe('a process with a child process and a worker thread', () => {
  it('gets one sampled profile per process and thread', () => {
    const dir = tempDir();
    const r = heapscope([
      'run',
      '--sample',
      '1024',
      '-q',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      workload('family.js'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const files = profilesIn(dir);
    expect(files).toHaveLength(3);
    const sites = files.map((f) => readProfile(f)).map((p) => p.frames.join('\n'));
    expect(sites.filter((s) => s.includes('mainAlloc'))).toHaveLength(1);
    expect(sites.filter((s) => s.includes('workerAlloc'))).toHaveLength(1);
    expect(files.some((f) => /heapscope\.\d+\.\d+\.json$/.test(f))).toBe(true);
  });
});

describe('a wrapper that starts the process doing the work', () => {
  it("prints the report of the work (the child), not the wrapper's, and --json names it", () => {
    const dir = tempDir();
    const args = ['--sample', '4096', '--out-dir', dir, '--', '{NODE}', workload('wrapper.js')];
    const r = heapscope(['run', ...args]);
    expect(r.status, r.stderr).toBe(0);
    const child = Number(/child (\d+) done/.exec(r.stdout)?.[1]);
    // The report's header, then the line that says whose it is.
    expect(r.stderr).toMatch(new RegExp(`wrapper-child\\.js {2}\\(pid ${child}, sampled capture`));
    expect(r.stderr).toContain('doWork (');
    expect(r.stderr).toMatch(new RegExp(`the report above is of pid ${child} \\(`));
    expect(r.stderr).not.toMatch(/wrapper\.js {2}\(pid/);
    // After the command's own output (the child's line).
    const stdout = heapscope(['run', '--json', ...args]).stdout;
    const json = JSON.parse(stdout.slice(stdout.indexOf('\n{') + 1));
    const main = json.profiles.find((p: { isMain: boolean }) => p.isMain);
    expect(json.report.pid).not.toBe(main.pid);
    expectBytesNear(siteOf(readProfile(json.report.path), 'doWork'), 500_000, 4096);
  });
});

describe('SIGUSR2 while the program runs', () => {
  it('writes the profile so far as heapscope.<pid>-<n>.json and sampling goes on', async () => {
    const dir = tempDir();
    const go = join(dir, 'go');
    const run = heapscopeAsync([
      'run',
      '--sample',
      '4096',
      '-q',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      workload('sampled-phases.js'),
      'wait',
      go,
    ]);
    const pid = await waitFor('ready', () => {
      const m = /ready (\d+)/.exec(run.output().stdout);
      return m ? Number(m[1]) : undefined;
    });
    // To the Node process itself, then to heapscope, which passes it on.
    process.kill(pid, 'SIGUSR2');
    const part1 = join(dir, `heapscope.${pid}-1.json`);
    await waitFor(part1, () => existsSync(part1));
    run.child.kill('SIGUSR2');
    const part2 = join(dir, `heapscope.${pid}-2.json`);
    await waitFor(part2, () => existsSync(part2));
    writeFileSync(go, '');
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('done');

    const first = readProfile(part1);
    const last = readProfile(join(dir, `heapscope.${pid}.json`));
    const names = (p: Profile) => p.frames.join('\n');
    expect(names(first)).toContain('phaseOne');
    expect(names(first)).not.toContain('phaseTwo');
    expect(names(readProfile(part2))).not.toContain('phaseTwo');
    expect(names(last)).toContain('phaseTwo');
    // The final profile counts phase one too: sampling went on, it did not start again.
    expect(siteOf(last, 'phaseOne').totalBytes).toBe(siteOf(first, 'phaseOne').totalBytes);
    expect(first.heapscope?.notes?.join('\n')).toMatch(/SIGUSR2 number 1/);
    expect(first.hasLifetimes).toBe(false);
    expect(r.stderr).toMatch(new RegExp(`wrote .*heapscope\\.${pid}-1\\.json  \\(SIGUSR2 #1`));
  });
});

describe('--duration', () => {
  it('writes the profile after that long while the program goes on', async () => {
    const dir = tempDir();
    const run = heapscopeAsync([
      'run',
      '--sample',
      '4096',
      '--duration',
      '1s',
      '--out-dir',
      dir,
      '--',
      '{NODE}',
      workload('sampled-phases.js'),
      'forever',
    ]);
    const pid = await waitFor('ready', () => {
      const m = /ready (\d+)/.exec(run.output().stdout);
      return m ? Number(m[1]) : undefined;
    });
    const path = join(dir, `heapscope.${pid}.json`);
    await waitFor(path, () => existsSync(path));
    const ticksThen = run.output().stdout.split('tick').length;
    await waitFor(
      'a tick after the profile',
      () => run.output().stdout.split('tick').length > ticksThen,
    );
    // The report came while the program ran.
    expect(run.output().stderr).toMatch(/Top \d+ of/);
    process.kill(pid, 'SIGTERM');
    const r = await run.done;
    expect(r.status).toBe(143);
    const profile = readProfile(path);
    expect(profile.endTime).toBeGreaterThanOrEqual(1_000_000);
    expect(profile.heapscope?.notes?.join('\n')).toMatch(/--duration/);
    expect(siteOf(profile, 'phaseOne').totalBytes).toBeGreaterThan(0);
    expect(profilesIn(dir)).toEqual([path]);
  });

  it('is refused without --sample, and a bad value is a usage error', () => {
    const a = heapscope(['run', '--duration', '1s', '--', '{NODE}', '-e', '0']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--duration needs --sample/);
    const b = heapscope(['run', '--sample', '--duration', 'soon', '--', '{NODE}', '-e', '0']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--duration wants a time like 60s/);
  });
});

describe("a sampled profile in Valgrind's DHAT viewer", () => {
  afterAll(async () => {
    await (await launchBrowser()).close();
  });

  it('opens, with the totals heapscope wrote', async () => {
    const dir = tempDir();
    const out = join(dir, 'sampled.json');
    const r = heapscope([
      'run',
      '--sample',
      '-q',
      '-o',
      out,
      '--',
      '{NODE}',
      workload('sampled.js'),
      '100000',
      '10000',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    const shown = await openInDhView(await launchBrowser(), readFileSync(out, 'utf8'));
    expect(shown.error).toBeUndefined();
    const profile = readProfile(out);
    const totals = dhViewNumbers(shown.text);
    expect(totals.totalBytes).toBe(profile.programPoints.reduce((a, pp) => a + pp.totalBytes, 0));
    expect(totals.totalBlocks).toBe(profile.programPoints.reduce((a, pp) => a + pp.totalBlocks, 0));
  });
});

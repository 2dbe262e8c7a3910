/**
 * TypeScript through every loader people use, on every Node in CI: a known function of a
 * `.ts` file must read as its `.ts` line and the column of its parameter list (V8's
 * convention, the one Node's type stripping gives), with the objects it keeps counted
 * live at the end. Two workloads: ts/app.ts in an ES module package (exported function,
 * so its script lives to the end) and ts-cjs/typed.ts in a CommonJS package (a function
 * nothing refers to once the module has run, so V8 may drop its script, and the source
 * map with it, before the end).
 */
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNTRACED_SITE_FRAME } from '../../src/model/frame.js';
import type { Profile } from '../../src/model/profile.js';
import {
  endOfType,
  heapscope,
  NODE_MAJOR,
  profilesIn,
  readProfile,
  siteOf,
  tempDir,
  workload,
} from '../helpers/heapscope.js';

/** `export function makePoints(`: the parameter list opens at line 10, column 27. */
const APP_FRAME = 'makePoints (test/fixtures/workloads/ts/app.ts:10:27)';
const APP_KEPT = 100;
/** `function makeTyped(`: line 15, column 19. */
const TYPED_FRAME = 'makeTyped (test/fixtures/workloads/ts-cjs/typed.ts:15:19)';
const TYPED_N = 10_000;
const TYPED_EVERY = 10;
const TYPED_KEPT = TYPED_N / TYPED_EVERY;
/** Node's type stripping: by default from Node 23.6 (and 22.18), behind a flag before. */
const STRIP_FLAGS = NODE_MAJOR < 23 ? ['--experimental-strip-types', '--no-warnings'] : [];

/**
 * Runs a command under heapscope into a directory of its own, and requires what a user
 * must get: exit 0, one profile for one process (no loader thread's), no missing-profile note.
 */
function profileOf(command: string[], env: NodeJS.ProcessEnv = {}): Profile {
  const dir = tempDir();
  const r = heapscope(['run', '-q', '--out-dir', dir, '--', '{NODE}', ...command], { env });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/no profile for pid/);
  const profiles = profilesIn(dir);
  expect(profiles.map((p) => p.slice(dir.length + 1))).toHaveLength(1);
  return readProfile(profiles[0]!);
}

/**
 * The function's frame, and the objects it keeps live at the end: exactly on Node 20; on
 * Node 22 and later V8 now and then loses an object's trace (counted under the untraced
 * program point) and on Node 26 a new object can inherit an old id (left out, at most
 * one in 1,000 in kept-literals.test.ts), both documented in docs/accuracy.md.
 */
function expectSite(profile: Profile, fn: string, frame: string, kept: number): void {
  const pp = siteOf(profile, fn);
  expect(profile.frames[pp.stack[0]!]).toBe(frame);
  const found = endOfType(pp, 'object')[1];
  if (NODE_MAJOR < 22) {
    expect(found).toBe(kept);
    return;
  }
  const untraced = profile.programPoints.find(
    (p) => profile.frames[p.stack[0]!] === UNTRACED_SITE_FRAME,
  );
  expect(found).toBeLessThanOrEqual(kept);
  expect(found).toBeGreaterThanOrEqual(kept - (untraced?.endBlocks ?? 0) - Math.ceil(kept / 1000));
}

const typedArgs = [`${TYPED_N}`, `${TYPED_EVERY}`];
// tsx's cache off: each run transforms, through esbuild's worker thread (not the program's).
const NO_TSX_CACHE = { TSX_DISABLE_CACHE: '1' };

describe('TypeScript positions, one convention across loaders', () => {
  it('tsc output with a source map on disk', () => {
    expectSite(profileOf([workload('ts/dist/app.js')]), 'makePoints', APP_FRAME, APP_KEPT);
  });

  it('tsx, ES module package: its inline source map, one profile (no loader threads)', () => {
    const profile = profileOf(['--import', 'tsx', workload('ts/app.ts')], NO_TSX_CACHE);
    expectSite(profile, 'makePoints', APP_FRAME, APP_KEPT);
  });

  it('tsx, CommonJS package: a function whose script died before the end', () => {
    const profile = profileOf(
      ['--import', 'tsx', workload('ts-cjs/typed.ts'), ...typedArgs],
      NO_TSX_CACHE,
    );
    expectSite(profile, 'makeTyped', TYPED_FRAME, TYPED_KEPT);
  });

  it("ts-node's require hook", () => {
    const profile = profileOf([workload('ts-cjs/ts-node.cjs'), ...typedArgs]);
    expectSite(profile, 'makeTyped', TYPED_FRAME, TYPED_KEPT);
  });

  describe('an esbuild bundle with a linked source map', () => {
    let bundle: string;
    beforeAll(() => {
      bundle = join(tempDir(), 'bundle.js');
      buildSync({
        entryPoints: [workload('ts-cjs/typed.ts')],
        bundle: true,
        platform: 'node',
        sourcemap: 'linked',
        outfile: bundle,
        logLevel: 'silent',
      });
    });

    it('maps the bundle back to the .ts file', () => {
      const profile = profileOf([bundle, ...typedArgs]);
      expectSite(profile, 'makeTyped', TYPED_FRAME, TYPED_KEPT);
    });
  });

  it.skipIf(NODE_MAJOR < 22)("Node's type stripping, ES module package", () => {
    const profile = profileOf([...STRIP_FLAGS, workload('ts/app.ts')]);
    expectSite(profile, 'makePoints', APP_FRAME, APP_KEPT);
  });

  it.skipIf(NODE_MAJOR < 22)("Node's type stripping, CommonJS package", () => {
    const profile = profileOf([...STRIP_FLAGS, workload('ts-cjs/typed.ts'), ...typedArgs]);
    expectSite(profile, 'makeTyped', TYPED_FRAME, TYPED_KEPT);
  });
});

/**
 * Test helpers that open profiles in Valgrind's own DHAT viewer (`dh_view.html`) in a
 * headless Chromium, so tests can check that a file heapscope reads or writes is one
 * the real viewer accepts, and what the viewer shows for it.
 *
 * Chromium comes from the `@sparticuz/chromium` dev dependency (a headless shell inside
 * the npm package, unpacked to the temp directory on first use; no download), with
 * `/usr/bin/chromium` as a fallback. The viewer comes from the system's Valgrind
 * package (`/usr/libexec/valgrind` on Debian and Ubuntu, `/usr/lib/valgrind` elsewhere);
 * `HEAPSCOPE_DH_VIEW_DIR` points at another directory holding it. Without a viewer the
 * helpers throw: a missing viewer fails the test instead of skipping it.
 */
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** The files that make up Valgrind's viewer. */
const VIEWER_FILES = ['dh_view.html', 'dh_view.js', 'dh_view.css'] as const;

/** Where Valgrind packages install the viewer. */
const VIEWER_DIRS = ['/usr/libexec/valgrind', '/usr/lib/valgrind'];

const FALLBACK_CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (CI containers run as root), and nothing that talks to the network. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];

/** How long the viewer may take to render a profile. */
const RENDER_TIMEOUT_MS = 15_000;

let browserPromise: Promise<Browser> | undefined;

/**
 * A headless Chromium, launched once per test file and reused by its tests (vitest
 * gives each file its own module instance). Close it in `afterAll`; a closed browser
 * is relaunched on the next call.
 */
export function launchBrowser(): Promise<Browser> {
  if (!browserPromise) {
    browserPromise = launch().then(
      (browser) => {
        browser.on('disconnected', () => {
          browserPromise = undefined;
        });
        return browser;
      },
      (e: unknown) => {
        browserPromise = undefined;
        throw e;
      },
    );
  }
  return browserPromise;
}

async function launch(): Promise<Browser> {
  let packaged: unknown;
  try {
    const executablePath = await unpackSparticuzChromium();
    return await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  } catch (e) {
    packaged = e;
  }
  if (existsSync(FALLBACK_CHROMIUM)) {
    return chromium.launch({
      executablePath: FALLBACK_CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  }
  throw new Error(
    `cannot start Chromium: @sparticuz/chromium failed (${(packaged as Error).message}) and ` +
      `${FALLBACK_CHROMIUM} does not exist. If a run was interrupted while unpacking, ` +
      `delete ${join(tmpdir(), 'chromium')} and try again.`,
  );
}

/**
 * `@sparticuz/chromium` unpacks its binary to `<tmp>/chromium` without writing it
 * atomically and reuses whatever file is there, so two test workers unpacking at once
 * could run a half-written binary. A lock directory makes them take turns.
 */
async function unpackSparticuzChromium(): Promise<string> {
  const lock = join(tmpdir(), 'heapscope-chromium-unpack.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await fs.mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (await fs.stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 120_000) await fs.rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const Chromium = (await import('@sparticuz/chromium')).default;
    Chromium.setGraphicsMode = false; // no WebGL needed: skips SwiftShader flags
    return await Chromium.executablePath();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

/** The directory holding Valgrind's viewer; throws with instructions when there is none. */
export function findDhViewDir(): string {
  const dirs = [process.env.HEAPSCOPE_DH_VIEW_DIR, ...VIEWER_DIRS].filter((d): d is string => !!d);
  const dir = dirs.find((d) => VIEWER_FILES.every((f) => existsSync(join(d, f))));
  if (!dir) {
    throw new Error(
      `Valgrind's DHAT viewer (${VIEWER_FILES.join(', ')}) was not found in ${dirs.join(' or ')}. ` +
        'Install Valgrind (e.g. `apt-get install valgrind`), or set HEAPSCOPE_DH_VIEW_DIR to ' +
        'the directory that holds dh_view.html.',
    );
  }
  return dir;
}

export interface DhViewResult {
  /** The text dh_view renders in its main section: invocation, times and the tree. */
  text: string;
  /** The error dh_view shows instead of a tree (or an exception the page threw). */
  error?: string;
  /** Labels of the sort metric menu, as dh_view sets them for the loaded file. */
  sortOptions: string[];
}

/**
 * Loads `dhatJsonText` into Valgrind's dh_view (a temporary copy of its three files,
 * opened by file:// URL) through its file input, the way a user does, and returns what
 * it renders. Numbers are formatted for the `en-US` locale.
 */
export async function openInDhView(browser: Browser, dhatJsonText: string): Promise<DhViewResult> {
  const viewerDir = findDhViewDir();
  const dir = await fs.mkdtemp(join(tmpdir(), 'heapscope-dh-view-'));
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    for (const f of VIEWER_FILES) await fs.copyFile(join(viewerDir, f), join(dir, f));
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'dh_view.html')).href);
    await page.waitForSelector('select option', { state: 'attached' });
    await page.setInputFiles('input[type=file]', {
      name: 'profile.json',
      mimeType: 'application/json',
      buffer: Buffer.from(dhatJsonText, 'utf8'),
    });
    // dh_view renders the tree into a <pre>, or an error into <span class="error">.
    const rendered = await page
      .locator('pre, span.error')
      .first()
      .waitFor({ state: 'attached', timeout: RENDER_TIMEOUT_MS })
      .then(
        () => true,
        () => false,
      );
    // A string, not a function: this project type-checks without the DOM library.
    const shown = await page.evaluate<{ text: string; error?: string; sortOptions: string[] }>(`({
      text: document.querySelector('pre')?.textContent ?? '',
      error: document.querySelector('span.error')?.textContent ?? undefined,
      sortOptions: Array.from(document.querySelectorAll('select option'), (o) => o.label.trim()),
    })`);
    const error =
      shown.error ??
      pageErrors[0] ??
      (rendered ? undefined : `dh_view rendered nothing within ${RENDER_TIMEOUT_MS} ms`);
    return { text: shown.text, sortOptions: shown.sortOptions, ...(error ? { error } : {}) };
  } finally {
    await context.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The root node's figures as dh_view prints them. */
export interface DhViewNumbers {
  totalBytes: number;
  totalBlocks: number;
  /** Present when the file records lifetimes (`bklt`). */
  peakBytes?: number;
  peakBlocks?: number;
  endBytes?: number;
  endBlocks?: number;
}

/**
 * Parses the root node ("PP 1/1") of dh_view's text, e.g.
 *
 * ```
 * ▼ PP 1/1 (2 children) {
 *     Total:     96,368 bytes (100%, 248.8/Minstr) in 2,011 blocks (100%, 5.19/Minstr), avg size 47.92 bytes, …
 *     At t-gmax: 20,096 bytes (100%) in 1,001 blocks (100%), avg size 20.08 bytes
 *     At t-end:  4,096 bytes (100%) in 1 blocks (100%), avg size 4,096 bytes
 * ```
 *
 * The unit words vary (`bytes`/`blocks`, or `units`/`events` in ad-hoc mode) and are
 * skipped; group separators are dropped. Throws when the root node is not found.
 */
export function dhViewNumbers(text: string): DhViewNumbers {
  const start = text.search(/PP 1\/1\b/);
  if (start < 0) throw new Error(`no root node ("PP 1/1") in dh_view's text:\n${text}`);
  // The root's own lines run up to the first line that opens a child ("PP 1.1/…").
  const rest = text.slice(start);
  const child = rest.search(/PP 1\.\d/);
  const root = child < 0 ? rest : rest.slice(0, child);
  const num = '([0-9][0-9,.\\s\\u00a0\\u202f]*?)';
  const line = (title: string): [number, number] | undefined => {
    const m = new RegExp(`${title}:\\s+${num}\\s+\\S+\\s+\\([^)]*\\)\\s+in\\s+${num}\\s+\\S+`).exec(
      root,
    );
    return m ? [parseNumber(m[1]!), parseNumber(m[2]!)] : undefined;
  };
  const total = line('Total');
  if (!total) throw new Error(`no "Total:" line in dh_view's root node:\n${root}`);
  const peak = line('At t-gmax');
  const end = line('At t-end');
  return {
    totalBytes: total[0],
    totalBlocks: total[1],
    ...(peak ? { peakBytes: peak[0], peakBlocks: peak[1] } : {}),
    ...(end ? { endBytes: end[0], endBlocks: end[1] } : {}),
  };
}

function parseNumber(s: string): number {
  const n = Number(s.replace(/[\s,\u00a0\u202f]/g, ''));
  if (!Number.isFinite(n)) throw new Error(`not a number in dh_view's text: "${s}"`);
  return n;
}

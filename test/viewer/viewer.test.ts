// heapscope's viewer in a real headless Chromium, on the self-contained page that
// renderViewerHtml makes (loaded from a file:// URL, as a user opens a saved report):
// - every DHAT fixture and a profile from `heapscope run` show the totals and the top
//   sites their JSON holds (sums computed here, independently), and the same node
//   texts, node for node, as Valgrind's dh_view shows for the same file;
// - sorting reorders the tree and the sites; the search box filters; the keyboard works;
// - a crafted profile with HTML and script in its names renders them as text and runs
//   nothing; no page makes any network request;
// - two files give a diff; a timeline draws a chart; the icicle graph is sized by the
//   sort figure.
// Needs `npm run build` (the compiled viewer, bin/heapscope.js) and Valgrind's viewer.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDhat } from '../../src/formats/dhat.js';
import { renderViewerHtml } from '../../src/viewer/render.js';
import { findDhViewDir, launchBrowser, openInDhView } from '../helpers/browser.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/dhat/${path}`, import.meta.url), 'utf8');

const FIXTURES = [
  'valgrind-3.19/valgrind-heap.json',
  'valgrind-3.19/valgrind-ad-hoc.json',
  'valgrind-3.19/valgrind-copy.json',
  'dhat-rs/dhat-rs-heap.json',
];

interface RawPP {
  tb: number;
  tbk: number;
  gb?: number;
  gbk?: number;
  eb?: number;
  ebk?: number;
  fs: number[];
}
interface Raw {
  bklt: boolean;
  cmd: string;
  pps: RawPP[];
  ftbl: string[];
}

let browser: Browser;
let dir = '';
let heapscopeText = '';

beforeAll(async () => {
  findDhViewDir();
  if (!existsSync(join(root, 'dist', 'viewer', 'app', 'main.js'))) {
    throw new Error('dist/viewer is missing: run `npm run build` first');
  }
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'heapscope-viewer-test-'));
  writeFileSync(
    join(dir, 'prog.js'),
    `globalThis.kept = [];
     function makePairs(n) { for (let i = 0; i < n; i++) { const p = { a: i, b: i }; if (i % 20 === 0) kept.push(p); } }
     function renderRow(i) { return '<td>' + i + '</td>'; }
     makePairs(20000);
     let s = 0; for (let i = 0; i < 20000; i++) s += renderRow(i).length;`,
  );
  execFileSync(
    process.execPath,
    ['bin/heapscope.js', 'run', '-q', '--out-dir', dir, '--', 'node', join(dir, 'prog.js')],
    { cwd: root, stdio: 'pipe' },
  );
  const written = readdirSync(dir).filter((f) => /^heapscope\.\d+\.json$/.test(f));
  heapscopeText = readFileSync(join(dir, written[0]!), 'utf8');
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  url: string;
  errors: string[];
  requests: string[];
  dialogs: string[];
  close(): Promise<void>;
}

let pages = 0;
/** Writes the page for these DHAT texts and opens it in a fresh context. */
async function open(texts: string[], names?: string[]): Promise<Opened> {
  const html = renderViewerHtml(
    texts.map((t, i) => ({ name: names?.[i] ?? `profile${i}.json`, profile: readDhat(t) })),
  );
  const path = join(dir, `view${pages++}.html`);
  writeFileSync(path, html);
  const context = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 1400, height: 1000 },
  });
  const page = await context.newPage();
  const o: Opened = {
    page,
    url: pathToFileURL(path).href,
    errors: [],
    requests: [],
    dialogs: [],
    close: () => context.close(),
  };
  page.on('pageerror', (e) => o.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') o.errors.push(m.text());
  });
  page.on('request', (r) => o.requests.push(r.url()));
  page.on('dialog', (d) => {
    o.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(o.url);
  await page.waitForSelector('html[data-rendered]');
  expect(await page.getAttribute('html', 'data-rendered')).toBe('true');
  return o;
}

/** Every request the page made was for the page itself (or an inline data: URL). */
function expectNoNetwork(o: Opened) {
  expect(o.requests.filter((u) => u !== o.url && !u.startsWith('data:'))).toEqual([]);
}

const digits = (s: string | null) => Number((s ?? '').replace(/[^0-9.]/g, ''));

/** The header's figures: label → [bytes, blocks]. */
async function headerFigures(page: Page): Promise<Record<string, [number, number]>> {
  const rows = await page.locator('table.totals tr').all();
  const out: Record<string, [number, number]> = {};
  for (const r of rows) {
    const label = (await r.locator('th').textContent())!.trim();
    const cells = await r.locator('td').allTextContents();
    out[label] = [digits(cells[0]!), digits(cells[2]!)];
  }
  return out;
}

/** The text of each node dh_view prints, by node id, treelines and indentation removed. */
function dhViewNodes(text: string): Map<string, string> {
  const nodes = new Map<string, string>();
  let id: string | undefined;
  let lines: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /PP ([\d.]+)\//.exec(raw);
    if (m && /^[\s│├└─▼▶]*PP /.test(raw)) {
      if (id) nodes.set(id, lines.join('\n'));
      id = m[1]!;
      lines = [];
    }
    if (!id) continue;
    if (raw.startsWith('PP significance threshold')) break;
    const line = raw.replace(/^[\s│├└─▼▶]+/, '');
    if (line) lines.push(line);
  }
  if (id) nodes.set(id, lines.join('\n'));
  return nodes;
}

function normalise(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^[\s│├└─▼▶]+/, ''))
    .filter(Boolean)
    .join('\n');
}

async function selectSort(page: Page, label: string) {
  await page.selectOption('select[aria-label="Sort metric"]', { label });
}

describe.each([
  ...FIXTURES.map((f) => [f, () => fixture(f)] as const),
  ['a profile from heapscope run', () => heapscopeText] as const,
])('%s', (_name, text) => {
  it('shows the totals and the top sites of its program points', async () => {
    const raw = JSON.parse(text()) as Raw;
    const o = await open([text()]);
    try {
      const sum = (f: (pp: RawPP) => number | undefined) =>
        raw.pps.reduce((a, pp) => a + (f(pp) ?? 0), 0);
      const header = await headerFigures(o.page);
      expect(header.Total).toEqual([sum((p) => p.tb), sum((p) => p.tbk)]);
      if (raw.bklt) {
        expect(header['At t-gmax']).toEqual([sum((p) => p.gb), sum((p) => p.gbk)]);
        expect(header['At t-end']).toEqual([sum((p) => p.eb), sum((p) => p.ebk)]);
      } else {
        expect(header['At t-gmax']).toBeUndefined();
      }
      expect(await o.page.locator('h1.cmd').textContent()).toBe(raw.cmd);

      // The sites list: the program points by total bytes, largest first.
      await o.page.click('[data-tab=sites]');
      const shown = await o.page.locator('table.sites tbody tr').all();
      const expected = raw.pps.map((p) => p.tb).sort((a, b) => b - a);
      expect(shown.length).toBe(Math.min(200, raw.pps.length));
      const values = [];
      for (const r of shown.slice(0, 10))
        values.push(digits(await r.locator('td').nth(2).textContent()));
      expect(values).toEqual(expected.slice(0, 10));
      // The first site names the first frame of the largest program point.
      const largest = raw.pps.reduce((a, p) => (p.tb > a.tb ? p : a));
      if (raw.pps.filter((p) => p.tb === largest.tb).length === 1) {
        const site = await shown[0]!.locator('td.site').textContent();
        const frame = raw.ftbl[largest.fs[0]!]!;
        expect(site).toContain(frame.replace(/ \([^()]*\)$/, ''));
      }
      expect(o.errors).toEqual([]);
      expectNoNetwork(o);
    } finally {
      await o.close();
    }
  });

  it("shows each node with the numbers Valgrind's dh_view shows", async () => {
    const dh = await openInDhView(browser, text());
    expect(dh.error).toBeUndefined();
    // heapscope files have no lifetimes (`tl`): dh_view prints "avg lifetime NaN", the
    // viewer leaves that figure out. Everything else must be the same.
    const expected = dhViewNodes(
      dh.text.replace(/, avg lifetime NaN \S+ \(NaN% of program duration\)/g, ''),
    );
    const o = await open([text()]);
    try {
      // dh_view's default sort metric is "Total (blocks)".
      const blocksLabel = dh.sortOptions[1]!;
      await selectSort(o.page, blocksLabel);
      await o.page.click('text=Expand all');
      const rows = o.page.locator('.tree [role=treeitem]');
      const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
      expect(ids).toEqual([...expected.keys()]);
      const threshold = /^PP significance threshold: .*$/m.exec(dh.text)![0];
      expect(await o.page.locator('.threshold').textContent()).toBe(threshold);
      for (const id of ids) {
        await o.page.click(`.tree [data-id="${id}"] .fn`);
        const details = await o.page.locator('.details pre.dh').textContent();
        expect(normalise(details!), `PP ${id}`).toBe(expected.get(id));
      }
    } finally {
      await o.close();
    }
  });
});

describe('sorting', () => {
  it('shows functions and files with their self and inclusive figures', async () => {
    // Ground truth from the JSON: a function's self bytes are those of the program points
    // whose allocating frame is it; its inclusive bytes those with it anywhere. A function
    // is its name and file; anonymous functions, which share a name, keep their position.
    const raw = JSON.parse(heapscopeText) as Raw;
    const nameOf = (f: number) => {
      const frame = raw.ftbl[f]!;
      const m = / \((.*?)((?::\d+){1,2})?\)$/.exec(frame);
      if (!m) return frame;
      const name = frame.slice(0, m.index);
      return /^(\(anonymous\)|<anonymous>|anonymous)?$/.test(name) ? frame : `${name} (${m[1]})`;
    };
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    for (const p of raw.pps) {
      self.set(nameOf(p.fs[0]!), (self.get(nameOf(p.fs[0]!)) ?? 0) + p.tb);
      for (const name of new Set(p.fs.map(nameOf))) {
        inclusive.set(name, (inclusive.get(name) ?? 0) + p.tb);
      }
    }
    const top = (m: Map<string, number>) => Math.max(...m.values());
    const o = await open([heapscopeText]);
    try {
      const { page } = o;
      await page.click('[data-tab=sites]');
      const firstShown = async () =>
        digits(
          (await page.locator('table.sites tbody tr td.sorted').first().textContent())!.split(
            ' ',
          )[0]!,
        );
      await page.selectOption('select[aria-label=Rows]', 'function:self');
      expect(await firstShown()).toBe(top(self));
      await page.selectOption('select[aria-label=Rows]', 'function:inclusive');
      expect(await firstShown()).toBe(top(inclusive));
      await page.selectOption('select[aria-label=Rows]', 'site');
      expect(await firstShown()).toBe(Math.max(...raw.pps.map((p) => p.tb)));
      expect(o.errors).toEqual([]);
    } finally {
      await o.close();
    }
  });

  it('orders the sites and the tree by the chosen figure', async () => {
    const raw = JSON.parse(heapscopeText) as Raw;
    const o = await open([heapscopeText]);
    try {
      const { page } = o;
      await page.click('[data-tab=sites]');
      for (const [label, field] of [
        ['Total (bytes)', 'tb'],
        ['At t-end (bytes)', 'eb'],
        ['Total (blocks)', 'tbk'],
      ] as const) {
        await selectSort(page, label);
        const cells = await page.locator('table.sites tbody tr td.sorted').allTextContents();
        const shown = cells.map((c) => digits(c.split(' ')[0]!));
        const expected = raw.pps.map((p) => p[field]!).sort((a, b) => b - a);
        expect(shown.slice(0, 20), label).toEqual(expected.slice(0, 20));
      }

      // In the tree (allocation site first), the root's children are the program points
      // grouped by their first frame, in order of the sort figure: computed here from the
      // JSON, the order by total bytes differs from the order by bytes at the end.
      await page.click('[data-tab=tree]');
      const topLevel = async () => {
        const rows = page.locator('.tree [role=treeitem][aria-level="2"]:not(.aggregate)');
        const sorted = (await rows.locator('.num.sorted').allTextContents()).map((t) =>
          digits(t.split(' ')[0]!),
        );
        expect([...sorted].sort((a, b) => b - a)).toEqual(sorted);
        return rows.locator('.fn').allTextContents();
      };
      const expectedTop = (field: 'tb' | 'eb') => {
        const by = new Map<number, [number, number]>();
        for (const p of raw.pps) {
          const [v, tb] = by.get(p.fs[0]!) ?? [0, 0];
          by.set(p.fs[0]!, [v + p[field]!, tb + p.tb]);
        }
        const root = [...by.values()].reduce((a, [v]) => a + v, 0);
        return [...by.entries()]
          .filter(([, [v]]) => v >= 0.01 * root)
          .sort((a, b) => b[1][0] - a[1][0] || b[1][1] - a[1][1])
          .map(([f]) => raw.ftbl[f]!.replace(/ \([^()]*\)$/, ''));
      };
      await selectSort(page, 'Total (bytes)');
      const byTotal = await topLevel();
      expect(byTotal).toEqual(expectedTop('tb'));
      await selectSort(page, 'At t-end (bytes)');
      const byEnd = await topLevel();
      expect(byEnd).toEqual(expectedTop('eb'));
      expect(byEnd).not.toEqual(byTotal);
      expect(o.errors).toEqual([]);
    } finally {
      await o.close();
    }
  });
});

describe('search', () => {
  it('filters program points by function or file, with "/" to focus it', async () => {
    const raw = JSON.parse(fixture('valgrind-3.19/valgrind-heap.json')) as Raw;
    const o = await open([fixture('valgrind-3.19/valgrind-heap.json')]);
    try {
      const { page } = o;
      await page.locator('.tree [role=treeitem]').first().focus();
      await page.keyboard.press('/');
      expect(await page.evaluate('document.activeElement.getAttribute("aria-label")')).toBe(
        'Search function or file',
      );
      await page.keyboard.type('make_rec');
      await page.keyboard.press('Enter');
      const matching = raw.pps.filter((p) => p.fs.some((f) => raw.ftbl[f]!.includes('make_rec')));
      expect(matching).toHaveLength(1);
      await expect
        .poll(() => page.locator('.match-count').textContent())
        .toBe(`1 of ${raw.pps.length} program points match`);
      const rootValue = await page.locator('.tree [data-id="1"] .num.sorted').textContent();
      expect(digits(rootValue!.split(' ')[0]!)).toBe(matching[0]!.tb);

      // By file name: every program point allocated from prog.c.
      await page.fill('input.search', 'prog.c:3');
      await page.keyboard.press('Enter');
      const byFile = raw.pps.filter((p) => p.fs.some((f) => raw.ftbl[f]!.includes('prog.c:3')));
      await expect
        .poll(() => page.locator('.match-count').textContent())
        .toBe(`${byFile.length} of ${raw.pps.length} program points match`);
      await page.click('[data-tab=sites]');
      expect(await page.locator('table.sites tbody tr').count()).toBe(byFile.length);

      await page.locator('input.search').press('Escape');
      await expect.poll(() => page.locator('.match-count').textContent()).toBe('');
      expect(await page.locator('table.sites tbody tr').count()).toBe(raw.pps.length);
    } finally {
      await o.close();
    }
  });
});

describe('keyboard', () => {
  it('moves, expands, collapses and selects in the tree', async () => {
    const o = await open([fixture('valgrind-3.19/valgrind-heap.json')]);
    try {
      const { page } = o;
      const rows = page.locator('.tree [role=treeitem]');
      const focusedId = () => page.evaluate('document.activeElement.getAttribute("data-id")');
      await rows.first().focus();
      expect(await focusedId()).toBe('1');
      const all = await rows.count();
      await page.keyboard.press('ArrowLeft'); // collapse the root
      expect(await rows.count()).toBe(1);
      await page.keyboard.press('ArrowRight'); // expand it again
      expect(await rows.count()).toBeGreaterThan(1);
      await page.keyboard.press('ArrowRight'); // to its first child
      expect(await focusedId()).toBe('1.1');
      await page.keyboard.press('ArrowDown');
      const second = await focusedId();
      expect(second).not.toBe('1.1');
      await page.keyboard.press('Enter');
      expect(await page.locator('.details h2').textContent()).toBe(`PP ${second}`);
      await page.keyboard.press('Home');
      expect(await focusedId()).toBe('1');
      expect(all).toBeGreaterThan(2);
      // The tabs answer to the arrow keys.
      await page.click('[data-tab=tree]');
      await page.keyboard.press('ArrowRight');
      expect(await page.getAttribute('[data-tab=flame]', 'aria-selected')).toBe('true');
    } finally {
      await o.close();
    }
  });
});

describe('a profile with HTML and script in its names', () => {
  const PAYLOADS = {
    script: '<script>window.__pwned = 1; alert(1)</script>',
    img: '<img src=x onerror="window.__pwned = 2; alert(2)">',
    close: '</script><script>window.__pwned = 3; alert(3)</script><!--',
  };
  const crafted = () => {
    const d = JSON.parse(fixture('valgrind-3.19/valgrind-heap.json'));
    d.cmd = `${PAYLOADS.close} ${PAYLOADS.img}`;
    d.ftbl[2] = `${PAYLOADS.script} (${PAYLOADS.close}:1:1)`;
    d.ftbl[4] = `${PAYLOADS.img} (x.js:2:2)`;
    d.ftbl[6] = 'line\u2028separator\u2029 <b>bold</b> (&amp;.js:3:3)';
    d.heapscope = {
      version: 1,
      capture: 'exact',
      exact: { total: true, end: true, peak: false },
      notes: [PAYLOADS.img],
      timeline: [
        { t: 0, bytes: 0 },
        { t: 1000, bytes: 5000 },
      ],
    };
    return JSON.stringify(d);
  };

  it('renders them as text and runs no script', async () => {
    const o = await open([crafted()], [`${PAYLOADS.img}.json`]);
    try {
      const { page } = o;
      for (const tab of ['tree', 'flame', 'sites']) {
        await page.click(`[data-tab=${tab}]`);
        if (tab === 'tree') await page.click('text=Expand all');
      }
      await page.click('[data-tab=tree]');
      expect(await page.locator('h1.cmd').textContent()).toBe(`${PAYLOADS.close} ${PAYLOADS.img}`);
      const tree = await page.locator('.tree').textContent();
      expect(tree).toContain(PAYLOADS.script);
      expect(tree).toContain(PAYLOADS.img);
      expect(tree).toContain('<b>bold</b>');
      expect(await page.locator('.file-name').textContent()).toBe(`${PAYLOADS.img}.json`);
      expect(await page.locator('ul.notes li').first().textContent()).toBe(PAYLOADS.img);
      // Nothing was parsed as markup: one script element of ours, no img, no b.
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('b:text("bold")').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(3); // the data, its frames and the viewer
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(o.dialogs).toEqual([]);
      expect(o.errors).toEqual([]);
      expectNoNetwork(o);
    } finally {
      await o.close();
    }
  });
});

describe('no network', () => {
  it('makes no request beyond the page itself, in every view', async () => {
    const o = await open([heapscopeText, heapscopeText], ['base.json', 'head.json']);
    try {
      for (const tab of ['tree', 'flame', 'sites', 'diff']) await o.page.click(`[data-tab=${tab}]`);
      await o.page.click('text=Expand all').catch(() => {});
      expectNoNetwork(o);
      expect(o.requests).toEqual([o.url]);
      expect(o.errors).toEqual([]);
    } finally {
      await o.close();
    }
  });
});

describe('two files', () => {
  it('shows base and head side by side with per-site deltas', async () => {
    const base = JSON.parse(fixture('valgrind-3.19/valgrind-heap.json'));
    const head = JSON.parse(fixture('valgrind-3.19/valgrind-heap.json'));
    head.pps[0].tb *= 2; // 64,000 → 128,000 bytes
    head.pps.splice(4, 1); // one site vanished (4,096 bytes)
    head.ftbl.push('0x1: brand_new (new.c:1)');
    head.pps.push({ ...head.pps[1], tb: 300, fs: [1, head.ftbl.length - 1] });
    const o = await open([JSON.stringify(base), JSON.stringify(head)], ['base.json', 'head.json']);
    try {
      const { page } = o;
      expect(await page.locator('.file-header .role').allTextContents()).toEqual(['Base', 'Head']);
      expect(await page.getAttribute('[data-tab=diff]', 'aria-selected')).toBe('true');
      const totalRow = page.locator('table.diff-totals tr', { hasText: 'Total bytes' });
      const cells = await totalRow.locator('td').allTextContents();
      const baseTotal = base.pps.reduce((a: number, p: RawPP) => a + p.tb, 0);
      const headTotal = head.pps.reduce((a: number, p: RawPP) => a + p.tb, 0);
      expect(cells.slice(0, 3).map(digits)).toEqual([baseTotal, headTotal, headTotal - baseTotal]);
      expect(cells[2]!.startsWith('+')).toBe(true);
      const first = page.locator('table.diff tbody tr').first();
      const firstCells = await first.locator('td').allTextContents();
      expect(firstCells[0]).toBe('changed');
      expect(firstCells.slice(1, 4).map(digits)).toEqual([64000, 128000, 64000]);
      const statuses = await page.locator('table.diff tbody tr td:first-child').allTextContents();
      expect(statuses).toContain('new');
      expect(statuses).toContain('vanished');
      // The file menu switches the tree between base and head.
      await page.click('[data-tab=tree]');
      const rootTotal = async () =>
        digits(
          (await page.locator('.tree [data-id="1"] .num.sorted').textContent())!.split(' ')[0]!,
        );
      expect(await rootTotal()).toBe(headTotal);
      await page.selectOption('select[aria-label="File shown"]', { index: 0 });
      expect(await rootTotal()).toBe(baseTotal);
    } finally {
      await o.close();
    }
  });
});

describe('memory over time and the icicle graph', () => {
  it('draws the timeline a profile carries', async () => {
    const d = JSON.parse(heapscopeText);
    d.heapscope.timeline = [
      { t: 0, bytes: 1000 },
      { t: 500, bytes: 250_000 },
      { t: 1000, bytes: 4000 },
    ];
    const o = await open([JSON.stringify(d)]);
    try {
      const chart = o.page.locator('svg.timeline');
      expect(await chart.getAttribute('aria-label')).toBe(
        'Live bytes over time: peak 244.1 KiB at 500 µs',
      );
      expect(await o.page.locator('svg.timeline polyline').getAttribute('points')).toMatch(
        /^(\S+ ){2}\S+$/,
      );
    } finally {
      await o.close();
    }
    // A run of 54.8 s: the axis in seconds, every label inside the chart; t-gmax at the
    // end of the run (after the last point) is marked, and the caption says what it is.
    const long = JSON.parse(heapscopeText);
    long.heapscope.timeline = [
      { t: 0, bytes: 1000 },
      { t: 20_000_000, bytes: 900_000 },
      { t: 54_000_000, bytes: 500_000 },
    ];
    long.te = 54_756_234;
    long.tg = 54_756_234;
    long.heapscope.peak = { method: 'end-as-peak' };
    const l = await open([JSON.stringify(long)]);
    try {
      const labels = l.page.locator('svg.timeline > text');
      expect(await labels.allTextContents()).toEqual(['0 s', '14 s', '27 s', '41 s', '55 s']);
      const box = (await l.page.locator('svg.timeline').boundingBox())!;
      for (const t of await labels.all()) {
        const b = (await t.boundingBox())!;
        expect(b.x).toBeGreaterThanOrEqual(box.x);
        expect(b.x + b.width).toBeLessThanOrEqual(box.x + box.width + 0.5);
      }
      expect(await l.page.locator('svg.timeline line.peak').count()).toBe(1);
      // The header says the same moment, in seconds, and where its figures come from.
      const times = await l.page.locator('.file-header').textContent();
      expect(times).toContain('t-gmax 54.76 s (the end, taken as the peak)');
      expect(times).toContain('t-end 54.76 s');
      expect(await l.page.locator('svg.timeline g text').last().textContent()).toBe(
        't-gmax (end of run)',
      );
      expect(await l.page.locator('.timeline-section p.dim').textContent()).toContain(
        'no live figures per site were measured at a higher moment',
      );
    } finally {
      await l.close();
    }
    // Without a timeline there is no chart.
    const bare = JSON.parse(heapscopeText);
    delete bare.heapscope.timeline;
    const plain = await open([JSON.stringify(bare)]);
    try {
      expect(await plain.page.locator('svg.timeline').count()).toBe(0);
    } finally {
      await plain.close();
    }
  });

  it('sizes each frame by its share of the sort figure and zooms on click', async () => {
    const raw = JSON.parse(fixture('valgrind-3.19/valgrind-heap.json')) as Raw;
    const o = await open([fixture('valgrind-3.19/valgrind-heap.json')]);
    try {
      const { page } = o;
      await page.click('[data-tab=flame]');
      const bar = (title: RegExp) =>
        page
          .locator('svg.flame g.frame')
          .filter({ has: page.locator('title', { hasText: title }) })
          .first();
      const width = async (title: RegExp) =>
        Number(await bar(title).locator('rect').getAttribute('width'));
      const all = await width(/^\[root\]/);
      // Callers first: main (prog.c:28) → make_buf → malloc holds pp 0's 64,000 bytes.
      const total = raw.pps.reduce((a, p) => a + p.tb, 0);
      const makeBuf = await width(/^0x1091A0: make_buf/);
      expect(Math.abs(makeBuf - (all * 64000) / total)).toBeLessThan(1);
      await bar(/^0x1091A0: make_buf/).click();
      expect(Math.abs((await width(/^0x1091A0: make_buf/)) - all)).toBeLessThan(1);
      await page.click('text=Reset zoom');
      expect(Math.abs((await width(/^0x1091A0: make_buf/)) - makeBuf)).toBeLessThan(1);
      // By blocks instead: make_buf's 1,000 of 2,011 blocks.
      await selectSort(page, 'Total (blocks)');
      const byBlocks = await width(/^0x1091A0: make_buf/);
      expect(Math.abs(byBlocks - (all * 1000) / 2011)).toBeLessThan(1);
    } finally {
      await o.close();
    }
  });
});

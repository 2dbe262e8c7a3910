#!/usr/bin/env node
/**
 * Benchmark: time to first render of heapscope's viewer on a profile with 50,000
 * program points, in headless Chromium, against Valgrind's dh_view.html on the same file.
 *
 *   npm run build && node bench/viewer-render.mjs [--pps 50000] [--runs 3] [--seed 1]
 *     [--write-profile gen.json]   also keep the generated DHAT file
 *     [--file F]                   show this profile instead of a generated one
 *     [--no-dh-view]               heapscope's viewer only (dh_view takes minutes on large files)
 *
 * Generates a DHAT file (heapscope's kind: lifetimes, no accesses) whose stacks come from
 * a random call tree of 4,000 functions in 250 files, 3 to 18 frames deep, so that stacks
 * share prefixes as real ones do. heapscope: the self-contained page (`heapscope view
 * --html`) is opened from a file:// URL; the time is from navigation start to the
 * viewer's `heapscope-rendered` mark (HTML and JSON parsed, tree built, totals, tree and
 * details on screen). dh_view: the file is given to its file input, as a user loads it;
 * the time is from that moment to its tree in the page (dh_view's own read + parse +
 * build + display). Prints the median of each and the ratio (dh_view / heapscope: above 1
 * means heapscope shows the profile sooner).
 */

import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../scripts/chromium.mjs';
import { flag, numberOption, option } from './lib/args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

if (!existsSync(join(dist, 'viewer', 'render.js'))) {
  console.error('viewer-render: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { renderViewerHtml } = await import(join(dist, 'viewer', 'render.js'));
const { readDhat, writeDhat } = await import(join(dist, 'formats', 'dhat.js'));
const { readProfileFile } = await import(join(dist, 'formats', 'index.js'));

const N = numberOption('pps', 50000);
const runs = numberOption('runs', 3);
let seed = numberOption('seed', 1);
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

/** A DHAT file of `n` program points with JavaScript-like frames. */
function generate(n) {
  const fns = 4000;
  const ftbl = ['[root]'];
  for (let i = 0; i < fns; i++) {
    ftbl.push(
      `fn${i}_${['parse', 'render', 'load', 'map', 'build'][i % 5]} (src/mod${i % 250}.js:${int(1, 900)}:${int(1, 60)})`,
    );
  }
  // Each function calls a few others: stacks are walks from an entry point.
  const callees = Array.from({ length: fns }, () =>
    Array.from({ length: int(2, 6) }, () => int(1, fns)),
  );
  const seen = new Set();
  const pps = [];
  while (pps.length < n) {
    const depth = int(3, 18);
    let f = int(1, 40); // a few entry points, as `main`s
    const callersFirst = [f];
    for (let d = 1; d < depth; d++) {
      const next = callees[f - 1];
      f = next[int(0, next.length - 1)];
      callersFirst.push(f);
    }
    const fs = callersFirst.reverse(); // DHAT: allocation site first
    const key = fs.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const tbk = Math.max(1, Math.floor(5000 * rnd() ** 6));
    const avg = int(16, 200);
    const ebk = rnd() < 0.2 ? int(0, tbk) : 0;
    const gbk = Math.max(ebk, rnd() < 0.4 ? int(0, tbk) : 0);
    pps.push({
      tb: tbk * avg,
      tbk,
      mb: gbk * avg,
      mbk: gbk,
      gb: gbk * avg,
      gbk,
      eb: ebk * avg,
      ebk,
      fs,
    });
  }
  return JSON.stringify({
    dhatFileVersion: 2,
    mode: 'node-heap',
    verb: 'Allocated',
    bklt: true,
    bkacc: false,
    tu: 'µs',
    Mtu: 's',
    tuth: 500,
    cmd: 'node generated.js',
    pid: 1,
    te: 10_000_000,
    tg: 4_000_000,
    pps,
    ftbl,
  });
}

function dhViewDir() {
  const dirs = [
    process.env.HEAPSCOPE_DH_VIEW_DIR,
    '/usr/libexec/valgrind',
    '/usr/lib/valgrind',
  ].filter(Boolean);
  return dirs.find((d) => existsSync(join(d, 'dh_view.html')));
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'heapscope-bench-viewer-'));
const browser = await launchChromium();
try {
  const t0 = performance.now();
  const file = option('file', undefined);
  const profile = file ? (await readProfileFile(file)).profile : readDhat(generate(N));
  const json = file ? '' : writeDhat(profile);
  const keep = option('write-profile', undefined);
  if (keep) writeFileSync(keep, json);
  const html = renderViewerHtml([{ name: 'generated.json', profile }]);
  const genMs = performance.now() - t0;
  const page = join(dir, 'view.html');
  writeFileSync(page, html);
  console.log(
    `profile: ${profile.programPoints.length.toLocaleString()} program points, ${profile.frames.length.toLocaleString()} frames; ` +
      `DHAT JSON ${(json.length / 1e6).toFixed(1)} MB, page ${(html.length / 1e6).toFixed(1)} MB (generated and rendered in ${Math.round(genMs)} ms)`,
  );

  const ours = [];
  const dataRead = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const p = await context.newPage();
    await p.goto(pathToFileURL(page).href, { timeout: 900_000 });
    await p.waitForSelector('html[data-rendered="true"]', { timeout: 900_000 });
    const [read, rendered] = await p.evaluate(
      `['heapscope-data-read', 'heapscope-rendered'].map((n) => performance.getEntriesByName(n)[0].startTime)`,
    );
    ours.push(rendered);
    dataRead.push(read);
    await context.close();
  }
  const oursMs = median(ours);
  console.log(
    `heapscope viewer: first render ${Math.round(oursMs)} ms (median of ${runs}: ${ours.map(Math.round).join(', ')} ms; ` +
      `page loaded and data parsed at ${Math.round(median(dataRead))} ms)`,
  );

  const viewer = dhViewDir();
  if (flag('no-dh-view') || file) {
    console.log('dh_view: not run (--no-dh-view or --file)');
  } else if (!viewer) {
    console.log('dh_view: not found (install Valgrind or set HEAPSCOPE_DH_VIEW_DIR); no ratio');
  } else {
    for (const f of ['dh_view.html', 'dh_view.js', 'dh_view.css'])
      copyFileSync(join(viewer, f), join(dir, f));
    const theirs = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const p = await context.newPage();
      await p.goto(pathToFileURL(join(dir, 'dh_view.html')).href);
      await p.waitForSelector('select option', { state: 'attached' });
      const start = Date.now();
      await p.setInputFiles('input[type=file]', {
        name: 'generated.json',
        mimeType: 'application/json',
        buffer: Buffer.from(json, 'utf8'),
      });
      await p.waitForSelector('pre', { state: 'attached', timeout: 600_000 });
      // dh_view's own account of read + parse + build + display.
      const timings = await p.locator('.timings').textContent();
      const total = /total:([\d,.]+)ms/.exec(timings ?? '');
      theirs.push(total ? Number(total[1].replace(/,/g, '')) : Date.now() - start);
      await context.close();
    }
    const theirMs = median(theirs);
    console.log(
      `dh_view.html:     first render ${Math.round(theirMs)} ms (median of ${runs}: ${theirs.map(Math.round).join(', ')} ms)`,
    );
    console.log(
      `ratio dh_view / heapscope: ${(theirMs / oursMs).toFixed(2)} (above 1: heapscope renders sooner)`,
    );
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

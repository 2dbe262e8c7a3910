/**
 * What Valgrind's dh_view shows for a file under each of its sort metrics: loads the
 * file once through dh_view's file input (like `openInDhView`), then picks every
 * enabled entry of its "Sort metric" menu and reads the `<pre>` it renders.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { findDhViewDir } from './browser.js';

export interface DhViewSortText {
  /** The menu label, e.g. "Total (bytes)". */
  label: string;
  /** The menu position (dh_view's `gSelectData` index). */
  index: number;
  text: string;
}

export async function dhViewTextsBySort(
  browser: Browser,
  dhatJsonText: string,
): Promise<DhViewSortText[]> {
  const viewerDir = findDhViewDir();
  const dir = await fs.mkdtemp(join(tmpdir(), 'heapscope-dh-view-sorts-'));
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    for (const f of ['dh_view.html', 'dh_view.js', 'dh_view.css']) {
      await fs.copyFile(join(viewerDir, f), join(dir, f));
    }
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'dh_view.html')).href);
    await page.waitForSelector('select option', { state: 'attached' });
    await page.setInputFiles('input[type=file]', {
      name: 'profile.json',
      mimeType: 'application/json',
      buffer: Buffer.from(dhatJsonText, 'utf8'),
    });
    await page.locator('pre').waitFor({ state: 'attached', timeout: 30_000 });
    const options = await page.evaluate<{ label: string; disabled: boolean }[]>(
      `Array.from(document.querySelectorAll('select option'), (o) => ({ label: o.label.trim(), disabled: o.disabled }))`,
    );
    const out: DhViewSortText[] = [];
    for (const [index, o] of options.entries()) {
      if (o.disabled) continue;
      await page.selectOption('select', { index });
      const text = await page.evaluate<string>(`document.querySelector('pre')?.textContent ?? ''`);
      out.push({ label: o.label, index, text });
    }
    if (errors.length > 0) throw new Error(`dh_view threw: ${errors[0]}`);
    return out;
  } finally {
    await context.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

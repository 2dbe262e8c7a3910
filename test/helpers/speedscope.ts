/**
 * Opens a file in speedscope, the real app from the `speedscope` npm package (which ships
 * only its browser bundle), in a headless Chromium, the way `speedscope <file>` does: a
 * script calling `speedscope.loadFileFromBase64(name, data)` passed by the
 * `#localProfilePath=` hash. speedscope picks its importer from the file name and content
 * and logs which one it took ("Importing as …"). The sandwich view then lists every frame
 * of the active profile with its total and self weight, summed by speedscope itself.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { ROOT } from './heapscope.js';

const INDEX = join(ROOT, 'node_modules', 'speedscope', 'dist', 'release', 'index.html');

export interface SandwichRow {
  name: string;
  /** As speedscope prints them, e.g. `90.11 KB` or `1,234`. */
  total: string;
  self: string;
}

export interface SpeedscopeResult {
  /** speedscope's "Importing as …" line, or undefined when it took none. */
  importer?: string;
  /** Alerts and page errors (an unrecognised or broken file). */
  errors: string[];
  /** The page title: `<profile name> - speedscope`. */
  title: string;
  /** The name of the active profile and its position, e.g. `Total bytes (1/8)`. */
  header: string;
  rows: SandwichRow[];
}

export async function openInSpeedscope(
  browser: Browser,
  fileName: string,
  data: string | Uint8Array,
): Promise<SpeedscopeResult> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'heapscope-speedscope-'));
  // Tall enough that the sandwich table renders every row of a small profile.
  const context = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 1400, height: 6000 },
  });
  try {
    const script = join(dir, 'load.js');
    const base64 = Buffer.from(data).toString('base64');
    await fs.writeFile(
      script,
      `speedscope.loadFileFromBase64(${JSON.stringify(fileName)}, ${JSON.stringify(base64)})`,
    );
    const page = await context.newPage();
    const logs: string[] = [];
    const errors: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => {
      errors.push(`alert: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${pathToFileURL(INDEX).href}#localProfilePath=${script}&view=sandwich`);
    // Imported (the title names the profile) or failed (a log line or an alert).
    await page
      .waitForFunction(
        `document.title.endsWith(' - speedscope') || document.body.innerText.includes('Something went wrong')`,
        undefined,
        { timeout: 20_000 },
      )
      .catch(() => undefined);
    // The sandwich table: its header, then at least one row (total, self, name).
    await page
      .waitForFunction(
        `(() => { const t = document.body.innerText; const i = t.indexOf('Symbol Name');
           return i >= 0 && t.slice(i).split('\\n').filter((l) => l.trim()).length >= 4; })()`,
        undefined,
        { timeout: 20_000 },
      )
      .catch(() => undefined);
    const title = await page.title();
    const text = String(await page.evaluate('document.body.innerText'));
    if (text.includes('Something went wrong')) errors.push('speedscope: Something went wrong');
    const lines = text.split('\n').map((l) => l.trim());
    const rows: SandwichRow[] = [];
    // The table's innerText: a "Total\tSelf\tSymbol Name" line, then total, self, name per row.
    const start = lines.findIndex((l) => l.startsWith('Total') && l.includes('Symbol Name'));
    if (start >= 0) {
      const cells = lines.slice(start + 1).filter((l) => l !== '');
      for (let i = 0; i + 2 < cells.length; i += 3) {
        rows.push({ total: cells[i]!, self: cells[i + 1]!, name: cells[i + 2]! });
      }
    }
    const header = lines.find((l) => /\(\d+\/\d+\)$/.test(l)) ?? '';
    const importer = logs.find((l) => l.startsWith('Importing as'));
    return { ...(importer ? { importer } : {}), errors, title, header, rows };
  } finally {
    await context.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Parses speedscope's byte format (`90.11 KB`, `1.50 MB`, `512 B`; units of 1024), with
 * the rounding its two decimals allow.
 */
export function speedscopeBytes(text: string): { bytes: number; rounding: number } {
  const m = /^([\d.,]+)\s*(B|KB|MB|GB)/.exec(text.trim());
  if (!m) throw new Error(`not a byte value from speedscope: "${text}"`);
  const scale = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] as 'B' | 'KB' | 'MB' | 'GB'];
  const digits = m[1]!.split('.')[1]?.length ?? 0;
  return { bytes: Number(m[1]!.replace(/,/g, '')) * scale, rounding: (0.5 * scale) / 10 ** digits };
}

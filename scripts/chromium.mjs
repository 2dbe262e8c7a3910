/**
 * Headless Chromium for scripts and benchmarks (the tests use test/helpers/browser.ts,
 * which does the same in TypeScript).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Headless Chromium from `@sparticuz/chromium` (unpacked under the lock the test helper
 * uses, so a concurrent test run cannot hand us a half-written binary), else
 * /usr/bin/chromium.
 */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-gpu',
  ];
  let packaged;
  try {
    return await chromium.launch({ executablePath: await unpackChromium(), headless: true, args });
  } catch (e) {
    packaged = e;
  }
  if (!existsSync('/usr/bin/chromium'))
    throw new Error(`cannot start Chromium: ${packaged.message}`);
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}

async function unpackChromium() {
  const lock = join(tmpdir(), 'heapscope-chromium-unpack.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const Chromium = (await import('@sparticuz/chromium')).default;
    Chromium.setGraphicsMode = false;
    return await Chromium.executablePath();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

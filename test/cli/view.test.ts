// `heapscope view`, run as the real binary: --html writes one self-contained page; without
// it the page is served on 127.0.0.1 only, and the server stops when the page asks
// (its "Stop server" button, in headless Chromium), on SIGINT, and refuses requests
// without the page's token or for another host.
// Needs `npm run build`.

import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { heapscope, heapscopeAsync, tempDir } from '../helpers/heapscope.js';

const HEAP = fileURLToPath(
  new URL('../fixtures/dhat/valgrind-3.19/valgrind-heap.json', import.meta.url),
);
const ADHOC = fileURLToPath(
  new URL('../fixtures/dhat/valgrind-3.19/valgrind-ad-hoc.json', import.meta.url),
);

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The embedded data of a page (`id`: the data element, or a frame part's). */
function embedded(html: string, id = 'heapscope-data') {
  const m = new RegExp(`<script type="application/json" id="${id}">([^<]*)</script>`).exec(html);
  if (!m) throw new Error(`no element ${id}`);
  return JSON.parse(m[1]!);
}

describe('heapscope view --html', () => {
  it('writes one self-contained page holding the profile', () => {
    const dir = tempDir();
    const out = join(dir, 'report.html');
    const r = heapscope(['view', HEAP, '--html', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^heapscope: wrote .*report\.html \(\d+ KiB\)\n$/);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // Nothing that loads: no src= or href= but the inline icon, no URL of any scheme.
    expect(html.match(/\b(src|href)\s*=/g)).toEqual(['href=']);
    expect(html).toContain('<link rel="icon" href="data:,">');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain("connect-src 'none'");
    const data = embedded(html);
    const raw = JSON.parse(readFileSync(HEAP, 'utf8'));
    expect(data.files).toHaveLength(1);
    expect(data.files[0].name).toBe('valgrind-heap.json');
    expect(data.files[0].profile.columns.totalBytes).toEqual(
      raw.pps.map((p: { tb: number }) => p.tb),
    );
    expect(data.files[0].profile.stacks).toEqual(raw.pps.flatMap((p: { fs: number[] }) => p.fs));
    expect(embedded(html, 'heapscope-frames-0-0')).toEqual(raw.ftbl);
  });

  it('opens with the rows --by asks for', () => {
    const dir = tempDir();
    const out = join(dir, 'by.html');
    expect(heapscope(['view', HEAP, '--by', 'file', '--cum', '--html', out]).status).toBe(0);
    expect(embedded(readFileSync(out, 'utf8')).group).toBe('file:inclusive');
    expect(heapscope(['view', HEAP, '--by', 'nope', '--html', out]).status).toBe(2);
  });

  it('writes base and head for two files, in no more than two one-file pages', () => {
    const dir = tempDir();
    const out = join(dir, 'two.html');
    const one = join(dir, 'one.html');
    expect(heapscope(['view', HEAP, HEAP, '--html', out]).status).toBe(0);
    expect(heapscope(['view', HEAP, '--html', one]).status).toBe(0);
    const html = readFileSync(out, 'utf8');
    const data = embedded(html);
    expect(data.files.map((f: { name: string }) => f.name)).toEqual([
      'valgrind-heap.json',
      'valgrind-heap.json',
    ]);
    // The page computes the diff from the two profiles it carries: no rows are embedded.
    expect(data.diff).toBeUndefined();
    expect(embedded(html, 'heapscope-frames-1-0')).toEqual(embedded(html, 'heapscope-frames-0-0'));
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(2 * statSync(one).size);
  });

  it('fails with exit 2 on a missing file, a non-profile, or three files', () => {
    const dir = tempDir();
    const missing = heapscope(['view', join(dir, 'nope.json'), '--html', join(dir, 'x.html')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^heapscope: .*nope\.json: no such file\n$/);
    writeFileSync(join(dir, 'bad.json'), '{"hello": 1}');
    const bad = heapscope(['view', join(dir, 'bad.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not a profile heapscope can read/);
    const three = heapscope(['view', HEAP, HEAP, HEAP, '--html', join(dir, 'x.html')]);
    expect(three.status).toBe(2);
    expect(three.stderr).toBe('heapscope: view takes one profile, or two (base and head)\n');
  });

  it('has --help', () => {
    const r = heapscope(['view', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--html <file>');
    expect(r.stdout).toContain('--no-open');
  });
});

/** Starts `heapscope view --no-open` and waits for the URL it prints. */
async function serve(args: string[]) {
  const run = heapscopeAsync(['view', ...args, '--no-open']);
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url) {
    const m = /viewer at (http:\/\/\S+)/.exec(run.output().stdout);
    if (m) url = m[1]!;
    else if (Date.now() > deadline || run.child.exitCode !== null) {
      run.child.kill('SIGKILL');
      throw new Error(`no URL printed: ${JSON.stringify(run.output())}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  return { ...run, url, port: Number(new URL(url).port) };
}

/** A raw HTTP request with any Host header; resolves to the status code. */
function status(
  port: number,
  path: string,
  options: { method?: string; host?: string; headers?: Record<string, string> } = {},
) {
  return new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('heapscope view (served)', () => {
  it('serves on 127.0.0.1 only and stops when the page asks', async () => {
    const run = await serve([HEAP]);
    try {
      expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await accepts('127.0.0.1', run.port)).toBe(true);
      // Bound to 127.0.0.1 alone: other loopback addresses are refused.
      expect(await accepts('127.0.0.2', run.port)).toBe(false);
      expect(await accepts('::1', run.port)).toBe(false);
      // Another Host (DNS rebinding) and a close without the token are refused.
      expect(await status(run.port, '/', { host: `evil.example:${run.port}` })).toBe(403);
      expect(await status(run.port, '/close', { method: 'POST' })).toBe(403);
      expect(
        await status(run.port, '/close', {
          method: 'POST',
          headers: { 'x-heapscope-token': 'guess' },
        }),
      ).toBe(403);
      expect(await status(run.port, '/nothing')).toBe(404);

      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
      await page.goto(run.url);
      await page.waitForSelector('html[data-rendered="true"]');
      expect(await page.locator('h1.cmd').textContent()).toBe('./prog');
      await page.click('text=Stop server');
      const done = await run.done;
      expect(done.status).toBe(0);
      expect(done.stdout).toContain('heapscope: viewer stopped (from the page)');
      expect(requests).toEqual([`GET ${run.url}`, `POST ${run.url}close`]);
      await context.close();
      expect(await accepts('127.0.0.1', run.port)).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('stops on SIGINT', async () => {
    const run = await serve([HEAP, ADHOC]);
    try {
      expect(await status(run.port, '/')).toBe(200);
      run.child.kill('SIGINT');
      const done = await run.done;
      expect(done.status).toBe(0);
      expect(done.stdout).toMatch(/heapscope: viewer stopped\n$/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('listens on the port asked for', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
    const run = await serve([HEAP, '--port', String(port)]);
    try {
      expect(run.url).toBe(`http://127.0.0.1:${port}/`);
      run.child.kill('SIGTERM');
      expect((await run.done).status).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});

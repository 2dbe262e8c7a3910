/**
 * Renders heapscope's viewer for one profile (or two: base and head, with their diff)
 * into one self-contained HTML page: no CDN, no request of any kind; the profiles are
 * embedded as JSON (`app/data.ts` says how), the compiled viewer (dist/viewer/app, built
 * by `npm run build`) and its stylesheet inline. With two files the page computes their
 * diff itself, from the profiles it carries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Profile } from '../model/profile.js';
import { framePartId, type PageData, toPageProfile } from './app/data.js';
import { bundleModules } from './bundle.js';
import { VIEWER_CSS } from './style.js';
import { jsonForScript, pageParts } from './template.js';

export interface ViewerInput {
  /** Shown as the file's name. */
  name: string;
  profile: Profile;
}

export interface RenderOptions {
  /** The rows the page opens with: `site` (default), or e.g. `function:self`, `file:inclusive`. */
  group?: string;
  /** When the page is served: POSTing `closePath` with this token stops the server. */
  server?: { closePath: string; token: string };
}

/** Where the compiled viewer is: beside this module in dist/, or dist/ when run from src/. */
export function viewerEntry(): string {
  const here = import.meta.url;
  const sibling = fileURLToPath(new URL('./app/main.js', here));
  if (!here.endsWith('.ts') && existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL('../../dist/viewer/app/main.js', here));
  if (existsSync(built)) return built;
  throw new Error(`the compiled viewer is missing (${built}): run \`npm run build\``);
}

/** The viewer's script: its compiled modules joined into one. */
export function viewerScript(): string {
  return bundleModules(viewerEntry(), (path) => readFileSync(path, 'utf8'));
}

/**
 * The whole page, in pieces whose concatenation is the HTML (write them one after the
 * other: a large profile's page is longer than the longest string V8 makes).
 */
export function renderViewerPage(inputs: ViewerInput[], options: RenderOptions = {}): string[] {
  if (inputs.length < 1 || inputs.length > 2) {
    throw new RangeError(
      `the viewer shows one profile or two (base and head), not ${inputs.length}`,
    );
  }
  const pages = inputs.map((i) => toPageProfile(i.profile));
  const data: PageData = {
    version: 2,
    files: inputs.map((input, i) => ({ name: input.name, profile: pages[i]!.page })),
    ...(options.group && options.group !== 'site' ? { group: options.group } : {}),
    ...(options.server ? { server: options.server } : {}),
  };
  const frameParts = pages.flatMap((p, file) =>
    p.frameParts.map((frames, part) => ({
      id: framePartId(file, part),
      json: jsonForScript(frames),
    })),
  );
  return pageParts({
    css: VIEWER_CSS,
    dataJson: jsonForScript(data),
    dataParts: frameParts,
    script: viewerScript(),
    connectSelf: !!options.server,
  });
}

/** The whole page as one HTML string (for pages of up to a few hundred MB). */
export function renderViewerHtml(inputs: ViewerInput[], options: RenderOptions = {}): string {
  return renderViewerPage(inputs, options).join('');
}

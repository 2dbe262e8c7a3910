/**
 * Renders heapscope's viewer for one profile (or two: base and head, with their diff)
 * into one self-contained HTML page: no CDN, no request of any kind; the profile is
 * embedded as JSON, the compiled viewer (dist/viewer/app, built by `npm run build`) and
 * its stylesheet inline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DiffResult, diffProfiles } from '../model/diff.js';
import type { Profile } from '../model/profile.js';
import type { ViewerData } from './app/data.js';
import { bundleModules } from './bundle.js';
import { VIEWER_CSS } from './style.js';
import { jsonForScript, page } from './template.js';

export interface ViewerInput {
  /** Shown as the file's name. */
  name: string;
  profile: Profile;
}

export interface RenderOptions {
  /** When the page is served: POSTing `closePath` with this token stops the server. */
  server?: { closePath: string; token: string };
}

/** Diff rows embedded at most (the largest changes first; the page says how many exist). */
const MAX_DIFF_ROWS = 20_000;

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

/** The diff the page shows for two files, cut to the largest changes. */
function pageDiff(base: Profile, head: Profile): DiffResult | string {
  let diff: DiffResult;
  try {
    diff = diffProfiles(base, head, { top: MAX_DIFF_ROWS });
  } catch (e) {
    if (e instanceof RangeError) return `no diff: ${e.message}`;
    throw e;
  }
  return diff.rows.length > MAX_DIFF_ROWS
    ? { ...diff, rows: diff.rows.slice(0, MAX_DIFF_ROWS) }
    : diff;
}

/** The whole page as one HTML string. */
export function renderViewerHtml(inputs: ViewerInput[], options: RenderOptions = {}): string {
  if (inputs.length < 1 || inputs.length > 2) {
    throw new RangeError(
      `the viewer shows one profile or two (base and head), not ${inputs.length}`,
    );
  }
  const diff = inputs.length === 2 ? pageDiff(inputs[0]!.profile, inputs[1]!.profile) : undefined;
  const data: ViewerData = {
    version: 1,
    files: inputs.map((i) => ({ name: i.name, profile: i.profile })),
    ...(typeof diff === 'object' ? { diff } : {}),
    ...(typeof diff === 'string' ? { diffError: diff } : {}),
    ...(options.server ? { server: options.server } : {}),
  };
  return page({
    css: VIEWER_CSS,
    dataJson: jsonForScript(data),
    script: viewerScript(),
    connectSelf: !!options.server,
  });
}

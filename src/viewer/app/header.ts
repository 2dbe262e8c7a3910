/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The totals header: what was run, the figures of the whole profile, and which of them
 * are exact and which estimated (from heapscope's `exact` flags; Valgrind's and dhat-rs's
 * figures are exact by construction).
 */
import { totals } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import type { ViewerFile } from './data.js';
import { h } from './dom.js';
import { type Format, makeFormat, readableTime, shortBytes } from './format.js';

type Figure = 'total' | 'peak' | 'end';

const PEAK_METHOD: Record<string, string> = {
  exact: 'measured at the peak',
  'sampled-at-peak': "sampled by V8's heap profiler at the largest post-GC heap",
  'end-as-peak': 'no measurement during the run: the end is taken as the peak',
};

/** Who recorded the file, from its mode. */
export function producer(p: Profile): string {
  if (p.heapscope) return `heapscope (${p.heapscope.capture} capture)`;
  if (p.mode === 'rust-heap') return 'dhat-rs';
  return `Valgrind DHAT (${p.mode} mode)`;
}

/** "exact" or "estimate" for one figure, with the reason, or undefined when not heapscope's. */
export function exactness(p: Profile, f: Figure): { exact: boolean; why: string } | undefined {
  const hs = p.heapscope;
  if (!hs) return undefined;
  const exact = hs.exact[f];
  let why = exact ? 'every allocation traced' : 'estimated';
  if (f === 'peak' && hs.peak?.method) why = PEAK_METHOD[hs.peak.method] ?? hs.peak.method;
  if (!exact && hs.capture === 'sampled' && f !== 'peak') {
    why = `sampled every ${hs.sampleInterval ?? '?'} bytes`;
  }
  return { exact, why };
}

function badge(p: Profile, f: Figure): Node | null {
  const e = exactness(p, f);
  if (!e) return null;
  return h(
    'span',
    { class: e.exact ? 'badge exact' : 'badge estimate', title: e.why },
    e.exact ? 'exact' : 'estimate',
  );
}

function figureRow(
  label: string,
  bytes: number | undefined,
  blocks: number | undefined,
  fmt: Format,
  heap: boolean,
  b: Node | null,
): HTMLElement | null {
  if (bytes === undefined) return null;
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, label),
    h('td', { class: 'num' }, fmt.bytes(bytes)),
    h('td', { class: 'num dim' }, heap ? shortBytes(bytes) : ''),
    h('td', { class: 'num' }, blocks === undefined ? '' : fmt.blocks(blocks)),
    h('td', {}, b),
  );
}

/** The header of one file. */
export function fileHeader(file: ViewerFile, role?: string): HTMLElement {
  const p = file.profile;
  const fmt = makeFormat(p);
  const t = totals(p);
  const heap = !p.units;
  const hs = p.heapscope;
  const facts = [
    `mode ${p.mode}`,
    `pid ${p.pid}`,
    hs?.threadId ? `thread ${hs.threadId}` : '',
    hs?.node ? `Node ${hs.node}` : '',
    `${p.programPoints.length.toLocaleString()} program points`,
    `recorded by ${producer(p)}`,
  ].filter(Boolean);
  const times = [
    p.hasLifetimes && p.peakTime !== undefined
      ? `t-gmax ${readableTime(p.peakTime, p.timeUnit)}${
          p.heapscope?.peak?.method === 'end-as-peak' ? ' (the end, taken as the peak)' : ''
        }`
      : '',
    `t-end ${readableTime(p.endTime, p.timeUnit)}`,
  ].filter(Boolean);
  return h(
    'section',
    { class: 'file-header', 'aria-label': `Totals of ${file.name}` },
    role ? h('div', { class: 'role' }, role) : null,
    h('h1', { class: 'cmd' }, p.cmd),
    h(
      'div',
      { class: 'facts' },
      h('span', { class: 'file-name' }, file.name),
      ` · ${facts.join(' · ')}`,
    ),
    h(
      'table',
      { class: 'totals' },
      h(
        'tbody',
        {},
        figureRow('Total', t.totalBytes, t.totalBlocks, fmt, heap, badge(p, 'total')),
        figureRow('At t-gmax', t.peakBytes, t.peakBlocks, fmt, heap, badge(p, 'peak')),
        figureRow('At t-end', t.endBytes, t.endBlocks, fmt, heap, badge(p, 'end')),
        figureRow('Reads', t.readBytes, undefined, fmt, heap, null),
        figureRow('Writes', t.writeBytes, undefined, fmt, heap, null),
      ),
    ),
    h('div', { class: 'facts' }, `Times: ${times.join(', ')}`),
    hs?.notes?.length ? h('ul', { class: 'notes' }, ...hs.notes.map((n) => h('li', {}, n))) : null,
  );
}

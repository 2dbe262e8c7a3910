/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Two profiles side by side: the totals of base and head with their change, then every
 * site of either side with its base and head figure and the change, by the size of the
 * change in the sort figure. The deltas come from `diffProfiles` (src/model/diff.ts),
 * computed when the page was made; the page re-sorts and filters them.
 */

import type { DiffResult, DiffRow } from '../../model/diff.js';
import type { MetricKey } from '../../model/metrics.js';
import { fill, h } from './dom.js';
import type { Format } from './format.js';
import { splitFrame } from './search.js';

/** Rows listed at once. */
const TOP = 300;

export interface DiffModel {
  diff: DiffResult;
  /** Names of the base and head files. */
  names: [string, string];
  /** The sort figure; falls back to the diff's own when the two files lack it. */
  key: MetricKey;
  query: string;
  fmt: Format;
}

function signed(fmt: Format, n: number): string {
  return n > 0 ? `+${fmt.num(n)}` : fmt.num(n);
}

function ratio(fmt: Format, r: number | null): string {
  return r === null ? 'new' : `×${fmt.num(r)}`;
}

/** Rows matching the query (any frame of either stack), by the size of the change in `key`. */
export function diffRows(diff: DiffResult, key: MetricKey, query: string): DiffRow[] {
  const q = query.trim().toLowerCase();
  const rows = q
    ? diff.rows.filter((r) =>
        [...r.frames, ...(r.baseFrames ?? [])].some((f) => f.toLowerCase().includes(q)),
      )
    : diff.rows;
  const size = (r: DiffRow) => Math.abs(r.values[key]?.delta ?? 0);
  return rows.slice().sort((a, b) => size(b) - size(a));
}

export function renderDiff(
  container: HTMLElement,
  m: DiffModel,
  onSelect: (row: DiffRow) => void,
): void {
  const { diff, fmt } = m;
  const key = diff.metrics.some((x) => x.key === m.key) ? m.key : diff.sortedBy.key;
  const metric = diff.metrics.find((x) => x.key === key)!;
  const totals = h(
    'table',
    { class: 'diff-totals' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, ''),
        h('th', { class: 'num' }, `Base: ${m.names[0]}`),
        h('th', { class: 'num' }, `Head: ${m.names[1]}`),
        h('th', { class: 'num' }, 'Change'),
        h('th', { class: 'num' }, 'Ratio'),
      ),
    ),
    h(
      'tbody',
      {},
      ...diff.metrics
        .filter((x) => diff.totals[x.key])
        .map((x) => {
          const d = diff.totals[x.key]!;
          return h(
            'tr',
            { class: x.key === key ? 'sorted' : '' },
            h('th', { scope: 'row' }, x.label),
            h('td', { class: 'num' }, fmt.num(d.base)),
            h('td', { class: 'num' }, fmt.num(d.head)),
            h(
              'td',
              { class: `num ${d.delta > 0 ? 'up' : d.delta < 0 ? 'down' : ''}` },
              signed(fmt, d.delta),
            ),
            h('td', { class: 'num' }, ratio(fmt, d.ratio)),
          );
        }),
    ),
  );
  const rows = diffRows(diff, key, m.query);
  const body = h('tbody');
  for (const r of rows.slice(0, TOP)) {
    const v = r.values[key]!;
    const { fn, loc } = splitFrame(r.frames[0] ?? '[root]');
    const tr = h(
      'tr',
      { tabindex: 0, class: `status-${r.status}` },
      h('td', {}, r.status + (r.fuzzy ? ` (${r.match})` : '')),
      h('td', { class: 'num' }, fmt.num(v.base)),
      h('td', { class: 'num' }, fmt.num(v.head)),
      h(
        'td',
        { class: `num ${v.delta > 0 ? 'up' : v.delta < 0 ? 'down' : ''}` },
        signed(fmt, v.delta),
      ),
      h(
        'td',
        { class: 'site' },
        h('span', { class: 'fn' }, fn),
        loc ? h('span', { class: 'loc' }, loc) : null,
      ),
    );
    const choose = () => {
      for (const x of body.querySelectorAll('.selected')) x.classList.remove('selected');
      tr.classList.add('selected');
      onSelect(r);
    };
    tr.addEventListener('click', choose);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        choose();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        (
          (e.key === 'ArrowDown'
            ? tr.nextElementSibling
            : tr.previousElementSibling) as HTMLElement | null
        )?.focus();
      }
    });
    body.append(tr);
  }
  const c = diff.counts;
  fill(
    container,
    h('h2', {}, 'Base → head'),
    totals,
    diff.warnings.length
      ? h('ul', { class: 'notes' }, ...diff.warnings.map((w) => h('li', {}, w)))
      : null,
    h(
      'p',
      { class: 'dim' },
      `${c.changed} changed, ${c.new} new, ${c.vanished} vanished, ${c.unchanged} unchanged sites` +
        (c.fuzzy ? ` (${c.fuzzy} matched although their code moved)` : '') +
        `. By change in ${metric.label.toLowerCase()}; top ${Math.min(TOP, rows.length)} of ${rows.length}.`,
    ),
    h(
      'table',
      { class: 'sites diff' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Status'),
          h('th', { class: 'num' }, 'Base'),
          h('th', { class: 'num' }, 'Head'),
          h('th', { class: 'num sorted' }, `Change in ${metric.label.toLowerCase()}`),
          h('th', {}, 'Allocation site'),
        ),
      ),
      body,
    ),
  );
}

/** Details of one diff row: every figure on both sides, and the stack(s). */
export function renderDiffRow(
  container: HTMLElement,
  r: DiffRow,
  diff: DiffResult,
  fmt: Format,
): void {
  const stack = (title: string, frames: string[]) =>
    h(
      'section',
      {},
      h('h3', {}, title),
      h(
        'ol',
        { class: 'stack' },
        ...frames.map((f) => {
          const { fn, loc } = splitFrame(f);
          return h(
            'li',
            {},
            h('span', { class: 'fn' }, fn),
            loc ? h('span', { class: 'loc' }, loc) : null,
          );
        }),
      ),
    );
  fill(
    container,
    h('h2', {}, `${r.status} site${r.fuzzy ? ` (matched: ${r.match})` : ''}`),
    h(
      'table',
      { class: 'diff-totals' },
      h(
        'tbody',
        {},
        ...diff.metrics.map((x) => {
          const v = r.values[x.key]!;
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, x.label),
            h('td', { class: 'num' }, fmt.num(v.base)),
            h('td', { class: 'num' }, fmt.num(v.head)),
            h('td', { class: 'num' }, signed(fmt, v.delta)),
          );
        }),
      ),
    ),
    stack(r.baseFrames ? 'Head stack' : 'Stack, allocation site first', r.frames),
    r.baseFrames ? stack('Base stack', r.baseFrames) : null,
  );
}

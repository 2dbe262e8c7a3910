/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The flat list of program points (like `heapscope report`): the top sites by the sort
 * figure, with average size and churn. Selecting one shows its details.
 */
import { div, figuresOf, type SortMetric } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import type { ShownNode, TreeNode } from '../../model/tree.js';
import { churn } from './details.js';
import { fill, h } from './dom.js';
import type { Format } from './format.js';
import { splitFrame } from './search.js';

/** Rows listed. */
const TOP = 200;

export interface SitesModel {
  profile: Profile;
  points: number[];
  root: ShownNode;
  metric: SortMetric;
  fmt: Format;
}

/** A program point as a detached tree leaf under the root, for the details panel. */
export function siteNode(p: Profile, pp: number, root: ShownNode, metric: SortMetric): ShownNode {
  const x = p.programPoints[pp]!;
  const node: TreeNode = {
    kind: 'leaf',
    frames: x.stack.slice(),
    figures: figuresOf(x, p),
    maxBytes: x.maxBytes ?? Number.NaN,
    maxBlocks: x.maxBlocks ?? Number.NaN,
    pp,
  };
  const rootOnly: ShownNode = { ...root, node: { ...root.node, frames: [0] } };
  return {
    id: `site ${pp + 1}`,
    of: 1,
    node,
    sig: 'self',
    parent: rootOnly,
    depth: 1,
    percent: div(node.figures[metric.key], root.node.figures[metric.key]) * 100,
  };
}

/** The program points in order of the sort figure, then total bytes (as the tree sorts). */
export function rankSites(p: Profile, points: number[], metric: SortMetric): number[] {
  const v = (i: number) => figuresOf(p.programPoints[i]!, p)[metric.key];
  return points
    .slice()
    .sort(
      (a, b) =>
        v(b) - v(a) || p.programPoints[b]!.totalBytes - p.programPoints[a]!.totalBytes || a - b,
    );
}

export function renderSites(
  container: HTMLElement,
  m: SitesModel,
  onSelect: (n: ShownNode) => void,
): void {
  const { profile: p, metric, fmt } = m;
  const ranked = rankSites(p, m.points, metric);
  const rootFig = m.root.node.figures;
  const label = metric.label(fmt.bytesUnit, fmt.blocksUnit);
  const hasEnd = p.hasLifetimes && p.programPoints.every((x) => x.endBytes !== undefined);
  const body = h('tbody');
  ranked.slice(0, TOP).forEach((i, rank) => {
    const f = figuresOf(p.programPoints[i]!, p);
    const stack = p.programPoints[i]!.stack;
    const { fn, loc } = splitFrame(p.frames[stack[0]!] ?? '[root]');
    const caller = stack.length > 1 ? splitFrame(p.frames[stack[1]!] ?? '?').fn : undefined;
    const row = h(
      'tr',
      { tabindex: 0, 'data-pp': i },
      h('td', { class: 'num' }, rank + 1),
      h(
        'td',
        { class: 'num sorted' },
        `${fmt.num(f[metric.key])} `,
        h('small', {}, fmt.perc(f[metric.key], rootFig[metric.key])),
      ),
      h('td', { class: 'num' }, fmt.num(f.totalBytes)),
      h('td', { class: 'num' }, fmt.num(f.totalBlocks)),
      h('td', { class: 'num' }, fmt.num(div(f.totalBytes, f.totalBlocks))),
      hasEnd ? h('td', { class: 'num' }, fmt.perc(churn(f.totalBytes, f.endBytes), 1)) : null,
      h(
        'td',
        { class: 'site' },
        h('span', { class: 'fn' }, fn),
        loc ? h('span', { class: 'loc' }, loc) : null,
        caller ? h('span', { class: 'caller' }, ` ← ${caller}`) : null,
      ),
    );
    const choose = () => {
      for (const r of body.querySelectorAll('.selected')) r.classList.remove('selected');
      row.classList.add('selected');
      onSelect(siteNode(p, i, m.root, metric));
    };
    row.addEventListener('click', choose);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        choose();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const next = e.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
        (next as HTMLElement | null)?.focus();
      }
    });
    body.append(row);
  });
  fill(
    container,
    h(
      'p',
      { class: 'dim' },
      `Top ${Math.min(TOP, ranked.length).toLocaleString()} of ${ranked.length.toLocaleString()} program points by ${label.toLowerCase()}.`,
    ),
    h(
      'table',
      { class: 'sites' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { class: 'num' }, '#'),
          h('th', { class: 'num sorted' }, label),
          h('th', { class: 'num' }, `Total ${fmt.bytesUnit}`),
          h('th', { class: 'num' }, `Total ${fmt.blocksUnit}`),
          h('th', { class: 'num' }, 'Avg size'),
          hasEnd
            ? h('th', { class: 'num', title: 'share of bytes not live at the end' }, 'Churn')
            : null,
          h('th', {}, 'Allocation site'),
        ),
      ),
      body,
    ),
  );
}

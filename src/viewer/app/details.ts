/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Details of one node or program point: the lines dh_view prints for it (same numbers,
 * the sort figure in bold), then what dh_view does not say: average size, churn (the
 * share of its bytes that did not survive to the end), how many program points it
 * sums, its live bytes at the end by V8 node type, and its full stack.
 */
import { div, type SortMetric } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import { pathFrames, pointsUnder, type ShownNode, type TreeDirection } from '../../model/tree.js';
import { nodeLines } from './dhtext.js';
import { fill, h } from './dom.js';
import { type Format, shortBytes } from './format.js';
import { splitFrame } from './search.js';

export interface DetailsModel {
  profile: Profile;
  node: ShownNode;
  /** The arranged tree's root (percentages are of its figures). */
  root: ShownNode;
  metric: SortMetric;
  fmt: Format;
  direction: TreeDirection;
}

/** Share of the bytes allocated that were not live at the end (NaN without end figures). */
export function churn(totalBytes: number, endBytes: number): number {
  return div(totalBytes - endBytes, totalBytes);
}

export function renderDetails(container: HTMLElement, m: DetailsModel): void {
  const { profile: p, node: n, fmt } = m;
  const f = n.node.figures;
  const lines = nodeLines(n, { profile: p, root: m.root, metric: m.metric, fmt });
  const pre = h('pre', { class: 'dh' });
  for (const line of lines) {
    for (const frag of line) pre.append(frag.bold ? h('b', {}, frag.text) : frag.text);
    pre.append('\n');
  }
  const heap = !p.units;
  const size = (b: number) => (heap ? `${fmt.bytes(b)} (${shortBytes(b)})` : fmt.bytes(b));
  const facts: [string, string][] = [];
  const pps = n.node.kind === 'aggregate' ? [] : pointsUnder(n.node);
  if (n.node.kind !== 'aggregate') facts.push(['Program points', fmt.num(pps.length)]);
  facts.push(['Average size', f.totalBlocks > 0 ? size(f.totalBytes / f.totalBlocks) : '–']);
  if (p.hasLifetimes && !Number.isNaN(f.endBytes)) {
    const c = churn(f.totalBytes, f.endBytes);
    facts.push([
      'Churn',
      `${fmt.perc(c, 1)} of its bytes did not survive to the end (${fmt.bytes(f.totalBytes - f.endBytes)} of ${fmt.bytes(f.totalBytes)})`,
    ]);
  }
  const byType = pps.length === 1 ? p.programPoints[pps[0]!]?.heapscope?.endByType : undefined;
  if (byType) {
    const parts = Object.entries(byType)
      .sort((a, b) => b[1][0] - a[1][0])
      .map(([type, [bytes, blocks]]) => `${type} ${fmt.bytes(bytes)} in ${fmt.num(blocks)}`);
    facts.push(['At t-end by kind', parts.join(', ')]);
  }

  // The full stack, allocation site first, whatever the tree's direction.
  const stack =
    n.node.kind === 'aggregate'
      ? []
      : m.direction === 'sites'
        ? pathFrames(n)
        : pathFrames(n).reverse();
  fill(
    container,
    h('h2', {}, n.node.kind === 'aggregate' ? 'Folded program points' : `PP ${n.id}`),
    h(
      'dl',
      { class: 'facts-list' },
      ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    stack.length
      ? h(
          'section',
          { 'aria-label': 'Stack' },
          h(
            'h3',
            {},
            n.node.kind === 'leaf'
              ? 'Full stack, allocation site first'
              : m.direction === 'sites'
                ? 'Frames shared below this node, allocation site first'
                : 'Frames shared above this node, innermost first',
          ),
          h(
            'ol',
            { class: 'stack' },
            ...stack.map((fr) => {
              const { fn, loc } = splitFrame(p.frames[fr] ?? '?');
              return h(
                'li',
                {},
                h('span', { class: 'fn' }, fn),
                loc ? h('span', { class: 'loc' }, loc) : null,
              );
            }),
          ),
        )
      : null,
    h('h3', {}, 'As dh_view shows it'),
    pre,
  );
}

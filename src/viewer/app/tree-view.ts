/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The program-point tree, as a keyboard-usable tree grid: one row per shown node (the
 * arranged tree of src/model/tree.ts), figure columns on the left, the node's frames on
 * the right, indented by depth. Rows are a flat list in visible order; expanding inserts
 * the children's rows, collapsing removes the descendants' rows.
 *
 * Keys: ↑/↓ move, → expands or goes to the first child, ← collapses or goes to the
 * parent, Enter toggles and shows the details, Space shows the details, Home/End.
 */
import type { FigureKey, SortMetric } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import type { ShownNode } from '../../model/tree.js';
import { h } from './dom.js';
import type { Format } from './format.js';
import { splitFrame } from './search.js';

/** The figure columns, as data: shown when the file has the figure. */
interface Column {
  key: FigureKey;
  label: string;
  needs?: 'lifetimes' | 'accesses';
}

const COLUMNS: readonly Column[] = [
  { key: 'totalBytes', label: 'Total bytes' },
  { key: 'totalBlocks', label: 'Total blocks' },
  { key: 'peakBytes', label: 'At t-gmax', needs: 'lifetimes' },
  { key: 'endBytes', label: 'At t-end', needs: 'lifetimes' },
  { key: 'readBytes', label: 'Reads', needs: 'accesses' },
  { key: 'writeBytes', label: 'Writes', needs: 'accesses' },
];

const EXTRA_LABEL: Partial<Record<FigureKey, string>> = {
  peakBlocks: 'At t-gmax blocks',
  endBlocks: 'At t-end blocks',
};

/** Rows shown at first: the root, then significant nodes breadth first up to this many. */
const INITIAL_ROWS = 120;
/** Children rendered under one node (an unfolded tree can have thousands). */
const MAX_CHILDREN = 1000;

export interface TreeModel {
  profile: Profile;
  root: ShownNode;
  metric: SortMetric;
  fmt: Format;
  /** Frames matching the search, highlighted. */
  matches?: Set<number>;
}

export interface TreeHandle {
  expandAll(): void;
  collapseAll(): void;
  focus(): void;
}

/** Column keys for a profile and sort metric (the sort figure always has a column). */
function columnsFor(p: Profile, metric: SortMetric): Column[] {
  const cols = COLUMNS.filter(
    (c) => (c.needs !== 'lifetimes' || p.hasLifetimes) && (c.needs !== 'accesses' || p.hasAccesses),
  );
  if (!cols.some((c) => c.key === metric.key)) {
    cols.push({ key: metric.key, label: EXTRA_LABEL[metric.key] ?? metric.key });
  }
  return cols;
}

/** What a row says about its node: the first frame of its run, or what stands in for one. */
export function nodeLabel(n: ShownNode, p: Profile): { fn: string; loc: string; more: number } {
  if (n.node.kind === 'aggregate') return { fn: `[${n.folded} insignificant]`, loc: '', more: 0 };
  const frames = n.parent ? n.node.frames : n.node.frames.slice(1);
  if (!n.parent && frames.length === 0) return { fn: '[root]', loc: 'all program points', more: 0 };
  if (frames.length === 0) return { fn: '(stack ends here)', loc: '', more: 0 };
  const { fn, loc } = splitFrame(p.frames[frames[0]!] ?? '?');
  return { fn: n.parent ? fn : `[root] ${fn}`, loc, more: frames.length - 1 };
}

export function renderTree(
  container: HTMLElement,
  model: TreeModel,
  onSelect: (n: ShownNode) => void,
): TreeHandle {
  const { profile: p, metric, fmt } = model;
  const cols = columnsFor(p, metric);
  const rootFig = model.root.node.figures;
  const rowOf = new Map<ShownNode, HTMLElement>();
  const nodeOf = new WeakMap<Element, ShownNode>();
  const expanded = new Set<ShownNode>();
  let selected: ShownNode | undefined;

  const head = h(
    'div',
    { class: 'tree-head', 'aria-hidden': 'true' },
    ...cols.map((c) => h('span', { class: c.key === metric.key ? 'num sorted' : 'num' }, c.label)),
    h('span', { class: 'label' }, 'Program point (allocation site and callers)'),
  );
  const tree = h('div', {
    class: 'tree',
    role: 'tree',
    'aria-label': `Program points by ${metric.label(fmt.bytesUnit, fmt.blocksUnit)}`,
  });
  const threshold = h(
    'p',
    { class: 'dim threshold' },
    `PP significance threshold: ${metric.sigLabel(rootFig, fmt, p.shortLivedThreshold ?? Number.NaN)}`,
  );
  container.replaceChildren(head, tree, threshold);
  container.style.setProperty('--cols', String(cols.length));

  const makeRow = (n: ShownNode): HTMLElement => {
    const hasKids = !!n.children?.length;
    const band =
      n.sig !== 'self'
        ? 'insig'
        : n.percent < 1
          ? 'lt1'
          : n.percent < 2
            ? 'lt2'
            : n.percent < 4
              ? 'lt4'
              : n.percent < 8
                ? 'lt8'
                : n.percent < 16
                  ? 'lt16'
                  : n.percent < 32
                    ? 'lt32'
                    : 'lt100';
    const { fn, loc, more } = nodeLabel(n, p);
    const match = model.matches && n.node.frames.some((f) => model.matches!.has(f)) ? ' match' : '';
    const cells = cols.map((c) => {
      const v = n.node.figures[c.key];
      const cell = h('span', { class: c.key === metric.key ? 'num sorted' : 'num' }, fmt.num(v));
      if (c.key === metric.key) {
        cell.append(h('small', {}, ` ${fmt.perc(v, rootFig[c.key])}`));
        const bar = h('span', { class: 'bar' });
        bar.style.width = `${Math.max(0, Math.min(100, n.percent))}%`;
        cell.prepend(bar);
      }
      return cell;
    });
    const label = h(
      'span',
      { class: `label${match}` },
      h('span', { class: 'arrow', 'aria-hidden': 'true' }, hasKids ? '▶' : '─'),
      h('span', { class: 'fn' }, fn),
      loc ? h('span', { class: 'loc' }, loc) : null,
      more > 0
        ? h('span', { class: 'more', title: `${more} more frames in this run` }, `+${more}`)
        : null,
    );
    label.style.paddingLeft = `${n.depth * 1.2}em`;
    const row = h(
      'div',
      {
        class: `row ${band} ${n.node.kind}`,
        role: 'treeitem',
        tabindex: -1,
        'aria-level': n.depth + 1,
        'aria-setsize': n.of,
        'aria-posinset': Number(n.id.split('.').pop()),
        'aria-selected': 'false',
        'aria-expanded': hasKids ? 'false' : undefined,
        'data-id': n.id,
      },
      ...cells,
      label,
    );
    rowOf.set(n, row);
    nodeOf.set(row, n);
    return row;
  };

  /** Rows for `n`'s visible descendants, in order. */
  const descendantRows = (n: ShownNode, out: HTMLElement[] = []): HTMLElement[] => {
    if (!expanded.has(n) || !n.children) return out;
    for (const k of n.children.slice(0, MAX_CHILDREN)) {
      out.push(makeRow(k));
      descendantRows(k, out);
    }
    if (n.children.length > MAX_CHILDREN) {
      out.push(
        h(
          'div',
          { class: 'row more-row', role: 'none', 'data-depth': n.depth + 1 },
          `… ${n.children.length - MAX_CHILDREN} more; fold insignificant nodes to see them summed`,
        ),
      );
    }
    return out;
  };

  const setExpanded = (n: ShownNode, on: boolean) => {
    const row = rowOf.get(n);
    if (!row || !n.children?.length || expanded.has(n) === on) return;
    row.setAttribute('aria-expanded', String(on));
    row.querySelector('.arrow')!.textContent = on ? '▼' : '▶';
    if (on) {
      expanded.add(n);
      row.after(...descendantRows(n));
    } else {
      // Remove the rows below until one at this depth or above.
      let next = row.nextElementSibling;
      while (next) {
        const k = nodeOf.get(next);
        const depth = k ? k.depth : Number(next.getAttribute('data-depth'));
        if (depth <= n.depth) break;
        const after = next.nextElementSibling;
        if (k) rowOf.delete(k);
        next.remove();
        next = after;
      }
      expanded.delete(n);
    }
  };

  const focusRow = (row: Element | null | undefined) => {
    if (!(row instanceof HTMLElement) || !nodeOf.has(row)) return;
    for (const r of tree.querySelectorAll('[tabindex="0"]')) r.setAttribute('tabindex', '-1');
    row.setAttribute('tabindex', '0');
    row.focus();
  };

  const select = (n: ShownNode) => {
    if (selected) {
      const old = rowOf.get(selected);
      old?.setAttribute('aria-selected', 'false');
      old?.classList.remove('selected');
    }
    selected = n;
    const row = rowOf.get(n);
    row?.setAttribute('aria-selected', 'true');
    row?.classList.add('selected');
    onSelect(n);
  };

  // First rows: the root, then significant nodes breadth first.
  const first = makeRow(model.root);
  first.setAttribute('tabindex', '0');
  tree.append(first);
  let rows = 1;
  const queue: ShownNode[] = [model.root];
  while (queue.length) {
    const n = queue.shift()!;
    const kids = n.children ?? [];
    if (kids.length === 0 || (n !== model.root && rows + kids.length > INITIAL_ROWS)) continue;
    if (n !== model.root && n.sig === 'none') continue;
    setExpanded(n, true);
    rows += Math.min(kids.length, MAX_CHILDREN);
    queue.push(...kids);
  }
  select(model.root);

  tree.addEventListener('click', (e) => {
    const row = (e.target as Element).closest('.row');
    const n = row && nodeOf.get(row);
    if (!n) return;
    if ((e.target as Element).closest('.arrow') || e.detail === 2) setExpanded(n, !expanded.has(n));
    focusRow(row);
    select(n);
  });
  tree.addEventListener('dblclick', (e) => e.preventDefault());

  tree.addEventListener('keydown', (e) => {
    const row = (e.target as Element).closest('.row');
    const n = row && nodeOf.get(row);
    if (!row || !n) return;
    const sibling = (r: Element | null, dir: 'next' | 'prev'): Element | null => {
      let x = r;
      do x = dir === 'next' ? x!.nextElementSibling : x!.previousElementSibling;
      while (x && !nodeOf.has(x));
      return x;
    };
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
        focusRow(sibling(row, 'next'));
        break;
      case 'ArrowUp':
        focusRow(sibling(row, 'prev'));
        break;
      case 'ArrowRight':
        if (n.children?.length && !expanded.has(n)) setExpanded(n, true);
        else if (n.children?.length) focusRow(rowOf.get(n.children[0]!));
        break;
      case 'ArrowLeft':
        if (expanded.has(n)) setExpanded(n, false);
        else if (n.parent) focusRow(rowOf.get(n.parent));
        break;
      case 'Enter':
        setExpanded(n, !expanded.has(n));
        select(n);
        break;
      case ' ':
        select(n);
        break;
      case 'Home':
        focusRow(tree.firstElementChild);
        break;
      case 'End': {
        let last = tree.lastElementChild;
        while (last && !nodeOf.has(last)) last = last.previousElementSibling;
        focusRow(last);
        break;
      }
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  });

  const walk = (n: ShownNode, f: (n: ShownNode) => void) => {
    f(n);
    for (const k of n.children ?? []) walk(k, f);
  };
  return {
    expandAll: () => {
      // Parents first, so each expansion inserts below a row that exists.
      walk(model.root, (n) => {
        if (n.node.kind !== 'aggregate') setExpanded(n, true);
      });
    },
    collapseAll: () => {
      for (const k of model.root.children ?? []) setExpanded(k, false);
    },
    focus: () => focusRow(tree.querySelector('[tabindex="0"]') ?? tree.firstElementChild),
  };
}

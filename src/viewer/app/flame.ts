/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * An icicle graph (a flame graph drawn top-down) in SVG: the callers-first tree, one row
 * per frame, each frame as wide as its share of the sort figure. Click (or Enter) zooms
 * into a frame; the top bar zooms back out. Frames narrower than half a pixel are not
 * drawn; search matches are drawn in blue.
 */
import { div, type SortMetric } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import { buildTree, type TreeNode } from '../../model/tree.js';
import { fill, h, s } from './dom.js';
import type { Format } from './format.js';
import { splitFrame } from './search.js';

const ROW = 18;

/** One frame of the icicle: a run of the radix tree unrolled, one frame per row. */
interface Bar {
  frame: number;
  value: number;
  depth: number;
  parent?: Bar;
  children: Bar[];
}

export interface FlameModel {
  profile: Profile;
  points: number[];
  metric: SortMetric;
  fmt: Format;
  matches?: Set<number>;
}

/** Unrolls the callers-first radix tree into one bar per frame, sized by `key`. */
export function bars(tree: TreeNode, key: SortMetric['key']): Bar {
  const make = (t: TreeNode, parent: Bar | undefined, depth: number): Bar | undefined => {
    let top: Bar | undefined;
    let last = parent;
    t.frames.forEach((frame, i) => {
      const b: Bar = { frame, value: t.figures[key], depth: depth + i, children: [] };
      if (last) {
        b.parent = last;
        if (i > 0 || parent) last.children.push(b);
      }
      if (i === 0) top = b;
      last = b;
    });
    const end = last!;
    const d = depth + t.frames.length;
    for (const k of t.children ?? []) make(k, end, d);
    return top;
  };
  const root = make(tree, undefined, 0)!;
  const sort = (b: Bar) => {
    b.children.sort((x, y) => y.value - x.value);
    b.children.forEach(sort);
  };
  sort(root);
  return root;
}

function hue(name: string): number {
  let x = 0;
  for (let i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) | 0;
  return 8 + (Math.abs(x) % 42);
}

export function renderFlame(container: HTMLElement, m: FlameModel): void {
  const { profile: p, metric, fmt } = m;
  const tree = buildTree(p, { direction: 'callers', points: m.points });
  const root = bars(tree.root, metric.key);
  const status = h('div', { class: 'flame-status', 'aria-live': 'polite' });
  const holder = h('div', { class: 'flame-holder' });
  const reset = h('button', { type: 'button' }, 'Reset zoom');
  const label = metric.label(fmt.bytesUnit, fmt.blocksUnit);
  fill(
    container,
    h(
      'div',
      { class: 'flame-bar' },
      h(
        'span',
        { class: 'dim' },
        `Icicle graph by ${label.toLowerCase()}, callers first. Click a frame to zoom.`,
      ),
      reset,
    ),
    holder,
    status,
  );
  const describe = (b: Bar, focus: Bar) => {
    const { fn, loc } = splitFrame(p.frames[b.frame] ?? '?');
    return `${fn}${loc ? ` (${loc})` : ''}: ${fmt.num(b.value)} ${metric.key.endsWith('Blocks') ? fmt.blocksUnit : fmt.bytesUnit} (${fmt.perc(b.value, root.value)} of all${focus !== root ? `, ${fmt.perc(b.value, focus.value)} of the zoomed frame` : ''})`;
  };

  const draw = (focus: Bar) => {
    // The holder's content box (it has 16px of padding on each side).
    const width = Math.max(300, Math.floor((holder.clientWidth || 1032) - 32));
    const drawn: Bar[] = [];
    const groups: SVGGElement[] = [];
    let maxDepth = 0;
    const bar = (b: Bar, x: number, w: number, dim: boolean) => {
      const idx = drawn.push(b) - 1;
      maxDepth = Math.max(maxDepth, b.depth);
      const name = p.frames[b.frame] ?? '?';
      const { fn } = splitFrame(name);
      const match = m.matches?.has(b.frame);
      const fillColor = match
        ? 'hsl(205, 75%, 62%)'
        : dim
          ? 'hsl(30, 10%, 82%)'
          : `hsl(${hue(fn)}, 85%, ${62 + (b.depth % 3) * 5}%)`;
      const chars = Math.floor((w - 6) / 6.6);
      const text = chars >= 3 ? (fn.length > chars ? `${fn.slice(0, chars - 1)}…` : fn) : '';
      const g = s(
        'g',
        {
          class: 'frame',
          'data-k': idx,
          tabindex: w >= 40 ? 0 : undefined,
          role: w >= 40 ? 'button' : undefined,
          'aria-label': w >= 40 ? describe(b, focus) : undefined,
        },
        s('title', {}, describe(b, focus)),
        s('rect', {
          x: x.toFixed(2),
          y: b.depth * ROW,
          width: Math.max(0.5, w - 0.5).toFixed(2),
          height: ROW - 1,
          fill: fillColor,
          rx: 2,
        }),
        text ? s('text', { x: (x + 3).toFixed(2), y: b.depth * ROW + 13 }, text) : null,
      );
      groups.push(g);
    };
    const sub = (b: Bar, x: number, w: number) => {
      if (w < 0.5 || !(b.value > 0)) return;
      bar(b, x, w, false);
      let cx = x;
      for (const k of b.children) {
        const kw = w * div(k.value, b.value);
        sub(k, cx, kw);
        cx += kw;
      }
    };
    const chain: Bar[] = [];
    for (let a = focus.parent; a; a = a.parent) chain.unshift(a);
    for (const a of chain) bar(a, 0, width, true);
    sub(focus, 0, width);
    const svg = s(
      'svg',
      {
        class: 'flame',
        width,
        height: (maxDepth + 1) * ROW,
        viewBox: `0 0 ${width} ${(maxDepth + 1) * ROW}`,
        role: 'group',
        'aria-label': `Icicle graph by ${label}`,
      },
      ...groups,
    );
    const pick = (e: Event) => {
      const g = (e.target as Element).closest('g.frame');
      return g ? drawn[Number(g.getAttribute('data-k'))] : undefined;
    };
    svg.addEventListener('click', (e) => {
      const b = pick(e);
      if (b) draw(b === focus && b.parent ? b.parent : b);
    });
    svg.addEventListener('keydown', (e) => {
      const b = pick(e);
      if (b && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        draw(b);
        (holder.querySelector('g.frame[tabindex="0"]') as SVGGElement | null)?.focus();
      }
    });
    const show = (e: Event) => {
      const b = pick(e);
      if (b) status.textContent = describe(b, focus);
    };
    svg.addEventListener('mouseover', show);
    svg.addEventListener('focusin', show);
    holder.replaceChildren(svg);
    status.textContent =
      root.value > 0 ? describe(focus, focus) : `Nothing to show: no ${label.toLowerCase()}.`;
  };
  reset.addEventListener('click', () => draw(root));
  draw(root);
}
